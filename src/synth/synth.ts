import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { execa } from 'execa'
import { writeSyntheticGguf } from '../gguf/writer.js'
import { writeFileAtomic } from '../util/fs.js'
import { stableStringify } from '../util/json.js'
import { synthFileName, synthRef, writerSpec, type SynthModelEntry, type SynthSpec, type SynthType } from './spec.js'
import { childEnv } from '../util/child-env.js'
import { EnvironmentError } from '../util/errors.js'

/** Bump when the writer's output for the same spec changes, so cached files are rewritten. */
const SYNTH_FORMAT = 1
const STATE_FILE = '.synth-state.json'
const QUANTIZE_TIMEOUT_MS = 30 * 60_000

export interface SynthResult {
  manifestPath: string
  models: Array<{ ref: string; path: string; written: boolean }>
}

/** A file is reused only when it was made from exactly this geometry, type and writer format. */
function fileKey(m: SynthModelEntry, type: SynthType): string {
  const { types: _types, ...geometry } = m
  return createHash('sha256').update(stableStringify({ geometry, type, format: SYNTH_FORMAT })).digest('hex')
}

async function readState(dir: string): Promise<Record<string, string>> {
  try {
    return JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8')) as Record<string, string>
  } catch {
    return {}
  }
}

async function quantize(binDir: string, src: string, dst: string, type: SynthType): Promise<void> {
  const tmp = `${dst}.partial`
  const r = await execa(join(binDir, 'llama-quantize'), [src, tmp, type], { reject: false, all: true, timeout: QUANTIZE_TIMEOUT_MS, env: childEnv('llama'), extendEnv: false })
  if (r.exitCode !== 0) {
    await rm(tmp, { force: true })
    const tail = String(r.all ?? '').split('\n').slice(-15).join('\n')
    throw new EnvironmentError(`llama-quantize ${type} of ${src} failed (${r.timedOut ? 'timed out' : `exit ${r.exitCode}`}); check the llama.cpp build (setup-llama) and the free disk:\n${tail}`)
  }
  await rename(tmp, dst)
}

/** Writes the synthetic corpus into outDir (skipping files already made from the same spec) and its manifest. */
export async function synthesize(spec: SynthSpec, outDir: string, binDir: string, log: (l: string) => void): Promise<SynthResult> {
  await mkdir(outDir, { recursive: true })
  const state = await readState(outDir)
  const result: SynthResult = { manifestPath: join(outDir, 'manifest.txt'), models: [] }
  for (const m of spec.models) {
    const f16Key = fileKey(m, 'F16')
    const f16Name = synthFileName(m.name, 'F16')
    const f16Path = join(outDir, f16Name)
    const keepF16 = m.types.includes('F16')
    const haveF16 = () => existsSync(f16Path) && state[f16Name] === f16Key
    const ensureF16 = async (): Promise<void> => {
      if (haveF16()) return
      log(`synth: writing ${f16Name}`)
      await writeSyntheticGguf(writerSpec(m), f16Path)
      state[f16Name] = f16Key
      await writeFileAtomic(join(outDir, STATE_FILE), stableStringify(state))
    }
    for (const type of m.types) {
      const name = synthFileName(m.name, type)
      const path = join(outDir, name)
      const key = fileKey(m, type)
      const cached = existsSync(path) && state[name] === key
      if (!cached) {
        if (type === 'F16') await ensureF16()
        else {
          await ensureF16()
          log(`synth: llama-quantize ${f16Name} → ${name}`)
          await quantize(binDir, f16Path, path, type)
          state[name] = key
          await writeFileAtomic(join(outDir, STATE_FILE), stableStringify(state))
        }
      }
      result.models.push({ ref: synthRef(m.name, type), path, written: !cached })
    }
    // An F16 written only as the quantizer's source is not part of the corpus.
    if (!keepF16 && existsSync(f16Path)) {
      await rm(f16Path, { force: true })
      delete state[f16Name]
      await writeFileAtomic(join(outDir, STATE_FILE), stableStringify(state))
    }
  }
  const manifest = [
    '# Written by `model-fit-gate synth`; one line per model: display ref and path relative to this file.',
    ...result.models.map((r) => `ref=${r.ref},path=${r.path.slice(outDir.length + 1)}`)
  ].join('\n')
  await writeFileAtomic(result.manifestPath, manifest + '\n')
  return result
}
