import type { Thresholds } from '../contracts/gate.js'
import type { Report } from '../contracts/report.js'
import type { ScenarioId } from '../contracts/scenarios.js'
import type { ScenarioResult } from '../contracts/verdict.js'
import { absErrorPct, rangeUnderFactNoise, speedRatio, verdictFor } from '../compare/compare.js'
import { machineMovedReason } from '../compare/drift.js'
import { baselineComparison, keepMatchingRows, type BaselineSource } from '../compare/baseline.js'
import { GATED_VERDICTS, gate } from './gate.js'
import { compareSettingsFrom } from './thresholds.js'
import { memorySettingsFrom, reverdictMemory } from './memory.js'

export interface ApplyGateOptions {
  scenario?: ScenarioId | 'all'
  /**
   * A previous report of the same models: the comparison is stored in `baseline`, and with
   * thresholds.max_regression_pct slowdowns beyond noise fail. Without it a report's stored comparison is re-gated.
   */
  baseline?: BaselineSource | null
}

/**
 * Gates a whole report with the given thresholds and returns it with `thresholds`, `summary` and `gate` replaced,
 * and `baseline` set when a baseline is given or the report had one (absent otherwise: a report never compared keeps
 * its exact bytes).
 * Rows that have both numbers get their verdict re-derived from these thresholds' tolerance and max spread, so
 * `check --thresholds` judges with the limits it is given, not the ones `validate` ran with.
 */
export function applyGate(report: Report, thresholds: Thresholds, opts: ApplyGateOptions = {}): Report {
  const settings = compareSettingsFrom(thresholds)
  const memorySettings = memorySettingsFrom(thresholds)
  const moved = machineMovedReason(report.drift, settings.tolerance)
  const models = report.models.map((m) => ({
    ...m,
    scenarios: m.scenarios.map((row) => reverdict(row, settings, moved)),
    ...(m.memory ? { memory: reverdictMemory(m.memory, memorySettings) } : {})
  }))
  const baseline = opts.baseline
    ? baselineComparison({ models }, opts.baseline)
    : report.baseline
      ? keepMatchingRows(report.baseline, models)
      : undefined
  const { result, summary, memorySummary } = gate(models, thresholds, { scenario: opts.scenario, regressions: baseline?.rows })
  const { memory_summary: _old, ...rest } = report
  return { ...rest, models, thresholds, summary, ...(memorySummary ? { memory_summary: memorySummary } : {}), gate: result, ...(baseline ? { baseline } : {}) }
}

const REVERDICTABLE = new Set([...GATED_VERDICTS, 'inconclusive-noisy'])

function reverdict(row: ScenarioResult, settings: ReturnType<typeof compareSettingsFrom>, moved: string | null): ScenarioResult {
  if (!REVERDICTABLE.has(row.verdict) || row.predicted === null || row.observed === null) return row
  // The estimator's own range: a range widened by a fact's noise under other limits is judged afresh.
  const range = row.detail.estimator_range ?? row.predicted_range
  const { verdict, reason } = verdictFor(
    { unit: row.unit, predicted: row.predicted, predicted_range: range, observed: row.observed, spread: row.spread, fact_noise: row.detail.fact_noise ?? null },
    settings,
    moved
  )
  const { reason: _old, estimator_range: _range, ...detail } = row.detail
  const shown = rangeUnderFactNoise(row.predicted, range, row.detail.fact_noise, settings.tolerance)
  return {
    ...row,
    predicted_range: shown.range,
    ratio: speedRatio(row.unit, row.predicted, row.observed),
    abs_error_pct: absErrorPct(row.predicted, row.observed),
    verdict,
    detail: { ...detail, ...(shown.estimatorRange ? { estimator_range: shown.estimatorRange } : {}), ...(reason ? { reason } : {}) }
  }
}
