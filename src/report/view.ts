// Shared reading of a report for the renderers (Markdown, HTML, annotations, comment): which rows failed, in which
// order they are shown, and how values, profiles and breakdowns are spelled. Pure.
import { SCENARIO_IDS } from '../contracts/scenarios.js'
import type { Workload } from '../contracts/workload.js'
import { thresholdsFor } from '../gate/workloads.js'
import type { BaselineRow, BaselineSkipReason, ModelReport, Report } from '../contracts/report.js'
import type { ScenarioId, ScenarioUnit, Verdict } from '../contracts/scenarios.js'
import type { MemoryCheck, MemoryVerdict, ScenarioResult } from '../contracts/verdict.js'
import type { LayerPlan } from '../contracts/profile.js'
import { formatDeltaPct, formatLimit, formatNumber, formatPct } from '../util/format.js'
import { baselineStatus, rowKey, type BaselineStatus } from '../compare/baseline.js'
import { rowLabel } from '../contracts/report.js'

export { formatDeltaPct }

export interface ShownRow {
  model: ModelReport
  modelIndex: number
  row: ScenarioResult
  /** Named by a gate failure (its |error| or a regression broke a limit). */
  failing: boolean
}

/** Display order of verdicts after the rows the gate names: errors, misses, noise, then the rest. */
const VERDICT_RANK: Record<Verdict, number> = {
  'runtime-error': 0,
  'slower-than-fit': 1,
  'faster-than-fit': 1,
  'inconclusive-noisy': 2,
  'does-not-fit': 3,
  match: 4,
  skipped: 5
}

export const VERDICT_ICON: Record<Verdict, string> = {
  match: '✅',
  'slower-than-fit': '🔻',
  'faster-than-fit': '🔺',
  'inconclusive-noisy': '〰️',
  'runtime-error': '💥',
  skipped: '⏭️',
  'does-not-fit': '🚫'
}


/**
 * model × scenario pairs that made the gate fail: rows a failure names, plus the runtime-error rows when
 * max_runtime_errors failed and a scenario's noisy rows when its max_noisy failed. (A median failure belongs to the
 * scenario, not to any one row.)
 */
export function failingRowKeys(report: Report): Set<string> {
  const keys = new Set<string>()
  // With named workloads a limit fails for one workload's rows: keyed by workload ('' for an unnamed run).
  const runtimeFailed = new Set(report.gate.failures.filter((f) => f.limit === 'max_runtime_errors').map((f) => f.workload ?? ''))
  const noisyFailed = new Set(report.gate.failures.filter((f) => f.limit === 'max_noisy').map((f) => `${f.workload ?? ''}\u0000${f.scenario}`))
  // A memory failure marks the model's memory row (key "memory\0ref"), not a scenario row.
  for (const f of report.gate.failures) if (f.model !== null && f.scenario !== null) keys.add(f.scenario === 'memory' ? `memory\u0000${f.model}` : rowKey(f.model, f.scenario))
  for (const m of report.models) {
    for (const r of m.scenarios) {
      const w = m.workload ?? ''
      if ((runtimeFailed.has(w) && r.verdict === 'runtime-error') || (r.verdict === 'inconclusive-noisy' && noisyFailed.has(`${w}\u0000${r.scenario}`))) {
        keys.add(rowKey(rowLabel(m), r.scenario))
      }
    }
  }
  return keys
}

/** Does this model have a row the gate names, a runtime error, or a model-level error? */
export function modelFails(model: ModelReport, failing: Set<string>): boolean {
  return (
    model.error !== null ||
    model.scenarios.some((r) => r.verdict === 'runtime-error' || failing.has(rowKey(rowLabel(model), r.scenario))) ||
    model.memory?.verdict === 'runtime-error' ||
    failing.has(`memory\u0000${rowLabel(model)}`)
  )
}

export const MEMORY_VERDICT_ICON: Record<MemoryVerdict, string> = {
  match: '✅',
  off: '🔻',
  'wrong-fit': '🚫',
  'runtime-error': '💥',
  skipped: '⏭️'
}

/** One model's memory check as the tables show it: estimate / llama.cpp (midpoint) and the error, per buffer. */
export interface MemoryRow {
  ref: string
  check: MemoryCheck
  failing: boolean
  /** projected: the sum of the devices' intervals (llama.cpp prints whole MiB rounded down; its log 0.01 MiB). */
  buffers: Record<'weights' | 'context' | 'compute', { estimated: number | null; projected: [number, number] | null; error: number | null }>
}

/** The models with a memory check, failing first (in report order otherwise). */
export function memoryRows(report: Report): MemoryRow[] {
  const failing = new Set(report.gate.failures.filter((f) => f.scenario === 'memory' && f.model !== null).map((f) => f.model as string))
  const rows = report.models.flatMap((m) => {
    const c = m.memory
    if (!c) return []
    const est = c.estimated
    const buffer = (b: 'weights' | 'context' | 'compute') => {
      const k = `${b}_bytes` as const
      const projected: [number, number] | null =
        c.projected.length > 0 ? [c.projected.reduce((sum, d) => sum + d[k][0], 0), c.projected.reduce((sum, d) => sum + d[k][1], 0)] : null
      return { estimated: est ? est[k] : null, projected, error: c.error_pct[b] }
    }
    return [{ ref: rowLabel(m), check: c, failing: failing.has(rowLabel(m)) || c.verdict === 'runtime-error', buffers: { weights: buffer('weights'), context: buffer('context'), compute: buffer('compute') } }]
  })
  return [...rows.filter((r) => r.failing), ...rows.filter((r) => !r.failing)]
}

/** "estimate / llama.cpp (error)" of one buffer. */
export function memoryCell(b: MemoryRow['buffers']['weights']): string {
  if (b.projected === null) return '—'
  const est = b.estimated === null ? '—' : formatBytes(b.estimated)
  return `${est} / ${formatProjected(b.projected)}${b.error === null ? '' : ` (${formatDeltaPct(b.error)})`}`
}

/** llama.cpp's figure: "68–69 MiB" where it printed whole MiB, the value where its log said 0.01 MiB. */
export function formatProjected([lo, hi]: [number, number]): string {
  const MiB = 1024 * 1024
  // Within a quarter MiB, or at GiB scale (where a MiB is below the digits shown): one figure.
  if (hi - lo < MiB / 4 || lo >= 1024 * MiB) return formatBytes((lo + hi) / 2)
  return lo < 1024 * MiB ? `${Math.round(lo / MiB)}–${Math.round(hi / MiB)} MiB` : `${formatBytes(lo)}–${formatBytes(hi)}`
}

/** "fits / fits", "does-not-fit / fits ✗": the estimator's fit against llama.cpp's. */
export function memoryFitCell(c: MemoryCheck): string {
  if (c.fit.estimated === null && c.fit.llama === null) return '—'
  return `${c.fit.estimated ?? '—'} / ${c.fit.llama ?? 'free memory unknown'}`
}

/** Per device, for a model split between devices: "CUDA0: weights 9.1 GiB / 9.1 GiB, context …; Host: …". */
export function memoryDevicesLine(model: ModelReport): string {
  const c = model.memory
  if (!c || c.projected.length < 2) return ''
  return (
    "memory per device, estimate / llama.cpp's projection: " +
    c.projected
      .map((d) => {
        const e = c.estimated?.devices?.find((x) => x.device === d.device)
        const part = (name: string, est: number | undefined, proj: [number, number]) => `${name} ${est === undefined ? '—' : formatBytes(est)} / ${formatProjected(proj)}`
        return `${d.device}: ${[part('weights', e?.weights_bytes, d.weights_bytes), part('context', e?.context_bytes, d.context_bytes), part('compute', e?.compute_bytes, d.compute_bytes)].join(', ')}${d.free_bytes === null ? '' : ` of ${formatBytes(d.free_bytes)} free`}`
      })
      .join('; ')
  )
}

/**
 * Every row of the report, failing ones first: rows a gate failure names (largest |error| first), then by verdict
 * (runtime errors, misses, noisy, does-not-fit, matches, skipped), then |error| descending, then report order.
 */
export function orderedRows(report: Report): ShownRow[] {
  const failing = failingRowKeys(report)
  const rows: ShownRow[] = report.models.flatMap((model, modelIndex) =>
    model.scenarios.map((row) => ({ model, modelIndex, row, failing: failing.has(rowKey(rowLabel(model), row.scenario)) }))
  )
  return rows.sort(
    (a, b) =>
      Number(b.failing) - Number(a.failing) ||
      VERDICT_RANK[a.row.verdict] - VERDICT_RANK[b.row.verdict] ||
      (b.row.abs_error_pct ?? -1) - (a.row.abs_error_pct ?? -1) ||
      a.modelIndex - b.modelIndex ||
      SCENARIO_IDS.indexOf(a.row.scenario) - SCENARIO_IDS.indexOf(b.row.scenario)
  )
}

/** Scenarios that have at least one row, in the fixed order. */
export function scenariosIn(report: Report): ScenarioId[] {
  return SCENARIO_IDS.filter((id) => report.models.some((m) => m.scenarios.some((r) => r.scenario === id)))
}

export function formatValue(value: number | null, unit: ScenarioUnit): string {
  return value === null ? '—' : `${formatNumber(value)} ${unit}`
}

export function formatRatio(ratio: number | null): string {
  return ratio === null ? '—' : `${ratio.toFixed(2)}×`
}

export function formatErrorPct(pct: number | null): string {
  return pct === null ? '—' : `${formatPct(pct)} %`
}

export function formatSpread(spread: number | null): string {
  return spread === null ? '—' : `${formatPct(spread * 100)} %`
}

const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const

export function formatBytes(bytes: number): string {
  let v = bytes
  let i = 0
  while (Math.abs(v) >= 1024 && i < BINARY_UNITS.length - 1) {
    v /= 1024
    i++
  }
  return `${formatNumber(v)} ${BINARY_UNITS[i]}`
}

/** 134515008 → "135M", 7.6e9 → "7.6B". */
export function formatParams(count: number): string {
  if (count >= 1e9) return `${trim((count / 1e9).toFixed(1))}B`
  if (count >= 1e6) return `${Math.round(count / 1e6)}M`
  if (count >= 1e3) return `${Math.round(count / 1e3)}K`
  return String(count)
}

function trim(s: string): string {
  return s.replace(/\.0$/, '')
}

/**
 * "1 full + 5 sliding (512) layers", "2 attention + 4 recurrent layers", "MLA (latent 512)": the layer plan when it is
 * more than full attention on every layer, else ''.
 */
export function layerPlanText(plan: LayerPlan): string {
  const parts: string[] = []
  const attention = plan.full_attention_layers + plan.sliding_attention_layers
  if (plan.sliding_attention_layers > 0) parts.push(`${plan.full_attention_layers} full + ${plan.sliding_attention_layers} sliding (${plan.sliding_window})`)
  else if (plan.recurrent_layers > 0 && attention > 0) parts.push(`${attention} attention`)
  if (plan.recurrent_layers > 0) parts.push(`${plan.recurrent_layers} recurrent`)
  const text = parts.length > 0 ? `${parts.join(' + ')} layers` : ''
  const mla = plan.mla_kv_lora_rank > 0 ? `MLA (latent ${plan.mla_kv_lora_rank})` : ''
  return [text, mla].filter(Boolean).join(', ')
}

/** "llama · 135M params · Q8_0 · 143 MiB", or why there is no profile. */
export function profileLine(model: ModelReport): string {
  const p = model.profile
  if (!p) return model.error ? `no profile: ${model.error}` : 'no profile'
  const parts = [p.architecture, `${formatParams(p.param_count)} params`, p.file_type ?? 'unknown type', formatBytes(p.file_bytes)]
  if (p.model_class !== 'causal-lm') parts.push(p.model_class)
  const layers = layerPlanText(p.layer_plan)
  if (layers) parts.push(layers)
  if (model.fit) parts.push(`fit: ${model.fit.status}`)
  return parts.join(' · ')
}

/**
 * "memory estimate / llama.cpp buffers: model 143 MiB / 143 MiB (±0.0 %) · KV …", or '' when no server logged them.
 * Each part is estimate / logged (error); a buffer missing from the log reads "not logged".
 */
export function memoryCheckLine(model: ModelReport): string {
  const m = model.llama_memory
  if (!m) return ''
  const part = (name: string, est: number, logged: number | null, pct: number | null): string =>
    logged === null ? `${name} ${formatBytes(est)} / not logged` : `${name} ${formatBytes(est)} / ${formatBytes(logged)} (${pct === null ? 'n/a' : formatDeltaPct(pct)})`
  return (
    'memory estimate / llama.cpp buffers: ' +
    [
      part('model', m.estimated.model_bytes, m.logged.model_bytes, m.error_pct.model),
      part('KV', m.estimated.kv_bytes, m.logged.kv_bytes, m.error_pct.kv),
      // A state only where either side has one: attention-only models show no "state" part.
      ...(m.estimated.rs_bytes > 0 || m.logged.rs_bytes !== null ? [part('state', m.estimated.rs_bytes, m.logged.rs_bytes, m.error_pct.state)] : []),
      part('compute', m.estimated.compute_bytes, m.logged.compute_bytes, m.error_pct.compute),
      ...(m.logged.repacked_model_bytes !== null ? [`+ repacked copies ${formatBytes(m.logged.repacked_model_bytes)} (weights not compared: the CPU chose what to repack)`] : [])
    ].join(' · ')
  )
}

/** "assumed: …" for a model whose layer plan rests on assumptions (an architecture the estimate does not know), else ''. */
/**
 * What this model ran with beyond its workload: the timed windows sized to the device and the layers `auto`
 * offloaded ("ran with decode_tokens 300, parallel_decode_tokens 100 (windows sized to the predicted rate); 33 GPU
 * layers (auto)"), or ''.
 */
export function runLine(model: ModelReport): string {
  const windows = Object.entries(model.windows ?? {}).map(([k, v]) => `${k} ${String(v)}`)
  const parts = [
    ...(windows.length > 0 ? [`${windows.join(', ')} (timed windows sized to the predicted rate)`] : []),
    ...(model.gpu_layers !== undefined ? [`${model.gpu_layers} GPU layers (auto: llama.cpp's fit)`] : [])
  ]
  return parts.length > 0 ? `ran with ${parts.join('; ')}` : ''
}

export function assumptionsLine(model: ModelReport): string {
  const a = model.profile?.layer_plan.assumptions ?? []
  return a.length > 0 ? `⚠️ assumed: ${a.join('; ')}` : ''
}

/**
 * "⚠️ 2 models rest on assumed architecture rules (newarch, foo): their memory and speed are estimates of a known
 * layout, not of theirs; see Models.", or '' when every model's architecture is known.
 */
export function assumptionsWarning(report: Report): string {
  const assumed = report.models.filter((m) => (m.profile?.layer_plan.assumptions.length ?? 0) > 0)
  if (assumed.length === 0) return ''
  const archs = [...new Set(assumed.map((m) => m.profile!.architecture))].sort()
  const n = assumed.length
  return `⚠️ ${n} model${n === 1 ? '' : 's'} rest${n === 1 ? 's' : ''} on assumed architecture rules (${archs.join(', ')}): what could not be read was assumed, as each model's block says.`
}

/** "bandwidth_ms 10.0 · fixed_ms 1.00", keys sorted. */
export function breakdownText(breakdown: Record<string, number> | undefined): string {
  if (!breakdown || Object.keys(breakdown).length === 0) return ''
  return Object.keys(breakdown)
    .sort()
    .map((k) => `${k} ${formatNumber(breakdown[k] as number)}`)
    .join(' · ')
}

/** "above the line" reads "faster" for tok/s and "slower" for ms; renderers say which. */
export function aboveLineMeans(unit: ScenarioUnit): 'faster' | 'slower' {
  return unit === 'ms' ? 'slower' : 'faster'
}

// ---------------------------------------------------------------------------------------------
// Baseline A/B (Report.baseline)
// ---------------------------------------------------------------------------------------------

export const BASELINE_STATUS_TEXT: Record<BaselineStatus, string> = {
  regressed: 'regressed',
  improved: 'improved',
  'within-noise': 'within noise',
  'noise-unknown': 'noise not measured'
}

export const BASELINE_STATUS_ICON: Record<BaselineStatus, string> = {
  regressed: '🔻',
  improved: '🔺',
  'within-noise': '〰️',
  'noise-unknown': '❔'
}

const BASELINE_STATUS_RANK: Record<BaselineStatus, number> = { regressed: 0, improved: 1, 'within-noise': 2, 'noise-unknown': 3 }

const SKIP_REASON_TEXT: Record<BaselineSkipReason, string> = {
  'not-in-baseline': 'not in the baseline',
  'no-observation': 'no observation in this run',
  'no-baseline-observation': 'no observation in the baseline',
  'unit-differs': 'unit differs from the baseline'
}

export interface ShownBaselineRow {
  row: BaselineRow
  status: BaselineStatus
  /** Named by a max_regression_pct gate failure. */
  failing: boolean
}

/**
 * The comparison's rows, changes beyond noise first: gate failures, then regressions (largest slowdown first), then
 * improvements (largest speed-up first), then rows within noise and rows whose noise was not measured, in report
 * order.
 */
export function orderedBaselineRows(report: Report): ShownBaselineRow[] {
  const rows = report.baseline?.rows ?? []
  const failing = new Set(
    report.gate.failures.filter((f) => f.limit === 'max_regression_pct' && f.model !== null && f.scenario !== null).map((f) => rowKey(f.model as string, f.scenario as ScenarioId))
  )
  const shown = rows.map((row, index) => ({ row, index, status: baselineStatus(row), failing: failing.has(rowKey(row.ref, row.scenario)) }))
  const magnitude = (r: (typeof shown)[number]): number => (r.status === 'regressed' || r.status === 'improved' ? Math.abs(r.row.delta_pct) : 0)
  return shown
    .sort(
      (a, b) =>
        Number(b.failing) - Number(a.failing) ||
        BASELINE_STATUS_RANK[a.status] - BASELINE_STATUS_RANK[b.status] ||
        magnitude(b) - magnitude(a) ||
        a.index - b.index
    )
    .map(({ row, status, failing: f }) => ({ row, status, failing: f }))
}

export function baselineCounts(report: Report): Record<BaselineStatus, number> & { not_compared: number } {
  const counts = { regressed: 0, improved: 0, 'within-noise': 0, 'noise-unknown': 0, not_compared: report.baseline?.not_compared.length ?? 0 }
  for (const row of report.baseline?.rows ?? []) counts[baselineStatus(row)]++
  return counts
}


export function formatNoiseBand(row: BaselineRow): string {
  return row.noise_measured ? `±${formatPct(row.noise_band_pct)} %` : 'not measured'
}

/**
 * Which run the baseline was (plain text), with a llama.cpp change named in it, and a warning when the two runs ran
 * on different machines (then the Δ measures the machine too).
 */
export function baselineContext(report: Report): { identity: string; warnings: string[] } {
  const b = report.baseline
  if (!b) return { identity: '', warnings: [] }
  const p = report.provenance
  const commitChange = b.llama_cpp_commit !== p.llama_cpp_commit ? ` llama.cpp changed since: ${b.llama_cpp_commit} → ${p.llama_cpp_commit}.` : ''
  const identity = `Compared with the run of ${b.generated_at} (llama.cpp ${b.llama_cpp_commit}, ${b.backend}, ${b.device}).${commitChange}`
  const warnings: string[] = []
  if (b.device !== p.device || b.backend !== p.backend) {
    warnings.push(`The baseline ran on ${b.device} (${b.backend}), this run on ${p.device} (${p.backend}): the changes include the machine.`)
  }
  return { identity, warnings }
}

/** Not-compared rows grouped by reason: "no observation in this run: a (kv_warm_reuse)"; at most `maxNamed` named per reason. */
export function notComparedLines(report: Report, maxNamed: number): string[] {
  const byReason = new Map<BaselineSkipReason, string[]>()
  for (const r of report.baseline?.not_compared ?? []) byReason.set(r.reason, [...(byReason.get(r.reason) ?? []), `${r.ref} (${r.scenario})`])
  return [...byReason.entries()].map(([reason, names]) => {
    const more = names.length > maxNamed ? `; +${names.length - maxNamed} more` : ''
    return `${SKIP_REASON_TEXT[reason]}: ${names.slice(0, maxNamed).join('; ')}${more}`
  })
}

/** A scenario's gate limits as shown beside its statistics: median / max |error| / noisy rows, or why there are none. */
export function limitsText(report: Report, id: ScenarioId, workload?: string | null): string {
  const t = report.thresholds ? thresholdsFor(report.thresholds, workload ?? undefined) : undefined
  const lim = t?.scenarios[id]
  if (lim) return `${formatLimit(lim.max_median_abs_error_pct)} % / ${formatLimit(lim.max_abs_error_pct)} % / ${lim.max_noisy}`
  return t ? 'not gated' : '—'
}

/** The rows of one workload (a run of one unnamed workload is one group, name null) and its figures. */
export interface WorkloadGroup {
  name: string | null
  /** What the workload runs, in one line (null for the unnamed one: provenance shows it). */
  description: string | null
  summary: Report['summary']
  models: ModelReport[]
}

/** The report's rows grouped by workload, in the order the workloads ran. */
export function workloadGroups(report: Report): WorkloadGroup[] {
  if (!report.workloads) return [{ name: null, description: null, summary: report.summary, models: report.models }]
  return report.workloads.map((w) => ({
    name: w.name,
    description: workloadDescription(w.workload, w.scenarios),
    summary: report.workload_summaries?.[w.name]?.summary ?? {},
    models: report.models.filter((m) => m.workload === w.name)
  }))
}

/** A workload in one line, as a reader compares two: what differs between serving setups. */
export function workloadDescription(w: Workload, scenarios?: readonly ScenarioId[]): string {
  const parallel = !scenarios || scenarios.includes('parallel_decode') ? `${w.parallel_slots ?? 4} parallel slots, ` : ''
  const depth = (d: number | undefined): string => (d ? ` at depth ${d}` : '')
  return (
    `context ${w.context_tokens}, KV ${w.kv_type}, flash attention ${w.flash_attention ? 'on' : 'off'}, -ngl ${w.gpu_layers}` +
    `${w.split_mode ? `, -sm ${w.split_mode}` : ''}${w.tensor_split ? `, -ts ${w.tensor_split.join(',')}` : ''}, ` +
    `decode ${w.decode_tokens}${depth(w.decode_depth)}, prefill ${w.prefill_tokens}${depth(w.prefill_depth)}, ` +
    `${parallel}batch ${w.batch}/${w.ubatch}, ${w.threads} threads`
  )
}
