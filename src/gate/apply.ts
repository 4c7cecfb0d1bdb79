import type { GateFailure, Thresholds } from '../contracts/gate.js'
import { rowLabel } from '../contracts/report.js'
import { thresholdsFor } from './workloads.js'
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
  // Each row is judged with its workload's limits (thresholdsFor: the file's, with the workload's own over them).
  const limitsOf = (name: string | undefined): Thresholds => thresholdsFor(thresholds, name)
  const models = report.models.map((m) => {
    const t = limitsOf(m.workload)
    const settings = compareSettingsFrom(t)
    const moved = machineMovedReason(report.drift, settings.tolerance)
    return {
      ...m,
      scenarios: m.scenarios.map((row) => reverdict(row, settings, moved)),
      ...(m.memory ? { memory: reverdictMemory(m.memory, memorySettingsFrom(t)) } : {})
    }
  })
  const baseline = opts.baseline
    ? baselineComparison({ models }, opts.baseline)
    : report.baseline
      ? keepMatchingRows(report.baseline, models)
      : undefined
  const { memory_summary: _old, workload_summaries: _oldSummaries, ...rest } = report
  if (!report.workloads) {
    const { result, summary, memorySummary } = gate(models, thresholds, { scenario: opts.scenario, regressions: baseline?.rows })
    return { ...rest, models, thresholds, summary, ...(memorySummary ? { memory_summary: memorySummary } : {}), gate: result, ...(baseline ? { baseline } : {}) }
  }
  // Named workloads: each is gated on its own rows with its own limits; its failures name it.
  const failures: GateFailure[] = []
  const summaries: NonNullable<Report['workload_summaries']> = {}
  for (const { name } of report.workloads) {
    const own = models.filter((m) => m.workload === name)
    const labels = new Set(own.map((m) => rowLabel(m)))
    const out = gate(own, limitsOf(name), { scenario: opts.scenario, regressions: baseline?.rows.filter((r) => labels.has(r.ref)) })
    failures.push(...out.result.failures.map((f) => ({ ...f, workload: name, message: `[${name}] ${f.message}` })))
    summaries[name] = { summary: out.summary, ...(out.memorySummary ? { memory_summary: out.memorySummary } : {}) }
  }
  // The whole run's figures over every row (informational: each workload was gated on its own).
  const all = gate(models, thresholds, { scenario: opts.scenario })
  return {
    ...rest,
    models,
    thresholds,
    summary: all.summary,
    ...(all.memorySummary ? { memory_summary: all.memorySummary } : {}),
    workload_summaries: summaries,
    gate: { passed: failures.length === 0, failures },
    ...(baseline ? { baseline } : {})
  }
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
