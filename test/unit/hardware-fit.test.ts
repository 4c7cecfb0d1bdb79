import { describe, expect, test } from '@jest/globals'
import { GGML_TYPE } from '../../src/gguf/ggml-types.js'
import { readGgufHeader } from '../../src/gguf/reader.js'
import { buildProfile } from '../../src/gguf/profile.js'
import { kvCells, modelGeometry } from '../../src/fit/geometry.js'
import { resolveRates } from '../../src/fit/rates.js'
import { decodeEstimate, prefillEstimate, serverTokenOverheadMs, samplerMs } from '../../src/fit/speed.js'
import { describeFailures, dropFailed } from '../../src/hardware/probe-failures.js'
import { failureLine } from '../../src/report/provenance.js'
import { fitProbeFacts, type DepthPair, type ProbeObservations, type ProbeProfiles } from '../../src/hardware/probe-fit.js'
import { mergeObservations } from '../../src/hardware/probe-obs.js'
import { PROBE_WEIGHT_TYPES, probePlan } from '../../src/hardware/probe-models.js'
import { parseHardwareProfile, serializeHardwareProfile, validateHardwareProfile } from '../../src/hardware/schema.js'
import type { HardwareProfile, MeasuredFact } from '../../src/contracts/hardware.js'
import { InputError } from '../../src/util/errors.js'
import { syntheticHeaderSource } from '../helpers/synthetic.js'

const MiB = 1024 * 1024
const f = (value: number, unit = 'x'): MeasuredFact => ({ value, unit, samples: [value], spread: 0 })

/** The "true" machine the synthetic observations are generated from. */
function truth(cacheBytes: number): HardwareProfile {
  return {
    schema_version: 2,
    fingerprint: 'truth',
    system: { os: 'linux', arch: 'x64', cpu_model: 'CPU', cores: 2, threads: 2, ram_total_bytes: 1, ram_available_bytes: 1, cache_bytes: cacheBytes, gpus: [] },
    llama: { commit: 'c', build_number: 1, backend: 'CPU', node_llama_cpp_version: null, bin_dir: '/' },
    measured: {
      decode_bandwidth_bytes_per_sec: f(31e9),
      decode_bandwidth_by_type: { F16: f(31e9), Q8_0: f(26e9), Q4_0: f(28e9), Q4_K: f(27e9), Q5_K: f(21e9), Q6_K: f(25e9), Q5_0: f(20e9), Q5_1: f(19e9) },
      decode_cached_bandwidth_bytes_per_sec: f(55e9),
      decode_cached_bandwidth_by_type: { F16: f(55e9), Q8_0: f(32e9), Q4_0: f(29e9), Q4_K: f(30e9), Q5_K: f(22e9), Q6_K: f(28e9), Q5_0: f(24e9), Q5_1: f(23e9) },
      prefill_flops_per_sec: f(2.9e11),
      prefill_ns_per_row_token_by_type: { F16: f(0.2), Q8_0: f(0.3), Q4_0: f(0.25), Q4_K: f(0.25), Q5_K: f(0.5), Q6_K: f(0.4), Q5_0: f(0.3), Q5_1: f(0.5) },
      prefill_flops_by_type: { F16: f(2e11), Q8_0: f(2.2e11), Q4_0: f(2.9e11), Q4_K: f(2.8e11), Q5_K: f(1e11), Q6_K: f(1.5e11), Q5_0: f(1.2e11), Q5_1: f(1.1e11) },
      fixed_decode_ms: f(0.01),
      per_layer_decode_ms: f(0.0095),
      decode_ns_per_row_by_type: { F16: f(12), Q8_0: f(10), Q4_0: f(6), Q4_K: f(8), Q5_K: f(9), Q6_K: f(9), Q5_0: f(11), Q5_1: f(11) },
      kv_depth_ms_per_token_per_layer: {},
      kv_depth_coefficients: { f16: { ns_per_query_element_token: f(0.098), ns_per_kv_byte_token: f(0.043) } },
      prefill_depth_ms_per_token_per_layer: null,
      prefill_attention_coefficients: { ns_per_head_token_position: f(3), ns_per_query_element_token_position: f(0.02) },
      // Flash attention with a q8_0 cache attends query by query on a CPU: several times the plain law.
      prefill_attention_by_kv: { 'q8_0+fa': { ns_per_head_token_position: f(9), ns_per_query_element_token_position: f(0.08) } },
      moe_decode_extra_per_layer_ms: f(0.004),
      moe_prefill_efficiency_by_type: { F16: f(0.3), Q8_0: f(0.5), Q4_0: f(0.4), Q4_K: f(0.3), Q5_K: f(0.45), Q6_K: f(0.45), Q5_0: f(0.6), Q5_1: f(0.6) },
      ssm_scan_ns_per_state_element_token: f(0.09),
      server_decode_overhead_ms: f(0.04),
      server_sampler_ns_per_vocab_entry: f(6),
      server_prompt_overhead_ms: f(1),
      server_first_token_overhead_ms: f(1.8)
    },
    ceilings: { memory_read_bytes_per_sec: null, peak_flops_per_sec: null },
    probe_seconds: {},
    measured_at: '2026-01-01T00:00:00Z'
  }
}

const TYPE_ID: Record<string, number> = { F16: GGML_TYPE.F16, Q8_0: 8, Q4_0: 2, Q4_K: 12, Q5_K: 13, Q6_K: 14, Q5_0: 6, Q5_1: 7 }

async function probeProfiles(cacheBytes: number): Promise<ProbeProfiles> {
  const out: ProbeProfiles = {}
  for (const m of probePlan({ cacheBytes, gpuFreeBytes: null, ramAvailableBytes: 16 * 1024 ** 3 }).models) {
    // As llama-quantize --pure leaves the file: every matrix of the type, the first pruneToLayers layers.
    const spec = { ...m.source, layers: m.pruneToLayers ?? m.source.layers }
    const id = TYPE_ID[m.type]!
    const h = await readGgufHeader(syntheticHeaderSource(spec, { retype: (t) => (t.dims.length < 2 ? t.type : id) }))
    out[m.id] = buildProfile([h], h.fileSize, m.id)
  }
  return out
}

/** What llama-bench and the server would report on the true machine, two rounds with ±1 % noise. */
function observe(hw: HardwareProfile, profiles: ProbeProfiles): ProbeObservations {
  const r = resolveRates(hw)
  // The overhead pair's ids carry their layer counts, which the plan sizes from the caches.
  const [short, long] = Object.keys(profiles).filter((id) => id.startsWith('ovh-L')).sort((a, b) => profiles[a]!.layers - profiles[b]!.layers)
  const ovh = { short: short!, long: long! }
  const g = (id: string) => modelGeometry(profiles[id]!)
  const noise = [0.99, 1.01]
  const twice = (ms: number) => noise.map((n) => ms * n)
  const decode = (id: string, depth: number, tokens: number) =>
    decodeEstimate(g(id), r, { startPos: depth, tokens, cells: kvCells(depth + tokens), kvKey: 'f16', kvType: 'f16' }).totalMs
  const prefill = (id: string, depth: number, tokens: number, kvKey?: string) =>
    prefillEstimate(g(id), r, { startPos: depth, tokens, ubatch: 512, cells: kvCells(depth + tokens), outputs: 1, ...(kvKey ? { kvKey } : {}) }).totalMs / tokens
  const pair = (fn: (d: number) => number, tokens: number): DepthPair => ({ shallow_depth: 0, deep_depth: 1536, tokens, shallow_ms: twice(fn(0)), deep_ms: twice(fn(1536)) })
  const server = ['srv-v2k', 'srv-v64k'].map((id) => {
    const geo = g(id)
    const bench = decodeEstimate(geo, r, { startPos: 576, tokens: 31, cells: kvCells(576 + 31), kvKey: 'f16', kvType: 'f16' }).totalMs
    const benchPrompt = prefill(id, 0, 256) * 256
    return {
      vocab: geo.vocab_size,
      server_decode_ms: twice(bench + serverTokenOverheadMs(geo, r).ms),
      bench_decode_ms: twice(bench),
      server_prompt_ms: twice(benchPrompt + 1 + samplerMs(geo, r)),
      bench_prompt_ms: twice(benchPrompt),
      unattributed_ms: [1.8, 1.8]
    }
  })
  return {
    decode_tokens: 32,
    bandwidth: Object.fromEntries(PROBE_WEIGHT_TYPES.map((t) => [t, twice(decode(`bw-${t}`, 0, 32))])),
    bandwidth_narrow: Object.fromEntries(PROBE_WEIGHT_TYPES.map((t) => [t, twice(decode(`bwn-${t}`, 0, 32))])),
    prefill_tokens: 512,
    prefill: Object.fromEntries(PROBE_WEIGHT_TYPES.map((t) => [t, twice(prefill(`pf-${t}`, 0, 512))])),
    prefill_wide: Object.fromEntries(PROBE_WEIGHT_TYPES.map((t) => [t, twice(prefill(`pfw-${t}`, 0, 512))])),
    overhead: { short_id: ovh.short, long_id: ovh.long, short_ms: twice(decode(ovh.short, 0, 32)), long_ms: twice(decode(ovh.long, 0, 32)) },
    cached: Object.fromEntries(PROBE_WEIGHT_TYPES.map((t) => [t, twice(decode(`cached-${t}`, 0, 32))])),
    kv_decode: { f16: { a: pair((d) => decode('kv-a', d, 16), 16), b: pair((d) => decode('kv-b', d, 16), 16) } },
    kv_prefill: { a: pair((d) => prefill('kv-a', d, 512), 512), b: pair((d) => prefill('kv-b', d, 512), 512) },
    kv_prefill_by_key: { 'q8_0+fa': { a: pair((d) => prefill('kv-a', d, 512, 'q8_0+fa'), 512), b: pair((d) => prefill('kv-b', d, 512, 'q8_0+fa'), 512) } },
    moe: { decode_ms: twice(decode('moe-F16', 0, 32)), prefill_ms_by_type: Object.fromEntries(PROBE_WEIGHT_TYPES.map((t) => [t, twice(prefill(`moe-${t}`, 0, 512))])) },
    ssm: { prefill_ms: twice(prefill('ssm-F16', 0, 512)) },
    server
  }
}

describe('probe facts from observations', () => {
  test('fitting observations made by the estimator recovers the facts it was given', async () => {
    const cache = 34 * MiB
    const hw = truth(cache)
    const profiles = await probeProfiles(cache)
    const m = fitProbeFacts(observe(hw, profiles), profiles, { kvType: 'f16', flashAttention: false, cacheBytes: cache })
    const near = (got: number | undefined, want: number, tol = 0.03) => expect(Math.abs((got ?? NaN) / want - 1)).toBeLessThan(tol)
    for (const t of PROBE_WEIGHT_TYPES) {
      near(m.decode_bandwidth_by_type[t]?.value, hw.measured!.decode_bandwidth_by_type[t]!.value)
      near(m.prefill_flops_by_type[t]?.value, hw.measured!.prefill_flops_by_type[t]!.value)
      near(m.prefill_ns_per_row_token_by_type?.[t]?.value, hw.measured!.prefill_ns_per_row_token_by_type![t]!.value, 0.05)
      near(m.decode_cached_bandwidth_by_type?.[t]?.value, hw.measured!.decode_cached_bandwidth_by_type![t]!.value)
    }
    // The headline rate is effective (rows included): below the best streaming rate, of its order.
    expect(m.decode_bandwidth_bytes_per_sec.value).toBeLessThan(31e9)
    expect(m.decode_bandwidth_bytes_per_sec.value).toBeGreaterThan(0.7 * 31e9)
    near(m.decode_cached_bandwidth_bytes_per_sec?.value, 55e9)
    near(m.per_layer_decode_ms?.value, 0.0095, 0.05)
    near(m.fixed_decode_ms?.value, 0.01, 0.1)
    for (const t of PROBE_WEIGHT_TYPES) near(m.decode_ns_per_row_by_type?.[t]?.value, hw.measured!.decode_ns_per_row_by_type![t]!.value, 0.05)
    near(m.kv_depth_coefficients?.f16?.ns_per_query_element_token.value, 0.098)
    near(m.kv_depth_coefficients?.f16?.ns_per_kv_byte_token.value, 0.043)
    near(m.prefill_attention_coefficients?.ns_per_head_token_position.value, 3)
    near(m.prefill_attention_coefficients?.ns_per_query_element_token_position.value, 0.02)
    near(m.moe_decode_extra_per_layer_ms?.value, 0.004, 0.1)
    for (const t of PROBE_WEIGHT_TYPES) near(m.moe_prefill_efficiency_by_type?.[t]?.value, hw.measured!.moe_prefill_efficiency_by_type![t]!.value, 0.05)
    near(m.ssm_scan_ns_per_state_element_token?.value, 0.09, 0.05)
    // The prefill attention law per KV key: the plain one and flash attention's with a q8_0 cache, each recovered.
    near(m.prefill_attention_coefficients?.ns_per_head_token_position.value, 3, 0.05)
    near(m.prefill_attention_by_kv?.['q8_0+fa']?.ns_per_head_token_position.value, 9, 0.05)
    near(m.prefill_attention_by_kv?.['q8_0+fa']?.ns_per_query_element_token_position.value, 0.08, 0.05)
    near(m.server_decode_overhead_ms?.value, 0.04, 0.05)
    near(m.server_sampler_ns_per_vocab_entry?.value, 6, 0.05)
    near(m.server_prompt_overhead_ms?.value, 1, 0.1)
    near(m.server_first_token_overhead_ms?.value, 1.8)
    // The round-to-round noise shows up as the facts' spread.
    expect(m.decode_bandwidth_by_type.F16!.spread).toBeGreaterThan(0.01)
  })
})

describe('prefill attention by KV key', () => {
  test("a key's own law where the probe measured it; flash attention with another cache borrows it; the rest the plain law", () => {
    const r = resolveRates(truth(34 * MiB))
    expect(r.prefillAttentionFor('q8_0+fa').perHeadNs).toBe(9)
    expect(r.prefillAttentionFor('f16+fa').perHeadNs).toBe(9)
    expect(r.prefillAttentionFor('f16').perHeadNs).toBe(3)
    expect(r.prefillAttentionFor(undefined).perHeadNs).toBe(3)
  })
})

/** The same observations on a machine `k` times slower: every timing series (an array of ms) scaled. */
function slower(obs: ProbeObservations, k: number): ProbeObservations {
  const scale = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map((x) => (typeof x === 'number' ? x * k : scale(x)))
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([key, x]) => [key, scale(x)]))
    return v
  }
  return scale(obs) as ProbeObservations
}

describe('probe passes merged (the accuracy benchmark probes before every pass)', () => {
  test('facts come from the rounds of every pass: the median over all of them, the spread across them', async () => {
    const cache = 34 * MiB
    const hw = truth(cache)
    const profiles = await probeProfiles(cache)
    const ctx = { kvType: 'f16', flashAttention: false, cacheBytes: cache }
    const fast = observe(hw, profiles)
    // The second pass ran in a stretch where the machine was 20 % slower at everything.
    const merged = mergeObservations(fast, slower(fast, 1.2))
    expect(merged.bandwidth.F16).toHaveLength(4)
    expect(merged.kv_decode.f16!.a.deep_ms).toHaveLength(4)
    expect(merged.server[1]!.server_decode_ms).toHaveLength(4)
    expect(merged.server.map((s) => s.vocab)).toEqual(fast.server.map((s) => s.vocab))
    const m = fitProbeFacts(merged, profiles, ctx)
    // Median of 0.99, 1.01, 1.188, 1.212 × the true time: 1.1 × it, so every rate is the truth / 1.1.
    for (const t of ['F16', 'Q8_0', 'Q4_K']) {
      expect(m.decode_bandwidth_by_type[t]!.value / (hw.measured!.decode_bandwidth_by_type[t]!.value / 1.1)).toBeCloseTo(1, 1)
      expect(m.prefill_flops_by_type[t]!.value / (hw.measured!.prefill_flops_by_type[t]!.value / 1.1)).toBeCloseTo(1, 1)
      // A spread across both passes (the single pass's is 2 %).
      expect(m.decode_bandwidth_by_type[t]!.spread).toBeGreaterThan(0.15)
    }
    expect(fitProbeFacts(fast, profiles, ctx).decode_bandwidth_by_type.F16!.spread).toBeLessThan(0.05)
    // The per-position attention figures shown to people carry the same per-round noise as the law behind them.
    expect(m.kv_depth_ms_per_token_per_layer.f16!.samples).toHaveLength(4)
    expect(m.kv_depth_ms_per_token_per_layer.f16!.spread).toBeGreaterThan(0.15)
    expect(m.prefill_depth_ms_per_token_per_layer!.spread).toBeGreaterThan(0.15)
  })

  test('passes that measured different plans are refused, not mixed', async () => {
    const cache = 34 * MiB
    const obs = observe(truth(cache), await probeProfiles(cache))
    expect(() => mergeObservations(obs, { ...obs, overhead: { ...obs.overhead, long_id: 'ovh-L99' } })).toThrow(/different plans \(at observations\.overhead\.long_id\)/)
    const kv = obs.kv_decode.f16!
    expect(() => mergeObservations(obs, { ...obs, kv_decode: { f16: { ...kv, a: { ...kv.a, deep_depth: 1024 } } } })).toThrow(/different plans \(at observations\.kv_decode\.f16\.a\.deep_depth\)/)
  })
})

describe('probe facts from disturbed observations', () => {
  test('a round whose known terms exceed its total gives a bounded rate, not an absurd one', async () => {
    const cache = 34 * MiB
    const hw = truth(cache)
    const profiles = await probeProfiles(cache)
    const obs = observe(hw, profiles)
    // The wide F16 model ran impossibly fast: less time than its overhead and attention alone.
    obs.bandwidth.F16 = [0.01, 0.01]
    obs.bandwidth_narrow!.F16 = [0.01, 0.01]
    const m = fitProbeFacts(obs, profiles, { kvType: 'f16', flashAttention: false, cacheBytes: cache })
    const bytes = modelGeometry(profiles['bw-F16']!).active_bytes_per_token
    // Of the order of the bytes over a quarter of the measured time (MIN_REMAINDER_SHARE); the row split may move up
    // to half of that time to the rows (MAX_ROW_SHARE_OF_WIDE), hence the factor 2.
    expect(m.decode_bandwidth_by_type.F16!.value).toBeLessThanOrEqual((2 * bytes) / (0.25 * 0.01) * 1000)
    expect(Number.isFinite(m.decode_bandwidth_bytes_per_sec.value)).toBe(true)
  })
})

describe('probe facts from incomplete observations', () => {
  test('no stand-in figure reaches the profile: without any prefill or decode bandwidth observation the fit fails', async () => {
    const cache = 34 * MiB
    const profiles = await probeProfiles(cache)
    const ctx = { kvType: 'f16', flashAttention: false, cacheBytes: cache }
    const noPrefill = { ...observe(truth(cache), profiles), prefill: {}, prefill_wide: {} }
    expect(() => fitProbeFacts(noPrefill, profiles, ctx)).toThrow(/no prefill rate could be solved/)
    const obs = observe(truth(cache), profiles)
    expect(() => fitProbeFacts({ ...obs, bandwidth: {}, bandwidth_narrow: {} }, profiles, ctx)).toThrow(/no decode bandwidth was measured/)
  })

  test('a failed probe model costs its own facts: the others are still solved, and the stand-in is named', async () => {
    const cache = 34 * MiB
    const hw = truth(cache)
    const profiles = await probeProfiles(cache)
    const ctx = { kvType: 'f16', flashAttention: false, cacheBytes: cache }
    const failed = new Set(['pf-Q8_0', 'bw-F16', 'srv-v64k'])
    const obs = dropFailed({ ...observe(hw, profiles), server: observe(hw, profiles).server.map((s, i) => ({ ...s, id: i === 0 ? 'srv-v2k' : 'srv-v64k' })) }, failed)
    expect(obs.prefill.Q8_0).toBeUndefined()
    expect(obs.bandwidth.F16).toBeUndefined()
    expect(obs.bandwidth_narrow?.F16).toBeUndefined()
    const m = fitProbeFacts(obs, profiles, ctx)
    expect(m.prefill_flops_by_type.Q8_0).toBeUndefined()
    expect(m.decode_bandwidth_by_type.F16).toBeUndefined()
    // Every other type's facts are still those of the machine.
    expect(m.prefill_flops_by_type.Q4_0!.value).toBeCloseTo(hw.measured!.prefill_flops_by_type.Q4_0!.value, -Math.log10(hw.measured!.prefill_flops_by_type.Q4_0!.value) + 2)
    expect(m.decode_bandwidth_by_type.Q8_0!.value / hw.measured!.decode_bandwidth_by_type.Q8_0!.value).toBeGreaterThan(0.95)
    expect(m.decode_bandwidth_by_type.Q8_0!.value / hw.measured!.decode_bandwidth_by_type.Q8_0!.value).toBeLessThan(1.05)
    const described = describeFailures(
      [...failed].map((id) => ({ id, stage: 'run' as const, reason: 'llama-bench was killed by SIGSEGV' })),
      [],
      m
    )
    const pf = described.find((f) => f.part === 'pf-Q8_0')!
    expect(pf.facts).toContain('measured.prefill_flops_by_type.Q8_0')
    expect(pf.stand_in).toMatch(/^Q\d_\d's measured prefill rate/)
    expect(described.find((f) => f.part === 'bw-F16')!.stand_in).toMatch(/measured decode rate/)
    expect(failureLine(pf)).toMatch(/^pf-Q8_0 \(run: llama-bench was killed by SIGSEGV\) → /)
  })
})

describe('hardware.json schema', () => {
  const valid = (): HardwareProfile => ({ ...truth(34 * MiB), measured_at: '2026-01-01T00:00:00.000Z' })

  test('a valid profile round-trips to stable bytes', () => {
    const text = serializeHardwareProfile(valid())
    expect(serializeHardwareProfile(parseHardwareProfile(text, 'hw.json'))).toBe(text)
  })

  test('a wrong field is refused with its JSON path', () => {
    const bad = valid() as unknown as { measured: { decode_bandwidth_by_type: { Q4_K: { value: unknown } } } }
    bad.measured.decode_bandwidth_by_type.Q4_K.value = 'fast'
    expect(() => validateHardwareProfile(bad, 'hw.json')).toThrow(InputError)
    expect(() => validateHardwareProfile(bad, 'hw.json')).toThrow(/hw\.json: measured\.decode_bandwidth_by_type\.Q4_K\.value: must be number/)
  })

  test('an unknown or missing field, a wrong version and bad JSON are refused', () => {
    const extra = { ...valid(), bandwidth: 3 }
    expect(() => validateHardwareProfile(extra, 'hw.json')).toThrow(/bandwidth: is not a known field/)
    const { fingerprint: _fp, ...missing } = valid()
    expect(() => validateHardwareProfile(missing, 'hw.json')).toThrow(/fingerprint: is required/)
    expect(() => validateHardwareProfile({ ...valid(), schema_version: 3 }, 'hw.json')).toThrow(/schema_version/)
    expect(() => parseHardwareProfile('{', 'hw.json')).toThrow(/not valid JSON/)
    const nullFact = valid() as unknown as { measured: { fixed_decode_ms: unknown } }
    nullFact.measured.fixed_decode_ms = { value: 1 }
    expect(() => validateHardwareProfile(nullFact, 'hw.json')).toThrow(/measured\.fixed_decode_ms/)
  })

  test('a rate of zero or less is no measurement: refused with its path', () => {
    const bad = valid() as unknown as { measured: { decode_bandwidth_by_type: { Q4_K: { value: number } }; prefill_flops_per_sec: { value: number } } }
    bad.measured.decode_bandwidth_by_type.Q4_K.value = -3e10
    expect(() => validateHardwareProfile(bad, 'hw.json')).toThrow(/hw\.json: measured\.decode_bandwidth_by_type\.Q4_K\.value: must be > 0, got -30000000000/)
    const zero = valid() as unknown as { measured: { prefill_flops_per_sec: { value: number } } }
    zero.measured.prefill_flops_per_sec.value = 0
    expect(() => validateHardwareProfile(zero, 'hw.json')).toThrow(/measured\.prefill_flops_per_sec\.value: must be > 0/)
  })

  test('a negative fixed cost is refused: the probe fits costs non-negative', () => {
    const bad = valid() as unknown as { measured: { fixed_decode_ms: { value: number } } }
    bad.measured.fixed_decode_ms.value = -0.5
    expect(() => validateHardwareProfile(bad, 'hw.json')).toThrow(/hw\.json: measured\.fixed_decode_ms\.value: must be >= 0, got -0\.5/)
  })

  test('a version 1 profile (camelCase keys) is read as version 2, so a cached or hand-kept hardware.json still works', () => {
    const v2 = valid()
    const camel = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(camel) : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()), camel(x)])) : v
    const v1 = { ...(camel(v2) as object), schema_version: 1 }
    expect(JSON.stringify(v1)).toContain('"decodeBandwidthByType"')
    expect(parseHardwareProfile(JSON.stringify(v1), 'old.json')).toEqual(v2)
  })
})
