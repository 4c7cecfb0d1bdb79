import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from '@jest/globals'
import { syntheticLayout, writeSyntheticGguf, type SyntheticModelSpec } from '../../src/gguf/writer.js'
import { SYNTHETIC_ARCHITECTURES, type SyntheticArchitecture, type SyntheticLayout } from '../../src/gguf/synthetic-layout.js'
import { encodeGgufHeader } from '../../src/gguf/encode.js'
import { GgufValueType } from '../../src/gguf/format.js'
import { readGgufHeader } from '../../src/gguf/reader.js'
import { bufferSource } from '../../src/gguf/source.js'
import { GGML_TYPE } from '../../src/gguf/ggml-types.js'
import { buildProfile } from '../../src/gguf/profile.js'
import { parseSynthSpec, writerSpec } from '../../src/synth/spec.js'
import { specErrorField } from '../helpers/synthetic.js'

/** One small spec per family, as corpora/architectures.yml has them but narrower. */
const SPECS: Record<Exclude<SyntheticArchitecture, 'llama' | 'qwen3moe'>, SyntheticModelSpec> = {
  gemma3: { architecture: 'gemma3', layers: 6, embeddingLength: 256, feedForwardLength: 512, heads: 4, kvHeads: 1, headDim: 128, slidingWindow: 512, vocabSize: 1024, contextLength: 32768, seed: 1 },
  'gpt-oss': {
    architecture: 'gpt-oss',
    layers: 2,
    embeddingLength: 256,
    feedForwardLength: 256,
    expertFeedForwardLength: 256,
    expertCount: 4,
    expertUsedCount: 2,
    heads: 8,
    kvHeads: 2,
    headDim: 64,
    slidingWindow: 128,
    vocabSize: 1024,
    contextLength: 32768,
    seed: 1
  },
  deepseek2: {
    architecture: 'deepseek2',
    layers: 3,
    embeddingLength: 256,
    feedForwardLength: 768,
    heads: 4,
    kvHeads: 1,
    kvLoraRank: 256,
    ropeDims: 64,
    nopeDims: 128,
    headDim: 96,
    leadingDenseLayers: 1,
    expertCount: 4,
    expertUsedCount: 2,
    expertFeedForwardLength: 256,
    sharedExpertCount: 2,
    vocabSize: 1024,
    contextLength: 32768,
    seed: 1
  },
  qwen2moe: {
    architecture: 'qwen2moe',
    layers: 2,
    embeddingLength: 256,
    feedForwardLength: 768,
    expertFeedForwardLength: 256,
    sharedExpertFeedForwardLength: 512,
    expertCount: 4,
    expertUsedCount: 2,
    heads: 4,
    kvHeads: 2,
    vocabSize: 1024,
    contextLength: 32768,
    seed: 1
  },
  mamba2: { architecture: 'mamba2', layers: 2, embeddingLength: 256, feedForwardLength: 0, heads: 0, kvHeads: 0, ssmStateSize: 64, vocabSize: 1024, contextLength: 32768, seed: 1 },
  granitehybrid: {
    architecture: 'granitehybrid',
    layers: 4,
    embeddingLength: 256,
    feedForwardLength: 512,
    heads: 4,
    kvHeads: 2,
    attentionLayers: [1, 3],
    vocabSize: 1024,
    contextLength: 32768,
    seed: 1
  },
  qwen2: { architecture: 'qwen2', layers: 2, embeddingLength: 256, feedForwardLength: 768, heads: 4, kvHeads: 2, vocabSize: 1024, contextLength: 32768, seed: 1 },
  // Qwen3-0.6B's shape narrowed: head_dim 128 makes attn_q (4 × 128) wider than n_embd.
  qwen3: { architecture: 'qwen3', layers: 2, embeddingLength: 256, feedForwardLength: 768, heads: 4, kvHeads: 2, headDim: 128, vocabSize: 1024, contextLength: 40960, seed: 1 },
  exaone4: { architecture: 'exaone4', layers: 2, embeddingLength: 256, feedForwardLength: 512, heads: 4, kvHeads: 2, vocabSize: 1024, contextLength: 65536, seed: 1 },
  'nomic-bert': { architecture: 'nomic-bert', layers: 2, embeddingLength: 256, feedForwardLength: 512, heads: 4, kvHeads: 4, vocabSize: 1024, contextLength: 2048, seed: 1 },
  bert: { architecture: 'bert', layers: 2, embeddingLength: 256, feedForwardLength: 1024, heads: 4, kvHeads: 4, vocabSize: 1024, contextLength: 8192, seed: 1 }
}

const meta = (l: SyntheticLayout, key: string): unknown => l.metadata.find((kv) => kv.key === key)?.value
/** Tensor name (without the `blk.I.` prefix) → dims, of layer i. */
function layer(l: SyntheticLayout, i: number): Record<string, number[]> {
  const p = `blk.${i}.`
  return Object.fromEntries(l.tensors.filter((t) => t.name.startsWith(p)).map((t) => [t.name.slice(p.length), t.dims]))
}
const typeOf = (l: SyntheticLayout, name: string): number | undefined => l.tensors.find((t) => t.name === name)?.type

const fieldOf = specErrorField

describe('synthetic layouts per architecture (the tensors src/models/<arch>.cpp load_arch_tensors creates)', () => {
  test('every family lays out, keeps general.name uninformative and the arch keys under its own prefix', () => {
    for (const spec of Object.values(SPECS)) {
      const l = syntheticLayout(spec)
      expect(meta(l, 'general.architecture')).toBe(spec.architecture)
      expect(meta(l, 'general.name')).toBe('synthetic')
      for (const kv of l.metadata) expect(kv.key).toMatch(new RegExp(`^(general|tokenizer|${spec.architecture})\\.`))
      expect(new Set(l.tensors.map((t) => t.name)).size).toBe(l.tensors.length)
      expect(meta(l, `${spec.architecture}.block_count`)).toBe(spec.layers)
    }
    expect([...SYNTHETIC_ARCHITECTURES].sort()).toEqual(['bert', 'deepseek2', 'exaone4', 'gemma3', 'gpt-oss', 'granitehybrid', 'llama', 'mamba2', 'nomic-bert', 'qwen2', 'qwen2moe', 'qwen3', 'qwen3moe'])
  })

  test('gemma3: q/k norms, post norms, tied embeddings, a sliding window and no pattern key (llama.cpp derives 5 SWA : 1 global)', () => {
    const l = syntheticLayout(SPECS.gemma3)
    expect(layer(l, 0)).toEqual({
      'attn_norm.weight': [256],
      'attn_q.weight': [256, 512],
      'attn_k.weight': [256, 128],
      'attn_v.weight': [256, 128],
      'attn_output.weight': [512, 256],
      'post_attention_norm.weight': [256],
      'attn_q_norm.weight': [128],
      'attn_k_norm.weight': [128],
      'ffn_norm.weight': [256],
      'ffn_gate.weight': [256, 512],
      'ffn_up.weight': [256, 512],
      'ffn_down.weight': [512, 256],
      'post_ffw_norm.weight': [256]
    })
    expect(l.tensors.map((t) => t.name)).not.toContain('output.weight')
    expect(meta(l, 'gemma3.attention.sliding_window')).toBe(512)
    expect(meta(l, 'gemma3.attention.key_length')).toBe(128)
    expect(meta(l, 'gemma3.rope.freq_base_swa')).toBe(10_000)
    expect(l.metadata.some((kv) => kv.key.includes('sliding_window_pattern'))).toBe(false)
    // Without a window: no SWA keys at all (llama_model_gemma3 then builds plain attention).
    const { slidingWindow: _w, ...noSwa } = SPECS.gemma3
    expect(syntheticLayout(noSwa).metadata.filter((kv) => kv.key.includes('swa') || kv.key.includes('sliding'))).toEqual([])
  })

  test('gpt-oss: sinks, q/k/v/o biases, router and expert biases as F32, post_attention_norm in place of ffn_norm, output required', () => {
    const l = syntheticLayout(SPECS['gpt-oss'])
    expect(layer(l, 1)).toEqual({
      'attn_norm.weight': [256],
      'post_attention_norm.weight': [256],
      'attn_q.weight': [256, 512],
      'attn_q.bias': [512],
      'attn_k.weight': [256, 128],
      'attn_k.bias': [128],
      'attn_v.weight': [256, 128],
      'attn_v.bias': [128],
      'attn_output.weight': [512, 256],
      'attn_output.bias': [256],
      'attn_sinks.weight': [8],
      'ffn_gate_inp.weight': [256, 4],
      'ffn_gate_inp.bias': [4],
      'ffn_gate_exps.weight': [256, 256, 4],
      'ffn_down_exps.weight': [256, 256, 4],
      'ffn_up_exps.weight': [256, 256, 4],
      'ffn_gate_exps.bias': [256, 4],
      'ffn_down_exps.bias': [256, 4],
      'ffn_up_exps.bias': [256, 4]
    })
    expect(l.tensors.map((t) => t.name)).toContain('output.weight')
    for (const n of ['attn_sinks.weight', 'attn_q.bias', 'ffn_gate_inp.weight', 'ffn_down_exps.bias']) expect(typeOf(l, `blk.0.${n}`)).toBe(GGML_TYPE.F32)
    expect(typeOf(l, 'blk.0.ffn_up_exps.weight')).toBe(GGML_TYPE.F16)
    expect(meta(l, 'gpt-oss.attention.sliding_window')).toBe(128)
    expect(meta(l, 'gpt-oss.expert_feed_forward_length')).toBe(256)
  })

  test('deepseek2: MLA lite (plain attn_q, split k_b / v_b), one leading dense layer, routed + shared experts', () => {
    const l = syntheticLayout(SPECS.deepseek2)
    const mla = {
      'attn_norm.weight': [256],
      'attn_kv_a_norm.weight': [256],
      'attn_q.weight': [256, 4 * (128 + 64)],
      'attn_kv_a_mqa.weight': [256, 256 + 64],
      'attn_k_b.weight': [128, 256, 4],
      'attn_v_b.weight': [256, 96, 4],
      'attn_output.weight': [4 * 96, 256],
      'ffn_norm.weight': [256]
    }
    expect(layer(l, 0)).toEqual({ ...mla, 'ffn_gate.weight': [256, 768], 'ffn_down.weight': [768, 256], 'ffn_up.weight': [256, 768] })
    expect(layer(l, 2)).toEqual({
      ...mla,
      'ffn_gate_inp.weight': [256, 4],
      'ffn_gate_exps.weight': [256, 256, 4],
      'ffn_down_exps.weight': [256, 256, 4],
      'ffn_up_exps.weight': [256, 256, 4],
      'ffn_gate_shexp.weight': [256, 512],
      'ffn_down_shexp.weight': [512, 256],
      'ffn_up_shexp.weight': [256, 512]
    })
    const keys = Object.fromEntries(l.metadata.filter((kv) => kv.key.startsWith('deepseek2.')).map((kv) => [kv.key.slice('deepseek2.'.length), kv.value]))
    expect(keys).toMatchObject({
      'attention.head_count_kv': 1,
      'attention.q_lora_rank': 0,
      'attention.kv_lora_rank': 256,
      'attention.key_length': 256 + 64,
      'attention.value_length': 256,
      'attention.key_length_mla': 128 + 64,
      'attention.value_length_mla': 96,
      'rope.dimension_count': 64,
      leading_dense_block_count: 1,
      expert_shared_count: 2,
      expert_feed_forward_length: 256,
      expert_gating_func: 1
    })
  })

  test('qwen2 / qwen2moe: q/k/v biases, n_embd-wide attention, a gated shared expert', () => {
    expect(layer(syntheticLayout(SPECS.qwen2), 0)).toEqual({
      'attn_norm.weight': [256],
      'attn_q.weight': [256, 256],
      'attn_q.bias': [256],
      'attn_k.weight': [256, 128],
      'attn_k.bias': [128],
      'attn_v.weight': [256, 128],
      'attn_v.bias': [128],
      'attn_output.weight': [256, 256],
      'ffn_norm.weight': [256],
      'ffn_gate.weight': [256, 768],
      'ffn_down.weight': [768, 256],
      'ffn_up.weight': [256, 768]
    })
    const l = syntheticLayout(SPECS.qwen2moe)
    expect(layer(l, 1)).toMatchObject({
      'ffn_gate_inp.weight': [256, 4],
      'ffn_gate_exps.weight': [256, 256, 4],
      'ffn_gate_inp_shexp.weight': [256],
      'ffn_gate_shexp.weight': [256, 512],
      'ffn_down_shexp.weight': [512, 256],
      'ffn_up_shexp.weight': [256, 512]
    })
    expect(Object.keys(layer(l, 1))).not.toContain('ffn_gate.weight')
    expect(meta(l, 'qwen2moe.expert_shared_feed_forward_length')).toBe(512)
    expect(l.tensors.map((t) => t.name)).toContain('output.weight')
  })

  test('mamba2: no attention keys or tensors, the five ssm keys, the Mamba-2 mixer shapes', () => {
    const l = syntheticLayout(SPECS.mamba2)
    // d_inner 512 (2 × 256), 8 heads of 64, state 64, one group: conv dim 512 + 2·64 = 640.
    expect(layer(l, 0)).toEqual({
      'attn_norm.weight': [256],
      'ssm_in.weight': [256, 512 + 640 + 8],
      'ssm_conv1d.weight': [4, 640],
      'ssm_conv1d.bias': [640],
      'ssm_dt.bias': [8],
      ssm_a: [1, 8],
      ssm_d: [1, 8],
      'ssm_norm.weight': [512, 1],
      'ssm_out.weight': [512, 256]
    })
    expect(meta(l, 'mamba2.attention.head_count')).toBe(0)
    expect(meta(l, 'mamba2.feed_forward_length')).toBe(0)
    expect(meta(l, 'mamba2.attention.head_count_kv')).toBeUndefined()
    expect(['conv_kernel', 'inner_size', 'state_size', 'time_step_rank', 'group_count'].map((k) => meta(l, `mamba2.ssm.${k}`))).toEqual([4, 512, 64, 8, 1])
    expect(l.tensors.find((t) => t.name === 'blk.0.ssm_a')?.fill).toBe('minus-ones-f32')
    expect(l.tensors.map((t) => t.name)).not.toContain('output.weight')
  })

  test('granitehybrid: head_count_kv per layer with 0 for the Mamba-2 layers, attention tensors only on attention layers', () => {
    const l = syntheticLayout(SPECS.granitehybrid)
    expect(meta(l, 'granitehybrid.attention.head_count_kv')).toEqual([0, 2, 0, 2])
    expect(meta(l, 'granitehybrid.rope.scaling.finetuned')).toBe(false)
    expect(Object.keys(layer(l, 0))).toEqual(expect.arrayContaining(['ssm_in.weight', 'ssm_conv1d.bias', 'ffn_gate.weight']))
    expect(Object.keys(layer(l, 0))).not.toContain('attn_q.weight')
    expect(layer(l, 1)).toEqual({
      'attn_norm.weight': [256],
      'attn_q.weight': [256, 256],
      'attn_k.weight': [256, 128],
      'attn_v.weight': [256, 128],
      'attn_output.weight': [256, 256],
      'ffn_norm.weight': [256],
      'ffn_gate.weight': [256, 512],
      'ffn_down.weight': [512, 256],
      'ffn_up.weight': [256, 512]
    })
  })

  test('qwen3: llama plus q/k norms of head_dim, key_length from head_dim, no rope.dimension_count, output unless tied', () => {
    const l = syntheticLayout(SPECS.qwen3)
    expect(layer(l, 0)).toEqual({
      'attn_norm.weight': [256],
      'attn_q.weight': [256, 512],
      'attn_k.weight': [256, 256],
      'attn_v.weight': [256, 256],
      'attn_output.weight': [512, 256],
      'attn_q_norm.weight': [128],
      'attn_k_norm.weight': [128],
      'ffn_norm.weight': [256],
      'ffn_gate.weight': [256, 768],
      'ffn_down.weight': [768, 256],
      'ffn_up.weight': [256, 768]
    })
    expect(meta(l, 'qwen3.attention.key_length')).toBe(128)
    expect(meta(l, 'qwen3.attention.value_length')).toBe(128)
    expect(meta(l, 'qwen3.rope.dimension_count')).toBeUndefined()
    expect(l.tensors.map((t) => t.name)).toContain('output.weight')
    expect(syntheticLayout({ ...SPECS.qwen3, tiedEmbeddings: true }).tensors.map((t) => t.name)).not.toContain('output.weight')
    expect(typeOf(l, 'blk.0.attn_q_norm.weight')).toBe(GGML_TYPE.F32)
  })

  test('exaone4: post norms in place of pre-norms, q/k norms, rope_freqs, a sliding window only at 64 layers (LLLG)', () => {
    const l = syntheticLayout(SPECS.exaone4)
    expect(layer(l, 1)).toEqual({
      'attn_q.weight': [256, 256],
      'attn_k.weight': [256, 128],
      'attn_v.weight': [256, 128],
      'attn_output.weight': [256, 256],
      'post_attention_norm.weight': [256],
      'attn_q_norm.weight': [64],
      'attn_k_norm.weight': [64],
      'ffn_gate.weight': [256, 512],
      'ffn_down.weight': [512, 256],
      'ffn_up.weight': [256, 512],
      'post_ffw_norm.weight': [256]
    })
    expect(l.tensors.find((t) => t.name === 'rope_freqs.weight')).toMatchObject({ dims: [32], type: GGML_TYPE.F32, fill: 'ones-f32' })
    expect(l.tensors.map((t) => t.name)).toContain('output.weight')
    expect(meta(l, 'exaone4.attention.key_length')).toBe(64)
    expect(meta(l, 'exaone4.vocab_size')).toBe(1024)
    expect(l.metadata.filter((kv) => kv.key.includes('sliding'))).toEqual([])
    const swa = syntheticLayout({ ...SPECS.exaone4, layers: 64, slidingWindow: 4096 })
    expect(meta(swa, 'exaone4.attention.sliding_window')).toBe(4096)
    const pattern = swa.metadata.find((kv) => kv.key === 'exaone4.attention.sliding_window_pattern')
    expect(pattern).toMatchObject({ type: GgufValueType.ARRAY, itemType: GgufValueType.BOOL })
    expect((pattern?.value as boolean[]).slice(0, 8)).toEqual([true, true, true, false, true, true, true, false])
    expect((pattern?.value as boolean[]).filter((v) => !v)).toHaveLength(16)
  })

  test('nomic-bert: an encoder with fused attn_qkv, SwiGLU, LayerNorms with biases, token types, mean pooling, no output head', () => {
    const l = syntheticLayout(SPECS['nomic-bert'])
    expect(layer(l, 0)).toEqual({
      'attn_qkv.weight': [256, 768],
      'attn_output.weight': [256, 256],
      'attn_output_norm.weight': [256],
      'attn_output_norm.bias': [256],
      'ffn_up.weight': [256, 512],
      'ffn_gate.weight': [256, 512],
      'ffn_down.weight': [512, 256],
      'layer_output_norm.weight': [256],
      'layer_output_norm.bias': [256]
    })
    const top = l.tensors.filter((t) => !t.name.startsWith('blk.')).map((t) => [t.name, t.dims, t.type])
    expect(top).toEqual([
      ['token_embd.weight', [256, 1024], GGML_TYPE.F16],
      ['token_types.weight', [256, 2], GGML_TYPE.F32],
      ['token_embd_norm.weight', [256], GGML_TYPE.F32],
      ['token_embd_norm.bias', [256], GGML_TYPE.F32]
    ])
    expect(meta(l, 'nomic-bert.attention.causal')).toBe(false)
    expect(meta(l, 'nomic-bert.pooling_type')).toBe(1)
    expect(meta(l, 'nomic-bert.attention.layer_norm_epsilon')).toBeCloseTo(1e-12)
    expect(meta(l, 'nomic-bert.rope.freq_base')).toBe(1000)
    expect(meta(l, 'nomic-bert.attention.head_count_kv')).toBeUndefined()
    expect(meta(l, 'tokenizer.ggml.token_type_count')).toBe(2)
  })

  test('bert (XLM-RoBERTa reranker): position and token-type tables in F32, biases everywhere, GELU FFN, the cls head, RANK pooling', () => {
    const l = syntheticLayout(SPECS.bert)
    expect(layer(l, 1)).toEqual({
      'attn_q.weight': [256, 256],
      'attn_q.bias': [256],
      'attn_k.weight': [256, 256],
      'attn_k.bias': [256],
      'attn_v.weight': [256, 256],
      'attn_v.bias': [256],
      'attn_output.weight': [256, 256],
      'attn_output.bias': [256],
      'attn_output_norm.weight': [256],
      'attn_output_norm.bias': [256],
      'ffn_up.weight': [256, 1024],
      'ffn_up.bias': [1024],
      'ffn_down.weight': [1024, 256],
      'ffn_down.bias': [256],
      'layer_output_norm.weight': [256],
      'layer_output_norm.bias': [256]
    })
    const top = l.tensors.filter((t) => !t.name.startsWith('blk.')).map((t) => [t.name, t.dims, t.type])
    expect(top).toEqual([
      ['token_embd.weight', [256, 1024], GGML_TYPE.F16],
      ['position_embd.weight', [256, 8192], GGML_TYPE.F32],
      ['token_types.weight', [256, 1], GGML_TYPE.F32],
      ['token_embd_norm.weight', [256], GGML_TYPE.F32],
      ['token_embd_norm.bias', [256], GGML_TYPE.F32],
      ['cls.weight', [256, 256], GGML_TYPE.F16],
      ['cls.bias', [256], GGML_TYPE.F32],
      ['cls.output.weight', [256, 1], GGML_TYPE.F16],
      ['cls.output.bias', [1], GGML_TYPE.F32]
    ])
    expect(meta(l, 'bert.attention.causal')).toBe(false)
    expect(meta(l, 'bert.pooling_type')).toBe(4)
    expect(meta(l, 'bert.classifier.output_labels')).toEqual(['LABEL_0'])
    expect(meta(l, 'bert.attention.layer_norm_epsilon')).toBeCloseTo(1e-5)
    expect(meta(l, 'tokenizer.ggml.token_type_count')).toBe(1)
  })

  test('the encoders profile as an embedding model and a reranker without a KV cache; qwen3 / exaone4 as causal LMs', async () => {
    const profile = async (spec: SyntheticModelSpec) => {
      const l = syntheticLayout(spec)
      const enc = encodeGgufHeader(l.metadata, l.tensors, l.alignment)
      // The header alone, sized as the whole file (the reader checks tensor data against the size, reads none).
      const fileBytes = enc.bytes.length + enc.dataBytes
      const h = await readGgufHeader({ ...bufferSource('m.gguf', enc.bytes), size: () => Promise.resolve(fileBytes) })
      return buildProfile([h], fileBytes)
    }
    const nomic = await profile(SPECS['nomic-bert'])
    const rerank = await profile(SPECS.bert)
    expect([nomic.model_class, rerank.model_class]).toEqual(['embedding', 'reranker'])
    for (const p of [nomic, rerank]) {
      expect(p.layer_plan.layer_kinds).toBe('--')
      expect(p.kv_bytes_per_token_f16).toBe(0)
    }
    const q3 = await profile(SPECS.qwen3)
    expect([q3.model_class, q3.layer_plan.layer_kinds, q3.kv_bytes_per_token_f16]).toEqual(['causal-lm', 'FF', 2 * 2 * 2 * 128 * 2])
    const ex = await profile({ ...SPECS.exaone4, layers: 64, slidingWindow: 128 })
    expect(ex.layer_plan.layer_kinds).toBe('SSSF'.repeat(16))
    expect(ex.layer_plan.sliding_window).toBe(128)
  })

  test('llama and qwen3moe headers are byte-identical to the first writer (cached corpora stay valid)', () => {
    const sha = (spec: SyntheticModelSpec): string => {
      const l = syntheticLayout(spec)
      return createHash('sha256').update(encodeGgufHeader(l.metadata, l.tensors, l.alignment).bytes).digest('hex').slice(0, 16)
    }
    const llama: SyntheticModelSpec = { architecture: 'llama', layers: 2, embeddingLength: 256, feedForwardLength: 512, heads: 4, kvHeads: 2, vocabSize: 1024, contextLength: 2048, seed: 11 }
    const moe: SyntheticModelSpec = { ...llama, architecture: 'qwen3moe', headDim: 64, expertCount: 4, expertUsedCount: 2, expertFeedForwardLength: 256, tiedEmbeddings: true }
    expect([sha(llama), sha(moe)]).toEqual(['d8ab457e93d4c643', '0ad6aab00b7fc8c7'])
  })
})

describe('synthetic spec errors name the field', () => {
  test('fields of another family, missing family fields and impossible relations', () => {
    const { gemma3, qwen2, deepseek2, mamba2, granitehybrid } = SPECS
    const gptOss = SPECS['gpt-oss']
    expect(fieldOf({ ...qwen2, slidingWindow: 64 })).toBe('slidingWindow')
    expect(fieldOf({ ...qwen2, headDim: 32 })).toBe('headDim')
    expect(fieldOf({ ...gemma3, kvLoraRank: 64 })).toBe('kvLoraRank')
    expect(fieldOf({ ...gptOss, slidingWindow: undefined })).toBe('slidingWindow')
    expect(fieldOf({ ...gptOss, tiedEmbeddings: true })).toBe('tiedEmbeddings')
    expect(fieldOf({ ...SPECS.qwen2moe, expertCount: undefined, expertUsedCount: undefined })).toBe('expertCount')
    expect(fieldOf({ ...deepseek2, kvLoraRank: undefined })).toBe('kvLoraRank')
    expect(fieldOf({ ...deepseek2, kvHeads: 2, heads: 4 })).toBe('kvHeads')
    expect(fieldOf({ ...deepseek2, ropeDims: 63 })).toBe('ropeDims')
    expect(fieldOf({ ...deepseek2, leadingDenseLayers: 4 })).toBe('leadingDenseLayers')
    expect(fieldOf({ ...mamba2, heads: 4, kvHeads: 4 })).toBe('heads')
    expect(fieldOf({ ...mamba2, ssmTimeStepRank: 7 })).toBe('ssmTimeStepRank')
    expect(fieldOf({ ...mamba2, ssmGroupCount: 3 })).toBe('ssmGroupCount')
    expect(fieldOf({ ...mamba2, ssmConvKernel: 1 })).toBe('ssmConvKernel')
    expect(fieldOf({ ...granitehybrid, attentionLayers: undefined })).toBe('attentionLayers')
    expect(fieldOf({ ...granitehybrid, attentionLayers: [1, 4] })).toBe('attentionLayers')
    expect(fieldOf({ ...granitehybrid, attentionLayers: [0, 1, 2, 3] })).toBe('attentionLayers')
    expect(fieldOf({ ...granitehybrid, ssmInnerSize: 768 })).toBe('ssmInnerSize')
    expect(fieldOf({ ...granitehybrid, heads: 0 })).toBe('heads')
    expect(fieldOf({ ...qwen2, architecture: 'falcon' as SyntheticArchitecture })).toBe('architecture')
    const { qwen3, exaone4, bert } = SPECS
    const nomic = SPECS['nomic-bert']
    expect(fieldOf({ ...qwen3, slidingWindow: 64 })).toBe('slidingWindow')
    // llama.cpp builds exaone4's sliding layers only at 64 layers; attn_output is n_embd × n_embd.
    expect(fieldOf({ ...exaone4, slidingWindow: 4096 })).toBe('slidingWindow')
    expect(fieldOf({ ...exaone4, headDim: 128 })).toBe('headDim')
    expect(fieldOf({ ...nomic, kvHeads: 2 })).toBe('kvHeads')
    expect(fieldOf({ ...nomic, headDim: 64 })).toBe('headDim')
    expect(fieldOf({ ...bert, tiedEmbeddings: true })).toBe('tiedEmbeddings')
    expect(fieldOf({ ...bert, heads: 3, kvHeads: 3 })).toBe('headDim')
  })
})

describe('the writer fills F32 tensors as the layout says', () => {
  test('biases random and small, norms ones, Mamba-2 A minus ones', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mfg-synth-arch-'))
    try {
      const path = join(dir, 'm.gguf')
      await writeSyntheticGguf({ ...SPECS.granitehybrid, embeddingLength: 64, feedForwardLength: 128, vocabSize: 300, ssmStateSize: 16 }, path)
      const bytes = new Uint8Array(await readFile(path))
      const h = await readGgufHeader(bufferSource('m.gguf', bytes))
      const values = (name: string): Float32Array => {
        const t = h.tensors.find((x) => x.name === name)!
        const n = t.dims.reduce((a, b) => a * b, 1)
        return new Float32Array(bytes.slice(h.dataOffset + t.offset, h.dataOffset + t.offset + 4 * n).buffer)
      }
      expect([...values('blk.0.ssm_a')].every((v) => v === -1)).toBe(true)
      expect([...values('blk.0.ssm_norm.weight')].every((v) => v === 1)).toBe(true)
      const bias = [...values('blk.0.ssm_conv1d.bias')]
      expect(bias.every((v) => Math.abs(v) < 0.125)).toBe(true)
      expect(new Set(bias).size).toBeGreaterThan(bias.length / 2)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('corpora/architectures.yml', () => {
  const text = readFileSync('corpora/architectures.yml', 'utf8')

  test('has one F16 model of each new family, each a valid writer spec with a context of at least 16k', () => {
    const spec = parseSynthSpec(text, 'corpora/architectures.yml')
    const archs = spec.models.filter((m) => m.types.includes('F16')).map((m) => m.architecture)
    expect(new Set(archs)).toEqual(new Set(['gemma3', 'gpt-oss', 'deepseek2', 'qwen2moe', 'mamba2', 'granitehybrid', 'qwen2']))
    for (const m of spec.models) {
      expect(m.context_length).toBeGreaterThanOrEqual(16384)
      expect(m.vocab_size).toBeGreaterThanOrEqual(1024)
      expect(() => syntheticLayout(writerSpec(m))).not.toThrow()
    }
  })

  test('an entry the writer refuses is named by its YAML key and line, in snake_case', () => {
    const ds = text.split('\n')
    const at = ds.findIndex((l) => l.includes('kv_lora_rank: 256'))
    const dropped = [...ds.slice(0, at), ...ds.slice(at + 1)].join('\n')
    // The entry's line (the key is missing): "- name: deepseek2-…".
    const entryLine = ds.findIndex((l) => l.includes('name: deepseek2')) + 1
    expect(() => parseSynthSpec(dropped, 'a.yml')).toThrow(new RegExp(`^a.yml: models.2.kv_lora_rank \\(line ${entryLine}\\): deepseek2 needs it$`))
    const swaOnQwen2 = text.replace('  - name: qwen2-w512-l4\n    architecture: qwen2\n', '  - name: qwen2-w512-l4\n    architecture: qwen2\n    sliding_window: 64\n')
    const swaLine = swaOnQwen2.split('\n').findIndex((l) => l.includes('sliding_window: 64')) + 1
    expect(() => parseSynthSpec(swaOnQwen2, 'a.yml')).toThrow(new RegExp(`models.6.sliding_window \\(line ${swaLine}\\): qwen2 does not use it \\(only head_dim, tied_embeddings\\)`))
    const badInner = text.replace('attention_layers: [2, 5]\n    ssm_conv_kernel: 4\n    ssm_inner_size: 1024', 'attention_layers: [2, 5]\n    ssm_conv_kernel: 4\n    ssm_inner_size: 2048')
    expect(() => parseSynthSpec(badInner, 'a.yml')).toThrow(/models.5.ssm_inner_size \(line \d+\): granitehybrid supports only 2 × embedding_length \(1024\), got 2048/)
    expect(() => parseSynthSpec(text.replace('architecture: mamba2', 'architecture: mamba3'), 'a.yml')).toThrow(/models.4.architecture \(line \d+\): must be equal to one of the allowed values/)
  })
})
