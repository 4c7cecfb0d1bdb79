// Passes: the corpus measured N times in interleaved order (all models, then all again), and each scenario's
// observations merged into one. Pure.
//
// A burst of back-to-back repeats cannot see the machine move between minutes (shared runners, GPU clocks and
// temperature): measured here, the same model differs by 12–15 % at the median between two passes minutes apart
// while its repeats agree within 1–8 %. The merged observation is the median of the passes, and its spread is the
// spread of every kept sample of every pass: it covers both the repeats' and the passes' disagreement, so a row whose
// passes disagree beyond the limit is inconclusive-noisy however tight each burst was.

import type { Observation, PassObservation } from '../contracts/observation.js'
import { median, spread } from '../util/stats.js'

/** What one pass observed of a scenario, as the report keeps it. */
export function passOf(o: Observation): PassObservation {
  return { observed: o.observed, spread: o.spread, samples: [...o.samples], ...(o.error ? { error: o.error.reason } : {}) }
}

/**
 * One scenario's observations of every pass (in pass order) → one Observation. A pass that failed makes the row a
 * runtime error (a model that crashes once in N runs is a finding, not noise), with the pass named; one pass is
 * returned as it is.
 */
export function mergePasses(passes: readonly Observation[]): Observation {
  if (passes.length === 0) throw new Error('mergePasses: no observations')
  const first = passes[0] as Observation
  if (passes.length === 1) return first
  for (const p of passes) {
    if (p.scenario !== first.scenario) throw new Error(`mergePasses: ${p.scenario} merged with ${first.scenario}`)
  }
  const logs = passes.flatMap((p) => p.logs)
  const repeats = passes.reduce((n, p) => n + p.repeats, 0)
  const record = passes.map(passOf)
  const failed = passes.findIndex((p) => p.error !== null || p.observed === null)
  if (failed >= 0) {
    const f = passes[failed] as Observation
    const reason = f.error ? f.error.reason : `no positive observed value (${String(f.observed)})`
    return {
      ...f,
      error: { reason: `pass ${failed + 1} of ${passes.length}: ${reason}`, log_tail: f.error ? [...f.error.log_tail] : [] },
      observed: null,
      spread: null,
      logs,
      repeats,
      passes: record
    }
  }
  const samples = passes.flatMap((p) => p.samples)
  const keys = [...new Set(passes.flatMap((p) => Object.keys(p.breakdown)))].sort()
  const breakdown: Record<string, number> = {}
  for (const k of keys) {
    const vals = passes.map((p) => p.breakdown[k]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v))
    if (vals.length > 0) breakdown[k] = median(vals)
  }
  return {
    scenario: first.scenario,
    unit: first.unit,
    observed: median(passes.map((p) => p.observed as number)),
    samples,
    dropped_samples: passes.flatMap((p) => p.dropped_samples),
    spread: spread(samples),
    breakdown,
    error: null,
    logs,
    repeats,
    passes: record
  }
}

/** Spread of the passes' observed values alone (null: fewer than two passes observed). */
export function passSpread(passes: readonly PassObservation[]): number | null {
  const values = passes.map((p) => p.observed).filter((v): v is number => v !== null)
  return values.length >= 2 ? spread(values) : null
}
