import { SCENARIO_IDS } from '../contracts/scenarios.js'
import type { GateFailure, GateResult, MemorySummary, ScenarioSummary, Thresholds } from '../contracts/gate.js'
import { gateMemory } from './memory.js'
import { exceeds } from './thresholds.js'
import type { ModelReport } from '../contracts/report.js'
import type { ScenarioId, Verdict } from '../contracts/scenarios.js'
import type { ScenarioResult } from '../contracts/verdict.js'
import type { BaselineRow } from '../compare/baseline.js'
import { formatLimit, formatNumber, formatPct } from '../util/format.js'
import { median } from '../util/stats.js'
import { rowLabel } from '../contracts/report.js'

/** Verdicts whose |error| is judged: the rows where prediction and a trustworthy observation meet. */
export const GATED_VERDICTS: readonly Verdict[] = ['match', 'slower-than-fit', 'faster-than-fit']

/** How many models a runtime-error or noisy failure message names before "+N more". */
const MAX_NAMED_IN_MESSAGE = 3
/** A runtime error's reason is cut to this many characters in the failure message (the report keeps it whole). */
const MAX_REASON_CHARS = 160

export interface GateOptions {
  /** Gate one scenario, or all (default). Rows of other scenarios stay in the report but are not judged. */
  scenario?: ScenarioId | 'all'
  /** baselineComparison() rows; gated against thresholds.max_regression_pct when that is set. */
  regressions?: readonly BaselineRow[]
}

export interface GateOutput {
  result: GateResult
  summary: Partial<Record<ScenarioId, ScenarioSummary>>
  /** null: no model's memory was judged against llama.cpp's projection. */
  memorySummary: MemorySummary | null
}

interface Row {
  ref: string
  row: ScenarioResult
}

/**
 * Judges verdict rows against thresholds. Per scenario: median and max |error| over the gated rows, noisy rows
 * counted against max_noisy (never in the error statistics); over the run: runtime errors against
 * max_runtime_errors and models with a gated row against min_models. Failure order: runtime errors, min_models,
 * then per scenario (SCENARIO_IDS order) median, single rows by |error| descending, noisy, regressions.
 */
export function gate(models: readonly ModelReport[], thresholds: Thresholds, opts: GateOptions = {}): GateOutput {
  const selected = opts.scenario === undefined || opts.scenario === 'all' ? SCENARIO_IDS : [opts.scenario]
  const summary: Partial<Record<ScenarioId, ScenarioSummary>> = {}
  const scenarioFailures: GateFailure[] = []
  const gatedModels = new Set<string>()
  const runtimeErrors: string[] = []

  for (const model of models) {
    const erroredRows = model.scenarios.filter((s) => selected.includes(s.scenario) && s.verdict === 'runtime-error')
    for (const r of erroredRows) runtimeErrors.push(`${rowLabel(model)} ${r.scenario}${r.detail.reason ? `: ${clip(r.detail.reason)}` : ''}`)
    // A model that failed before any scenario could run (download, bad GGUF) is one runtime error.
    if (model.error !== null && erroredRows.length === 0) runtimeErrors.push(`${rowLabel(model)}: ${clip(model.error)}`)
  }

  for (const scenario of selected) {
    const rows: Row[] = models.flatMap((m) =>
      m.scenarios.filter((s) => s.scenario === scenario).map((row) => ({ ref: rowLabel(m), row }))
    )
    if (rows.length === 0) continue
    const gated = rows.filter((r) => GATED_VERDICTS.includes(r.row.verdict) && r.row.abs_error_pct !== null)
    const noisy = rows.filter((r) => r.row.verdict === 'inconclusive-noisy')
    const errors = gated.map((r) => r.row.abs_error_pct as number)
    for (const r of gated) gatedModels.add(r.ref)
    const medianError = errors.length > 0 ? median(errors) : null
    const maxError = errors.length > 0 ? Math.max(...errors) : null
    summary[scenario] = {
      samples: rows.length,
      gated: gated.length,
      noisy: noisy.length,
      runtime_errors: rows.filter((r) => r.row.verdict === 'runtime-error').length,
      median_abs_error_pct: medianError,
      max_abs_error_pct: maxError
    }

    const limits = thresholds.scenarios[scenario]
    if (limits) {
      if (medianError !== null && exceeds(medianError, limits.max_median_abs_error_pct)) {
        scenarioFailures.push({
          scenario,
          model: null,
          limit: 'max_median_abs_error_pct',
          value: medianError,
          message: `${scenario}: median |error| ${formatPct(medianError)} % > ${formatLimit(limits.max_median_abs_error_pct)} % limit`
        })
      }
      const overLimit = gated
        .filter((r) => exceeds(r.row.abs_error_pct as number, limits.max_abs_error_pct))
        .sort((a, b) => (b.row.abs_error_pct as number) - (a.row.abs_error_pct as number) || compareText(a.ref, b.ref))
      for (const { ref, row } of overLimit) {
        const error = row.abs_error_pct as number
        scenarioFailures.push({
          scenario,
          model: ref,
          limit: 'max_abs_error_pct',
          value: error,
          message:
            `${scenario}: ${ref} |error| ${formatPct(error)} % > ${formatLimit(limits.max_abs_error_pct)} % limit ` +
            `(${row.verdict}: observed ${formatNumber(row.observed as number)} ${row.unit}, predicted ${formatNumber(row.predicted as number)} ${row.unit})`
        })
      }
      if (exceeds(noisy.length, limits.max_noisy)) {
        scenarioFailures.push({
          scenario,
          model: null,
          limit: 'max_noisy',
          value: noisy.length,
          message: `${scenario}: ${noisy.length} inconclusive-noisy rows > ${limits.max_noisy} allowed (${nameSome(noisy.map((r) => r.ref).sort(compareText))})`
        })
      }
    }
    scenarioFailures.push(...regressionFailures(scenario, thresholds, opts.regressions ?? []))
  }

  // Memory rows are judged whatever scenario is selected: they are a model's, not a scenario's.
  const memory = gateMemory(models, thresholds)
  runtimeErrors.push(...memory.runtimeErrors)
  for (const ref of memory.gatedModels) gatedModels.add(ref)
  scenarioFailures.push(...memory.failures)

  const failures: GateFailure[] = []
  if (exceeds(runtimeErrors.length, thresholds.max_runtime_errors)) {
    failures.push({
      scenario: null,
      model: null,
      limit: 'max_runtime_errors',
      value: runtimeErrors.length,
      message: `${runtimeErrors.length} runtime error${runtimeErrors.length === 1 ? '' : 's'} > ${thresholds.max_runtime_errors} allowed (${nameSome(runtimeErrors)})`
    })
  }
  if (gatedModels.size < thresholds.min_models) {
    failures.push({
      scenario: null,
      model: null,
      limit: 'min_models',
      value: gatedModels.size,
      message: `${gatedModels.size} model${gatedModels.size === 1 ? '' : 's'} with a gated row < ${thresholds.min_models} required (a run where nothing could be compared does not pass)`
    })
  }
  failures.push(...scenarioFailures)
  return { result: { passed: failures.length === 0, failures }, summary, memorySummary: memory.summary }
}

function regressionFailures(scenario: ScenarioId, thresholds: Thresholds, rows: readonly BaselineRow[]): GateFailure[] {
  const limit = thresholds.max_regression_pct
  if (limit === undefined) return []
  return rows
    .filter((r) => r.scenario === scenario && r.regressed && exceeds(-r.delta_pct, limit))
    .sort((a, b) => a.delta_pct - b.delta_pct || compareText(a.ref, b.ref))
    .map((r) => ({
      scenario,
      model: r.ref,
      limit: 'max_regression_pct',
      value: -r.delta_pct,
      message:
        `${scenario}: ${r.ref} ${formatPct(-r.delta_pct)} % slower than the baseline > ${formatLimit(limit)} % limit ` +
        `(${formatNumber(r.observed)} vs ${formatNumber(r.baseline_observed)} ${r.unit}, noise band ${formatPct(r.noise_band_pct)} %)`
    }))
}

function clip(reason: string): string {
  const oneLine = reason.replace(/\s+/g, ' ').trim()
  return oneLine.length > MAX_REASON_CHARS ? `${oneLine.slice(0, MAX_REASON_CHARS - 1)}…` : oneLine
}

function nameSome(names: readonly string[]): string {
  const shown = names.slice(0, MAX_NAMED_IN_MESSAGE).join('; ')
  return names.length > MAX_NAMED_IN_MESSAGE ? `${shown}; +${names.length - MAX_NAMED_IN_MESSAGE} more` : shown
}

/** Code-point order, independent of the runtime's locale. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
