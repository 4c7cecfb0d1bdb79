// Probe parts that failed: a probe model that could not be written, quantized, loaded or timed costs the facts it
// measures, not the probe. Pure: which observations to drop, and what hardware.json says each failure cost and
// what the estimator uses instead (fit/rates.ts resolves the stand-ins; this names them; report/provenance.ts words
// them for people).

import { standInType } from '../fit/rates.js'
import type { ProbeFailure } from '../contracts/hardware.js'
import type { Measured, ProbeObservations } from './probe-obs.js'
import type { PlanOmission } from './probe-models.js'

export interface PartFailure {
  id: string
  stage: ProbeFailure['stage']
  reason: string
}

/** Longest reason kept in hardware.json (llama.cpp's log tail can be long; the probe log keeps all of it). */
const MAX_REASON_CHARS = 400

/** The observations without any series of a failed model (a model that failed in a later round loses its earlier ones). */
export function dropFailed(obs: ProbeObservations, failed: ReadonlySet<string>): ProbeObservations {
  const typed = (prefix: string, rec: Record<string, number[]> | undefined): Record<string, number[]> | undefined =>
    rec && Object.fromEntries(Object.entries(rec).filter(([t]) => !failed.has(`${prefix}-${t}`)))
  const bandwidth = typed('bw', obs.bandwidth)!
  const prefill = typed('pf', obs.prefill)!
  const out: ProbeObservations = {
    ...obs,
    bandwidth,
    // A narrow series is only read beside its wide one.
    ...(obs.bandwidth_narrow ? { bandwidth_narrow: Object.fromEntries(Object.entries(typed('bwn', obs.bandwidth_narrow)!).filter(([t]) => t in bandwidth)) } : {}),
    prefill,
    ...(obs.prefill_wide ? { prefill_wide: Object.fromEntries(Object.entries(typed('pfw', obs.prefill_wide)!).filter(([t]) => t in prefill)) } : {}),
    cached: typed('cached', obs.cached)!,
    overhead: failed.has(obs.overhead.short_id) || failed.has(obs.overhead.long_id) ? { ...obs.overhead, short_ms: [], long_ms: [] } : obs.overhead,
    kv_decode: failed.has('kv-a') || failed.has('kv-b') ? {} : obs.kv_decode,
    kv_prefill: failed.has('kv-a') || failed.has('kv-b') ? null : obs.kv_prefill,
    ...(obs.kv_prefill_by_key ? { kv_prefill_by_key: failed.has('kv-a') || failed.has('kv-b') ? {} : obs.kv_prefill_by_key } : {}),
    moe: obs.moe && {
      decode_ms: failed.has('moe-F16') ? [] : obs.moe.decode_ms,
      prefill_ms_by_type: typed('moe', obs.moe.prefill_ms_by_type)!
    },
    ...(obs.ssm !== undefined ? { ssm: obs.ssm && (failed.has('ssm-F16') ? { prefill_ms: [] } : obs.ssm) } : {}),
    server: obs.server.filter((s) => !s.id || !failed.has(s.id))
  }
  return out
}

/** What a failed (or planned-out) model would have measured, and what stands in for it, given the facts that were solved. */
export function failureCost(id: string, measured: Measured): { facts: string[]; stand_in: string } {
  const [family, type = ''] = id.includes('-') ? [id.slice(0, id.indexOf('-')), id.slice(id.indexOf('-') + 1)] : [id, '']
  const nearest = (rec: Record<string, unknown> | undefined, what: string): string => {
    const t = standInType(type, Object.keys(rec ?? {}).filter((k) => k !== type))
    return t ? `${t}'s measured ${what} (the nearest measured type)` : `the best measured ${what} of any type`
  }
  switch (family) {
    case 'bw':
      return { facts: [`measured.decode_bandwidth_by_type.${type}`, `measured.decode_ns_per_row_by_type.${type}`], stand_in: nearest(measured.decode_bandwidth_by_type, 'decode rate') }
    case 'bwn':
      return { facts: [`measured.decode_ns_per_row_by_type.${type}`], stand_in: `no per-row cost: ${type}'s rate is the wide model's plain streaming rate` }
    case 'cached':
      return { facts: [`measured.decode_cached_bandwidth_by_type.${type}`], stand_in: nearest(measured.decode_cached_bandwidth_by_type, 'in-cache rate') }
    case 'pf':
      return { facts: [`measured.prefill_flops_by_type.${type}`, `measured.prefill_ns_per_row_token_by_type.${type}`], stand_in: nearest(measured.prefill_flops_by_type, 'prefill rate') }
    case 'pfw':
      return { facts: [`measured.prefill_ns_per_row_token_by_type.${type}`], stand_in: `no per-row cost: ${type}'s prefill rate comes from the narrow model alone` }
    case 'moe':
      return {
        facts: [`measured.moe_prefill_efficiency_by_type.${type}`, ...(type === 'F16' ? ['measured.moe_decode_extra_per_layer_ms'] : [])],
        stand_in: nearest(measured.moe_prefill_efficiency_by_type, 'expert-matmul efficiency')
      }
    case 'ovh':
      return { facts: ['measured.fixed_decode_ms', 'measured.per_layer_decode_ms'], stand_in: 'no fixed or per-layer decode overhead (0 ms): decode is predicted too fast for small models' }
    case 'kv':
      return { facts: ['measured.kv_depth_coefficients', 'measured.prefill_attention_coefficients'], stand_in: 'no attention cost at depth (0): decode and prefill at depth are predicted too fast' }
    case 'ssm':
      return {
        facts: ['measured.ssm_scan_ns_per_state_element_token'],
        stand_in: 'the recurrent state read and written once per prompt token at the F32 decode rate (no scan cost of its own)'
      }
    case 'srv':
      return { facts: ['measured.server_decode_overhead_ms', 'measured.server_sampler_ns_per_vocab_entry', 'measured.server_prompt_overhead_ms'], stand_in: 'no server overhead (0 ms): first_token and kv_warm_reuse are predicted too fast' }
    default:
      return { facts: [], stand_in: 'none' }
  }
}

/** hardware.json's probe_failures: every failed part and every type the plan left out, with its cost and stand-in. */
export function describeFailures(failures: readonly PartFailure[], omitted: readonly PlanOmission[], measured: Measured): ProbeFailure[] {
  const out: ProbeFailure[] = []
  for (const f of failures) {
    const reason = f.reason.length > MAX_REASON_CHARS ? `${f.reason.slice(0, MAX_REASON_CHARS)}…` : f.reason
    out.push({ part: f.id, stage: f.stage, reason, ...failureCost(f.id, measured) })
  }
  for (const o of omitted) {
    for (const family of o.families) out.push({ part: `${family}-${o.type}`, stage: 'budget', reason: o.reason, ...failureCost(`${family}-${o.type}`, measured) })
  }
  return out
}
