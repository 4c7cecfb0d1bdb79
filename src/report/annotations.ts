import type { ManifestLine, Report } from '../contracts/report.js'
import type { ScenarioResult } from '../contracts/verdict.js'
import { formatNumber } from '../util/format.js'
import { failingRowKeys, formatErrorPct, modelFails } from './view.js'
import { rowLabel } from '../contracts/report.js'

/** GitHub shows at most 10 error and 10 warning annotations per step; more are dropped silently. */
export const MAX_ANNOTATIONS = 10
/** Keep each message readable in the annotation panel. */
const MAX_MESSAGE_CHARS = 1000

export interface Annotation {
  level: 'error' | 'warning'
  title: string
  message: string
  /** The manifest line of the model, when it came from a manifest file. */
  source?: ManifestLine
}

/**
 * One annotation per model worth a look, most severe first, at most MAX_ANNOTATIONS: models the gate fails or that
 * hit a runtime error are errors; models with only off-estimate or noisy rows are warnings. Order: runtime errors,
 * other errors, warnings; within each, largest |error| first, then report order.
 */
export function annotationsFor(report: Report): Annotation[] {
  const failing = failingRowKeys(report)
  const candidates = report.models.flatMap((model, index) => {
    const off = model.scenarios.filter((r) => r.verdict !== 'match' && r.verdict !== 'skipped')
    const fails = modelFails(model, failing)
    if (!fails && off.length === 0) return []
    const runtime = model.error !== null || model.scenarios.some((r) => r.verdict === 'runtime-error')
    const maxError = Math.max(-1, ...model.scenarios.map((r) => r.abs_error_pct ?? -1))
    const parts = [...(model.error ? [`error: ${model.error}`] : []), ...off.map(describeRow)]
    return [
      {
        index,
        rank: runtime ? 0 : fails ? 1 : 2,
        maxError,
        annotation: {
          level: fails ? ('error' as const) : ('warning' as const),
          title: `model-fit-gate: ${rowLabel(model)}`,
          message: clip(parts.join('; ')),
          ...(model.source ? { source: model.source } : {})
        }
      }
    ]
  })
  return candidates
    .sort((a, b) => a.rank - b.rank || b.maxError - a.maxError || a.index - b.index)
    .slice(0, MAX_ANNOTATIONS)
    .map((c) => c.annotation)
}

function describeRow(r: ScenarioResult): string {
  if (r.verdict === 'runtime-error') return `${r.scenario} runtime-error: ${r.detail.reason ?? 'failed'}`
  if (r.verdict === 'does-not-fit') return `${r.scenario} does-not-fit: ${r.detail.reason ?? ''}`.trim()
  const numbers =
    r.predicted !== null && r.observed !== null
      ? `observed ${formatNumber(r.observed)} vs predicted ${formatNumber(r.predicted)} ${r.unit}, |error| ${formatErrorPct(r.abs_error_pct)}`
      : ''
  return `${r.scenario} ${r.verdict}${numbers ? `: ${numbers}` : ''}${r.verdict === 'inconclusive-noisy' && r.detail.reason ? ` (${r.detail.reason})` : ''}`
}

function clip(text: string): string {
  return text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS - 1)}…` : text
}
