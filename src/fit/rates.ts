// The hardware facts the estimator uses, resolved from a HardwareProfile with explicit fallbacks for facts a probe
// could not measure (an older profile, a part that failed, a weight type the probe did not cover). Pure.

import type { HardwareProfile, MeasuredFact, MeasuredFacts } from '../contracts/hardware.js'
import { F32_BYTES, paramsPerByte } from './geometry.js'

/** The KV key of a workload: the cache type, "+fa" with flash attention (different kernels, different costs). */
export function kvKey(kvType: string, flashAttention: boolean): string {
  return `${kvType.toLowerCase()}${flashAttention ? '+fa' : ''}`
}

/**
 * Weight types without a probe of their own borrow the rate of the measured type with the closest bits per weight
 * in the same family (K-quants, legacy block quants, floats), else the closest overall: their kernels are alike.
 */
const FAMILY: Readonly<Record<string, string>> = {
  F32: 'float', F16: 'float', BF16: 'float', F64: 'float',
  Q4_0: 'legacy', Q4_1: 'legacy', Q5_0: 'legacy', Q5_1: 'legacy', Q8_0: 'legacy', Q8_1: 'legacy', IQ4_NL: 'legacy', MXFP4: 'legacy',
  Q2_K: 'k', Q3_K: 'k', Q4_K: 'k', Q5_K: 'k', Q6_K: 'k', Q8_K: 'k', IQ4_XS: 'k', IQ3_S: 'k', IQ3_XXS: 'k', IQ2_XXS: 'k',
  IQ2_XS: 'k', IQ2_S: 'k', IQ1_S: 'k', IQ1_M: 'k', TQ1_0: 'k', TQ2_0: 'k'
}

export function bitsPerWeight(type: string): number {
  const ppb = paramsPerByte(type)
  return ppb ? 8 / ppb : 16
}

/** The measured type whose fact stands in for `type`: itself, else the nearest in bits per weight (family first). */
export function standInType(type: string, measured: readonly string[]): string | null {
  if (measured.includes(type)) return type
  if (measured.length === 0) return null
  const bits = bitsPerWeight(type)
  const family = FAMILY[type]
  const pool = measured.filter((m) => family !== undefined && FAMILY[m] === family)
  const candidates = pool.length > 0 ? pool : measured
  return [...candidates].sort((a, b) => Math.abs(bitsPerWeight(a) - bits) - Math.abs(bitsPerWeight(b) - bits) || a.localeCompare(b))[0] ?? null
}

export interface Rates {
  /** Decode weight-streaming rate of a type, bytes/s, with the fact it came from (for the range). */
  decodeBandwidth(type: string): { value: number; fact: MeasuredFact }
  /** Decode rate of a type when the weights are cache-resident, bytes/s (rows included). */
  cachedBandwidth(type: string): { value: number; fact: MeasuredFact }
  cacheBytes: number
  prefillFlops(type: string): { value: number; fact: MeasuredFact }
  fixedDecodeMs: Scalar
  perLayerDecodeMs: Scalar
  /** ns per matrix row per prompt token of a type in a prefill ubatch (beyond its FLOPs). */
  prefillNsPerRowToken(type: string): Scalar
  /** ns per matrix row of a type in a decode step (beyond its bytes). */
  nsPerRow(type: string): Scalar
  /** ns per query element and per KV byte, per attended position and layer, for a KV key. */
  kvDepth(key: string): { perQueryElementNs: number; perKvByteNs: number; facts: MeasuredFact[] }
  /**
   * The prefill attention law of a KV key (per head and per query element, per prompt token, position and layer):
   * its own when the probe measured one, else the plain law (the workload's key at probe time).
   */
  prefillAttentionFor(key: string | undefined): { perHeadNs: number; perQueryElementNs: number; facts: MeasuredFact[] }
  /**
   * The recurrent scan's prefill cost per state element and token (ns); without the probe's fact, the state read and
   * written once per token at the F32 decode rate, as a decode step does.
   */
  ssmScanNsPerStateElement: Scalar
  moeDecodeExtraPerLayerMs: Scalar
  /** Expert-matmul prefill rate relative to the type's dense rate (1 when unmeasured). */
  moePrefillEfficiency(type: string): Scalar
  serverDecodeOverheadMs: Scalar
  serverSamplerNsPerVocabEntry: Scalar
  serverPromptOverheadMs: Scalar
  serverFirstTokenOverheadMs: Scalar
}

/** A resolved scalar fact: its value and its spread (0 when it is a fallback). */
export interface Scalar {
  value: number
  spread: number
}

/** ns per state element when a token reads and writes it once at a bandwidth (none without a positive rate). */
const stateTraffic = (bw: { value: number; fact: MeasuredFact }): Scalar =>
  bw.value > 0 ? { value: (2 * F32_BYTES * 1e9) / bw.value, spread: bw.fact.spread } : { value: 0, spread: 0 }

const scalar = (f: MeasuredFact | null | undefined, fallback = 0): Scalar =>
  f && Number.isFinite(f.value) ? { value: f.value, spread: f.spread } : { value: fallback, spread: 0 }

/**
 * Fallbacks when a probe part is missing, each derived from facts that exist rather than invented: the prefill
 * attention defaults to the decode KV law (same products, no batching gain), the server costs default to zero.
 */
export function resolveRates(hw: HardwareProfile): Rates {
  if (!hw.measured) throw new Error(`hardware profile ${hw.fingerprint} has no measured facts (a memory-only profile): no speed can be estimated from it`)
  return ratesFromFacts(hw.measured, hw.system.cache_bytes ?? 0)
}

/** The same from the measured facts alone (the probe's fit resolves the facts it has solved so far). */
export function ratesFromFacts(m: MeasuredFacts, cacheBytes: number): Rates {
  const kvCoefs = m.kv_depth_coefficients ?? {}
  const cachedByType = m.decode_cached_bandwidth_by_type ?? {}
  const cachedTypes = Object.keys(cachedByType)
  const kvKeys = Object.keys(kvCoefs).sort()
  const kvFallbackKey = kvKeys.find((k) => k === 'f16') ?? kvKeys[0] ?? null
  const pa = m.prefill_attention_coefficients
  const fallbackKv = kvFallbackKey ? kvCoefs[kvFallbackKey] : undefined
  // The fact of `type` in a per-type map: its own, else its stand-in's (standInType), else undefined.
  const byStandIn = (byType: Record<string, MeasuredFact> | undefined, type: string): MeasuredFact | undefined => {
    const map = byType ?? {}
    const t = standInType(type, Object.keys(map))
    return t ? map[t] : undefined
  }
  const decodeBandwidth = (type: string): { value: number; fact: MeasuredFact } => {
    const fact = byStandIn(m.decode_bandwidth_by_type, type) ?? m.decode_bandwidth_bytes_per_sec
    return { value: fact.value, fact }
  }
  const lawOf = (c: NonNullable<typeof pa>) => ({ perHeadNs: c.ns_per_head_token_position.value, perQueryElementNs: c.ns_per_query_element_token_position.value, facts: [c.ns_per_head_token_position, c.ns_per_query_element_token_position] })
  const plainPrefillAttention = pa ? lawOf(pa) : { perHeadNs: 0, perQueryElementNs: fallbackKv?.ns_per_query_element_token.value ?? 0, facts: [] }
  return {
    decodeBandwidth,
    cachedBandwidth(type) {
      // The type's own in-cache rate; a stand-in's (or F16's, in a profile without per-type data) as a ratio to that
      // type's memory rate, applied to this type's memory rate. Rows are included (see speed.ts weightStreamMs).
      const memory = decodeBandwidth(type)
      const t = standInType(type, cachedTypes)
      const fact = t ? cachedByType[t] : (m.decode_cached_bandwidth_bytes_per_sec ?? undefined)
      const base = t ? m.decode_bandwidth_by_type[t] : (m.decode_bandwidth_by_type.F16 ?? m.decode_bandwidth_bytes_per_sec)
      if (!fact || !base || !(base.value > 0)) return memory
      return { value: t === type ? fact.value : memory.value * (fact.value / base.value), fact }
    },
    cacheBytes,
    prefillFlops(type) {
      const fact = byStandIn(m.prefill_flops_by_type, type) ?? m.prefill_flops_per_sec
      return { value: fact.value, fact }
    },
    fixedDecodeMs: scalar(m.fixed_decode_ms),
    perLayerDecodeMs: scalar(m.per_layer_decode_ms),
    prefillNsPerRowToken: (type) => scalar(byStandIn(m.prefill_ns_per_row_token_by_type, type)),
    nsPerRow: (type) => scalar(byStandIn(m.decode_ns_per_row_by_type, type)),
    kvDepth(key) {
      // A KV key the probe did not cover borrows the plain type's law, else f16's (scaled by bytes in the caller).
      const c = kvCoefs[key] ?? kvCoefs[key.replace('+fa', '')] ?? fallbackKv
      if (!c) return { perQueryElementNs: 0, perKvByteNs: 0, facts: [] }
      return { perQueryElementNs: c.ns_per_query_element_token.value, perKvByteNs: c.ns_per_kv_byte_token.value, facts: [c.ns_per_query_element_token, c.ns_per_kv_byte_token] }
    },
    prefillAttentionFor(key) {
      // A key the probe measured, else one with the same flash-attention setting (the kernel matters more than the
      // cache type), else the plain law.
      const byKey = m.prefill_attention_by_kv ?? {}
      const fa = key?.endsWith('+fa') ?? false
      const k = key && byKey[key] ? key : Object.keys(byKey).sort().find((x) => x.endsWith('+fa') === fa && fa)
      const c = k ? byKey[k] : undefined
      return c ? lawOf(c) : plainPrefillAttention
    },
    ssmScanNsPerStateElement: m.ssm_scan_ns_per_state_element_token
      ? scalar(m.ssm_scan_ns_per_state_element_token)
      : stateTraffic(decodeBandwidth('F32')),
    moeDecodeExtraPerLayerMs: scalar(m.moe_decode_extra_per_layer_ms),
    moePrefillEfficiency(type) {
      const f = byStandIn(m.moe_prefill_efficiency_by_type, type)
      return f && f.value > 0 ? { value: Math.min(1, f.value), spread: f.spread } : { value: 1, spread: 0 }
    },
    serverDecodeOverheadMs: scalar(m.server_decode_overhead_ms),
    serverSamplerNsPerVocabEntry: scalar(m.server_sampler_ns_per_vocab_entry),
    serverPromptOverheadMs: scalar(m.server_prompt_overhead_ms),
    serverFirstTokenOverheadMs: scalar(m.server_first_token_overhead_ms)
  }
}

