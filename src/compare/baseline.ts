// Baseline A/B: this run's observed speeds against a previous run of the same models. Pure.
import { SCENARIO_IDS } from '../contracts/scenarios.js'
import type { BaselineComparison, BaselineRow, BaselineSkipReason, ModelReport, Report } from '../contracts/report.js'
import type { ScenarioId } from '../contracts/scenarios.js'
import type { ScenarioResult } from '../contracts/verdict.js'
import { speedRatio } from './compare.js'
import { rowLabel } from '../contracts/report.js'

export type { BaselineComparison, BaselineRow, BaselineSkipReason } from '../contracts/report.js'

/** What a baseline report must carry: its rows, and what names the run it was. */
export type BaselineSource = Pick<Report, 'models' | 'generated_at' | 'provenance' | 'hardware'>

/** How a row reads: a change only beyond the noise band, and never one when the noise was not measured. */
export type BaselineStatus = 'regressed' | 'improved' | 'within-noise' | 'noise-unknown'

/** Fewer samples than this on both sides: no spread was measured, so no change can be told from noise. */
const MIN_SAMPLES_FOR_NOISE = 2
/** A Δ equal to its noise band (up to float rounding: 108 vs 100 at 8 %) is within noise. */
const NOISE_EPSILON_PCT = 1e-9

/**
 * The observed values of a report against a baseline report of the same models, as stored in Report.baseline: which
 * run, the rows, and the rows that could not be compared. A change counts only beyond the measured noise: the wider
 * spread of the two runs bounds how far two medians of the same speed can drift apart. Rows missing from either
 * side, or without an observed value, are listed in not_compared. Order: the report's models, then SCENARIO_IDS.
 */
export function baselineComparison(report: Pick<Report, 'models'>, baseline: BaselineSource): BaselineComparison {
  const { rows, notCompared } = walk(report, baseline)
  return {
    generated_at: baseline.generated_at,
    llama_cpp_commit: baseline.provenance.llama_cpp_commit,
    backend: baseline.provenance.backend,
    device: baseline.provenance.device,
    hardware_fingerprint: baseline.hardware.fingerprint,
    rows,
    not_compared: notCompared
  }
}

/**
 * A stored comparison re-read with (re-gated) models: keeps the rows whose model and observed value are still in
 * the report, so `check` gates regressions as `validate` did without the baseline file, and a report whose models
 * were renamed or replaced (an aggregate) never shows rows of models it does not have.
 */
export function keepMatchingRows(stored: BaselineComparison, models: readonly ModelReport[]): BaselineComparison {
  const now = new Map<string, ScenarioResult>()
  for (const m of models) for (const r of m.scenarios) now.set(rowKey(rowLabel(m), r.scenario), r)
  return {
    ...stored,
    rows: stored.rows.filter((r) => now.get(rowKey(r.ref, r.scenario))?.observed === r.observed),
    not_compared: stored.not_compared.filter((r) => now.has(rowKey(r.ref, r.scenario)))
  }
}

export function baselineStatus(row: BaselineRow): BaselineStatus {
  if (row.regressed) return 'regressed'
  if (row.improved) return 'improved'
  return row.noise_measured ? 'within-noise' : 'noise-unknown'
}

function walk(
  report: Pick<Report, 'models'>,
  baseline: Pick<Report, 'models'>
): { rows: BaselineRow[]; notCompared: BaselineComparison['not_compared'] } {
  const before = new Map<string, ScenarioResult>()
  for (const model of baseline.models) {
    for (const row of model.scenarios) before.set(rowKey(rowLabel(model), row.scenario), row)
  }
  const rows: BaselineRow[] = []
  const notCompared: BaselineComparison['not_compared'] = []
  for (const model of report.models) {
    for (const scenario of SCENARIO_IDS) {
      const now = findRow(model, scenario)
      if (!now) continue
      const then = before.get(rowKey(rowLabel(model), scenario))
      const reason = skipReason(now, then)
      if (reason !== null || !then) {
        notCompared.push({ ref: rowLabel(model), scenario, reason: reason ?? 'not-in-baseline' })
        continue
      }
      rows.push(compareRow(rowLabel(model), now, then))
    }
  }
  return { rows, notCompared }
}

function skipReason(now: ScenarioResult, then: ScenarioResult | undefined): BaselineSkipReason | null {
  if (!then) return 'not-in-baseline'
  if (now.observed === null) return 'no-observation'
  if (then.observed === null) return 'no-baseline-observation'
  if (now.unit !== then.unit) return 'unit-differs'
  return null
}

function compareRow(ref: string, now: ScenarioResult, then: ScenarioResult): BaselineRow {
  const observed = now.observed as number
  const baselineObserved = then.observed as number
  const deltaPct = (speedRatio(now.unit, baselineObserved, observed) - 1) * 100
  // A side with one sample has spread 0, which says nothing about its noise: only measured spreads count.
  const spreads = [now, then].filter((r) => r.spread !== null && r.samples.length >= MIN_SAMPLES_FOR_NOISE).map((r) => r.spread as number)
  const noiseMeasured = spreads.length > 0
  const noiseBandPct = noiseMeasured ? Math.max(...spreads) * 100 : 0
  return {
    ref,
    scenario: now.scenario,
    unit: now.unit,
    observed,
    baseline_observed: baselineObserved,
    delta_pct: deltaPct,
    noise_band_pct: noiseBandPct,
    noise_measured: noiseMeasured,
    regressed: noiseMeasured && deltaPct < -noiseBandPct - NOISE_EPSILON_PCT,
    improved: noiseMeasured && deltaPct > noiseBandPct + NOISE_EPSILON_PCT
  }
}

function findRow(model: ModelReport, scenario: ScenarioId): ScenarioResult | undefined {
  return model.scenarios.find((s) => s.scenario === scenario)
}

/** One model × scenario: the key every renderer and the baseline match rows by. */
export function rowKey(ref: string, scenario: ScenarioId): string {
  return `${scenario}\u0000${ref}`
}
