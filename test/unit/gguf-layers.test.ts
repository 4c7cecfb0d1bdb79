import { describe, expect, test } from '@jest/globals'
import type { GgufValue } from '../../src/gguf/format.js'
import { GgufValueType } from '../../src/gguf/format.js'
import { readHparams } from '../../src/gguf/hparams.js'
import { layerPlan } from '../../src/gguf/layers.js'
import { kvCacheBytes, slidingCells } from '../../src/fit/geometry.js'
import type { ModelProfile } from '../../src/contracts/profile.js'
import { readGgufHeader } from '../../src/gguf/reader.js'
import { buildProfile } from '../../src/gguf/profile.js'
import type { SyntheticModelSpec } from '../../src/gguf/writer.js'
import { syntheticHeaderSource } from '../helpers/synthetic.js'

type Meta = Record<string, GgufValue>

/** A header's metadata: `{arch}.` keys from `keys`, arrays given as JS arrays. */
function meta(arch: string, keys: Record<string, number | number[] | boolean[]>): Meta {
  const m: Meta = { 'general.architecture': arch }
  for (const [k, v] of Object.entries(keys)) {
    m[`${arch}.${k}`] = Array.isArray(v)
      ? { type: typeof v[0] === 'boolean' ? GgufValueType.BOOL : GgufValueType.UINT32, length: v.length, values: v } as unknown as GgufValue
      : v
  }
  return m
}

function plan(arch: string, keys: Record<string, number | number[] | boolean[]>) {
  const m = meta(arch, { embedding_length: 512, context_length: 32768, ...keys })
  return layerPlan(m, readHparams(m, 'model.gguf'))
}

describe('layer plan: sliding-window layers as llama.cpp derives them', () => {
  test("gemma3: every 6th layer attends the whole context, the rest the window; without a window key, none slide", () => {
    const p = plan('gemma3', { block_count: 12, 'attention.head_count': 4, 'attention.head_count_kv': 1, 'attention.key_length': 256, 'attention.value_length': 256, 'attention.sliding_window': 512 })
    expect(p.full_attention_layers).toBe(2) // layers 5 and 11
    expect(p.sliding_attention_layers).toBe(10)
    expect(p.sliding_window).toBe(512)
    expect(p.full_k_elements).toBe(2 * 256)
    expect(p.sliding_v_elements).toBe(10 * 256)
    const noWindow = plan('gemma3', { block_count: 12, 'attention.head_count': 4, 'attention.head_count_kv': 1 })
    expect(noWindow.sliding_attention_layers).toBe(0)
    expect(noWindow.sliding_window).toBe(0)
  })

  test('gpt-oss alternates sliding and full layers; a per-layer sliding_window_pattern array overrides the period', () => {
    const p = plan('gpt-oss', { block_count: 6, 'attention.head_count': 8, 'attention.head_count_kv': 2, 'attention.key_length': 64, 'attention.value_length': 64, 'attention.sliding_window': 128 })
    expect([p.sliding_attention_layers, p.full_attention_layers]).toEqual([3, 3])
    const explicit = plan('gpt-oss', {
      block_count: 4,
      'attention.head_count': 8,
      'attention.head_count_kv': 2,
      'attention.sliding_window': 128,
      'attention.sliding_window_pattern': [true, true, true, false]
    })
    expect([explicit.sliding_attention_layers, explicit.full_attention_layers]).toEqual([3, 1])
  })

  test("phi3's sliding_window key is ignored as llama.cpp ignores it; an unknown architecture with one is costed in full and says so", () => {
    const phi3 = plan('phi3', { block_count: 4, 'attention.head_count': 8, 'attention.sliding_window': 2047 })
    expect(phi3.sliding_attention_layers).toBe(0)
    expect(phi3.assumptions).toEqual([])
    const unknown = plan('newarch', { block_count: 4, 'attention.head_count': 8, 'attention.sliding_window': 1024 })
    expect(unknown.full_attention_layers).toBe(4)
    expect(unknown.assumptions).toEqual([
      'newarch: has a sliding_window of 1024 but its layer pattern is not known here; every layer costed as full attention (an upper bound)',
      'newarch: not an architecture the pinned llama.cpp loads; its layers costed as attention over the whole context with the feed-forward its tensors have'
    ])
    // A known architecture whose caches follow rules the plan does not model says which.
    expect(plan('gemma3n', { block_count: 5, 'attention.head_count': 8, 'attention.sliding_window': 512 }).assumptions.join()).toMatch(/gemma3n: layers that reuse an earlier layer's KV cache/)
  })
})

describe('layer plan: MLA, recurrent and hybrid layers', () => {
  test('MLA caches only the latent K (kv_lora_rank + rope dims), no V; its attention runs over the latent', () => {
    const p = plan('deepseek2', {
      block_count: 4,
      'attention.head_count': 16,
      'attention.head_count_kv': 1,
      'attention.key_length': 576,
      'attention.value_length': 512,
      'attention.key_length_mla': 192,
      'attention.value_length_mla': 128,
      'attention.kv_lora_rank': 512
    })
    expect(p.full_k_elements).toBe(4 * 576)
    expect(p.full_v_elements).toBe(0)
    expect(p.v_elements_max).toBe(0)
    expect(p.mla_kv_lora_rank).toBe(512)
    expect(p.full_attention_flops_per_position).toBe(4 * 2 * (16 * 576 + 16 * 512))
  })

  test('mamba2: every layer recurrent, its state (d_conv − 1)·(d_inner + 2·groups·d_state) + d_state·d_inner f32, no KV', () => {
    const p = plan('mamba2', { block_count: 3, 'ssm.conv_kernel': 4, 'ssm.inner_size': 1024, 'ssm.state_size': 128, 'ssm.group_count': 1, 'ssm.time_step_rank': 32 })
    expect(p.recurrent_layers).toBe(3)
    expect(p.full_attention_layers).toBe(0)
    expect(p.recurrent_state_elements).toBe(3 * (3 * (1024 + 2 * 128) + 128 * 1024))
    expect(p.full_k_elements).toBe(0)
  })

  test('a hybrid whose head_count_kv is 0 on recurrent layers: attention only on the others, state on those', () => {
    const p = plan('granitehybrid', {
      block_count: 4,
      'attention.head_count': 8,
      'attention.head_count_kv': [0, 2, 0, 0],
      'ssm.conv_kernel': 4,
      'ssm.inner_size': 1024,
      'ssm.state_size': 64,
      'ssm.group_count': 1
    })
    expect(p.full_attention_layers).toBe(1)
    expect(p.recurrent_layers).toBe(3)
    expect(p.full_k_elements).toBe(2 * 64)
    expect(p.recurrent_state_elements).toBe(3 * (3 * (1024 + 2 * 64) + 64 * 1024))
  })

  test('rwkv: token shift and WKV state; nemotron-h: MLP layers are neither attention nor state', () => {
    const rwkv = plan('rwkv7', { block_count: 2, 'wkv.head_size': 64 })
    expect(rwkv.recurrent_state_elements).toBe(2 * (2 * 512 + 512 * 64))
    const nemotron = plan('nemotron_h', {
      block_count: 4,
      'attention.head_count': 8,
      'attention.head_count_kv': [0, 0, 2, 0],
      feed_forward_length: [0, 1024, 0, 0],
      'ssm.conv_kernel': 4,
      'ssm.inner_size': 512,
      'ssm.state_size': 16,
      'ssm.group_count': 1
    })
    expect([nemotron.recurrent_layers, nemotron.full_attention_layers]).toEqual([2, 1])
  })
})

describe('layer plan: the rules of the less common hybrids, chunked attention and MTP layers', () => {
  test('minimax-01 attends every 8th layer by default; its lightning-attention state is key_length² per head', () => {
    const p = plan('minimax-01', { block_count: 16, 'attention.head_count': 4, 'attention.head_count_kv': 4, 'attention.key_length': 64, 'attention.value_length': 64 })
    expect([p.full_attention_layers, p.recurrent_layers]).toEqual([2, 14])
    expect(p.recurrent_state_elements).toBe(14 * 64 * 64 * 4)
  })

  test("kimi's delta attention (KDA) keeps Q/K/V conv states and head_dim² per head; kimi-k3 marks its KDA layers like kimi-linear", () => {
    const keys = { block_count: 4, 'attention.head_count': 8, 'attention.head_count_kv': [0, 0, 0, 2], 'kda.head_dim': 32, 'ssm.conv_kernel': 4 }
    for (const arch of ['kimi-linear', 'kimi-k3']) {
      const p = plan(arch, keys)
      expect([p.full_attention_layers, p.recurrent_layers]).toEqual([1, 3])
      expect(p.recurrent_state_elements).toBe(3 * (3 * 3 * 8 * 32 + 32 * 32 * 8))
    }
  })

  test("llama4's chunks are 8192 tokens whatever its window key says, and a window of 0 turns them off", () => {
    expect(plan('llama4', { block_count: 8, 'attention.head_count': 8, 'attention.sliding_window': 4096 })).toMatchObject({ sliding_window: 8192, sliding_attention_layers: 6 })
    expect(plan('llama4', { block_count: 8, 'attention.head_count': 8, 'attention.sliding_window': 0 }).sliding_attention_layers).toBe(0)
  })

  test('MTP layers stay out of a plain model\'s KV cache, and in a kv-zero hybrid\'s (its attention filter keeps them)', () => {
    expect(plan('glm4moe', { block_count: 5, nextn_predict_layers: 1, 'attention.head_count': 8 }).full_attention_layers).toBe(4)
    expect(plan('bailingmoe3', { block_count: 5, nextn_predict_layers: 1, 'attention.head_count': 8, 'attention.head_count_kv': [0, 0, 2, 0, 2], 'kda.head_dim': 16 }).full_attention_layers).toBe(2)
  })
})

describe("KV caches as llama.cpp allocates them", () => {
  test('the SWA cache holds the window plus one ubatch, padded to 256, never more than the base cache', () => {
    expect(slidingCells(8192, 512, 512)).toBe(1024)
    expect(slidingCells(8192, 1000, 512)).toBe(1536)
    expect(slidingCells(512, 512, 512)).toBe(512)
    expect(slidingCells(100, 4096, 512)).toBe(256)
  })

  test('without flash attention every layer V is padded to the widest layer; with it each keeps its own width', () => {
    const profile = {
      layer_plan: {
        full_attention_layers: 1,
        sliding_attention_layers: 2,
        sliding_window: 512,
        full_k_elements: 512,
        full_v_elements: 512,
        sliding_k_elements: 2 * 256,
        sliding_v_elements: 2 * 256,
        v_elements_max: 512
      }
    } as unknown as ModelProfile
    const fa = kvCacheBytes(profile, { contextTokens: 8192, kvType: 'f16', flashAttention: true, ubatch: 512 })
    expect(fa).toEqual({ full: 8192 * 1024 * 2, sliding: 1024 * 1024 * 2 })
    const noFa = kvCacheBytes(profile, { contextTokens: 8192, kvType: 'f16', flashAttention: false, ubatch: 512 })
    expect(noFa.sliding).toBe(1024 * (512 + 2 * 512) * 2)
    expect(kvCacheBytes(profile, { contextTokens: 8192, kvType: 'q8_0', flashAttention: true, ubatch: 512 }).full).toBe((8192 * 1024 * 34) / 32)
  })
})

describe('layer plan from whole synthetic headers', () => {
  const profileOf = async (spec: SyntheticModelSpec) => {
    const h = await readGgufHeader(syntheticHeaderSource(spec))
    return buildProfile([h], h.fileSize, 'model.gguf')
  }

  test("gpt-oss: sinks on every layer, alternating windows, no dense feed-forward; deepseek2: its leading dense layer and shared experts", async () => {
    const oss = await profileOf({ architecture: 'gpt-oss', layers: 4, embeddingLength: 256, feedForwardLength: 256, expertFeedForwardLength: 256, expertCount: 4, expertUsedCount: 2, heads: 4, kvHeads: 2, headDim: 64, slidingWindow: 128, vocabSize: 1024, contextLength: 4096, seed: 1 })
    expect(oss.layer_plan).toMatchObject({ attention_sink_layers: 4, dense_ffn_layers: 0, sliding_attention_layers: 2, full_attention_layers: 2, sliding_window: 128 })
    const ds = await profileOf({ architecture: 'deepseek2', layers: 3, embeddingLength: 256, feedForwardLength: 768, heads: 4, kvHeads: 1, kvLoraRank: 128, ropeDims: 32, nopeDims: 64, headDim: 64, leadingDenseLayers: 1, expertCount: 4, expertUsedCount: 2, expertFeedForwardLength: 128, sharedExpertCount: 2, vocabSize: 1024, contextLength: 4096, seed: 2 })
    expect(ds.layer_plan).toMatchObject({ dense_ffn_layers: 1, mla_kv_lora_rank: 128, full_k_elements: 3 * (128 + 32), full_v_elements: 0, attention_sink_layers: 0 })
    // Two shared experts of 128 read every token, beside the routed ones.
    expect(ds.shared_expert_feed_forward_length).toBe(256)
    expect(ds.layer_plan.assumptions).toEqual([])
  })
})
