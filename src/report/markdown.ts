import type { Report, ScenarioId } from '../types.js'
import { formatLimit } from '../compare/format.js'
import { escapeHtml, escapeMarkdown as md } from './escape.js'
import {
  VERDICT_ICON,
  breakdownText,
  failingRowKeys,
  formatErrorPct,
  formatRatio,
  formatSpread,
  formatValue,
  modelFails,
  orderedRows,
  profileLine,
  scenariosIn
} from './view.js'
import { provenanceLines } from './provenance.js'

/** GitHub's job summary cap (1 MiB per step). */
export const JOB_SUMMARY_MAX_BYTES = 1024 * 1024
/** Below this no useful summary fits; a smaller maxBytes is a caller bug. */
export const MIN_MARKDOWN_BYTES = 2048
/** Gate failures listed under the verdict before "+N more". */
const MAX_LISTED_FAILURES = 50
/** Room kept for the truncation notes. */
const NOTE_RESERVE_BYTES = 400

export interface MarkdownOptions {
  /** Byte budget (UTF-8); per-row lines and per-model blocks are dropped with a note to stay under it. */
  maxBytes?: number
  /** Heading level of the title (2 → "##"); sections are one level deeper. */
  headingLevel?: number
}

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8')

/**
 * The report as GitHub Markdown: verdict and failure messages first, the per-scenario table, every row with
 * failing ones first, a collapsible block per model, then provenance. Deterministic: no clock, no environment.
 */
export function renderMarkdown(report: Report, opts: MarkdownOptions = {}): string {
  const maxBytes = opts.maxBytes ?? JOB_SUMMARY_MAX_BYTES
  if (maxBytes < MIN_MARKDOWN_BYTES) throw new Error(`renderMarkdown: maxBytes ${maxBytes} < ${MIN_MARKDOWN_BYTES}`)
  const h = '#'.repeat(opts.headingLevel ?? 2)
  const top = verdictSection(report, h) + scenarioSection(report, h)
  const bottom = `${h}# Provenance\n\n${provenanceLines(report)
    .map(([k, v]) => `- **${k}:** ${md(v)}`)
    .join('\n')}\n`
  let budget = maxBytes - bytes(top) - bytes(bottom) - NOTE_RESERVE_BYTES

  const rowLines = rowsTable(report)
  let rowsPart = `${h}# Rows, failing first\n\n${rowLines.header}`
  budget -= bytes(rowsPart)
  let shownRows = 0
  for (const line of rowLines.lines) {
    if (bytes(line) > budget) break
    rowsPart += line
    budget -= bytes(line)
    shownRows++
  }
  if (shownRows < rowLines.lines.length) {
    rowsPart += `\n_${rowLines.lines.length - shownRows} more rows not shown (size limit); see the JSON or HTML report._\n`
  }
  rowsPart += '\n'

  let modelsPart = `${h}# Models\n\n`
  budget -= bytes(modelsPart)
  const blocks = modelBlocks(report)
  let shownModels = 0
  for (const block of blocks) {
    if (bytes(block) > budget) break
    modelsPart += block
    budget -= bytes(block)
    shownModels++
  }
  if (shownModels < blocks.length) {
    modelsPart += `_${blocks.length - shownModels} of ${blocks.length} model blocks not shown (size limit); see the JSON or HTML report._\n\n`
  }
  return clampToBytes(top + rowsPart + modelsPart + bottom, maxBytes)
}

function verdictSection(report: Report, h: string): string {
  const n = report.gate.failures.length
  const title = report.gate.passed
    ? `${h} ✅ model-fit-gate passed`
    : `${h} ❌ model-fit-gate failed: ${n} failure${n === 1 ? '' : 's'}`
  const listed = report.gate.failures.slice(0, MAX_LISTED_FAILURES).map((f) => `- ${md(f.message)}`)
  if (n > MAX_LISTED_FAILURES) listed.push(`- _+${n - MAX_LISTED_FAILURES} more failures in the report_`)
  const rows = report.models.reduce((s, m) => s + m.scenarios.length, 0)
  const p = report.provenance
  const facts = [
    `${report.models.length} model${report.models.length === 1 ? '' : 's'}`,
    `${rows} scenario rows`,
    `estimator ${md(report.estimator.name)}`,
    `llama.cpp ${md(p.llama_cpp_commit)} (${md(p.backend)})`,
    md(p.device),
    md(report.generated_at)
  ]
  return `${title}\n\n${listed.length > 0 ? `${listed.join('\n')}\n\n` : ''}${facts.join(' · ')}\n\n`
}

function scenarioSection(report: Report, h: string): string {
  const ids = Object.keys(report.summary) as ScenarioId[]
  const ordered = scenariosIn(report).filter((id) => ids.includes(id))
  if (ordered.length === 0) return `${h}# Scenarios\n\n_No scenario rows._\n\n`
  const failedLimits = new Set(report.gate.failures.filter((f) => f.scenario !== null).map((f) => `${f.scenario}:${f.limit}`))
  const mark = (id: ScenarioId, limit: string): string => (failedLimits.has(`${id}:${limit}`) ? ' ❌' : '')
  const lines = ordered.map((id) => {
    const s = report.summary[id]
    if (!s) return ''
    const unit = report.models.flatMap((m) => m.scenarios).find((r) => r.scenario === id)?.unit ?? ''
    const lim = report.thresholds?.scenarios[id]
    const limits = lim
      ? `${formatLimit(lim.max_median_abs_error_pct)} % / ${formatLimit(lim.max_abs_error_pct)} % / ${lim.max_noisy}`
      : report.thresholds
        ? 'not gated'
        : '—'
    return (
      `| ${id} | ${unit} | ${s.samples} | ${s.gated} | ${s.noisy}${mark(id, 'max_noisy')} | ${s.runtime_errors} | ` +
      `${formatErrorPct(s.median_abs_error_pct)}${mark(id, 'max_median_abs_error_pct')} | ` +
      `${formatErrorPct(s.max_abs_error_pct)}${mark(id, 'max_abs_error_pct')} | ${limits} |`
    )
  })
  return (
    `${h}# Scenarios\n\n` +
    '| scenario | unit | rows | gated | noisy | runtime errors | median \\|error\\| | max \\|error\\| | limits: median / max / noisy |\n' +
    '|---|---|--:|--:|--:|--:|--:|--:|---|\n' +
    `${lines.join('\n')}\n\n` +
    'ratio > 1 means faster than predicted (first_token: predicted ms / observed ms). ' +
    '|error| = |observed − predicted| / predicted.\n\n'
  )
}

function rowsTable(report: Report): { header: string; lines: string[] } {
  const header =
    '| | model | scenario | predicted | observed | ratio | \\|error\\| | verdict |\n|---|---|---|--:|--:|--:|--:|---|\n'
  const lines = orderedRows(report).map(({ model, row, failing }) => {
    const icon = failing ? '❌' : VERDICT_ICON[row.verdict]
    return (
      `| ${icon} | ${md(model.ref)} | ${row.scenario} | ${formatValue(row.predicted, row.unit)} | ` +
      `${formatValue(row.observed, row.unit)} | ${formatRatio(row.ratio)} | ${formatErrorPct(row.abs_error_pct)} | ${row.verdict} |\n`
    )
  })
  return { header, lines }
}

function modelBlocks(report: Report): string[] {
  const failing = failingRowKeys(report)
  return report.models.map((model) => {
    const icon = modelFails(model, failing) ? '❌' : '✅'
    const summary = `${icon} ${escapeHtml(model.ref)} — ${escapeHtml(profileLine(model))}`
    const rows = model.scenarios.map(
      (r) =>
        `| ${r.scenario} | ${formatValue(r.predicted, r.unit)} | ${r.predicted_range ? `${formatValue(r.predicted_range[0], r.unit)} – ${formatValue(r.predicted_range[1], r.unit)}` : '—'} | ` +
        `${formatValue(r.observed, r.unit)} | ${r.samples.length} | ${formatSpread(r.spread)} | ${formatRatio(r.ratio)} | ` +
        `${formatErrorPct(r.abs_error_pct)} | ${VERDICT_ICON[r.verdict]} ${r.verdict} |`
    )
    const notes = model.scenarios.flatMap((r) => {
      const parts = [
        breakdownText(r.detail.predicted_breakdown) ? `predicted: ${breakdownText(r.detail.predicted_breakdown)}` : '',
        breakdownText(r.detail.observed_breakdown) ? `observed: ${breakdownText(r.detail.observed_breakdown)}` : '',
        r.detail.reason ? `reason: ${r.detail.reason}` : '',
        r.detail.log_tail?.length ? `log: ${r.detail.log_tail.slice(-3).join(' ⏎ ')}` : ''
      ].filter((p) => p !== '')
      return parts.length > 0 ? [`- **${r.scenario}**: ${md(parts.join('; '))}`] : []
    })
    const table =
      model.scenarios.length > 0
        ? '| scenario | predicted | range | observed | samples | spread | ratio | \\|error\\| | verdict |\n' +
          '|---|--:|---|--:|--:|--:|--:|--:|---|\n' +
          `${rows.join('\n')}\n\n`
        : ''
    const error = model.error ? `**error:** ${md(model.error)}\n\n` : ''
    return `<details><summary>${summary}</summary>\n\n${error}${table}${notes.length > 0 ? `${notes.join('\n')}\n\n` : ''}</details>\n\n`
  })
}

/** Last resort for a tiny budget: cut on a line boundary and say so. */
function clampToBytes(text: string, maxBytes: number): string {
  if (bytes(text) <= maxBytes) return text
  const note = '\n_…cut to fit the size limit._\n'
  const buf = Buffer.from(text, 'utf8').subarray(0, maxBytes - bytes(note))
  const cut = buf.toString('utf8').replace(/\uFFFD$/, '')
  return cut.slice(0, Math.max(0, cut.lastIndexOf('\n'))) + note
}
