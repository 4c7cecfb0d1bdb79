import { describe, expect, test } from '@jest/globals'
import { readGgufHeader } from '../../src/gguf/reader.js'
import { buildProfile } from '../../src/gguf/profile.js'
import type { SyntheticModelSpec } from '../../src/gguf/writer.js'
import type { SyntheticTensor } from '../../src/gguf/synthetic-layout.js'
import { renderFitTable } from '../../src/cli/render-fit.js'
import { cacheHitShare, predict, scoreWorkloads } from '../../src/fit/index.js'
import { defaultWorkload } from '../../src/bench/workload.js'
import { modelGeometry } from '../../src/fit/geometry.js'
import { prefillKeptTokens } from '../../src/fit/speed.js'
import type { HardwareProfile, MeasuredFact } from '../../src/contracts/hardware.js'
import type { Prediction } from '../../src/contracts/prediction.js'
import type { ModelProfile } from '../../src/contracts/profile.js'
import type { ScenarioId } from '../../src/contracts/scenarios.js'
import { syntheticHeaderSource, type HeaderFixtureOptions } from '../helpers/synthetic.js'

const GiB = 1024 ** 3
const fact = (value: number, unit: string, spread = 0.04): MeasuredFact => ({ value, unit, samples: [value * (1 - spread / 2), value * (1 + spread / 2)], spread })

/** A machine like the 2-core CI runner, with facts of the magnitudes the probe measures there. */
export function fixtureHardware(over: { ramAvailableBytes?: number } = {}): HardwareProfile {
  return {
    schema_version: 2,
    fingerprint: 'fixture',
    system: { os: 'linux', arch: 'x64', cpu_model: 'Test CPU', cores: 2, threads: 2, ram_total_bytes: 24 * GiB, ram_available_bytes: over.ramAvailableBytes ?? 22 * GiB, cache_bytes: 34 * 1024 ** 2, gpus: [] },
    llama: { commit: 'de3ff81', build_number: 1, backend: 'CPU', node_llama_cpp_version: null, bin_dir: '/bin' },
    measured: {
      decode_bandwidth_bytes_per_sec: fact(31e9, 'B/s'),
      decode_bandwidth_by_type: {
        F16: fact(31e9, 'B/s'), Q8_0: fact(26e9, 'B/s'), Q4_0: fact(28e9, 'B/s'), Q4_K: fact(28e9, 'B/s'), Q5_K: fact(21e9, 'B/s'), Q6_K: fact(25e9, 'B/s')
      },
      decode_cached_bandwidth_bytes_per_sec: fact(55e9, 'B/s'),
      prefill_flops_per_sec: fact(2.9e11, 'FLOP/s'),
      prefill_flops_by_type: {
        F16: fact(2e11, 'FLOP/s'), Q8_0: fact(2.2e11, 'FLOP/s'), Q4_0: fact(2.9e11, 'FLOP/s'), Q4_K: fact(2.9e11, 'FLOP/s'), Q5_K: fact(1e11, 'FLOP/s'), Q6_K: fact(1.5e11, 'FLOP/s')
      },
      fixed_decode_ms: fact(0.01, 'ms'),
      per_layer_decode_ms: fact(0.0095, 'ms/layer'),
      decode_ns_per_row_by_type: { F16: fact(12, 'ns/row'), Q8_0: fact(10, 'ns/row'), Q4_K: fact(8, 'ns/row') },
      kv_depth_ms_per_token_per_layer: { f16: fact(0.00014, 'ms') },
      kv_depth_coefficients: { f16: { ns_per_query_element_token: fact(0.098, 'ns'), ns_per_kv_byte_token: fact(0.043, 'ns') } },
      prefill_depth_ms_per_token_per_layer: fact(0.00004, 'ms'),
      prefill_attention_coefficients: { ns_per_head_token_position: fact(3, 'ns'), ns_per_query_element_token_position: fact(0.02, 'ns') },
      moe_decode_extra_per_layer_ms: fact(0.002, 'ms'),
      moe_prefill_efficiency_by_type: { F16: fact(0.3, 'ratio'), Q4_K: fact(0.3, 'ratio'), Q8_0: fact(0.5, 'ratio') },
      server_decode_overhead_ms: fact(0.04, 'ms'),
      server_sampler_ns_per_vocab_entry: fact(6, 'ns'),
      server_prompt_overhead_ms: fact(1, 'ms'),
      server_first_token_overhead_ms: fact(1.8, 'ms')
    },
    ceilings: { memory_read_bytes_per_sec: fact(45e9, 'B/s'), peak_flops_per_sec: null },
    probe_seconds: { total: 90 },
    measured_at: '2026-01-01T00:00:00.000Z'
  }
}

const dense: SyntheticModelSpec = { architecture: 'llama', layers: 16, embeddingLength: 1024, feedForwardLength: 2816, heads: 16, kvHeads: 4, vocabSize: 32000, contextLength: 8192, seed: 1 }
const moe = (used: number): SyntheticModelSpec => ({
  architecture: 'qwen3moe', layers: 8, embeddingLength: 768, feedForwardLength: 2048, heads: 12, kvHeads: 4, vocabSize: 32000, contextLength: 8192,
  expertCount: 32, expertUsedCount: used, expertFeedForwardLength: 512, seed: 2
})

const Q4_K = 12
const Q6_K = 14
/** llama-quantize Q4_K_M, roughly: Q6_K for attn_v / ffn_down / output, Q4_K for the other matrices. */
const q4km = (t: SyntheticTensor): number => (t.dims.length < 2 ? t.type : /attn_v|ffn_down|^output/.test(t.name) ? Q6_K : Q4_K)

async function profileOf(spec: SyntheticModelSpec, opts: HeaderFixtureOptions = {}): Promise<ModelProfile> {
  const h = await readGgufHeader(syntheticHeaderSource(spec, opts))
  return buildProfile([h], h.fileSize, 'test.gguf')
}

const workload = defaultWorkload({ threads: 2 })
const value = (p: Prediction, s: ScenarioId): number => {
  const x = p.scenarios.find((y) => y.scenario === s)
  if (!x) throw new Error(`no ${s}`)
  return x.predicted
}

describe('cache hit share of the weight stream', () => {
  test('all hits up to half the caches (where in-cache rates are measured), none from their full size on', () => {
    const C = 32 * 1024 * 1024
    expect(cacheHitShare(0.1 * C, C)).toBe(1)
    expect(cacheHitShare(0.5 * C, C)).toBe(1)
    expect(cacheHitShare(0.75 * C, C)).toBeCloseTo(0.5, 12)
    expect(cacheHitShare(C, C)).toBe(0)
    expect(cacheHitShare(3 * C, C)).toBe(0)
    // Unknown caches: no hits assumed.
    expect(cacheHitShare(0.1 * C, 0)).toBe(0)
  })
})

describe('decode', () => {
  test('a Q4_K_M model decodes faster than its F16 twin', async () => {
    const hw = fixtureHardware()
    const f16 = predict(await profileOf(dense), hw, workload)
    const q4 = predict(await profileOf(dense, { retype: q4km }), hw, workload)
    expect(value(q4, 'steady_decode')).toBeGreaterThan(1.8 * value(f16, 'steady_decode'))
    expect(value(q4, 'kv_warm_reuse')).toBeGreaterThan(value(f16, 'kv_warm_reuse'))
  })

  test('MoE decode depends on the used experts, not the total', async () => {
    const hw = fixtureHardware()
    const two = predict(await profileOf(moe(2)), hw, workload)
    const eight = predict(await profileOf(moe(8)), hw, workload)
    expect(value(two, 'steady_decode')).toBeGreaterThan(1.5 * value(eight, 'steady_decode'))
    // Same total size (every expert is stored): the memory fit does not care how many are used.
    expect(two.fit.weights_bytes).toBe(eight.fit.weights_bytes)
  })

  test('decode at depth is slower than at depth 0, and more so for a wider KV cache', async () => {
    const hw = fixtureHardware()
    const p = await profileOf(dense)
    const shallow = value(predict(p, hw, workload), 'steady_decode')
    const deep = value(predict(p, hw, { ...workload, decode_depth: 2048 }), 'steady_decode')
    expect(deep).toBeLessThan(shallow)
    const mha = await profileOf({ ...dense, kvHeads: 16 })
    const deepMha = value(predict(mha, hw, { ...workload, decode_depth: 2048 }), 'steady_decode')
    expect(deepMha).toBeLessThan(deep)
  })

  test('prefill at depth attends the cached tokens too: slower, the depth in its breakdown', async () => {
    const hw = fixtureHardware()
    const p = await profileOf(dense)
    const long = { ...workload, context_tokens: 16384 + 512 }
    const at = (depth: number) => predict(p, hw, { ...long, prefill_depth: depth }).scenarios.find((s) => s.scenario === 'prefill')!
    expect(at(8192).predicted).toBeLessThan(at(0).predicted)
    expect(at(16384).predicted).toBeLessThan(at(8192).predicted)
    // Only the attention term grows with depth; the matrices are the same.
    expect(at(16384).breakdown.attention_ms!).toBeGreaterThan(at(0).breakdown.attention_ms!)
    expect(at(16384).breakdown.matmul_ms).toBeCloseTo(at(0).breakdown.matmul_ms!, 6)
    expect(at(16384).breakdown.depth_tokens).toBe(16384)
    expect(at(0).breakdown.depth_tokens).toBeUndefined()
  })

  test('sliding-window layers attend no deeper than their window: at depth, a gemma3 pays attention for its global layer', async () => {
    const hw = fixtureHardware()
    const gemma = { architecture: 'gemma3', layers: 6, embeddingLength: 512, feedForwardLength: 1536, heads: 4, kvHeads: 1, headDim: 256, vocabSize: 4096, contextLength: 32768, seed: 5 } as const
    const swa = await profileOf({ ...gemma, slidingWindow: 512 })
    const full = await profileOf(gemma)
    const w = { ...workload, context_tokens: 16384, decode_depth: 8192 }
    const attention = (p: ModelProfile): number => predict(p, hw, w).scenarios.find((x) => x.scenario === 'steady_decode')!.breakdown.attention_ms!
    // 1 global layer over ~8.4k positions + 5 sliding layers over their 1024-cell cache, against 6 global layers.
    const ratio = attention(swa) / attention(full)
    expect(ratio).toBeGreaterThan(0.2)
    expect(ratio).toBeLessThan(0.3)
    // Same weights: only the attention differs.
    expect(predict(swa, hw, w).fit.weights_bytes).toBe(predict(full, hw, w).fit.weights_bytes)
    expect(predict(swa, hw, w).fit.kv_cache_bytes).toBeLessThan(predict(full, hw, w).fit.kv_cache_bytes / 4)
  })

  test('a Mamba model costs no attention at depth, only its state update, and its state is in the fit', async () => {
    const hw = fixtureHardware()
    const mamba = await profileOf({ architecture: 'mamba2', layers: 4, embeddingLength: 512, feedForwardLength: 0, heads: 0, kvHeads: 0, vocabSize: 4096, contextLength: 32768, seed: 6 })
    const at = (depth: number) => predict(mamba, hw, { ...workload, context_tokens: 16384, decode_depth: depth })
    const steady = (p: Prediction) => p.scenarios.find((x) => x.scenario === 'steady_decode')!
    expect(steady(at(8192)).predicted).toBeCloseTo(steady(at(0)).predicted, 6)
    // No attention at all: the step's depth-free part beside the weights is the state update.
    expect(steady(at(0)).breakdown.attention_ms).toBe(0)
    expect(steady(at(0)).breakdown.state_ms).toBeGreaterThan(0)
    expect(at(0).fit.kv_cache_bytes).toBe(0)
    // 4 layers × ((4 − 1) · (1024 + 2 · 128) + 128 · 1024) f32.
    expect(at(0).fit.recurrent_state_bytes).toBe(4 * (3 * 1280 + 128 * 1024) * 4)
  })

  test('the server decode (kv_warm_reuse) costs more per token with a larger vocabulary', async () => {
    const hw = fixtureHardware()
    const small = predict(await profileOf({ ...dense, vocabSize: 4096 }), hw, workload)
    const large = predict(await profileOf({ ...dense, vocabSize: 128000 }), hw, workload)
    const server = (p: Prediction) => p.scenarios.find((s) => s.scenario === 'kv_warm_reuse')!.breakdown.server_ms!
    expect(server(large)).toBeGreaterThan(server(small))
  })

  test('the same bytes in wider matrices decode faster (fewer rows)', async () => {
    const hw = fixtureHardware()
    const narrow = predict(await profileOf({ ...dense, layers: 16, embeddingLength: 512, feedForwardLength: 1536, heads: 8, kvHeads: 2, vocabSize: 1024 }), hw, workload)
    const wide = predict(await profileOf({ ...dense, layers: 4, embeddingLength: 1024, feedForwardLength: 3072, heads: 8, kvHeads: 2, vocabSize: 1024 }), hw, workload)
    // Same layer bytes (16 × ¼ = 4 × 1), half the rows per byte in the wide one; a tiny vocabulary keeps the heads alike.
    expect(value(wide, 'steady_decode')).toBeGreaterThan(value(narrow, 'steady_decode'))
  })
})

describe('prefill and first token', () => {
  test('prefill rate follows the measured per-type rates; first token grows with the prompt', async () => {
    const hw = fixtureHardware()
    const p = await profileOf(dense)
    const pred = predict(p, hw, workload)
    expect(value(pred, 'prefill')).toBeGreaterThan(0)
    const longer = predict(p, hw, { ...workload, first_token_prompt_tokens: 1024 })
    expect(value(longer, 'first_token')).toBeGreaterThan(2 * value(pred, 'first_token'))
    const ft = pred.scenarios.find((s) => s.scenario === 'first_token')!
    expect(Object.keys(ft.breakdown).sort()).toEqual(['first_decode_ms', 'prefill_ms', 'unattributed_ms'])
    expect(ft.breakdown.prefill_ms! + ft.breakdown.unattributed_ms!).toBeCloseTo(ft.predicted, 2)
  })

  test('a slower prefill type gives a slower prefill', async () => {
    const hw = fixtureHardware()
    const Q5_K = 13
    const q5 = predict(await profileOf(dense, { retype: (t) => (t.dims.length < 2 ? t.type : Q5_K) }), hw, workload)
    const q4 = predict(await profileOf(dense, { retype: (t) => (t.dims.length < 2 ? t.type : Q4_K) }), hw, workload)
    expect(value(q4, 'prefill')).toBeGreaterThan(value(q5, 'prefill'))
  })
})

describe('prefill work counts', () => {
  test('the last layer multiplies its feed-forward for the output rows only: dot products and FLOPs counted exactly', async () => {
    // One layer, so the saving is the whole feed-forward: 512 tokens through the attention projections, 1 through the FFN.
    const p = await profileOf({ ...dense, layers: 1 })
    const g = modelGeometry(p)
    const q = p.heads * p.key_length
    const attnRows = q + p.kv_heads * (p.key_length + p.value_length) + p.embedding_length
    const ffnRows = 2 * p.feed_forward_length + p.embedding_length
    const bodyRows = g.matrixRowsPerToken - g.vocab_size
    expect(bodyRows).toBe(attnRows + ffnRows)
    expect(bodyRows * prefillKeptTokens(g, 512, 1, g.ffnRowShare)).toBeCloseTo(attnRows * 512 + ffnRows * 1, 6)
    const attnParams = p.embedding_length * (q + p.kv_heads * (p.key_length + p.value_length)) + q * p.embedding_length
    const ffnParams = 3 * p.embedding_length * p.feed_forward_length
    expect((attnParams + ffnParams) * prefillKeptTokens(g, 512, 1, g.ffnParamShare)).toBeCloseTo(attnParams * 512 + ffnParams, -3)
    // Every row needs logits (an embedding pass): nothing is saved.
    expect(prefillKeptTokens(g, 512, 512, g.ffnRowShare)).toBe(512)
  })
})

describe('memory fit', () => {
  test('a model larger than RAM does not fit and gets a split advice', async () => {
    const hw = fixtureHardware({ ramAvailableBytes: 0.2 * GiB })
    const p = await profileOf(dense)
    const pred = predict(p, hw, workload)
    expect(pred.fit.status).toBe('does-not-fit')
    expect(pred.fit.machines_for_split).toBeGreaterThanOrEqual(2)
    expect(pred.scenarios).toEqual([])
    expect(pred.not_predicted.steady_decode).toMatch(/does not fit/)
    expect(pred.fit.reason).toMatch(/needs \d+ machines/)
    const chat = scoreWorkloads(p, pred).find((s) => s.workload === 'chat')!
    expect(chat.score).toBe(0)
    expect(chat.note).toMatch(/split across \d+ machines/)
  })

  test('the KV cache grows with the context and the memory total adds up', async () => {
    const hw = fixtureHardware()
    const p = await profileOf(dense)
    const a = predict(p, hw, workload).fit
    const b = predict(p, hw, { ...workload, context_tokens: 8192 }).fit
    expect(b.kv_cache_bytes).toBe(2 * a.kv_cache_bytes)
    expect(a.total_bytes).toBe(a.weights_bytes + a.kv_cache_bytes + a.compute_bytes + a.overhead_bytes)
    expect(a.status).toBe('fits')
  })

  test('close to the limit the fit warns', async () => {
    const p = await profileOf(dense)
    const need = predict(p, fixtureHardware(), workload).fit.total_bytes
    // total at 95 % of the margin-reduced limit
    const warn = predict(p, fixtureHardware({ ramAvailableBytes: need / 0.95 / 0.9 }), workload).fit
    expect(warn.status).toBe('fits-with-warning')
  })
})

describe('ranges, determinism, model classes', () => {
  test('every range contains its point estimate', async () => {
    const hw = fixtureHardware()
    for (const spec of [dense, moe(2)]) {
      for (const s of predict(await profileOf(spec), hw, workload).scenarios) {
        expect(s.predicted_range[0]).toBeLessThanOrEqual(s.predicted)
        expect(s.predicted_range[1]).toBeGreaterThanOrEqual(s.predicted)
        expect(s.predicted_range[0]).toBeGreaterThan(0)
      }
    }
  })

  test('a noisier probe gives wider ranges, bounded for a very busy one', async () => {
    const p = await profileOf(dense)
    const quiet = predict(p, fixtureHardware(), workload).scenarios.find((x) => x.scenario === 'steady_decode')!
    const busyHw = fixtureHardware()
    for (const f of Object.values(busyHw.measured!.decode_bandwidth_by_type)) f.spread = 3
    const busy = predict(p, busyHw, workload).scenarios.find((x) => x.scenario === 'steady_decode')!
    expect(busy.predicted_range[1] - busy.predicted_range[0]).toBeGreaterThan(quiet.predicted_range[1] - quiet.predicted_range[0])
    // (values are rounded to six significant digits)
    expect(busy.predicted_range[0]).toBeGreaterThanOrEqual((busy.predicted / 1.5) * (1 - 1e-4))
    expect(busy.predicted_range[1]).toBeLessThanOrEqual((busy.predicted / 0.5) * (1 + 1e-4))
  })

  test('the same input gives byte-identical output', async () => {
    const hw = fixtureHardware()
    const p = await profileOf(moe(4))
    expect(JSON.stringify(predict(p, hw, workload))).toBe(JSON.stringify(predict(p, hw, workload)))
    const text = renderFitTable([{ ref: 'm', profile: p, prediction: predict(p, hw, workload) }])
    expect(text).toBe(renderFitTable([{ ref: 'm', profile: p, prediction: predict(p, hw, workload) }]))
    expect(text).toMatch(/steady_decode/)
  })

  test('an embedding model is not decoded, with a reason', async () => {
    const p = { ...(await profileOf(dense)), model_class: 'embedding' as const }
    const pred = predict(p, fixtureHardware(), workload)
    expect(pred.scenarios.map((s) => s.scenario)).toEqual(['prefill'])
    expect(pred.not_predicted.steady_decode).toMatch(/embedding/)
    expect(pred.not_predicted.kv_warm_reuse).toMatch(/embedding/)
  })
})
