import { describe, expect, test } from '@jest/globals'
import { readGgufHeader } from '../../src/gguf/reader.js'
import { buildProfile, kvBytesPerToken } from '../../src/gguf/profile.js'
import { GgufValueType, type GgufHeader, type GgufKv } from '../../src/gguf/format.js'
import type { SyntheticModelSpec } from '../../src/gguf/writer.js'
import type { SyntheticTensor } from '../../src/gguf/synthetic-layout.js'
import { TENSOR_GROUPS } from '../../src/contracts/profile.js'
import { InputError } from '../../src/util/errors.js'
import { syntheticHeaderSource, type HeaderFixtureOptions } from '../helpers/synthetic.js'

const E = 256
const F = 512
const V = 1024
const dense: SyntheticModelSpec = {
  architecture: 'llama',
  layers: 2,
  embeddingLength: E,
  feedForwardLength: F,
  heads: 4,
  kvHeads: 2,
  vocabSize: V,
  contextLength: 4096,
  seed: 1
}
const moe: SyntheticModelSpec = {
  architecture: 'qwen3moe',
  layers: 2,
  embeddingLength: E,
  feedForwardLength: F,
  heads: 4,
  kvHeads: 2,
  headDim: 64,
  vocabSize: V,
  contextLength: 4096,
  expertCount: 8,
  expertUsedCount: 2,
  expertFeedForwardLength: 128,
  seed: 2
}

const u32 = (key: string, value: number): GgufKv => ({ key, type: GgufValueType.UINT32, value })

async function header(spec: SyntheticModelSpec, opts: HeaderFixtureOptions = {}): Promise<GgufHeader> {
  return readGgufHeader(syntheticHeaderSource(spec, opts))
}

async function profileOf(spec: SyntheticModelSpec, opts: HeaderFixtureOptions = {}): Promise<ReturnType<typeof buildProfile>> {
  const h = await header(spec, opts)
  return buildProfile([h], h.fileSize, 'test.gguf')
}

/** What llama-quantize Q4_K_M does to matrices, roughly: Q6_K for attn_v / ffn_down / output, Q4_K elsewhere. */
function q4km(t: SyntheticTensor): number {
  if (t.dims.length < 2) return t.type
  return /attn_v|ffn_down|^output/.test(t.name) ? 14 : 12
}

describe('ModelProfile of a dense model', () => {
  test('counts every tensor, parameter and byte exactly', async () => {
    const p = await profileOf(dense)
    const D = E / 4
    const perLayerMatrices = E * E + 2 * E * (2 * D) + E * E + 3 * E * F
    const perLayerParams = perLayerMatrices + 2 * E
    expect(p.architecture).toBe('llama')
    expect(p.model_class).toBe('causal-lm')
    expect(p.file_type).toBe('F16')
    expect(p.tensor_count).toBe(3 + 2 * 9)
    expect(p.param_count).toBe(2 * E * V + E + 2 * perLayerParams)
    expect(p.tensor_bytes).toBe(2 * (2 * E * V + 2 * perLayerMatrices) + 4 * (E + 2 * 2 * E))
    expect(p.bytes_by_type).toEqual({ F16: 2 * (2 * E * V + 2 * perLayerMatrices), F32: 4 * (E + 4 * E) })
    expect(Object.keys(p.bytes_by_group)).toEqual([...TENSOR_GROUPS].sort())
    expect(p.bytes_by_group.embedding).toBe(2 * E * V)
    expect(p.bytes_by_group.output).toBe(2 * E * V)
    expect(p.bytes_by_group.ffn_dense).toBe(2 * 2 * 3 * E * F)
    expect(p.bytes_by_group.ffn_expert).toBe(0)
    expect(Object.values(p.bytes_by_group).reduce((a, b) => a + b, 0)).toBe(p.tensor_bytes)
    expect([p.layers, p.embedding_length, p.feed_forward_length, p.heads, p.kv_heads, p.key_length, p.value_length]).toEqual([2, E, F, 4, 2, D, D])
    expect([p.vocab_size, p.context_length, p.expert_count, p.expert_used_count, p.shared_expert_count]).toEqual([V, 4096, 0, 0, 0])
    expect(p.file_bytes).toBeGreaterThan(p.tensor_bytes)
  })

  test('a decoded token reads one embedding row, the whole output head and every layer', async () => {
    const p = await profileOf(dense)
    const embeddingRow = 2 * E
    expect(p.active_bytes_per_token).toBe(p.tensor_bytes - p.bytes_by_group.embedding + embeddingRow)
    expect(p.active_bytes_by_type.F16! + p.active_bytes_by_type.F32!).toBe(p.active_bytes_per_token)
    const D = E / 4
    const matmulParams = E * V + 2 * (E * E + 2 * E * (2 * D) + E * E + 3 * E * F)
    expect(p.flops_per_token).toBe(2 * matmulParams)
    expect(p.attention_flops_per_token_per_depth).toBe(4 * 4 * D * 2)
    expect(p.kv_bytes_per_token_f16).toBe(2 * 2 * (D + D) * 2)
  })

  test('tied embeddings: no output tensor, and the whole token table is read once per token as the output head', async () => {
    const untied = await profileOf(dense)
    const tied = await profileOf({ ...dense, tiedEmbeddings: true })
    expect(tied.bytes_by_group.output).toBe(0)
    expect(tied.tensor_bytes).toBe(untied.tensor_bytes - 2 * E * V)
    expect(tied.active_bytes_per_token).toBe(untied.active_bytes_per_token - 2 * E)
    expect(tied.flops_per_token).toBe(untied.flops_per_token)
  })

  test('a Q4_K_M model reads fewer bytes per token than its F16 twin, with the same parameters and FLOPs', async () => {
    const f16 = await profileOf(dense)
    const q = await profileOf(dense, { retype: q4km, kvs: [u32('general.file_type', 15)] })
    expect(q.file_type).toBe('Q4_K_M')
    expect(q.active_bytes_per_token).toBeLessThan(f16.active_bytes_per_token / 2.5)
    expect(q.param_count).toBe(f16.param_count)
    expect(q.flops_per_token).toBe(f16.flops_per_token)
    expect(Object.keys(q.bytes_by_type)).toEqual(['F32', 'Q4_K', 'Q6_K'])
    // Q4_K: 144 bytes per 256 weights.
    expect(q.bytes_by_group.attention).toBe(2 * ((2 * E * E + E * 2 * 64) * 144 / 256 + E * 2 * 64 * 210 / 256))
  })

  test('vocab size falls back to the tokenizer token count when there is no vocab_size key', async () => {
    const p = await profileOf(dense, { dropKeys: ['llama.vocab_size'] })
    expect(p.vocab_size).toBe(V)
  })

  test('key and value length default to embedding_length / head_count', async () => {
    const p = await profileOf({ ...dense, heads: 8, kvHeads: 8 }, { dropKeys: ['llama.attention.key_length', 'llama.attention.value_length'] })
    expect([p.key_length, p.value_length]).toEqual([E / 8, E / 8])
  })

  test('a model without general.architecture is an input error naming the key', async () => {
    const h = await header(dense, { dropKeys: ['general.architecture'] })
    expect(() => buildProfile([h], h.fileSize, 'm.gguf')).toThrow(new InputError('m.gguf', 'key general.architecture', 'missing or not a string'))
  })
})

describe('ModelProfile of a MoE model', () => {
  test('active bytes = everything shared + routed experts × used / total', async () => {
    const p = await profileOf(moe)
    const expertBytes = 2 * 3 * (E * 128 * 8) * 2
    expect(p.bytes_by_group.ffn_expert).toBe(expertBytes)
    const shared = p.tensor_bytes - expertBytes - p.bytes_by_group.embedding + 2 * E
    expect(p.active_bytes_per_token).toBe(shared + (expertBytes * 2) / 8)
    expect([p.expert_count, p.expert_used_count, p.expert_feed_forward_length]).toEqual([8, 2, 128])
    // The router is a dense matmul every token reads in full.
    expect(p.bytes_by_group.ffn_dense).toBe(2 * E * 8 * 2)
    expect(p.bytes_by_group.norm).toBe(4 * (E + 2 * (2 * E + 2 * 64)))
  })

  test('FLOPs count only the routed experts a token uses', async () => {
    const p = await profileOf(moe)
    const attention = E * 256 + 2 * E * 128 + 256 * E
    const perLayer = attention + E * 8 + (3 * E * 128 * 8 * 2) / 8
    expect(p.flops_per_token).toBe(2 * (E * V + 2 * perLayer))
  })
})

describe('KV cache bytes per token', () => {
  test('grouped-query attention stores kvHeads/heads of what multi-head attention stores', async () => {
    const gqa = await profileOf({ ...dense, heads: 8, kvHeads: 2, headDim: 64 })
    const mha = await profileOf({ ...dense, heads: 8, kvHeads: 8, headDim: 64 })
    expect(kvBytesPerToken(gqa, 'f16')).toBe(2 * 2 * 2 * 64 * 2)
    expect(kvBytesPerToken(mha, 'f16')).toBe(4 * kvBytesPerToken(gqa, 'f16'))
    expect(kvBytesPerToken(mha, 'f16')).toBe(mha.kv_bytes_per_token_f16)
  })

  test('quantized KV types scale by their bytes per element', async () => {
    const p = await profileOf({ ...dense, heads: 8, kvHeads: 2, headDim: 64 })
    const elements = 2 * 2 * 2 * 64
    expect(kvBytesPerToken(p, 'f32')).toBe(elements * 4)
    expect(kvBytesPerToken(p, 'BF16')).toBe(elements * 2)
    expect(kvBytesPerToken(p, 'q8_0')).toBe((elements / 32) * 34)
    expect(kvBytesPerToken(p, 'q4_0')).toBe((elements / 32) * 18)
    expect(kvBytesPerToken(p, 'q4_1')).toBe((elements / 32) * 20)
    expect(kvBytesPerToken(p, 'q5_0')).toBe((elements / 32) * 22)
    expect(kvBytesPerToken(p, 'q5_1')).toBe((elements / 32) * 24)
    expect(kvBytesPerToken(p, 'iq4_nl')).toBe((elements / 32) * 18)
    expect(() => kvBytesPerToken(p, 'q4_k')).toThrow(InputError)
  })

  test('per-layer kv head counts: the profile shows the largest, KV bytes sum the layers (0 = recurrent layer)', async () => {
    const kvs: GgufKv[] = [{ key: 'llama.attention.head_count_kv', type: GgufValueType.ARRAY, itemType: GgufValueType.UINT32, value: [2, 0] }]
    const p = await profileOf(dense, { kvs })
    expect(p.kv_heads).toBe(2)
    expect(p.kv_bytes_per_token_f16).toBe(2 * (64 + 64) * 2)
    expect(p.attention_flops_per_token_per_depth).toBe(2 * 4 * (64 + 64))
  })
})

describe('model class', () => {
  const pooling = (v: number): GgufKv => ({ key: 'llama.pooling_type', type: GgufValueType.UINT32, value: v })
  test('a pooling type makes an embedding model; rank pooling makes a reranker', async () => {
    expect((await profileOf(dense, { kvs: [pooling(1)] })).model_class).toBe('embedding')
    expect((await profileOf(dense, { kvs: [pooling(4)] })).model_class).toBe('reranker')
  })
  test('no output head and non-causal attention is an embedding model', async () => {
    const kvs: GgufKv[] = [{ key: 'llama.attention.causal', type: GgufValueType.BOOL, value: false }]
    const p = await profileOf({ ...dense, tiedEmbeddings: true }, { kvs })
    expect(p.model_class).toBe('embedding')
    // An encoder does not multiply with the token table: only one row per token is read.
    expect(p.active_bytes_per_token).toBe(p.tensor_bytes - p.bytes_by_group.embedding + 2 * E)
  })
})

describe('split models', () => {
  function split(h: GgufHeader, at: number): GgufHeader[] {
    const shard = (no: number, tensors: GgufHeader['tensors']): GgufHeader => ({
      ...h,
      metadata: { ...h.metadata, 'split.no': no, 'split.count': 2 },
      tensors
    })
    return [shard(0, h.tensors.slice(0, at)), shard(1, h.tensors.slice(at))]
  }

  test('the profile over all shards (in any order) equals the unsplit one, with shards = 2', async () => {
    const h = await header(moe)
    const whole = buildProfile([h], 1000)
    const [a, b] = split(h, 7)
    const parts = buildProfile([b!, a!], 1000)
    expect({ ...parts, shards: 1 }).toEqual(whole)
    expect(parts.shards).toBe(2)
  })

  test('a missing shard is an input error', async () => {
    const h = await header(moe)
    const [a] = split(h, 7)
    expect(() => buildProfile([a!], 1000, 'm-00001-of-00002.gguf')).toThrow(/split.count: says 2 shards, got 1/)
  })
})
