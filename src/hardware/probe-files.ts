// Materialises the probe plan as GGUF files in the cache: F16 sources through src/gguf's writer, other types through
// `llama-quantize --pure`, fewer layers through `llama-quantize --prune-layers … COPY` (a copy, no re-quantizing).
// Files are named by a hash of what they contain, written to a temp name and renamed, so a cached file is complete.

import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { writeSyntheticGguf } from '../gguf/writer.js'
import { describeOutcome, runProcess } from '../bench/processes.js'
import { readLogTail } from '../bench/logs.js'
import { stableStringify } from '../util/json.js'
import type { ProbeModelSpec } from './probe-models.js'

/** Bumped when the files made from the same spec would differ (writer or quantize flags changed). */
const PROBE_FILE_FORMAT = 1
/** Quantizing the largest probe model takes seconds; this only catches a hung process. */
const QUANTIZE_TIMEOUT_SEC = 600
const HASH_CHARS = 16

function hashOf(value: unknown): string {
  return createHash('sha256').update(stableStringify({ value, format: PROBE_FILE_FORMAT })).digest('hex').slice(0, HASH_CHARS)
}

/** `llama-quantize [flags…] input <dst> type`, written to a temp name and renamed once complete. */
async function quantizeTool(binDir: string, flags: string[], input: string, type: string, dst: string, logDir: string, label: string): Promise<void> {
  const tmp = `${dst}.partial`
  const log = join(logDir, `${label}.log`)
  const outcome = await runProcess({
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
}

/** Paths of every probe model (by id), made if missing. */
export async function ensureProbeFiles(
  models: readonly ProbeModelSpec[],
  opts: { binDir: string; dir: string; log: (line: string) => void }
): Promise<Map<string, string>> {
  await mkdir(opts.dir, { recursive: true })
  const logDir = join(opts.dir, 'logs')
  await mkdir(logDir, { recursive: true })
  const paths = new Map<string, string>()
  for (const m of models) {
    const srcHash = hashOf(m.source)
    const srcPath = join(opts.dir, `src-${srcHash}.gguf`)
    if (!existsSync(srcPath)) {
      opts.log(`probe: writing probe model source ${m.id} (${m.source.layers} layers × ${m.source.embeddingLength})`)
      await writeSyntheticGguf(m.source, srcPath)
    }
    let path = srcPath
    if (m.type !== 'F16') {
      const typed = join(opts.dir, `q-${srcHash}-${m.type}.gguf`)
      if (!existsSync(typed)) {
        opts.log(`probe: llama-quantize --pure ${m.type} for ${m.id}`)
        await quantizeTool(opts.binDir, ['--pure'], srcPath, m.type, typed, logDir, `quantize-${srcHash}-${m.type}`)
      }
      path = typed
    }
    if (m.pruneToLayers !== undefined && m.pruneToLayers < m.source.layers) {
      const pruned = join(opts.dir, `p-${hashOf({ srcHash, type: m.type, layers: m.pruneToLayers })}.gguf`)
      if (!existsSync(pruned)) {
        const drop = Array.from({ length: m.source.layers - m.pruneToLayers }, (_, i) => String(m.pruneToLayers! + i)).join(',')
        await quantizeTool(opts.binDir, ['--prune-layers', drop], path, 'COPY', pruned, logDir, `prune-${m.id}`)
      }
      path = pruned
    }
    paths.set(m.id, path)
  }
  return paths
}
