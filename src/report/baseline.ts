import { SCENARIO_IDS } from '../types.js'
import type { ModelReport, Report, ScenarioId, ScenarioResult, ScenarioUnit } from '../types.js'
import { speedRatio } from '../compare/compare.js'

/** One model × scenario measured in both the current report and the baseline. */
export interface BaselineRow {
  ref: string
  scenario: ScenarioId
  unit: ScenarioUnit
  observed: number
  baseline_observed: number
  /** Speed change in %, in the ratio's direction: +20 is 20 % faster than the baseline, −20 is 20 % slower. */
  delta_pct: number
  /** The wider of the two runs' spreads ((max − min) / median), in %: a change inside it may be noise. */
  noise_band_pct: number
  /** Slower than the baseline by more than the noise band. */
  regressed: boolean
  /** Faster than the baseline by more than the noise band. */
  improved: boolean
}

/**
 * Compares the observed values of a report with a baseline report of the same models. A change counts only beyond
 * the measured noise: the wider spread of the two runs bounds how far two medians of the same speed can drift apart.
 * Rows missing from either side, or without an observed value, are left out. Order: the report's models, then
 * SCENARIO_IDS.
 */
export function compareBaseline(report: Pick<Report, 'models'>, baseline: Pick<Report, 'models'>): BaselineRow[] {
  const before = new Map<string, ScenarioResult>()
  for (const model of baseline.models) {
    for (const row of model.scenarios) before.set(key(model.ref, row.scenario), row)
  }
  const rows: BaselineRow[] = []
  for (const model of report.models) {
    for (const scenario of SCENARIO_IDS) {
      const now = findRow(model, scenario)
      const then = before.get(key(model.ref, scenario))
      if (!now || !then || now.observed === null || then.observed === null || now.unit !== then.unit) continue
      const deltaPct = (speedRatio(now.unit, then.observed, now.observed) - 1) * 100
      const noiseBandPct = Math.max(now.spread ?? 0, then.spread ?? 0) * 100
      rows.push({
        ref: model.ref,
        scenario,
        unit: now.unit,
        observed: now.observed,
        baseline_observed: then.observed,
        delta_pct: deltaPct,
        noise_band_pct: noiseBandPct,
        regressed: deltaPct < -noiseBandPct,
        improved: deltaPct > noiseBandPct
      })
    }
  }
  return rows
}

function findRow(model: ModelReport, scenario: ScenarioId): ScenarioResult | undefined {
  return model.scenarios.find((s) => s.scenario === scenario)
}

function key(ref: string, scenario: ScenarioId): string {
  return `${scenario}\u0000${ref}`
}
