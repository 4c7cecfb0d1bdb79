import type { Report, ScenarioId, ScenarioResult, Thresholds } from '../types.js'
import { absErrorPct, speedRatio, verdictFor } from '../compare/compare.js'
import { compareBaseline } from '../report/baseline.js'
import { GATED_VERDICTS, gate } from './gate.js'
import { compareSettingsFrom } from './thresholds.js'

export interface ApplyGateOptions {
  scenario?: ScenarioId | 'all'
  /** A previous report of the same models; with thresholds.max_regression_pct, slowdowns beyond noise fail. */
  baseline?: Pick<Report, 'models'> | null
}

/**
 * Gates a whole report with the given thresholds and returns it with `thresholds`, `summary` and `gate` replaced.
 * Rows that have both numbers get their verdict re-derived from these thresholds' tolerance and max spread, so
 * `check --thresholds` judges with the limits it is given, not the ones `validate` ran with.
 */
export function applyGate(report: Report, thresholds: Thresholds, opts: ApplyGateOptions = {}): Report {
  const settings = compareSettingsFrom(thresholds)
  const models = report.models.map((m) => ({ ...m, scenarios: m.scenarios.map((row) => reverdict(row, settings)) }))
  const regressions = opts.baseline ? compareBaseline({ models }, opts.baseline) : undefined
  const { result, summary } = gate(models, thresholds, { scenario: opts.scenario, regressions })
  return { ...report, models, thresholds, summary, gate: result }
}

const REVERDICTABLE = new Set([...GATED_VERDICTS, 'inconclusive-noisy'])

function reverdict(row: ScenarioResult, settings: ReturnType<typeof compareSettingsFrom>): ScenarioResult {
  if (!REVERDICTABLE.has(row.verdict) || row.predicted === null || row.observed === null) return row
  const { verdict, reason } = verdictFor(
    { unit: row.unit, predicted: row.predicted, predicted_range: row.predicted_range, observed: row.observed, spread: row.spread },
    settings
  )
  const { reason: _old, ...detail } = row.detail
  return {
    ...row,
    ratio: speedRatio(row.unit, row.predicted, row.observed),
    abs_error_pct: absErrorPct(row.predicted, row.observed),
    verdict,
    detail: reason ? { ...detail, reason } : detail
  }
}
