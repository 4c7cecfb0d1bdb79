// The machine's drift in words and as a chart: the passes, the probe's noisy facts, the re-check against the probe,
// and the sentinel's series. Shared by the Markdown and HTML reports. Pure.

import { movedFacts, sentinelMoved } from '../compare/drift.js'
import type { Report, SentinelPoint } from '../contracts/report.js'
import { DEFAULT_THRESHOLDS } from '../gate/defaults.js'
import { formatDeltaPct, formatLimit, formatNumber } from '../util/format.js'
import { median } from '../util/stats.js'
import { escapeHtml as esc } from './escape.js'

function tolerance(report: Report): number {
  return (report.thresholds ?? DEFAULT_THRESHOLDS).tolerance_pct / 100
}

/** Noisy probe facts named in the summary; the rest are counted. */
const MAX_NAMED_FACTS = 4

const pct = (x: number): string => `${formatLimit(Math.round(x * 1000) / 10)} %`

/** One line each, warnings (⚠️) first: what the reader must know about noise across time before trusting a verdict. */
export function driftLines(report: Report): string[] {
  const t = tolerance(report)
  const warnings: string[] = []
  const facts: string[] = []
  const noisy = report.hardware.noisy_facts ?? []
  if (noisy.length > 0) {
    // The noisiest few by name; all of them are in hardware.json.
    const worst = [...noisy].sort((a, b) => b.spread - a.spread || a.fact.localeCompare(b.fact))
    const named = worst.slice(0, MAX_NAMED_FACTS).map((f) => `${f.fact} ±${pct(f.spread)}`).join(', ')
    const more = worst.length > MAX_NAMED_FACTS ? ` and ${worst.length - MAX_NAMED_FACTS} more (hardware.json, noisy_facts)` : ''
    warnings.push(
      `⚠️ ${noisy.length} probe fact${noisy.length === 1 ? '' : 's'} disagreed across the rounds even after re-measuring: ${named}${more}. ` +
        'The machine was busy when it was probed; rows whose estimate these facts move beyond the tolerance are inconclusive-noisy. Re-probe on a quiet machine (--refresh).'
    )
  }
  const d = report.drift
  if (d?.recheck) {
    const moved = movedFacts(d, t)
    const list = d.recheck.facts.map((f) => `${f.fact} ${f.change === null ? 'not measured' : formatDeltaPct(f.change * 100)}`).join(', ')
    if (moved.length > 0) {
      warnings.push(`⚠️ The machine moved since the probe of ${d.recheck.probed_at}: ${list} (tolerance ±${pct(t)}). Every judged row is inconclusive-noisy; re-run with --refresh.`)
    } else if (d.recheck.facts.length > 0) {
      facts.push(`Re-check against the probe of ${d.recheck.probed_at}: ${list}, within ±${pct(t)}.`)
    }
  }
  if (d?.sentinel) {
    const values = d.series.map((p) => p.value).filter((v): v is number => v !== null)
    const failed = d.series.length - values.length
    const span = spanMinutes(d.series)
    const what = `Sentinel (${d.sentinel.test}): ${values.length} measurements${span !== null ? ` over ${formatLimit(span)} min` : ''}, ` +
      `${values.length > 0 ? `${formatNumber(Math.min(...values))}–${formatNumber(Math.max(...values))} ${d.sentinel.unit}` : 'none succeeded'}` +
      `${d.range !== null ? `, range ${pct(d.range)}` : ''}${failed > 0 ? `, ${failed} failed` : ''}`
    if (sentinelMoved(d, t)) warnings.push(`⚠️ ${what}: the machine drifted by more than the ±${pct(t)} tolerance during the run; rows measured minutes apart are not alike.`)
    else facts.push(`${what}: steady within ±${pct(t)}.`)
  } else if (d?.reason) facts.push(`No sentinel: ${d.reason}.`)
  if (report.passes && report.passes > 1) {
    facts.push(`${report.passes} passes, interleaved: each row is the median of its passes, and its spread covers the samples of every pass.`)
  }
  return [...warnings, ...facts]
}

function spanMinutes(series: readonly SentinelPoint[]): number | null {
  const times = series.map((p) => Date.parse(p.at)).filter((x) => Number.isFinite(x))
  if (times.length < 2) return null
  return Math.round((Math.max(...times) - Math.min(...times)) / 6000) / 10
}

const WIDTH = 720
const HEIGHT = 260
const M = { left: 64, right: 16, top: 14, bottom: 44 }

/**
 * The sentinel's series as an SVG line chart: minutes since the first measurement (x), its rate (y, linear), the band
 * of ±tolerance around the series' median shaded, each point titled with its time, pass and the model before it.
 * Empty when there are fewer than two measured points.
 */
export function renderDriftChart(report: Report): string {
  const d = report.drift
  const pts = (d?.series ?? []).filter((p): p is SentinelPoint & { value: number } => p.value !== null && Number.isFinite(Date.parse(p.at)))
  if (!d?.sentinel || pts.length < 2) return ''
  const t = tolerance(report)
  const t0 = Date.parse(pts[0]!.at)
  const minutes = pts.map((p) => (Date.parse(p.at) - t0) / 60000)
  const mid = median(pts.map((p) => p.value))
  const lo = Math.min(mid * (1 - t), ...pts.map((p) => p.value)) * 0.97
  const hi = Math.max(mid * (1 + t), ...pts.map((p) => p.value)) * 1.03
  const xMax = Math.max(...minutes, 1e-6)
  const plotW = WIDTH - M.left - M.right
  const plotH = HEIGHT - M.top - M.bottom
  const x = (m: number): number => M.left + (m / xMax) * plotW
  const y = (v: number): number => M.top + plotH - ((v - lo) / (hi - lo)) * plotH
  const n = (v: number): string => v.toFixed(1)
  const yTicks = [lo, (lo + hi) / 2, hi].map((v) => `<text x="${M.left - 6}" y="${n(y(v) + 4)}" text-anchor="end" class="tick">${esc(formatNumber(v))}</text>`).join('')
  const xTicks = [0, xMax / 2, xMax].map((m) => `<text x="${n(x(m))}" y="${HEIGHT - M.bottom + 16}" text-anchor="middle" class="tick">${esc(formatLimit(Math.round(m * 10) / 10))}</text>`).join('')
  const band = `<rect x="${M.left}" y="${n(y(mid * (1 + t)))}" width="${plotW}" height="${n(y(mid * (1 - t)) - y(mid * (1 + t)))}" fill="#2e7d32" fill-opacity="0.12"/>`
  const medianLine = `<line x1="${M.left}" x2="${M.left + plotW}" y1="${n(y(mid))}" y2="${n(y(mid))}" stroke="#2e7d32" stroke-dasharray="4 3"/>`
  const path = `<polyline fill="none" stroke="#1565c0" stroke-width="1.5" points="${pts.map((p, i) => `${n(x(minutes[i]!))},${n(y(p.value))}`).join(' ')}"/>`
  const dots = pts
    .map((p, i) => {
      const off = Math.abs(p.value / mid - 1) > t
      const title = `${p.at} · ${p.after ? `pass ${p.pass}, after ${p.after}` : 'start of the run'} · ${formatNumber(p.value)} ${d.sentinel!.unit} (${formatDeltaPct((p.value / mid - 1) * 100)} from the median)`
      return `<circle cx="${n(x(minutes[i]!))}" cy="${n(y(p.value))}" r="4" fill="${off ? '#c62828' : '#1565c0'}"><title>${esc(title)}</title></circle>`
    })
    .join('')
  return (
    `<svg class="drift-chart" role="img" aria-label="sentinel over the run" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" xmlns="http://www.w3.org/2000/svg">` +
    `<rect x="${M.left}" y="${M.top}" width="${plotW}" height="${plotH}" fill="#fafafa" stroke="#ccc"/>${band}${medianLine}${path}${dots}${yTicks}${xTicks}` +
    `<text x="${M.left + plotW / 2}" y="${HEIGHT - 6}" text-anchor="middle" class="axis">minutes since the start of the run</text>` +
    `<text x="14" y="${M.top + plotH / 2}" text-anchor="middle" class="axis" transform="rotate(-90 14 ${M.top + plotH / 2})">${esc(d.sentinel.unit)}</text></svg>`
  )
}

/** A table of plain-text cells; each serializer escapes and lays it out. */
export interface DriftTable {
  head: string[]
  /** Per column: right-aligned (numbers) or not. */
  numeric: boolean[]
  rows: string[][]
}

/** The re-check and the sentinel's points as tables; none without a drift record. */
export function driftTables(report: Report): DriftTable[] {
  const d = report.drift
  if (!d) return []
  const tables: DriftTable[] = []
  if (d.recheck && d.recheck.facts.length > 0) {
    tables.push({
      head: ['re-checked fact', 'test', 'probed', 'now', 'change'],
      numeric: [false, false, true, true, true],
      rows: d.recheck.facts.map((f) => [
        f.fact,
        f.test,
        `${formatNumber(f.probed)} ${f.unit}`,
        f.now === null ? 'failed' : `${formatNumber(f.now)} ${f.unit}`,
        f.change === null ? '—' : formatDeltaPct(f.change * 100)
      ])
    })
  }
  const values = d.series.map((p) => p.value).filter((v): v is number => v !== null)
  if (d.sentinel && d.series.length > 0) {
    const mid = values.length > 0 ? median(values) : null
    tables.push({
      head: ['sentinel at', 'pass', 'after', d.sentinel.unit, 'from the median'],
      numeric: [false, true, false, true, true],
      rows: d.series.map((p) => [
        p.at,
        String(p.pass),
        p.after ?? 'start',
        p.value === null ? `failed: ${p.error ?? ''}` : formatNumber(p.value),
        p.value === null || mid === null ? '—' : formatDeltaPct((p.value / mid - 1) * 100)
      ])
    })
  }
  return tables
}
