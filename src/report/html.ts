import { SCENARIO_UNITS } from '../contracts/scenarios.js'
import type { Report } from '../contracts/report.js'
import { formatLimit } from '../util/format.js'
import { DEFAULT_THRESHOLDS } from '../gate/defaults.js'
import { VERDICTS } from '../contracts/scenarios.js'
import { VERDICT_COLOR, renderChart } from './chart.js'
import { escapeHtml as esc } from './escape.js'
import { provenanceLines } from './provenance.js'
import { SECTIONS_SHOWN, type SectionId } from './sections.js'
import * as view from './view.js'
import { driftLines, driftTables, renderDriftChart } from './drift.js'
import { rowLabel } from '../contracts/report.js'

/** Rows the baseline could not be compared on, named per reason before "+N more" (the JSON has them all). */
const MAX_NAMED_NOT_COMPARED = 20

const STYLE = `
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg-soft: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--fg); margin: 24px auto; max-width: 1220px; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 8px; } h2 { font-size: 17px; margin: 28px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.verdict { border-radius: 8px; padding: 12px 16px; margin: 12px 0; border: 1px solid; }
.verdict.passed { background: #e9f6ec; border-color: #7cc98f; } .verdict.failed { background: #fdecec; border-color: #e58a8a; }
.verdict ul { margin: 6px 0 0; padding-left: 20px; }
.facts { color: var(--muted); }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--bg-soft); } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.failing td { background: #fff1f1; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 8px; padding: 8px; background: #fff; }
figcaption { font-weight: 600; margin: 0 0 4px 4px; }
svg.chart, svg.drift-chart { display: block; max-width: 100%; height: auto; }
svg .plot { fill: #fcfcfd; stroke: var(--line); } svg .grid { stroke: #eceff2; stroke-width: 1; }
svg .band { fill: #2e7d32; fill-opacity: 0.12; stroke: none; } svg .identity { stroke: #444; stroke-width: 1.2; stroke-dasharray: 5 4; }
svg .point { stroke: #fff; stroke-width: 1.5; } svg .whisker { stroke-width: 2; stroke-opacity: 0.55; }
svg text { font: 11px -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; fill: var(--muted); }
svg .axis { font-size: 12px; fill: var(--fg); } svg .label { fill: var(--fg); font-size: 10.5px; } svg .caption { font-style: italic; }
.legend { display: flex; flex-wrap: wrap; gap: 14px; margin: 4px 0 10px; color: var(--muted); }
.dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 5px; vertical-align: -1px; }
.pill { display: inline-block; border-radius: 10px; padding: 0 7px; color: #fff; font-size: 12px; white-space: nowrap; }
details { border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; margin: 6px 0; }
summary { cursor: pointer; } .breakdown { color: var(--muted); font-size: 12px; } code { font-size: 12px; }
.note { color: var(--muted); font-size: 13px; }
.warning { background: #fff6e0; border-left: 3px solid #e0a800; padding: 4px 8px; font-size: 13px; }
.mark { font-weight: 700; } .mark.ok { color: #2e7d32; } .mark.bad { color: #c62828; }
`

/** Added only to pages with a baseline section, so a page without one keeps its exact bytes. */
const BASELINE_STYLE = `
tr.bl-regressed td { background: #fdecec; } tr.bl-improved td { background: #e9f6ec; }
.bl-status { font-weight: 600; white-space: nowrap; } .bl-status.regressed { color: #c62828; } .bl-status.improved { color: #2e7d32; }
.bl-status.within-noise { color: var(--muted); font-weight: 400; } .bl-status.noise-unknown { color: #9a6700; font-weight: 400; }
.warn { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; padding: 6px 10px; }
`

/**
 * The report as one self-contained HTML page (every section of sections.ts, no byte budget): no scripts, fonts, images or styles loaded from anywhere. Verdict
 * and failures, per-scenario charts and statistics, the comparison with a baseline run, every row (failing first), per-model details with both
 * breakdowns, provenance. All report text is escaped (model refs and log lines are user input). Deterministic.
 */
export function renderHtml(report: Report): string {
  const tolerance = (report.thresholds ?? DEFAULT_THRESHOLDS).tolerance_pct / 100
  const title = `model-fit-gate ${report.gate.passed ? 'passed' : 'failed'}`
  const sections: Record<SectionId, () => string> = {
    verdict: () => verdictBlock(report),
    charts: () => chartsBlock(report, tolerance),
    scenarios: () => scenarioTable(report),
    drift: () => driftBlock(report),
    memory: () => memoryBlock(report),
    baseline: () => baselineBlock(report),
    rows: () => rowsTable(report),
    models: () => modelsBlock(report),
    provenance: () => provenanceBlock(report)
  }
  return (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    // Forbid every external load: the page must read the same offline and from an artifact.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">` +
    `<title>${esc(title)}</title><style>${STYLE}${report.baseline ? BASELINE_STYLE : ''}</style></head><body>\n` +
    SECTIONS_SHOWN.html.map((id) => sections[id]()).join('') +
    '</body></html>\n'
  )
}

function verdictBlock(report: Report): string {
  const n = report.gate.failures.length
  const heading = report.gate.passed ? `${mark(true)} model-fit-gate passed` : `${mark(false)} model-fit-gate failed: ${n} failure${n === 1 ? '' : 's'}`
  const list = n > 0 ? `<ul>${report.gate.failures.map((f) => `<li>${esc(f.message)}</li>`).join('')}</ul>` : ''
  const resumed = report.resumed?.length ? ` · ${report.resumed.length} resumed from an interrupted run's checkpoint` : ''
  const facts = `${report.models.length} models${resumed} · estimator ${esc(report.estimator.name)} · llama.cpp ${esc(report.provenance.llama_cpp_commit)} (${esc(report.provenance.backend)}) · ${esc(report.provenance.device)} · ${esc(report.generated_at)}`
  const assumed = view.assumptionsWarning(report)
  const drift = driftLines(report).filter((l) => l.startsWith('⚠️')).map((l) => `<p class="warning">${esc(l)}</p>`).join('')
  return (
    `<h1>model-fit-gate report</h1><div class="verdict ${report.gate.passed ? 'passed' : 'failed'}"><strong>${heading}</strong>${list}</div><p class="facts">${facts}</p>` +
    `${assumed ? `<p class="warning">${esc(assumed)}</p>` : ''}${drift}\n`
  )
}

function chartsBlock(report: Report, tolerance: number): string {
  const legend = VERDICTS.map((v) => `<span><span class="dot" style="background:${VERDICT_COLOR[v]}"></span>${v}</span>`).join('')
  const groups = view.workloadGroups(report)
  const figures = groups
    .flatMap((g) =>
      view.scenariosIn(report).filter((id) => g.models.some((m) => m.scenarios.some((r) => r.scenario === id))).map((id) => {
        const s = g.summary[id]
        const stats = s ? ` <span class="note">· ${s.gated} gated · median |error| ${view.formatErrorPct(s.median_abs_error_pct)}</span>` : ''
        const caption = g.name !== null ? `${id} · ${esc(g.name)}` : id
        return `<figure><figcaption>${caption}${stats}</figcaption>${renderChart(g.models, id, SCENARIO_UNITS[id], tolerance, g.name ?? '')}</figure>`
      })
    )
    .join('\n')
  return (
    '<h2>Predicted against observed</h2>' +
    `<p class="note">Log axes. Dashed line: observed = predicted; shaded band: within ±${formatLimit(tolerance * 100)} %. ` +
    `Whiskers span the samples. Hover a point for its model.${groups[0]?.name !== null ? ' One chart per workload and scenario.' : ''}</p>` +
    `<div class="legend">${legend}</div><div class="charts">${figures}</div>\n`
  )
}

function scenarioTable(report: Report): string {
  const tables = view.workloadGroups(report).map((g) => {
    const rows = view.scenariosIn(report)
      .map((id) => {
        const s = g.summary[id]
        if (!s) return ''
        const limits = view.limitsText(report, id, g.name)
        const failed = report.gate.failures.some((f) => f.scenario === id && (f.workload ?? null) === g.name)
        return (
          `<tr${failed ? ' class="failing"' : ''}><td>${id}</td><td>${SCENARIO_UNITS[id]}</td><td class="num">${s.samples}</td>` +
          `<td class="num">${s.gated}</td><td class="num">${s.noisy}</td><td class="num">${s.runtime_errors}</td>` +
          `<td class="num">${view.formatErrorPct(s.median_abs_error_pct)}</td><td class="num">${view.formatErrorPct(s.max_abs_error_pct)}</td><td>${limits}</td></tr>`
        )
      })
      .join('')
    const title = g.name !== null ? `<h3>Workload <code>${esc(g.name)}</code></h3><p class="note">${esc(g.description ?? '')}</p>` : ''
    return (
      title +
      '<table><thead><tr><th>scenario</th><th>unit</th><th>rows</th><th>gated</th><th>noisy</th>' +
      '<th>runtime errors</th><th>median |error|</th><th>max |error|</th><th>limits: median / max / noisy</th></tr></thead>' +
      `<tbody>${rows}</tbody></table>`
    )
  })
  return (
    `<h2>Scenarios</h2>${tables.join('')}` +
    '<p class="note">ratio &gt; 1 means faster than predicted (first_token: predicted ms / observed ms). ' +
    '|error| = |observed − predicted| / predicted.</p>\n'
  )
}

function driftBlock(report: Report): string {
  const lines = driftLines(report)
  if (lines.length === 0) return ''
  const paragraphs = lines.map((l) => `<p class="${l.startsWith('⚠️') ? 'warning' : 'note'}">${esc(l)}</p>`).join('')
  const chart = renderDriftChart(report)
  const tables = driftTables(report).map((t) => {
    const head = t.head.map((c) => `<th>${esc(c)}</th>`).join('')
    const body = t.rows.map((r) => `<tr>${r.map((c, i) => `<td${t.numeric[i] ? ' class="num"' : ''}>${esc(c)}</td>`).join('')}</tr>`).join('')
    return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`
  })
  const chartBlock = chart ? `<figure><figcaption>Sentinel (${esc(report.drift!.sentinel!.test)}) over the run · shaded: ±tolerance around its median</figcaption>${chart}</figure>` : ''
  return `<h2>The machine over time</h2>${paragraphs}${chartBlock}${tables.length > 0 ? `<details><summary>Re-check and sentinel points</summary>${tables.join('')}</details>` : ''}\n`
}

/** The memory gate: per buffer over the models, then one row per model, failing first; nothing without a check. */
function memoryBlock(report: Report): string {
  const s = report.memory_summary
  const rows = view.memoryRows(report)
  if (!s || rows.length === 0) return ''
  const limits = report.thresholds?.memory
  const failed = new Set(report.gate.failures.filter((f) => f.scenario === 'memory').map((f) => f.limit))
  const buffers = (['weights', 'context', 'compute'] as const)
    .map((b) => {
      const x = s.buffers[b]
      const l = limits?.[b]
      const bad = failed.has(`${b}.max_median_abs_error_pct`) || failed.has(`${b}.max_abs_error_pct`)
      return (
        `<tr${bad ? ' class="failing"' : ''}><td>${b}</td><td class="num">${view.formatErrorPct(x.median_abs_error_pct)}</td>` +
        `<td class="num">${view.formatErrorPct(x.max_abs_error_pct)}</td><td>${l ? `${formatLimit(l.max_median_abs_error_pct)} % / ${formatLimit(l.max_abs_error_pct)} %` : 'not gated'}</td></tr>`
      )
    })
    .join('')
  const models = rows
    .map(
      (r) =>
        `<tr${r.failing ? ' class="failing"' : ''}><td>${mark(!r.failing)}</td><td>${esc(r.ref)}</td><td class="num">${esc(view.memoryCell(r.buffers.weights))}</td>` +
        `<td class="num">${esc(view.memoryCell(r.buffers.context))}</td><td class="num">${esc(view.memoryCell(r.buffers.compute))}</td>` +
        `<td>${esc(view.memoryFitCell(r.check))}</td><td>${pill(r.check.verdict)}${r.check.reason && r.check.verdict !== 'match' ? ` ${esc(r.check.reason)}` : ''}</td></tr>`
    )
    .join('')
  return (
    "<h2>Memory against llama.cpp's projection</h2>" +
    `<p>${s.gated} of ${s.samples} models judged · ${s.wrong_fit} wrong fit verdict${s.wrong_fit === 1 ? '' : 's'} · ${s.runtime_errors} projection error${s.runtime_errors === 1 ? '' : 's'}</p>` +
    '<table><thead><tr><th>buffer</th><th>median |error|</th><th>max |error|</th><th>limits: median / max</th></tr></thead>' +
    `<tbody>${buffers}</tbody></table>` +
    '<table><thead><tr><th></th><th>model</th><th>weights</th><th>context</th><th>compute</th><th>fit: estimate / llama.cpp</th><th>verdict</th></tr></thead>' +
    `<tbody>${models}</tbody></table>` +
    "<p class=\"note\">Each buffer: estimate / llama.cpp's projection (error). Context is the KV caches and recurrent state. " +
    "llama.cpp's projection runs its own allocator on the model's header with the workload's flags (llama-fit-params).</p>\n"
  )
}

/** Pass/fail marks as styled text, not emoji: headless and minimal systems often have no emoji font. */
function mark(ok: boolean): string {
  return ok ? '<span class="mark ok">✓</span>' : '<span class="mark bad">✗</span>'
}

function pill(verdict: string): string {
  return `<span class="pill" style="background:${VERDICT_COLOR[verdict as keyof typeof VERDICT_COLOR]}">${esc(verdict)}</span>`
}

/** Rows beyond noise in a coloured table, rows within noise collapsed under it; nothing without a baseline. */
function baselineBlock(report: Report): string {
  if (!report.baseline) return ''
  const counts = view.baselineCounts(report)
  const shown = view.orderedBaselineRows(report)
  const changes = shown.filter((r) => r.failing || r.status === 'regressed' || r.status === 'improved')
  const quiet = shown.filter((r) => !changes.includes(r))
  const limit = report.thresholds?.max_regression_pct
  const countText = [
    `<span class="bl-status regressed">${counts.regressed} regressed</span>`,
    `<span class="bl-status improved">${counts.improved} improved</span>`,
    `${counts['within-noise']} within noise`,
    ...(counts['noise-unknown'] > 0 ? [`${counts['noise-unknown']} with noise not measured`] : []),
    ...(counts.not_compared > 0 ? [`${counts.not_compared} not compared`] : [])
  ].join(' · ')
  const { identity, warnings } = view.baselineContext(report)
  const row = (r: view.ShownBaselineRow, withMark: boolean): string => {
    const over = r.failing && limit !== undefined ? `, over the ${formatLimit(limit)} % limit` : ''
    return (
      `<tr class="bl-${r.status}${r.failing ? ' failing' : ''}">${withMark ? `<td>${r.failing ? mark(false) : ''}</td>` : ''}` +
      `<td>${esc(r.row.ref)}</td><td>${r.row.scenario}</td><td class="num">${view.formatValue(r.row.baseline_observed, r.row.unit)}</td>` +
      `<td class="num">${view.formatValue(r.row.observed, r.row.unit)}</td><td class="num bl-status ${r.status}">${view.formatDeltaPct(r.row.delta_pct)}</td>` +
      `<td class="num">${view.formatNoiseBand(r.row)}</td><td><span class="bl-status ${r.status}">${view.BASELINE_STATUS_TEXT[r.status]}</span>${over}</td></tr>`
    )
  }
  const head = (withMark: boolean): string =>
    `<thead><tr>${withMark ? '<th></th>' : ''}<th>model</th><th>scenario</th><th>baseline</th><th>observed</th><th>Δ speed</th><th>noise band</th><th>change</th></tr></thead>`
  const changesTable =
    changes.length > 0
      ? `<table class="baseline">${head(true)}<tbody>${changes.map((r) => row(r, true)).join('')}</tbody></table>`
      : '<p><em>No change beyond the noise band.</em></p>'
  const quietSummary = [
    ...(counts['within-noise'] > 0 ? [`${counts['within-noise']} within noise`] : []),
    ...(counts['noise-unknown'] > 0 ? [`${counts['noise-unknown']} with noise not measured`] : [])
  ].join(', ')
  const quietBlock =
    quiet.length > 0
      ? `<details><summary>${quietSummary}</summary><table class="baseline">${head(false)}<tbody>${quiet.map((r) => row(r, false)).join('')}</tbody></table></details>`
      : ''
  const notCompared = view.notComparedLines(report, MAX_NAMED_NOT_COMPARED)
  const gateNote =
    limit !== undefined
      ? `A regression beyond noise by more than max_regression_pct (${formatLimit(limit)} %) fails the gate.`
      : 'max_regression_pct is not set: changes are shown, not gated.'
  return (
    `<h2>Against the baseline</h2><p>${countText}</p><p class="note">${esc(identity)}</p>` +
    warnings.map((w) => `<p class="warn">${esc(w)}</p>`).join('') +
    changesTable +
    quietBlock +
    (notCompared.length > 0 ? `<p class="note">Not compared: ${notCompared.map((l) => esc(l)).join(' · ')}</p>` : '') +
    '<p class="note">Δ speed: + is faster than the baseline, − slower (first_token: baseline ms / observed ms). ' +
    `A change counts only beyond the noise band, the wider sample spread of the two runs. ${esc(gateNote)}</p>\n`
  )
}

function rowsTable(report: Report): string {
  const rows = view.orderedRows(report)
    .map(
      ({ model, row, failing }) =>
        `<tr${failing ? ' class="failing"' : ''}><td>${failing ? mark(false) : ''}</td><td>${esc(rowLabel(model))}</td><td>${row.scenario}</td>` +
        `<td class="num">${view.formatValue(row.predicted, row.unit)}</td><td class="num">${view.formatValue(row.observed, row.unit)}</td>` +
        `<td class="num">${view.formatRatio(row.ratio)}</td><td class="num">${view.formatErrorPct(row.abs_error_pct)}</td><td>${pill(row.verdict)}</td></tr>`
    )
    .join('')
  return (
    '<h2>Rows, failing first</h2><table><thead><tr><th></th><th>model</th><th>scenario</th><th>predicted</th><th>observed</th>' +
    `<th>ratio</th><th>|error|</th><th>verdict</th></tr></thead><tbody>${rows}</tbody></table>\n`
  )
}

function modelsBlock(report: Report): string {
  const failing = view.failingRowKeys(report)
  const blocks = report.models.map((model) => {
    const rows = model.scenarios
      .map((r) => {
        const parts = [
          view.breakdownText(r.detail.predicted_breakdown) ? `predicted: ${view.breakdownText(r.detail.predicted_breakdown)}` : '',
          view.breakdownText(r.detail.observed_breakdown) ? `observed: ${view.breakdownText(r.detail.observed_breakdown)}` : '',
          r.detail.reason ? `reason: ${r.detail.reason}` : ''
        ].filter((p) => p !== '')
        const logTail = r.detail.log_tail?.length ? `<pre>${esc(r.detail.log_tail.join('\n'))}</pre>` : ''
        const range = r.predicted_range ? `${view.formatValue(r.predicted_range[0], r.unit)} – ${view.formatValue(r.predicted_range[1], r.unit)}` : '—'
        return (
          `<tr><td>${r.scenario}</td><td class="num">${view.formatValue(r.predicted, r.unit)}</td><td class="num">${range}</td>` +
          `<td class="num">${view.formatValue(r.observed, r.unit)}</td><td class="num">${r.samples.length}</td><td class="num">${view.formatSpread(r.spread)}</td>` +
          `<td class="num">${view.formatRatio(r.ratio)}</td><td class="num">${view.formatErrorPct(r.abs_error_pct)}</td><td>${pill(r.verdict)}</td>` +
          `<td class="breakdown">${parts.map((p) => esc(p)).join('<br>')}${logTail}</td></tr>`
        )
      })
      .join('')
    const fails = view.modelFails(model, failing)
    const error = model.error ? `<p><strong>error:</strong> ${esc(model.error)}</p>` : ''
    const table = model.scenarios.length
      ? '<table><thead><tr><th>scenario</th><th>predicted</th><th>range</th><th>observed</th><th>samples</th><th>spread</th>' +
        `<th>ratio</th><th>|error|</th><th>verdict</th><th>breakdown</th></tr></thead><tbody>${rows}</tbody></table>`
      : ''
    const memoryLine = [view.memoryCheckLine(model), view.memoryDevicesLine(model)].filter((l) => l !== '').join(' · ')
    const assumedLine = view.assumptionsLine(model)
    return (
      `<details${fails ? ' open' : ''}><summary>${mark(!fails)} <strong>${esc(rowLabel(model))}</strong> — ${esc(view.profileLine(model))}</summary>` +
      `<p class="note">path: <code>${esc(model.path)}</code></p>${error}${assumedLine ? `<p class="warning">${esc(assumedLine)}</p>` : ''}${view.runLine(model) ? `<p class="note">${esc(view.runLine(model))}</p>` : ''}${table}` +
      `${memoryLine ? `<p class="note">${esc(memoryLine)}</p>` : ''}</details>`
    )
  })
  return `<h2>Models</h2>${blocks.join('\n')}\n`
}

function provenanceBlock(report: Report): string {
  const rows = provenanceLines(report)
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`)
    .join('')
  return `<h2>Provenance</h2><table><tbody>${rows}</tbody></table>\n`
}
