// Materialises the probe plan as GGUF files in the cache: F16 sources through src/gguf's writer (several at once on
// a machine with cores to spare), then per model `llama-quantize --prune-layers … COPY` of the F16 source where it is
// shallower, and `llama-quantize --pure` of that to its type. Pruning the F16 first keeps a big quantize output from
// being written only to be cut. Files are named by a hash of what they contain, written to a temp name and renamed,
// so a cached file is complete; each has a sidecar with its SHA-256, checked before the file is used, so a file
// changed in the cache (a shared self-hosted runner) is made again rather than run by llama.cpp. A model that cannot be made is a failure of that part, returned beside the others:
// the probe goes on without it.

import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, readdir, rename, rm } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { writeSyntheticGguf } from '../gguf/writer.js'
import { describeOutcome, runProcess } from '../bench/processes.js'
import { readLogTail } from '../bench/logs.js'
import { errorMessage } from '../util/errors.js'
import { fileSha256, writeFileAtomic } from '../util/fs.js'
import { stableStringify } from '../util/json.js'
import type { ProbeModelSpec } from './probe-models.js'
import { childEnv } from '../util/child-env.js'

/** Bumped when the files made from the same spec would differ (writer or quantize flags changed). */
const PROBE_FILE_FORMAT = 2
/** Quantizing the largest probe model takes up to a minute on 2 cores; this only catches a hung process. */
const QUANTIZE_TIMEOUT_SEC = 900
const HASH_CHARS = 16

function hashOf(value: unknown): string {
  return createHash('sha256').update(stableStringify({ value, format: PROBE_FILE_FORMAT })).digest('hex').slice(0, HASH_CHARS)
}

const sidecar = (path: string): string => `${path}.sha256`

/** Records a file's SHA-256 beside it, once the file is complete. */
async function recordSha256(path: string): Promise<void> {
  await writeFileAtomic(sidecar(path), `${await fileSha256(path)}\n`)
}

/**
 * Whether a cached file is the one we made: present, with its recorded SHA-256. One that is not is removed (with its
 * record), so it is made again.
 */
async function intact(path: string): Promise<boolean> {
  if (!existsSync(path)) return false
  const recorded = await readFile(sidecar(path), 'utf8').then((s) => s.trim(), () => null)
  if (recorded !== null && recorded === (await fileSha256(path))) return true
  await rm(path, { force: true })
  await rm(sidecar(path), { force: true })
  return false
}

/** `llama-quantize [flags…] input <dst> type`, written to a temp name and renamed once complete. */
async function quantizeTool(binDir: string, flags: string[], input: string, type: string, dst: string, logDir: string, label: string): Promise<void> {
  const tmp = `${dst}.partial`
  const log = join(logDir, `${label}.log`)
  const outcome = await runProcess({
    env: childEnv('llama'),
    file: join(binDir, 'llama-quantize'),
    args: [...flags, input, tmp, type],
    stdoutPath: log,
    stderrPath: log,
    timeoutSec: QUANTIZE_TIMEOUT_SEC,
    label
  })
  if (outcome.exitCode !== 0 || !existsSync(tmp)) {
    await rm(tmp, { force: true })
    throw new Error(`${describeOutcome('llama-quantize', outcome, QUANTIZE_TIMEOUT_SEC)} (${label}):\n${(await readLogTail(log)).join('\n')}`)
  }
  await rename(tmp, dst)
  await recordSha256(dst)
}

/** A probe model that could not be made, and at which step. */
export interface ProbeFileFailure {
  id: string
  stage: 'write' | 'quantize'
  reason: string
}

/** Where the F16 source of a model lives in `dir`. */
export function probeSourcePath(dir: string, m: ProbeModelSpec): string {
  return join(dir, `src-${hashOf(m.source)}.gguf`)
}

/** Where a model's final file lives in `dir`: its source, its pruned copy (F16) or its quantized file. */
export function probeModelPath(dir: string, m: ProbeModelSpec): string {
  const srcHash = hashOf(m.source)
  const layers = m.pruneToLayers ?? m.source.layers
  if (m.type !== 'F16') return join(dir, `q-${hashOf({ srcHash, layers })}-${m.type}.gguf`)
  return layers < m.source.layers ? join(dir, `p-${hashOf({ srcHash, layers })}.gguf`) : probeSourcePath(dir, m)
}

/** Whether a model's file (and so none of its making) is already in `dir`: the plan's time budget skips it. */
export function probeModelMade(dir: string): (m: ProbeModelSpec) => boolean {
  return (m) => existsSync(probeModelPath(dir, m))
}

/** Runs `work` over `items` with at most `n` at once (the writer is single-threaded and mostly waits on the disk). */
async function inParallel<T>(items: readonly T[], n: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) await work(items[i]!)
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, worker))
}

/** Paths of every probe model that could be made (by id), made if missing; the others as failures, in plan order. */
export async function ensureProbeFiles(
  models: readonly ProbeModelSpec[],
  opts: { binDir: string; dir: string; log: (line: string) => void; writers?: number }
): Promise<{ paths: Map<string, string>; failures: ProbeFileFailure[] }> {
  await mkdir(opts.dir, { recursive: true })
  const logDir = join(opts.dir, 'logs')
  await mkdir(logDir, { recursive: true })
  const sourcePath = (m: ProbeModelSpec) => probeSourcePath(opts.dir, m)
  // Each cached file is hashed once per call.
  const verified = new Set<string>()
  const ok = async (path: string): Promise<boolean> => verified.has(path) || ((await intact(path)) && Boolean(verified.add(path)))

  // 1. Every distinct F16 source, several writers at once.
  const sources = [...new Map(models.map((m) => [sourcePath(m), m])).entries()]
  const badSources = new Map<string, string>()
  await inParallel(sources, opts.writers ?? 1, async ([path, m]) => {
    if (await ok(path)) return
    opts.log(`probe: writing probe model source ${m.id} (${m.source.layers} layers × ${m.source.embeddingLength})`)
    try {
      await writeSyntheticGguf(m.source, path)
      await recordSha256(path)
    } catch (err) {
      badSources.set(path, errorMessage(err))
      opts.log(`probe: WARNING: could not write the source of ${m.id}: ${errorMessage(err)}`)
    }
  })

  // 2. Pruned copies and quantized types, one llama-quantize at a time (each uses every core).
  const paths = new Map<string, string>()
  const failures: ProbeFileFailure[] = []
  for (const m of models) {
    const srcPath = sourcePath(m)
    const bad = badSources.get(srcPath)
    if (bad !== undefined) {
      failures.push({ id: m.id, stage: 'write', reason: bad })
      continue
    }
    const srcHash = hashOf(m.source)
    const final = probeModelPath(opts.dir, m)
    try {
      let path = srcPath
      const layers = m.pruneToLayers ?? m.source.layers
      if (layers < m.source.layers) {
        const pruned = probeModelPath(opts.dir, { ...m, type: 'F16' })
        if (!(await ok(final)) && !(await ok(pruned))) {
          const drop = Array.from({ length: m.source.layers - layers }, (_, i) => String(layers + i)).join(',')
          await quantizeTool(opts.binDir, ['--prune-layers', drop], path, 'COPY', pruned, logDir, `prune-${srcHash}-L${layers}`)
        }
        path = pruned
      }
      if (m.type !== 'F16') {
        const typed = final
        if (!(await ok(typed))) {
          opts.log(`probe: llama-quantize --pure ${m.type} for ${m.id}`)
          await quantizeTool(opts.binDir, ['--pure'], path, m.type, typed, logDir, `quantize-${m.id}`)
        }
        // A pruned F16 copy made only as this quantize's input is not kept (the disk budget counts final files).
        if (path !== srcPath && ![...paths.values()].includes(path)) {
          await rm(path, { force: true })
          await rm(sidecar(path), { force: true })
        }
        path = typed
      }
      paths.set(m.id, path)
    } catch (err) {
      failures.push({ id: m.id, stage: 'quantize', reason: errorMessage(err) })
      opts.log(`probe: WARNING: could not make ${m.id}: ${errorMessage(err).split('\n')[0]}`)
    }
  }
  // Files of earlier plans (another knee, another budget) are ours and no longer used: the disk budget counts only
  // this plan's files, so they go (only files this function names, never anything else in the directory).
  const keep = new Set([...paths.values(), ...sources.map(([path]) => path)].map((p) => basename(p)))
  for (const name of await readdir(opts.dir)) {
    const file = name.replace(/\.sha256$/, '')
    if (/^(src|p|q)-[0-9a-f]{16}(-[A-Z0-9_]+)?\.gguf$/.test(file) && !keep.has(file)) await rm(join(opts.dir, name), { force: true })
  }
  return { paths, failures }
}
