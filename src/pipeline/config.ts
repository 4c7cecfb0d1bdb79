import type { ScenarioId } from '../contracts/scenarios.js'
import { DEFAULT_SCENARIOS, SCENARIO_IDS } from '../contracts/scenarios.js'
import { InputError } from '../util/errors.js'
import { forbiddenReason } from '../util/child-env.js'

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

