import { SCENARIO_UNITS } from '../contracts/scenarios.js'
import type { Observation } from '../contracts/observation.js'
import type { FactNoise, ScenarioPrediction } from '../contracts/prediction.js'
import type { ScenarioId, ScenarioUnit, Verdict } from '../contracts/scenarios.js'
import type { CompareSettings, ScenarioResult } from '../contracts/verdict.js'
import { formatLimit, formatNumber as fmt, formatPct } from '../util/format.js'

/**
 * Floating-point slack for the tolerance and spread comparisons: 110/100 is 1.1000000000000001 in binary, and a row
 * exactly at the limit should get the verdict the limit promises.
 */
export const COMPARE_EPSILON = 1e-9

/** What the caller knows beyond the two numbers. A plain string is taken as `reason`. */
export interface CompareContext {
  /** Needed only when there is neither a prediction nor an observation (the row is then skipped or does-not-fit). */
  scenario?: ScenarioId
  /** Why the scenario was not predicted or not run; shown on its skipped row. */
  reason?: string
  /** The estimator says the model does not fit in memory (Prediction.fit.status === 'does-not-fit'). */
  doesNotFit?: boolean
  /** MemoryFit.reason, shown on does-not-fit rows. */
  fitReason?: string
  /** The probe facts that moved since the probe beyond the tolerance (the run-start re-check), in words; null: none. */
  machineMoved?: string | null
}

const DOES_NOT_FIT_REASON = 'the estimator predicts the model does not fit in memory'

/**
 * ratio > 1 always means "faster than the estimate", whatever the unit:
 * - tok/s (higher is better): ratio = observed / predicted;
 * - ms (lower is better, first_token): ratio = predicted / observed.
 */
export function speedRatio(unit: ScenarioUnit, predicted: number, observed: number): number {
  return unit === 'ms' ? predicted / observed : observed / predicted
}

/**
 * |observed − predicted| / predicted × 100, in the scenario's own unit for both tok/s and ms: the error of the
 * estimate relative to the estimate, the number a user compares with "within 10 %". For tok/s it equals
 * |ratio − 1| × 100; for ms it equals |1/ratio − 1| × 100 (a first token that takes 150 ms against 100 ms
 * predicted is 50 % off, although its speed ratio is 0.67).
 */
export function absErrorPct(predicted: number, observed: number): number {
  return (Math.abs(observed - predicted) / predicted) * 100
}

/** The numbers a verdict is decided from; present both on a fresh comparison and on a stored report row. */
export interface ComparableRow {
  unit: ScenarioUnit
  predicted: number
  predicted_range: [number, number] | null
  observed: number
  spread: number | null
  /** The facts whose noise moves the estimate (ScenarioPrediction.fact_noise). */
  fact_noise?: readonly FactNoise[] | null
}

/** The fact whose noise moves the estimate most, when it moves it beyond the tolerance. */
export function noisiestFact(noise: readonly FactNoise[] | null | undefined, tolerance: number): FactNoise | null {
  const worst = [...(noise ?? [])].sort((a, b) => b.effect - a.effect)[0]
  return worst && worst.effect > tolerance + COMPARE_EPSILON ? worst : null
}

/**
 * The range a row shows: the estimator's own, widened when a fact's noise moves the estimate beyond the tolerance —
 * the estimate spread by the fact's effect (effect/2 each way, as an observation's spread spans its median), never
 * narrower than the estimator's. `estimatorRange` is the estimator's own when it was widened (kept in the row so that
 * another tolerance judges it afresh), else null. The one place both a fresh comparison and `check` widen a range.
 */
export function rangeUnderFactNoise(
  predicted: number,
  range: [number, number] | null,
  noise: readonly FactNoise[] | null | undefined,
  tolerance: number
): { range: [number, number] | null; estimatorRange: [number, number] | null } {
  const noisy = noisiestFact(noise, tolerance)
  if (!noisy || !range) return { range, estimatorRange: null }
  const lo = predicted * (1 - Math.min(0.99, noisy.effect / 2))
  const hi = predicted * (1 + noisy.effect / 2)
  return { range: [Math.min(range[0], lo), Math.max(range[1], hi)], estimatorRange: range }
}

/**
 * The verdict of a row that has both a prediction and an observation:
 * 1. spread above maxSpread → inconclusive-noisy (the measurement cannot tell a 10 % miss from noise; with several
 *    passes the spread covers every pass's samples, so passes that disagree count);
 * 1b. a fact whose noise moves the estimate beyond the tolerance → inconclusive-noisy, the fact named (the estimate
 *    cannot tell a 10 % miss from the probe's noise); `machineMoved` (the probe's facts re-measured at the start of
 *    the run moved beyond the tolerance) → inconclusive-noisy, the facts named;
 * 2. |error| within the tolerance AND observed inside predicted_range → match. The range is the estimator's own
 *    claim about its uncertainty, so a row outside it is reported as a miss even when it is close (the reference
 *    system's rule). The tolerance is applied to abs_error_pct, so a "match" never has an |error| above it
 *    (for tok/s that is exactly |ratio − 1| ≤ tolerance);
 * 3. otherwise ratio < 1 → slower-than-fit, ratio ≥ 1 → faster-than-fit.
 */
export function verdictFor(
  row: ComparableRow,
  settings: CompareSettings,
  machineMoved: string | null = null
): { verdict: Verdict; reason?: string } {
  if (row.spread !== null && row.spread > settings.maxSpread + COMPARE_EPSILON) {
    return {
      verdict: 'inconclusive-noisy',
      reason: `spread ${formatPct(row.spread * 100)} % > ${pct(settings.maxSpread)} allowed`
    }
  }
  const noisy = noisiestFact(row.fact_noise, settings.tolerance)
  if (noisy) {
    return {
      verdict: 'inconclusive-noisy',
      reason:
        `the estimate rests on ${noisy.fact}, whose probe rounds spread ${formatPct(noisy.spread * 100)} %: across them the ` +
        `estimate moves ${formatPct(noisy.effect * 100)} % (> ${pct(settings.tolerance)} tolerance); re-probe on a quiet machine (--refresh)`
    }
  }
  if (machineMoved) return { verdict: 'inconclusive-noisy', reason: machineMoved }
  const ratio = speedRatio(row.unit, row.predicted, row.observed)
  const errorPct = absErrorPct(row.predicted, row.observed)
  const withinTolerance = errorPct <= settings.tolerance * 100 + COMPARE_EPSILON
  const range = row.predicted_range
  const insideRange =
    range === null || (row.observed >= range[0] * (1 - COMPARE_EPSILON) && row.observed <= range[1] * (1 + COMPARE_EPSILON))
  if (withinTolerance && insideRange) return { verdict: 'match' }
  const verdict: Verdict = ratio < 1 ? 'slower-than-fit' : 'faster-than-fit'
  if (withinTolerance && range !== null) {
    return {
      verdict,
      reason: `within the ${pct(settings.tolerance)} tolerance but outside the predicted range [${fmt(range[0])}, ${fmt(range[1])}]`
    }
  }
  return { verdict }
}

/**
 * Compares one scenario's prediction with its observation. Rules, first match wins:
 * - context.doesNotFit → does-not-fit (if the model ran anyway, the observed value is kept and the reason says so);
 * - the observation failed → runtime-error, with its reason and log tail in detail;
 * - no (usable) prediction → skipped, with context.reason;
 * - no observation → skipped, with context.reason or "not run";
 * - an observation without a positive value → runtime-error;
 * - otherwise verdictFor().
 */
export function compareScenario(
  prediction: ScenarioPrediction | null,
  observation: Observation | null,
  settings: CompareSettings,
  context?: string | CompareContext
): ScenarioResult {
  const ctx: CompareContext = typeof context === 'string' ? { reason: context } : (context ?? {})
  const scenario = prediction?.scenario ?? observation?.scenario ?? ctx.scenario
  if (scenario === undefined) throw new Error('compareScenario: no prediction, no observation and no context.scenario')
  if (prediction && observation && prediction.scenario !== observation.scenario) {
    throw new Error(`compareScenario: prediction is for ${prediction.scenario}, observation for ${observation.scenario}`)
  }
  if (prediction && observation && prediction.unit !== observation.unit) {
    throw new Error(`compareScenario: ${scenario} predicted in ${prediction.unit}, observed in ${observation.unit}`)
  }
  const unit = SCENARIO_UNITS[scenario]
  const predictedOk = prediction !== null && Number.isFinite(prediction.predicted) && prediction.predicted > 0
  const observedValue =
    observation && !observation.error && observation.observed !== null && Number.isFinite(observation.observed) && observation.observed > 0
      ? observation.observed
      : null

  const base: ScenarioResult = {
    scenario,
    unit,
    predicted: predictedOk ? prediction.predicted : null,
    predicted_range: predictedOk ? [prediction.predicted_range[0], prediction.predicted_range[1]] : null,
    observed: observedValue,
    samples: observation ? [...observation.samples] : [],
    spread: observation?.spread ?? null,
    ratio: null,
    abs_error_pct: null,
    verdict: 'skipped',
    detail: detailOf(prediction, observation)
  }

  if (ctx.doesNotFit) {
    const ranAnyway = observedValue !== null ? ` (yet it ran: observed ${fmt(observedValue)} ${unit})` : ''
    const reason = `${ctx.fitReason ?? DOES_NOT_FIT_REASON}${ranAnyway}`
    return { ...base, verdict: 'does-not-fit', detail: { ...base.detail, reason } }
  }
  if (observation?.error) {
    return {
      ...base,
      verdict: 'runtime-error',
      detail: { ...base.detail, reason: observation.error.reason, log_tail: [...observation.error.log_tail] }
    }
  }
  if (!prediction) {
    return { ...base, verdict: 'skipped', detail: { ...base.detail, reason: ctx.reason ?? 'no prediction for this scenario' } }
  }
  if (!predictedOk) {
    return { ...base, verdict: 'skipped', detail: { ...base.detail, reason: `prediction is not a positive number (${prediction.predicted})` } }
  }
  if (!observation) {
    return { ...base, verdict: 'skipped', detail: { ...base.detail, reason: ctx.reason ?? 'not run' } }
  }
  if (observedValue === null) {
    return {
      ...base,
      verdict: 'runtime-error',
      detail: { ...base.detail, reason: `the run produced no positive observed value (${String(observation.observed)})` }
    }
  }
  const row: ComparableRow = {
    unit,
    predicted: prediction.predicted,
    predicted_range: base.predicted_range,
    observed: observedValue,
    spread: base.spread,
    fact_noise: prediction.fact_noise ?? null
  }
  const { verdict, reason } = verdictFor(row, settings, ctx.machineMoved ?? null)
  const shown = rangeUnderFactNoise(prediction.predicted, base.predicted_range, prediction.fact_noise, settings.tolerance)
  return {
    ...base,
    predicted_range: shown.range,
    ratio: speedRatio(unit, prediction.predicted, observedValue),
    abs_error_pct: absErrorPct(prediction.predicted, observedValue),
    verdict,
    detail: { ...base.detail, ...(shown.estimatorRange ? { estimator_range: shown.estimatorRange } : {}), ...(reason ? { reason } : {}) }
  }
}

function detailOf(prediction: ScenarioPrediction | null, observation: Observation | null): ScenarioResult['detail'] {
  const detail: ScenarioResult['detail'] = {}
  if (prediction) detail.predicted_breakdown = { ...prediction.breakdown }
  if (prediction?.fact_noise?.length) detail.fact_noise = prediction.fact_noise.map((f) => ({ ...f }))
  if (observation) {
    detail.observed_breakdown = { ...observation.breakdown }
    if (observation.dropped_samples.length > 0) detail.dropped_samples = [...observation.dropped_samples]
    if (observation.logs.length > 0) detail.logs = [...observation.logs]
    detail.repeats = observation.repeats
    if (observation.passes) detail.passes = observation.passes.map((p) => ({ ...p, samples: [...p.samples] }))
  }
  return detail
}

function pct(fraction: number): string {
  return `${formatLimit(fraction * 100)} %`
}
