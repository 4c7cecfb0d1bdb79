import { existsSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { InputError } from '../util/errors.js'
import { LLAMA_TOOLS, setupLlama, type LlamaBuild } from './setup.js'

export interface LlamaLocation {
  binDir: string
  /** How it was found, for the log and the report. */
  source: 'flag' | 'env' | 'path' | 'setup-llama'
  /** Set when we built it ourselves (the node-llama-cpp version is then known). */
  build: LlamaBuild | null
}

function missingTools(dir: string): string[] {
  return LLAMA_TOOLS.filter((t) => !existsSync(join(dir, t)))
}

function onPath(env: NodeJS.ProcessEnv): string | null {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, 'llama-bench'))) return dir
  }
  return null
}

/**
 * `--llama-bin DIR` (or the action's `llama-cpp: DIR`), else MODEL_FIT_GATE_LLAMA_BIN, else llama-bench on PATH,
 * else build it with setup-llama. An explicit dir that lacks a tool is an input error, not a silent fallback.
 */
export async function locateLlama(
  opts: { binDir?: string; cacheDir?: string; log?: (l: string) => void; env?: NodeJS.ProcessEnv } = {}
): Promise<LlamaLocation> {
  const env = opts.env ?? process.env
  const explicit: Array<[string | undefined, 'flag' | 'env', string]> = [
    [opts.binDir && opts.binDir !== 'auto' ? opts.binDir : undefined, 'flag', '--llama-bin'],
    [env.MODEL_FIT_GATE_LLAMA_BIN, 'env', 'MODEL_FIT_GATE_LLAMA_BIN']
  ]
  for (const [dir, source, name] of explicit) {
    if (!dir) continue
    const missing = missingTools(dir)
    if (missing.length) throw new InputError(name, null, `${dir} lacks ${missing.join(', ')}`)
    return { binDir: dir, source, build: null }
  }
  const path = onPath(env)
  if (path && missingTools(path).length === 0) return { binDir: path, source: 'path', build: null }
  const build = await setupLlama({ dir: opts.cacheDir, log: opts.log })
  return { binDir: build.bin_dir, source: 'setup-llama', build }
}
