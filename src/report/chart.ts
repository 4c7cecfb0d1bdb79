// One SVG scatter chart per scenario: predicted (x) against observed (y) on log axes, the y = x line, the tolerance
// band around it, points coloured by verdict with a <title> naming the model. Pure string building.
import type { ModelReport } from '../contracts/report.js'
import type { ScenarioId, ScenarioUnit, Verdict } from '../contracts/scenarios.js'
import type { ScenarioResult } from '../contracts/verdict.js'
import { formatLimit, formatNumber } from '../util/format.js'
import { escapeHtml as esc } from './escape.js'
import { aboveLineMeans, formatErrorPct } from './view.js'
import { rowLabel } from '../contracts/report.js'

export const VERDICT_COLOR: Record<Verdict, string> = {
  match: '#2e7d32',
  'slower-than-fit': '#c62828',
  'faster-than-fit': '#1565c0',
  'inconclusive-noisy': '#ef8f00',
  'runtime-error': '#6a1b9a',
  skipped: '#9e9e9e',
  'does-not-fit': '#6d4c41'
}

const WIDTH = 560
const HEIGHT = 420
const MARGIN = { left: 64, right: 20, top: 18, bottom: 52 }
/** Domain padding on each side of the data, as a factor on the log scale. */
const DOMAIN_PAD = 1.25
/** Above this many points the labels overlap more than they help; the <title> tooltips remain. */
const MAX_LABELLED_POINTS = 12
const MAX_LABEL_CHARS = 22
/** Points right of this fraction of the plot width get their label on the left. */
const LABEL_FLIP_FRACTION = 0.6
const TICK_MANTISSAS = [1, 2, 5]

interface Point {
  ref: string
  row: ScenarioResult & { predicted: number; observed: number }
}

/** Rows that can be drawn: both numbers present. */
function pointsOf(models: readonly ModelReport[], scenario: ScenarioId): Point[] {
  return models.flatMap((m) =>
    m.scenarios
      .filter((r): r is Point['row'] => r.scenario === scenario && r.predicted !== null && r.observed !== null)
      .map((row) => ({ ref: rowLabel(m), row }))
  )
}

export function renderChart(models: readonly ModelReport[], scenario: ScenarioId, unit: ScenarioUnit, tolerance: number, idSuffix = ''): string {
  const points = pointsOf(models, scenario)
  const plotW = WIDTH - MARGIN.left - MARGIN.right
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom
  const values = points.flatMap((p) => [p.row.predicted, p.row.observed, ...p.row.samples.filter((s) => s > 0)])
  const [lo, hi] = domain(values)
  const logLo = Math.log10(lo)
  const span = Math.log10(hi) - logLo
  const x = (v: number): number => MARGIN.left + ((Math.log10(v) - logLo) / span) * plotW
  const y = (v: number): number => MARGIN.top + plotH - ((Math.log10(v) - logLo) / span) * plotH
  const n = (v: number): string => v.toFixed(1)
  // One document may hold a chart per workload: the clip path's id must be unique in it.
  const clipId = `plot-${scenario}${idSuffix ? `-${idSuffix.replace(/[^A-Za-z0-9_-]/g, '_')}` : ''}`

  const ticks = logTicks(lo, hi)
  const grid = ticks
    .map(
      (t) =>
        `<line class="grid" x1="${n(x(t))}" y1="${MARGIN.top}" x2="${n(x(t))}" y2="${MARGIN.top + plotH}"/>` +
        `<line class="grid" x1="${MARGIN.left}" y1="${n(y(t))}" x2="${MARGIN.left + plotW}" y2="${n(y(t))}"/>` +
        `<text class="tick" x="${n(x(t))}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${formatTick(t)}</text>` +
        `<text class="tick" x="${MARGIN.left - 6}" y="${n(y(t) + 4)}" text-anchor="end">${formatTick(t)}</text>`
    )
    .join('')

  // On log axes y = x(1 ± tolerance) are parallel lines; the band between them is where a match can sit.
  const bandTop = (v: number): number => y(v * (1 + tolerance))
  const bandBottom = (v: number): number => y(v * Math.max(1 - tolerance, Number.EPSILON))
  const band =
    `<polygon class="band" clip-path="url(#${clipId})" points="` +
    `${n(x(lo))},${n(bandTop(lo))} ${n(x(hi))},${n(bandTop(hi))} ${n(x(hi))},${n(bandBottom(hi))} ${n(x(lo))},${n(bandBottom(lo))}">` +
    `<title>tolerance band: within ${formatLimit(tolerance * 100)} % of the prediction</title></polygon>`
  const identity =
    `<line class="identity" clip-path="url(#${clipId})" x1="${n(x(lo))}" y1="${n(y(lo))}" x2="${n(x(hi))}" y2="${n(y(hi))}">` +
    '<title>y = x: observed equals predicted</title></line>'

  const labelled = points.length <= MAX_LABELLED_POINTS
  const marks = points
    .map(({ ref, row }) => {
      const cx = n(x(row.predicted))
      const cy = n(y(row.observed))
      const samples = row.samples.filter((s) => s > 0)
      const whisker =
        samples.length > 1
          ? `<line class="whisker" x1="${cx}" y1="${n(y(Math.min(...samples)))}" x2="${cx}" y2="${n(y(Math.max(...samples)))}" stroke="${VERDICT_COLOR[row.verdict]}"/>`
          : ''
      const title =
        `${ref} — ${row.verdict}: predicted ${formatNumber(row.predicted)} ${unit}, observed ${formatNumber(row.observed)} ${unit}, ` +
        `|error| ${formatErrorPct(row.abs_error_pct)}`
      // Labels of points in the right part of the plot go to their left so they stay inside the chart.
      const leftSide = x(row.predicted) > MARGIN.left + plotW * LABEL_FLIP_FRACTION
      const label = labelled
        ? `<text class="label" x="${n(x(row.predicted) + (leftSide ? -8 : 8))}" y="${n(y(row.observed) - 6)}"${leftSide ? ' text-anchor="end"' : ''}>${esc(shortName(ref))}</text>`
        : ''
      return (
        `<g class="mark">${whisker}<circle class="point verdict-${row.verdict}" data-model="${esc(ref)}" cx="${cx}" cy="${cy}" r="5" ` +
        `fill="${VERDICT_COLOR[row.verdict]}"><title>${esc(title)}</title></circle>${label}</g>`
      )
    })
    .join('')

  const empty =
    points.length === 0
      ? `<text class="empty" x="${MARGIN.left + plotW / 2}" y="${MARGIN.top + plotH / 2}" text-anchor="middle">no row with both a prediction and an observation</text>`
      : ''
  const caption = `above the line: ${aboveLineMeans(unit)} than predicted`

  return (
    `<svg class="chart" data-scenario="${scenario}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" ` +
    `width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${scenario}: predicted against observed ${unit}">` +
    `<title>${scenario}: predicted against observed (${unit}), log axes</title>` +
    `<defs><clipPath id="${clipId}"><rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}"/></clipPath></defs>` +
    `<rect class="plot" x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}"/>` +
    grid +
    band +
    identity +
    marks +
    empty +
    `<text class="axis" x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 22}" text-anchor="middle">predicted ${unit}</text>` +
    `<text class="axis" transform="translate(16 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">observed ${unit}</text>` +
    `<text class="caption" x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 6}" text-anchor="middle">${caption} · band ±${formatLimit(tolerance * 100)} %</text>` +
    '</svg>'
  )
}

/** A square log domain around the values (same range on both axes, so y = x is the diagonal). */
function domain(values: number[]): [number, number] {
  const finite = values.filter((v) => Number.isFinite(v) && v > 0)
  if (finite.length === 0) return [1, 100]
  let lo = Math.min(...finite) / DOMAIN_PAD
  let hi = Math.max(...finite) * DOMAIN_PAD
  // A single point (or equal values) still needs a decade of room to show the band.
  if (hi / lo < 10) {
    const mid = Math.sqrt(lo * hi)
    lo = mid / Math.sqrt(10)
    hi = mid * Math.sqrt(10)
  }
  return [lo, hi]
}

/** 1-2-5 ticks inside [lo, hi]; only decades when that gives too many. */
function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = []
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of TICK_MANTISSAS) {
      const t = m * 10 ** e
      if (t >= lo && t <= hi) ticks.push(Number(t.toPrecision(12)))
    }
  }
  return ticks.length > 8 ? ticks.filter((t) => Number.isInteger(Math.log10(t))) : ticks
}

/** Ticks are 1-2-5 values: 50, 0.5, 2000 — no padding zeros. */
function formatTick(t: number): string {
  return t >= 1 ? String(Math.round(t)) : formatLimit(t)
}

/** "bartowski/Qwen3-8B-GGUF:Q4_K_M" → "Qwen3-8B-GGUF:Q4_K_M", shortened for a label. */
function shortName(ref: string): string {
  const name = ref.slice(ref.lastIndexOf('/') + 1) || ref
  return name.length > MAX_LABEL_CHARS ? `${name.slice(0, MAX_LABEL_CHARS - 1)}…` : name
}
