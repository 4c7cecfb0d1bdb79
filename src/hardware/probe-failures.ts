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
    ...(obs.bandwidthNarrow ? { bandwidthNarrow: Object.fromEntries(Object.entries(typed('bwn', obs.bandwidthNarrow)!).filter(([t]) => t in bandwidth)) } : {}),
    prefill,
    ...(obs.prefillWide ? { prefillWide: Object.fromEntries(Object.entries(typed('pfw', obs.prefillWide)!).filter(([t]) => t in prefill)) } : {}),
    cached: typed('cached', obs.cached)!,
    overhead: failed.has(obs.overhead.shortId) || failed.has(obs.overhead.longId) ? { ...obs.overhead, shortMs: [], longMs: [] } : obs.overhead,
    kvDecode: failed.has('kv-a') || failed.has('kv-b') ? {} : obs.kvDecode,
    kvPrefill: failed.has('kv-a') || failed.has('kv-b') ? null : obs.kvPrefill,
    moe: obs.moe && {
      decodeMs: failed.has('moe-F16') ? [] : obs.moe.decodeMs,
      prefillMsByType: typed('moe', obs.moe.prefillMsByType)!
    },
    server: obs.server.filter((s) => !s.id || !failed.has(s.id))
  }
  return out
}

/** What a failed (or planned-out) model would have measured, and what stands in for it, given the facts that were solved. */
export function failureCost(id: string, measured: Measured): { facts: string[]; standIn: string } {
  const [family, type = ''] = id.includes('-') ? [id.slice(0, id.indexOf('-')), id.slice(id.indexOf('-') + 1)] : [id, '']
  const nearest = (rec: Record<string, unknown> | undefined, what: string): string => {
    const t = standInType(type, Object.keys(rec ?? {}).filter((k) => k !== type))
    return t ? `${t}'s measured ${what} (the nearest measured type)` : `the best measured ${what} of any type`
  }
  switch (family) {
    case 'bw':
      return { facts: [`measured.decodeBandwidthByType.${type}`, `measured.decodeNsPerRowByType.${type}`], standIn: nearest(measured.decodeBandwidthByType, 'decode rate') }
    case 'bwn':
      return { facts: [`measured.decodeNsPerRowByType.${type}`], standIn: `no per-row cost: ${type}'s rate is the wide model's plain streaming rate` }
    case 'cached':
      return { facts: [`measured.decodeCachedBandwidthByType.${type}`], standIn: nearest(measured.decodeCachedBandwidthByType, 'in-cache rate') }
    case 'pf':
      return { facts: [`measured.prefillFlopsByType.${type}`, `measured.prefillNsPerRowTokenByType.${type}`], standIn: nearest(measured.prefillFlopsByType, 'prefill rate') }
    case 'pfw':
      return { facts: [`measured.prefillNsPerRowTokenByType.${type}`], standIn: `no per-row cost: ${type}'s prefill rate comes from the narrow model alone` }
    case 'moe':
      return {
        facts: [`measured.moePrefillEfficiencyByType.${type}`, ...(type === 'F16' ? ['measured.moeDecodeExtraPerLayerMs'] : [])],
        standIn: nearest(measured.moePrefillEfficiencyByType, 'expert-matmul efficiency')
      }
    case 'ovh':
      return { facts: ['measured.fixedDecodeMs', 'measured.perLayerDecodeMs'], standIn: 'no fixed or per-layer decode overhead (0 ms): decode is predicted too fast for small models' }
    case 'kv':
      return { facts: ['measured.kvDepthCoefficients', 'measured.prefillAttentionCoefficients'], standIn: 'no attention cost at depth (0): decode and prefill at depth are predicted too fast' }
    case 'srv':
      return { facts: ['measured.serverDecodeOverheadMs', 'measured.serverSamplerNsPerVocabEntry', 'measured.serverPromptOverheadMs'], standIn: 'no server overhead (0 ms): first_token and kv_warm_reuse are predicted too fast' }
    default:
      return { facts: [], standIn: 'none' }
  }
}

/** hardware.json's probeFailures: every failed part and every type the plan left out, with its cost and stand-in. */
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
