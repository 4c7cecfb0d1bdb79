import type { ScenarioId } from '../contracts/scenarios.js'
import { DEFAULT_SCENARIOS, SCENARIO_IDS } from '../contracts/scenarios.js'
import { InputError } from '../util/errors.js'
import { forbiddenReason } from '../util/child-env.js'
import { AUTO_GPU_LAYERS } from '../bench/workload.js'

/** The job summary cap is 1 MiB; leave room for what other steps write. */
export const SUMMARY_MAX_BYTES = 900 * 1024
export { DEFAULT_RUN_TIMEOUT_SEC } from '../bench/runner.js'

export type { CorpusName } from '../models/corpora.js'

/**
 * `estimator-env`: the names of environment variables the external estimator may see beyond the allow-list (comma,
 * space or newline separated). A name that looks like a secret, or the runner's own, is refused: the estimator is the
 * code under test and never gets a token.
 */
export function parseEstimatorEnv(text: string | undefined, source: string): string[] {
  const names = (text ?? '').split(/[\s,]+/).filter(Boolean)
  for (const name of names) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new InputError(source, null, `"${name.slice(0, 100)}" is not an environment variable name`)
    const why = forbiddenReason(name)
    if (why) throw new InputError(source, name, `not passed to the estimator: ${why}`)
  }
  return [...new Set(names)]
}

/** `50G`, `512M`, `1.5T` or plain bytes (binary units) → bytes; empty → null. */
export function parseByteSize(text: string | undefined, source: string): number | null {
  const v = (text ?? '').trim()
  if (v === '') return null
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]i?B?|B)?$/i.exec(v)
  if (!m) throw new InputError(source, null, `expected a size such as 50G, 512M or a number of bytes, got "${v.slice(0, 100)}"`)
  const unit = (m[2] ?? 'B').toUpperCase()[0] as 'B' | 'K' | 'M' | 'G' | 'T'
  const bytes = Number(m[1]) * 1024 ** { B: 0, K: 1, M: 2, G: 3, T: 4 }[unit]
  if (!(bytes >= 1)) throw new InputError(source, null, `must be at least 1 byte, got "${v}"`)
  return Math.floor(bytes)
}

/** Whole seconds ≥ 1, at most a week; empty → null. */
export function parseSeconds(text: string | undefined, source: string): number | null {
  const v = (text ?? '').trim()
  if (v === '') return null
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1 || n > 7 * 24 * 3600) throw new InputError(source, null, `expected whole seconds from 1 to 604800, got "${v.slice(0, 100)}"`)
  return n
}

/** Passes over the corpus: 1 to MAX_PASSES (empty: null, the default). */
export const MAX_PASSES = 10
export function parsePasses(text: string | undefined, source: string): number | null {
  const v = (text ?? '').trim()
  if (v === '') return null
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1 || n > MAX_PASSES) throw new InputError(source, null, `expected a whole number of passes from 1 to ${MAX_PASSES}, got "${v.slice(0, 100)}"`)
  return n
}

/** The value of `scenarios` that runs no scenario: the memory-only run. */
export const MEMORY_ONLY = 'memory'

/**
 * `a,b` → scenario ids, each checked; empty means the four single-stream ones (DEFAULT_SCENARIOS), `all` adds
 * parallel_decode. `memory` alone → none: the memory-only run (every
 * run checks memory; this one benchmarks nothing).
 */
export function parseScenarioList(text: string | undefined, source: string): ScenarioId[] {
  if (!text || !text.trim()) return [...DEFAULT_SCENARIOS]
  if (text.trim() === 'all') return [...SCENARIO_IDS]
  if (text.trim() === MEMORY_ONLY) return []
  const out: ScenarioId[] = []
  for (const raw of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (raw === MEMORY_ONLY) throw new InputError(source, raw, 'memory runs alone (`memory`: the memory-only run); every other run checks memory as well')
    if (!(SCENARIO_IDS as readonly string[]).includes(raw)) {
      throw new InputError(source, raw, `unknown scenario (expected one of ${SCENARIO_IDS.join(', ')}, or memory alone)`)
    }
    if (!out.includes(raw as ScenarioId)) out.push(raw as ScenarioId)
  }
  return out
}


/**
 * The workload settings a user gives as CLI flags (`--ctx`) or action inputs (`context`): one name each, parsed the
 * same way for both. They apply to every workload of the run, over thresholds.yml's `workloads:` keys.
 */
export const WORKLOAD_SETTINGS = [
  { flag: 'ctx', input: 'context', key: 'context_tokens', kind: 'int', min: 1, help: 'context size the model is loaded with (default 4096)' },
  { flag: 'kv-type', input: 'kv-type', key: 'kv_type', kind: 'string', help: 'KV cache type (llama.cpp -ctk/-ctv: f16, q8_0, q4_0…; default f16); quantized types need flash attention' },
  { flag: 'flash-attention', input: 'flash-attention', key: 'flash_attention', kind: 'onoff', help: 'flash attention (llama.cpp -fa; default off)' },
  { flag: 'batch', input: 'batch', key: 'batch', kind: 'int', min: 1, help: 'logical batch (llama.cpp -b; default 2048)' },
  { flag: 'ubatch', input: 'ubatch', key: 'ubatch', kind: 'int', min: 1, help: 'physical batch (llama.cpp -ub; default 512)' },
  { flag: 'threads', input: 'threads', key: 'threads', kind: 'int', min: 1, help: 'CPU threads (llama.cpp -t; default: the cores the probe saw)' },
  { flag: 'gpu-layers', input: 'gpu-layers', key: 'gpu_layers', kind: 'layers', help: "layers offloaded to the GPUs (llama.cpp -ngl; default 99: all), or auto: as many as fit, by llama.cpp's own fit per model; fewer is a partial offload" },
  { flag: 'split-mode', input: 'split-mode', key: 'split_mode', kind: 'string', help: 'how several GPUs share the model (llama.cpp -sm: none, layer, row; default layer)' },
  { flag: 'tensor-split', input: 'tensor-split', key: 'tensor_split', kind: 'shares', help: "each GPU's share of the offloaded layers (llama.cpp -ts, such as 3,1); default: by free memory" },
  { flag: 'main-gpu', input: 'main-gpu', key: 'main_gpu', kind: 'int', min: 0, help: 'the GPU of split mode none (llama.cpp -mg; default 0)' },
  { flag: 'decode-tokens', input: 'decode-tokens', key: 'decode_tokens', kind: 'int', min: 1, help: 'tokens steady_decode times (llama-bench -n; default 64)' },
  { flag: 'decode-depth', input: 'decode-depth', key: 'decode_depth', kind: 'int', min: 0, help: 'judge steady decode at this context depth (llama-bench -d; default 0)' },
  { flag: 'prefill-tokens', input: 'prefill-tokens', key: 'prefill_tokens', kind: 'int', min: 1, help: 'prompt tokens prefill times (llama-bench -p; default 512)' },
  { flag: 'prefill-depth', input: 'prefill-depth', key: 'prefill_depth', kind: 'int', min: 0, help: 'judge prefill at this context depth: the prompt appended to N cached tokens (llama-bench -d; default 0)' },
  { flag: 'prompt-tokens', input: 'prompt-tokens', key: 'first_token_prompt_tokens', kind: 'int', min: 1, help: "first_token's prompt (default 256)" },
  { flag: 'parallel-slots', input: 'parallel-slots', key: 'parallel_slots', kind: 'int', min: 1, help: "parallel_decode's server slots and concurrent streams (llama-server -np; default 4)" }
] as const

/** The workload settings given (absent ones left out); `source` names where a bad one came from. */
export function parseWorkloadSettings(get: (name: string) => string | undefined, source: (name: string) => string, by: 'flag' | 'input'): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const s of WORKLOAD_SETTINGS) {
    const name = s[by]
    const v = (get(name) ?? '').trim()
    if (v === '') continue
    const bad = (expected: string): InputError => new InputError(source(name), null, `expected ${expected}, got "${v.slice(0, 100)}"`)
    switch (s.kind) {
      case 'int': {
        const n = Number(v)
        if (!Number.isInteger(n) || n < s.min) throw bad(`a whole number ≥ ${s.min}`)
        out[s.key] = n
        break
      }
      case 'layers': {
        if (v === 'auto') {
          out[s.key] = AUTO_GPU_LAYERS
          break
        }
        const n = Number(v)
        if (!Number.isInteger(n) || n < 0) throw bad('a whole number ≥ 0 or auto')
        out[s.key] = n
        break
      }
      case 'onoff':
        if (v !== 'on' && v !== 'off') throw bad('on or off')
        out[s.key] = v === 'on'
        break
      case 'shares': {
        const shares = v.split(',').map((x) => Number(x.trim()))
        if (shares.some((x) => !Number.isFinite(x) || x < 0)) throw bad('shares per GPU such as 3,1')
        out[s.key] = shares
        break
      }
      default:
        out[s.key] = v
    }
  }
  return out
}

/** `a,b` → workload names (thresholds.yml `workloads:` keys); empty → null: all of them. */
export function parseWorkloadNames(text: string | undefined): string[] | null {
  const names = (text ?? '').split(',').map((s) => s.trim()).filter(Boolean)
  return names.length > 0 ? [...new Set(names)] : null
}
