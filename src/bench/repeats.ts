// Repeat statistics and the adaptive repeat rule. Pure: samples and times come in as data (or through an injected
// clock), so every stopping decision is unit-testable.
//
// The rule (after the reference system): warm-up runs are discarded; then at least `min` measured
// runs; spread = (max − min) / median; one outlier may be dropped when that alone brings the spread to the target
// or under; stop as soon as the spread is at or under the target, at `max` runs, or when the next run would
// overrun the time budget (estimated from the slowest run so far). `min` runs are always made: fewer samples would
// make the spread meaningless.

import { median, spread } from '../util/stats.js'

export interface RepeatPolicy {
  /** Measured runs made regardless of spread or budget. */
  min: number
  /** Measured runs at most. */
  max: number
  /** Spread (fraction) at or under which the samples are good enough. */
  targetSpread: number
  /** Seconds of measuring (warm-up included) after which no further run starts beyond `min`. */
  budgetSec: number
  /** Runs made first and discarded (caches, page faults, CPU clocks). */
  warmup: number
}

/** Repeats as the reference system made them: 3 runs, one warm-up, target 0.10, up to 7 runs in 5 minutes. */
export const DEFAULT_REPEAT_POLICY: RepeatPolicy = { min: 3, max: 7, targetSpread: 0.1, budgetSec: 300, warmup: 1 }
/** The outlier rule needs at least this many samples so two remain to span a spread. */
export const MIN_SAMPLES_FOR_OUTLIER_DROP = 3

export interface SampleSummary {
  /** Median of the kept samples. */
  observed: number
  kept: number[]
  dropped: number[]
  /** Position of the dropped sample in the input, or null. */
  droppedIndex: number | null
  /** Spread of the kept samples. */
  spread: number
}

/** Validates a policy; a bad one is a programmer or flag error, so it throws. */
export function checkRepeatPolicy(p: RepeatPolicy): void {
  const intAtLeast = (v: number, lo: number) => Number.isInteger(v) && v >= lo
  if (!intAtLeast(p.min, 1)) throw new Error(`repeat.min must be an integer ≥ 1, got ${p.min}`)
  if (!intAtLeast(p.max, p.min)) throw new Error(`repeat.max must be an integer ≥ repeat.min (${p.min}), got ${p.max}`)
  if (!intAtLeast(p.warmup, 0)) throw new Error(`repeat.warmup must be an integer ≥ 0, got ${p.warmup}`)
  if (!(p.targetSpread >= 0)) throw new Error(`repeat.targetSpread must be ≥ 0, got ${p.targetSpread}`)
  if (!(p.budgetSec > 0)) throw new Error(`repeat.budgetSec must be > 0, got ${p.budgetSec}`)
}

/**
 * Median and spread of `samples` (in measurement order), after the single-outlier rule: when the spread is over
 * the target, drop the one sample farthest from the median if that brings the spread to the target or under.
 */
export function summarizeSamples(samples: readonly number[], targetSpread: number): SampleSummary {
  if (samples.length === 0) throw new Error('summarizeSamples: no samples')
  const all = [...samples]
  const full = spread(all)
  if (full <= targetSpread || all.length < MIN_SAMPLES_FOR_OUTLIER_DROP) {
    return { observed: median(all), kept: all, dropped: [], droppedIndex: null, spread: full }
  }
  const m = median(all)
  // Farthest from the median; on a tie the later sample goes (earlier runs are no less trustworthy).
  let worst = 0
  for (let i = 1; i < all.length; i++) {
    if (Math.abs((all[i] as number) - m) >= Math.abs((all[worst] as number) - m)) worst = i
  }
  const kept = all.filter((_, i) => i !== worst)
  const reduced = spread(kept)
  if (reduced <= targetSpread) return { observed: median(kept), kept, dropped: [all[worst] as number], droppedIndex: worst, spread: reduced }
  return { observed: m, kept: all, dropped: [], droppedIndex: null, spread: full }
}

export type StopReason = 'converged' | 'max-repeats' | 'budget'

/**
 * Whether to stop after the measured `samples` so far. `elapsedSec` is the time spent on this scenario so far
 * (warm-up included), `slowestRunSec` the longest single run, used to predict whether another run fits the budget.
 */
export function stopDecision(
  samples: readonly number[],
  elapsedSec: number,
  slowestRunSec: number,
  policy: RepeatPolicy
): StopReason | null {
  if (samples.length < policy.min) return null
  if (summarizeSamples(samples, policy.targetSpread).spread <= policy.targetSpread) return 'converged'
  if (samples.length >= policy.max) return 'max-repeats'
  if (elapsedSec + slowestRunSec > policy.budgetSec) return 'budget'
  return null
}

/** Which run `measure` is asked for: `index` counts all runs from 0 (warm-ups first), `number` counts from 1
 *  within its kind (warm-up 1, 2…; measured run 1, 2…). */
export interface RunId {
  index: number
  warmup: boolean
  number: number
}

/** One measured run: the value that becomes a sample, and named parts of it for the breakdown. */
export interface Measurement {
  value: number
  breakdown?: Record<string, number>
}

export interface RepeatOutcome {
  samples: number[]
  summary: SampleSummary | null
  /** Median of each breakdown key over the kept runs. Keys sorted. */
  breakdown: Record<string, number>
  warmups: number[]
  stopReason: StopReason | 'error'
  /** The failure that ended the runs early, as thrown by `measure`. */
  error: unknown
}

function medianBreakdown(runs: readonly Measurement[]): Record<string, number> {
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.breakdown ?? {})))].sort()
  const out: Record<string, number> = {}
  for (const k of keys) {
    const vals = runs.map((r) => r.breakdown?.[k]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v))
    if (vals.length > 0) out[k] = median(vals)
  }
  return out
}

/**
 * Runs `measure` for the warm-ups and then until `stopDecision` says stop. `nowMs` is the clock (injected so the
 * rule can be tested without waiting). A `measure` that throws ends the runs; the error is returned, not thrown,
 * with the samples measured before it.
 */
export async function runRepeats(
  measure: (run: RunId) => Promise<Measurement>,
  policy: RepeatPolicy,
  nowMs: () => number
): Promise<RepeatOutcome> {
  checkRepeatPolicy(policy)
  const start = nowMs()
  const warmups: number[] = []
  const runs: Measurement[] = []
  let slowestSec = 0
  let index = 0
  const timed = async (warmup: boolean): Promise<Measurement> => {
    const t0 = nowMs()
    const number = warmup ? warmups.length + 1 : runs.length + 1
    const m = await measure({ index: index++, warmup, number })
    slowestSec = Math.max(slowestSec, (nowMs() - t0) / 1000)
    if (!Number.isFinite(m.value)) throw new Error(`measurement ${index - 1} is not a finite number: ${m.value}`)
    return m
  }
  const outcome = (stopReason: RepeatOutcome['stopReason'], error: unknown): RepeatOutcome => {
    const samples = runs.map((r) => r.value)
    const summary = samples.length > 0 ? summarizeSamples(samples, policy.targetSpread) : null
    const keptRuns = runs.filter((_, i) => i !== summary?.droppedIndex)
    return { samples, summary, breakdown: medianBreakdown(keptRuns), warmups, stopReason, error }
  }
  try {
    for (let w = 0; w < policy.warmup; w++) warmups.push((await timed(true)).value)
    for (;;) {
      runs.push(await timed(false))
      const stop = stopDecision(
        runs.map((r) => r.value),
        (nowMs() - start) / 1000,
        slowestSec,
        policy
      )
      if (stop) return outcome(stop, null)
    }
  } catch (err) {
    return outcome('error', err)
  }
}
