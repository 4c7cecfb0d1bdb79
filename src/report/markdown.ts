import type { Report } from '../contracts/report.js'
import type { ScenarioId } from '../contracts/scenarios.js'
import { formatLimit } from '../util/format.js'
import { escapeHtml, escapeMarkdown as md } from './escape.js'
import {
  BASELINE_STATUS_ICON,
  BASELINE_STATUS_TEXT,
  VERDICT_ICON,
  baselineContext,
  baselineCounts,
  breakdownText,
  failingRowKeys,
  formatDeltaPct,
  formatErrorPct,
  formatNoiseBand,
  formatRatio,
  formatSpread,
  formatValue,
  limitsText,
  modelFails,
  notComparedLines,
  orderedBaselineRows,
  orderedRows,
  memoryCheckLine,
  memoryCell,
  memoryDevicesLine,
  memoryFitCell,
  memoryRows,
  MEMORY_VERDICT_ICON,
  assumptionsLine,
  runLine,
  assumptionsWarning,
  profileLine,
  scenariosIn,
  workloadGroups,
  type ShownBaselineRow
} from './view.js'
import { provenanceLines } from './provenance.js'
import { driftLines, driftTables } from './drift.js'
import { SECTIONS_SHOWN, fitToBudget, type BudgetPart, type SectionId } from './sections.js'
import { rowLabel } from '../contracts/report.js'

/** GitHub's job summary cap (1 MiB per step). */
export const JOB_SUMMARY_MAX_BYTES = 1024 * 1024
/** Below this no useful summary fits; a smaller maxBytes is a caller bug. */
export const MIN_MARKDOWN_BYTES = 2048
/** Gate failures listed under the verdict before "+N more". */
const MAX_LISTED_FAILURES = 50
/** Room kept for the truncation notes. */
const NOTE_RESERVE_BYTES = 400
/** More room when the baseline section adds its two truncation notes. */
const BASELINE_NOTE_RESERVE_BYTES = 200
/**
 * What a small budget keeps, most important first: the changes against the baseline beyond noise, every row (failing
 * first), the baseline rows within noise, the per-model blocks. The verdict, scenario table, the baseline's counts and
 * notes, and provenance are always whole.
 */
const CHANGES_PRIORITY = 1
const ROWS_PRIORITY = 2
const QUIET_PRIORITY = 3
const MODELS_PRIORITY = 4
/** Rows the baseline could not be compared on, named per reason before "+N more". */
const MAX_NAMED_NOT_COMPARED = 5

export interface MarkdownOptions {
  /** Byte budget (UTF-8); per-row lines and per-model blocks are dropped with a note to stay under it. */
  maxBytes?: number
  /** Heading level of the title (2 → "##"); sections are one level deeper. */
  headingLevel?: number
}

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8')

/**
 * The report as GitHub Markdown: verdict and failure messages first, the per-scenario table, the comparison with
 * the baseline run when there is one, every row with failing ones first, a collapsible block per model, then
 * provenance. Deterministic: no clock, no environment.
 */
export function renderMarkdown(report: Report, opts: MarkdownOptions = {}): string {
  const maxBytes = opts.maxBytes ?? JOB_SUMMARY_MAX_BYTES
  if (maxBytes < MIN_MARKDOWN_BYTES) throw new Error(`renderMarkdown: maxBytes ${maxBytes} < ${MIN_MARKDOWN_BYTES}`)
  const h = '#'.repeat(opts.headingLevel ?? 2)
  const sections: Record<SectionId, BudgetPart[]> = {
    verdict: [{ header: verdictSection(report, h) }],
    charts: [],
    scenarios: [{ header: scenarioSection(report, h) }],
    drift: driftParts(report, h),
    memory: memoryParts(report, h),
    baseline: baselineParts(report, h),
    rows: [rowsPart(report, h)],
    models: [modelsPart(report, h)],
    provenance: [{ header: `${h}# Provenance\n\n${provenanceLines(report).map(([k, v]) => `- **${k}:** ${md(v)}`).join('\n')}\n` }]
  }
  const parts = SECTIONS_SHOWN.markdown.flatMap((id) => sections[id])
  return clampToBytes(fitToBudget(parts, maxBytes - NOTE_RESERVE_BYTES).join(''), maxBytes)
}

const notShown =
  (what: string) =>
  (left: number): string =>
    `\n_${left} more ${what} not shown (size limit); see the JSON or HTML report._\n`

/**
 * The memory gate: per buffer over the models (whole), then one row per model, failing first, kept with the scenario
 * rows. None when no model's memory was judged.
 */
function memoryParts(report: Report, h: string): BudgetPart[] {
  const s = report.memory_summary
  const rows = memoryRows(report)
  if (!s || rows.length === 0) return []
  const failed = new Set(report.gate.failures.filter((f) => f.scenario === 'memory').map((f) => f.limit))
  const limits = report.thresholds?.memory
  const line = (b: 'weights' | 'context' | 'compute'): string => {
    const x = s.buffers[b]
    const l = limits?.[b]
    return (
      `| ${b} | ${formatErrorPct(x.median_abs_error_pct)}${failed.has(`${b}.max_median_abs_error_pct`) ? ' ❌' : ''} | ` +
      `${formatErrorPct(x.max_abs_error_pct)}${failed.has(`${b}.max_abs_error_pct`) ? ' ❌' : ''} | ${l ? `${formatLimit(l.max_median_abs_error_pct)} % / ${formatLimit(l.max_abs_error_pct)} %` : 'not gated'} |`
    )
  }
  const fitNote = `${s.wrong_fit} wrong fit verdict${s.wrong_fit === 1 ? '' : 's'}${limits ? (limits.check_fit ? ' (checked)' : ' (not checked)') : ''}`
  const header =
    `${h}# Memory against llama.cpp's projection

` +
    `${s.gated} of ${s.samples} models judged · ${fitNote} · ${s.runtime_errors} projection error${s.runtime_errors === 1 ? '' : 's'}

` +
    '| buffer | median \\|error\\| | max \\|error\\| | limits: median / max |\n|---|--:|--:|---|\n' +
    `${(['weights', 'context', 'compute'] as const).map(line).join('\n')}\n\n` +
    "Each buffer: estimate / llama.cpp's projection (error). Context is the KV caches and recurrent state.\n\n" +
    '| | model | weights | context | compute | fit: estimate / llama.cpp | verdict |\n|---|---|--:|--:|--:|---|---|\n'
  const items = rows.map(
    (r) =>
      `| ${r.failing ? '❌' : MEMORY_VERDICT_ICON[r.check.verdict]} | ${md(r.ref)} | ${memoryCell(r.buffers.weights)} | ${memoryCell(r.buffers.context)} | ` +
      `${memoryCell(r.buffers.compute)} | ${memoryFitCell(r.check)} | ${r.check.verdict}${r.check.reason && r.check.verdict !== 'match' ? `: ${md(r.check.reason)}` : ''} |\n`
  )
  return [{ priority: ROWS_PRIORITY, header, items, note: notShown('memory rows'), after: '\n' }]
}

/** The machine over time: the lines (whole), then the re-check and the sentinel's points (dropped first). */
function driftParts(report: Report, h: string): BudgetPart[] {
  const lines = driftLines(report)
  if (lines.length === 0) return []
  const table = driftTables(report).flatMap((t, i) => [
    ...(i > 0 ? [''] : []),
    `| ${t.head.map(md).join(' | ')} |`,
    `|${t.numeric.map((n) => (n ? '--:' : '---')).join('|')}|`,
    ...t.rows.map((r) => `| ${r.map(md).join(' | ')} |`)
  ])
  return [
    {
      priority: ROWS_PRIORITY,
      header: `${h}# The machine over time\n\n${lines.map((l) => `${md(l)}\n\n`).join('')}`,
      items: table.map((l) => `${l}\n`),
      note: notShown('drift lines'),
      after: '\n'
    }
  ]
}

/** Every row, failing first: kept after the changes beyond noise, before anything else that may drop. */
function rowsPart(report: Report, h: string): BudgetPart {
  const table = rowsTable(report)
  return { priority: ROWS_PRIORITY, header: `${h}# Rows, failing first\n\n${table.header}`, items: table.lines, note: notShown('rows'), after: '\n' }
}

/** A collapsible block per model: the first to go. */
function modelsPart(report: Report, h: string): BudgetPart {
  return {
    priority: MODELS_PRIORITY,
    header: `${h}# Models\n\n`,
    items: modelBlocks(report),
    note: (left, total) => `_${left} of ${total} model blocks not shown (size limit); see the JSON or HTML report._\n\n`
  }
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
  // With named workloads a model has a block of rows per workload: count the models once.
  const modelCount = new Set(report.models.map((m) => m.ref)).size
  const facts = [
    `${modelCount} model${modelCount === 1 ? '' : 's'}`,
    `${rows} scenario rows`,
    ...(report.resumed?.length ? [`${report.resumed.length} resumed from an interrupted run's checkpoint`] : []),
    `estimator ${md(report.estimator.name)}`,
    `llama.cpp ${md(p.llama_cpp_commit)} (${md(p.backend)})`,
    md(p.device),
    md(report.generated_at)
  ]
  const standIns = report.hardware.probe_failures?.length ?? 0
  const warning =
    standIns > 0
      ? `⚠️ ${standIns} probe part${standIns === 1 ? '' : 's'} not measured on this machine: the estimate uses stand-ins for ${standIns === 1 ? 'its facts' : 'their facts'} (listed under Provenance).\n\n`
      : ''
  const assumed = assumptionsWarning(report)
  // The machine's drift, when it puts the verdicts in doubt: said at the top, where a reader decides to trust them.
  const drift = driftLines(report).filter((l) => l.startsWith('⚠️')).map((l) => `${md(l)}\n\n`).join('')
  if (report.passes && report.passes > 1) facts.splice(2, 0, `${report.passes} passes`)
  if (report.workloads) facts.splice(1, 0, `${report.workloads.length} workload${report.workloads.length === 1 ? '' : 's'} (${report.workloads.map((w) => md(w.name)).join(', ')})`)
  return `${title}\n\n${listed.length > 0 ? `${listed.join('\n')}\n\n` : ''}${facts.join(' · ')}\n\n${warning}${assumed ? `${md(assumed)}\n\n` : ''}${drift}`
}

function scenarioSection(report: Report, h: string): string {
  const groups = workloadGroups(report)
  const named = groups.length > 1 || groups[0]?.name !== null
  const tables = groups.map((g) => {
    const ids = Object.keys(g.summary) as ScenarioId[]
    const ordered = scenariosIn(report).filter((id) => ids.includes(id))
    const title = g.name !== null ? `**Workload \`${md(g.name)}\`**: ${md(g.description ?? '')}\n\n` : ''
    if (ordered.length === 0) return `${title}_No scenario rows._\n\n`
    const failedLimits = new Set(report.gate.failures.filter((f) => f.scenario !== null && (f.workload ?? null) === g.name).map((f) => `${f.scenario}:${f.limit}`))
    const mark = (id: ScenarioId, limit: string): string => (failedLimits.has(`${id}:${limit}`) ? ' ❌' : '')
    const lines = ordered.map((id) => {
      const s = g.summary[id]
      if (!s) return ''
      const unit = g.models.flatMap((m) => m.scenarios).find((r) => r.scenario === id)?.unit ?? ''
      const limits = limitsText(report, id, g.name)
      return (
        `| ${id} | ${unit} | ${s.samples} | ${s.gated} | ${s.noisy}${mark(id, 'max_noisy')} | ${s.runtime_errors} | ` +
        `${formatErrorPct(s.median_abs_error_pct)}${mark(id, 'max_median_abs_error_pct')} | ` +
        `${formatErrorPct(s.max_abs_error_pct)}${mark(id, 'max_abs_error_pct')} | ${limits} |`
      )
    })
    return (
      title +
      '| scenario | unit | rows | gated | noisy | runtime errors | median \\|error\\| | max \\|error\\| | limits: median / max / noisy |\n' +
      '|---|---|--:|--:|--:|--:|--:|--:|---|\n' +
      `${lines.join('\n')}\n\n`
    )
  })
  if (!named && Object.keys(report.summary).length === 0) return `${h}# Scenarios\n\n_No scenario rows._\n\n`
  return (
    `${h}# Scenarios\n\n` +
    tables.join('') +
    'ratio > 1 means faster than predicted (first_token: predicted ms / observed ms). ' +
    '|error| = |observed − predicted| / predicted.\n\n'
  )
}

/**
 * The "Against the baseline" section as parts: its counts and run (whole), the changes beyond noise (kept first), the
 * rows within noise (collapsed, kept after every report row), the not-compared rows and how to read it (whole). None
 * without a baseline.
 */
function baselineParts(report: Report, h: string): BudgetPart[] {
  if (!report.baseline) return []
  const counts = baselineCounts(report)
  const shown = orderedBaselineRows(report)
  const changes = shown.filter((r) => r.failing || r.status === 'regressed' || r.status === 'improved')
  const quiet = shown.filter((r) => !changes.includes(r))
  const countText = [
    counts.regressed > 0 ? `**${counts.regressed} regressed**` : '0 regressed',
    `${counts.improved} improved`,
    `${counts['within-noise']} within noise`,
    ...(counts['noise-unknown'] > 0 ? [`${counts['noise-unknown']} with noise not measured`] : []),
    ...(counts.not_compared > 0 ? [`${counts.not_compared} not compared`] : [])
  ].join(' · ')
  const { identity, warnings } = baselineContext(report)
  const head =
    `${h}# Against the baseline\n\n${countText}\n\n${md(identity)}\n` +
    warnings.map((w) => `\n⚠️ ${md(w)}\n`).join('') +
    '\n' +
    (changes.length === 0 ? '_No change beyond the noise band._\n\n' : '')
  const limit = report.thresholds?.max_regression_pct
  const cells = (r: ShownBaselineRow): string =>
    `${md(r.row.ref)} | ${r.row.scenario} | ${formatValue(r.row.baseline_observed, r.row.unit)} | ${formatValue(r.row.observed, r.row.unit)} | ` +
    `${formatDeltaPct(r.row.delta_pct)} | ${formatNoiseBand(r.row)}`
  const changeLines = changes.map((r) => {
    const icon = r.failing ? '❌' : BASELINE_STATUS_ICON[r.status]
    const text = r.failing && limit !== undefined ? `${BASELINE_STATUS_TEXT[r.status]}, over the ${formatLimit(limit)} % limit` : BASELINE_STATUS_TEXT[r.status]
    return `| ${icon} | ${cells(r)} | ${text} |\n`
  })
  const quietLines = quiet.map((r) => `| ${cells(r)} | ${BASELINE_STATUS_TEXT[r.status]} |\n`)
  const quietSummary = [
    ...(counts['within-noise'] > 0 ? [`${counts['within-noise']} within noise`] : []),
    ...(counts['noise-unknown'] > 0 ? [`${counts['noise-unknown']} with noise not measured`] : [])
  ].join(', ')
  const notCompared = notComparedLines(report, MAX_NAMED_NOT_COMPARED)
  const gateNote =
    limit !== undefined
      ? `A regression beyond noise by more than max\\_regression\\_pct (${formatLimit(limit)} %) fails the gate.`
      : 'max\\_regression\\_pct is not set: changes are shown, not gated.'
  const tail =
    (notCompared.length > 0 ? `Not compared: ${notCompared.map((l) => md(l)).join(' · ')}\n\n` : '') +
    'Δ speed: + is faster than the baseline, − slower (first\\_token: baseline ms / observed ms). ' +
    `A change counts only beyond the noise band, the wider sample spread of the two runs. ${gateNote}\n\n`
  const changesHeader = '| | model | scenario | baseline | observed | Δ speed | noise band | change |\n|---|---|---|--:|--:|--:|--:|---|\n'
  const quietHeader =
    `<details><summary>〰️ ${quietSummary}</summary>\n\n` +
    '| model | scenario | baseline | observed | Δ speed | noise band | change |\n|---|---|--:|--:|--:|--:|---|\n'
  const changesPart: BudgetPart = { priority: CHANGES_PRIORITY, header: changesHeader, items: changeLines, note: notShown('changes'), after: '\n' }
  const quietPart: BudgetPart = {
    priority: QUIET_PRIORITY,
    header: quietHeader,
    items: quietLines,
    closing: '\n</details>\n\n',
    note: notShown('rows'),
    whenNoneFit: (n) => `_${n} rows without a change beyond noise not shown (size limit); see the JSON or HTML report._\n\n`
  }
  return [
    { header: head, reserve: BASELINE_NOTE_RESERVE_BYTES },
    ...(changeLines.length > 0 ? [changesPart] : []),
    ...(quietLines.length > 0 ? [quietPart] : []),
    { header: tail }
  ]
}

function rowsTable(report: Report): { header: string; lines: string[] } {
  const header =
    '| | model | scenario | predicted | observed | ratio | \\|error\\| | verdict |\n|---|---|---|--:|--:|--:|--:|---|\n'
  const lines = orderedRows(report).map(({ model, row, failing }) => {
    const icon = failing ? '❌' : VERDICT_ICON[row.verdict]
    return (
      `| ${icon} | ${md(rowLabel(model))} | ${row.scenario} | ${formatValue(row.predicted, row.unit)} | ` +
      `${formatValue(row.observed, row.unit)} | ${formatRatio(row.ratio)} | ${formatErrorPct(row.abs_error_pct)} | ${row.verdict} |\n`
    )
  })
  return { header, lines }
}

function modelBlocks(report: Report): string[] {
  const failing = failingRowKeys(report)
  return report.models.map((model) => {
    const icon = modelFails(model, failing) ? '❌' : '✅'
    const summary = `${icon} ${escapeHtml(rowLabel(model))} — ${escapeHtml(profileLine(model))}`
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
    const memoryLine = [memoryCheckLine(model), memoryDevicesLine(model)].filter((l) => l !== '')
    const memory = memoryLine.length > 0 ? `${memoryLine.map((l) => md(l)).join('\n\n')}\n\n` : ''
    const assumedLine = assumptionsLine(model)
    const assumed = assumedLine ? `${md(assumedLine)}\n\n` : ''
    const ran = runLine(model) ? `${md(runLine(model))}\n\n` : ''
    return `<details><summary>${summary}</summary>\n\n${error}${assumed}${ran}${table}${notes.length > 0 ? `${notes.join('\n')}\n\n` : ''}${memory}</details>\n\n`
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
