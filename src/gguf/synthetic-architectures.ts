// One layout function per architecture family: the `{arch}.*` keys and the tensors (names, shapes, types) the pinned
// llama.cpp loader requires, as its load_arch_hparams / load_arch_tensors (src/models/<arch>.cpp) read them and as
// the real converter (conversion/<family>.py) writes them for real models of the family. Optional tensors appear only
// where the converter writes them for real models. Types follow the converter's choice for F16 output
// (ModelBase.prepare_tensors in conversion/base.py): 1-D tensors, norms, biases, routers (ffn_gate_inp*),
// ssm_conv1d and BERT's position_embd / token_types stay F32, the rest is F16. Exception: llama and qwen3moe keep
// their F16 router as the writer always wrote it, so cached corpora stay byte-identical. The caller
// (synthetic-layout.ts) has checked the spec.

import { GGML_TYPE } from './ggml-types.js'
import { GgufValueType, type GgufKv } from './format.js'
import { ssmGeometry, type SyntheticArchitecture, type SyntheticModelSpec, type SyntheticTensor, type TensorFill } from './synthetic-spec.js'

const RMS_EPS = 1e-6
/** Mamba2Model / GraniteHybridModel default layer_norm_epsilon (conversion/mamba.py). */
const SSM_RMS_EPS = 1e-5
const ROPE_FREQ_BASE = 1_000_000
/** Gemma 3's rope_local_base_freq: its sliding-window layers rotate at 10k (written as rope.freq_base_swa). */
const GEMMA3_ROPE_FREQ_BASE_SWA = 10_000
/** gpt-oss's rope_theta. */
const GPT_OSS_ROPE_FREQ_BASE = 150_000
/** DeepSeek-V2's rope_theta. */
const DEEPSEEK2_ROPE_FREQ_BASE = 10_000
/** LLAMA_EXPERT_GATING_FUNC_TYPE_SOFTMAX (src/llama-hparams.h): DeepSeek-V2's scoring_func "softmax". */
const GATING_SOFTMAX = 1
/** Qwen3's rope_theta. */
const QWEN3_ROPE_FREQ_BASE = 1_000_000
/** EXAONE 4.0's rope_theta and rms_norm_eps. */
const EXAONE4_ROPE_FREQ_BASE = 1_000_000
const EXAONE4_RMS_EPS = 1e-5
/** llama_model_exaone4::load_arch_hparams turns sliding layers on only for this layer count (its 32B). */
export const EXAONE4_SWA_LAYERS = 64
/** EXAONE 4.0-32B's layer_types: 3 sliding layers, then a global one (LLLG). */
const EXAONE4_SWA_PERIOD = 4
/** nomic-embed-text-v1.5's rotary_emb_base and layer_norm_epsilon. */
const NOMIC_ROPE_FREQ_BASE = 1000
const NOMIC_NORM_EPS = 1e-12
/** XLM-RoBERTa's layer_norm_eps (bge-m3, bge-reranker-v2-m3). */
const XLMR_NORM_EPS = 1e-5
/** llama_pooling_type (include/llama.h): MEAN, as nomic's 1_Pooling config; RANK, the reranker's pooling. */
const POOLING_MEAN = 1
const POOLING_RANK = 4
/** type_vocab_size: 2 for nomic-bert (BERT's segment A/B), 1 for XLM-RoBERTa. */
const NOMIC_TOKEN_TYPES = 2
const XLMR_TOKEN_TYPES = 1
/** bge-reranker-v2-m3's id2label: one relevance logit (BertModel writes classifier.output_labels, n_cls_out 1). */
const RERANKER_LABELS = ['LABEL_0']
/** Granite 4.0-H's multipliers (GraniteModel.set_gguf_parameters writes them as the *_scale keys). */
const GRANITE_EMBEDDING_SCALE = 12
const GRANITE_RESIDUAL_SCALE = 0.22
const GRANITE_LOGIT_SCALE = 8

/**
 * Collects one model's metadata and tensors; keys given without the `{arch}.` prefix get it. `tokenizerMetadata`
 * holds family-specific `tokenizer.ggml.*` keys, written after the common tokenizer keys (synthetic-layout.ts).
 */
export class LayoutBuilder {
  readonly metadata: GgufKv[] = []
  readonly tensors: SyntheticTensor[] = []
  readonly tokenizerMetadata: GgufKv[] = []
  constructor(readonly arch: SyntheticArchitecture) {}

  u32(key: string, value: number): void {
    this.metadata.push({ key: `${this.arch}.${key}`, type: GgufValueType.UINT32, value })
  }
  f32(key: string, value: number): void {
    this.metadata.push({ key: `${this.arch}.${key}`, type: GgufValueType.FLOAT32, value })
  }
  bool(key: string, value: boolean): void {
    this.metadata.push({ key: `${this.arch}.${key}`, type: GgufValueType.BOOL, value })
  }
  /** A per-layer array, INT32 as gguf-py writes a Python int list (GGUFValueType.get_type). */
  i32s(key: string, values: number[]): void {
    this.metadata.push({ key: `${this.arch}.${key}`, type: GgufValueType.ARRAY, itemType: GgufValueType.INT32, value: values })
  }
  /** A per-layer array of BOOL, as gguf-py writes a Python bool list. */
  bools(key: string, values: boolean[]): void {
    this.metadata.push({ key: `${this.arch}.${key}`, type: GgufValueType.ARRAY, itemType: GgufValueType.BOOL, value: values })
  }
  strs(key: string, values: string[]): void {
    this.metadata.push({ key: `${this.arch}.${key}`, type: GgufValueType.ARRAY, itemType: GgufValueType.STRING, value: values })
  }
  /** `tokenizer.ggml.token_type_count` (type_vocab_size): BERT-family loaders throw without it. */
  tokenTypeCount(n: number): void {
    this.tokenizerMetadata.push({ key: 'tokenizer.ggml.token_type_count', type: GgufValueType.UINT32, value: n })
  }
  /** A weight matrix: random F16. */
  weight(name: string, dims: number[]): void {
    this.tensors.push({ name, dims, type: GGML_TYPE.F16, fill: 'random-f16' })
  }
  /** A bias, router, sink or conv kernel: random F32. */
  f32Tensor(name: string, dims: number[]): void {
    this.tensors.push({ name, dims, type: GGML_TYPE.F32, fill: 'random-f32' })
  }
  /** A norm weight (ones) or another constant F32 tensor. */
  constant(name: string, dims: number[], fill: TensorFill = 'ones-f32'): void {
    this.tensors.push({ name, dims, type: GGML_TYPE.F32, fill })
  }
}

type Spec = SyntheticModelSpec
const blk = (i: number): string => `blk.${i}.`
const headDimOf = (s: Spec): number => s.headDim ?? s.embeddingLength / s.heads

/** Query and KV head counts and one head width for keys and values (llama_model_base::load_hparams reads them). */
function headKeys(out: LayoutBuilder, s: Spec, headDim: number): void {
  out.u32('attention.head_count', s.heads)
  out.u32('attention.head_count_kv', s.kvHeads)
  out.u32('attention.key_length', headDim)
  out.u32('attention.value_length', headDim)
}

/** llama_model_base::load_hparams: context_length, embedding_length, block_count (required), feed_forward_length. */
function baseKeys(out: LayoutBuilder, s: Spec): void {
  out.u32('context_length', s.contextLength)
  out.u32('embedding_length', s.embeddingLength)
  out.u32('block_count', s.layers)
  out.u32('feed_forward_length', s.feedForwardLength)
}

/** token_embd, output_norm and, unless tied, output (every family's load_arch_tensors starts so). */
function embeddings(out: LayoutBuilder, s: Spec, tied: boolean): void {
  out.weight('token_embd.weight', [s.embeddingLength, s.vocabSize])
  out.constant('output_norm.weight', [s.embeddingLength])
  if (!tied) out.weight('output.weight', [s.embeddingLength, s.vocabSize])
}

/** create_tensor_qkv (src/llama-model.cpp) in its separate-Q/K/V form, with the optional q/k/v biases when `bias`. */
function qkv(out: LayoutBuilder, p: string, E: number, q: number, kv: number, bias: boolean): void {
  out.weight(`${p}attn_q.weight`, [E, q])
  if (bias) out.f32Tensor(`${p}attn_q.bias`, [q])
  out.weight(`${p}attn_k.weight`, [E, kv])
  if (bias) out.f32Tensor(`${p}attn_k.bias`, [kv])
  out.weight(`${p}attn_v.weight`, [E, kv])
  if (bias) out.f32Tensor(`${p}attn_v.bias`, [kv])
}

function denseFfn(out: LayoutBuilder, p: string, E: number, ff: number): void {
  out.weight(`${p}ffn_gate.weight`, [E, ff])
  out.weight(`${p}ffn_down.weight`, [ff, E])
  out.weight(`${p}ffn_up.weight`, [E, ff])
}

/** Routed experts as 3-D tensors (merged per layer by every MoE converter), router [E, experts]. */
function expertFfn(out: LayoutBuilder, p: string, E: number, ff: number, experts: number, router: 'f16' | 'f32'): void {
  if (router === 'f16') out.weight(`${p}ffn_gate_inp.weight`, [E, experts])
  else out.f32Tensor(`${p}ffn_gate_inp.weight`, [E, experts])
  out.weight(`${p}ffn_gate_exps.weight`, [E, ff, experts])
  out.weight(`${p}ffn_down_exps.weight`, [ff, E, experts])
  out.weight(`${p}ffn_up_exps.weight`, [E, ff, experts])
}

function sharedFfn(out: LayoutBuilder, p: string, E: number, ff: number): void {
  out.weight(`${p}ffn_gate_shexp.weight`, [E, ff])
  out.weight(`${p}ffn_down_shexp.weight`, [ff, E])
  out.weight(`${p}ffn_up_shexp.weight`, [E, ff])
}

/**
 * The Mamba-2 mixer: src/models/mamba2.cpp and granite-hybrid.cpp load_arch_tensors. ssm_in projects to
 * z, x, B, C, dt (2·d_inner + 2·groups·d_state + heads); A (= -exp(A_log), Mamba2Model.modify_tensors) and D are
 * [1, heads]; the group norm is [d_inner / groups, groups].
 */
function mamba2Mixer(out: LayoutBuilder, p: string, s: Spec): void {
  const g = ssmGeometry(s)
  const convDim = g.innerSize + 2 * g.groupCount * g.stateSize
  out.weight(`${p}ssm_in.weight`, [s.embeddingLength, g.innerSize + convDim + g.timeStepRank])
  out.f32Tensor(`${p}ssm_conv1d.weight`, [g.convKernel, convDim])
  out.f32Tensor(`${p}ssm_conv1d.bias`, [convDim])
  out.f32Tensor(`${p}ssm_dt.bias`, [g.timeStepRank])
  out.constant(`${p}ssm_a`, [1, g.timeStepRank], 'minus-ones-f32')
  out.constant(`${p}ssm_d`, [1, g.timeStepRank])
  out.constant(`${p}ssm_norm.weight`, [g.innerSize / g.groupCount, g.groupCount])
  out.weight(`${p}ssm_out.weight`, [g.innerSize, s.embeddingLength])
}

/** ssm.* keys: mamba2.cpp / granite-hybrid.cpp load_arch_hparams read all five as required. */
function ssmKeys(out: LayoutBuilder, s: Spec): void {
  const g = ssmGeometry(s)
  out.u32('ssm.conv_kernel', g.convKernel)
  out.u32('ssm.inner_size', g.innerSize)
  out.u32('ssm.state_size', g.stateSize)
  out.u32('ssm.time_step_rank', g.timeStepRank)
  out.u32('ssm.group_count', g.groupCount)
}

/**
 * llama (src/models/llama.cpp; Mixtral-style experts sized by feed_forward_length) and qwen3moe
 * (src/models/qwen3moe.cpp: q/k norms, expert_feed_forward_length). Key and tensor order kept as the writer's first
 * version, so their files stay byte-identical.
 *
 * Also qwen3, dense (src/models/qwen3.cpp): llama's layout plus per-layer q/k norms [head_dim] (as qwen3moe); attn_q is
 * heads × head_dim wide, which Qwen3's head_dim (128 in every size) makes wider than n_embd in the small ones.
 * key_length / value_length from head_dim (TextModel.set_gguf_parameters); Qwen3Model writes no
 * rope.dimension_count (the graph asserts n_rot == head_dim, the default). output.weight is optional: Qwen3-0.6B to
 * 4B tie it, 8B and up do not; untied by default.
 */
function llamaLike(s: Spec, out: LayoutBuilder): void {
  const moe3 = s.architecture === 'qwen3moe'
  const qwen3 = s.architecture === 'qwen3'
  const qkNorm = moe3 || qwen3
  const E = s.embeddingLength
  const D = headDimOf(s)
  const experts = s.expertCount ?? 0
  const expertFf = moe3 ? (s.expertFeedForwardLength ?? s.feedForwardLength) : s.feedForwardLength
  baseKeys(out, s)
  headKeys(out, s, D)
  if (!qwen3) out.u32('rope.dimension_count', D)
  out.f32('rope.freq_base', qwen3 ? QWEN3_ROPE_FREQ_BASE : ROPE_FREQ_BASE)
  out.f32('attention.layer_norm_rms_epsilon', RMS_EPS)
  out.u32('vocab_size', s.vocabSize)
  if (experts > 0) {
    out.u32('expert_count', experts)
    out.u32('expert_used_count', s.expertUsedCount ?? 0)
    if (moe3) out.u32('expert_feed_forward_length', expertFf)
  }
  embeddings(out, s, s.tiedEmbeddings ?? false)
  for (let i = 0; i < s.layers; i++) {
    const p = blk(i)
    out.constant(`${p}attn_norm.weight`, [E])
    qkv(out, p, E, s.heads * D, s.kvHeads * D, false)
    out.weight(`${p}attn_output.weight`, [s.heads * D, E])
    if (qkNorm) {
      out.constant(`${p}attn_q_norm.weight`, [D])
      out.constant(`${p}attn_k_norm.weight`, [D])
    }
    out.constant(`${p}ffn_norm.weight`, [E])
    if (experts > 0) expertFfn(out, p, E, expertFf, experts, 'f16')
    else denseFfn(out, p, E, s.feedForwardLength)
  }
}

/**
 * qwen2 (src/models/qwen2.cpp) and qwen2moe (src/models/qwen2moe.cpp): q/k/v biases (Qwen2's attention has them,
 * the output projection not); attn_q and attn_output are n_embd wide. qwen2moe adds routed experts
 * (expert_feed_forward_length) and one gated shared expert (expert_shared_feed_forward_length, ffn_gate_inp_shexp
 * [n_embd]); Qwen2MoeModel.set_gguf_parameters writes both widths. qwen2moe requires output.weight.
 */
function qwen2(s: Spec, out: LayoutBuilder): void {
  const moe = s.architecture === 'qwen2moe'
  const E = s.embeddingLength
  const KV = s.kvHeads * headDimOf(s)
  const experts = s.expertCount ?? 0
  const expertFf = s.expertFeedForwardLength ?? s.feedForwardLength
  const sharedFf = s.sharedExpertFeedForwardLength ?? s.feedForwardLength
  baseKeys(out, s)
  out.u32('attention.head_count', s.heads)
  out.u32('attention.head_count_kv', s.kvHeads)
  out.f32('rope.freq_base', ROPE_FREQ_BASE)
  out.f32('attention.layer_norm_rms_epsilon', RMS_EPS)
  out.u32('vocab_size', s.vocabSize)
  if (moe) {
    out.u32('expert_count', experts)
    out.u32('expert_used_count', s.expertUsedCount ?? 0)
    out.u32('expert_feed_forward_length', expertFf)
    out.u32('expert_shared_feed_forward_length', sharedFf)
  }
  embeddings(out, s, moe ? false : (s.tiedEmbeddings ?? false))
  for (let i = 0; i < s.layers; i++) {
    const p = blk(i)
    out.constant(`${p}attn_norm.weight`, [E])
    qkv(out, p, E, E, KV, true)
    out.weight(`${p}attn_output.weight`, [E, E])
    out.constant(`${p}ffn_norm.weight`, [E])
    if (!moe) {
      denseFfn(out, p, E, s.feedForwardLength)
      continue
    }
    expertFfn(out, p, E, expertFf, experts, 'f32')
    out.f32Tensor(`${p}ffn_gate_inp_shexp.weight`, [E])
    sharedFfn(out, p, E, sharedFf)
  }
}

/**
 * gemma3 (src/models/gemma3.cpp): q/k norms, post-attention and post-FFN norms, tied embeddings (Gemma 3 has no
 * lm_head). With a sliding window, load_swa_pattern(ml, 6) makes every 6th layer global (layers 5, 11, …: il % 6 ==
 * 5); no pattern key is written, as Gemma3Model.set_gguf_parameters writes none. key_length / value_length, the SWA
 * rope base and the window come from Gemma3Model.set_gguf_parameters.
 */
function gemma3(s: Spec, out: LayoutBuilder): void {
  const E = s.embeddingLength
  const D = headDimOf(s)
  baseKeys(out, s)
  headKeys(out, s, D)
  out.f32('rope.freq_base', ROPE_FREQ_BASE)
  if (s.slidingWindow !== undefined) {
    out.f32('rope.freq_base_swa', GEMMA3_ROPE_FREQ_BASE_SWA)
    out.u32('attention.sliding_window', s.slidingWindow)
  }
  out.f32('attention.layer_norm_rms_epsilon', RMS_EPS)
  out.u32('vocab_size', s.vocabSize)
  embeddings(out, s, s.tiedEmbeddings ?? true)
  for (let i = 0; i < s.layers; i++) {
    const p = blk(i)
    out.constant(`${p}attn_norm.weight`, [E])
    qkv(out, p, E, s.heads * D, s.kvHeads * D, false)
    out.weight(`${p}attn_output.weight`, [s.heads * D, E])
    out.constant(`${p}post_attention_norm.weight`, [E])
    out.constant(`${p}attn_k_norm.weight`, [D])
    out.constant(`${p}attn_q_norm.weight`, [D])
    out.constant(`${p}ffn_norm.weight`, [E])
    out.weight(`${p}ffn_gate.weight`, [E, s.feedForwardLength])
    out.weight(`${p}ffn_up.weight`, [E, s.feedForwardLength])
    out.weight(`${p}ffn_down.weight`, [s.feedForwardLength, E])
    out.constant(`${p}post_ffw_norm.weight`, [E])
  }
}

/**
 * gpt-oss (LLM_ARCH_OPENAI_MOE, src/models/openai-moe.cpp): sliding_window required, load_swa_pattern(ml, 2) makes
 * even layers SWA and odd layers global; q/k/v/o biases and per-head attention sinks; post_attention_norm is the
 * pre-FFN norm (no ffn_norm); MoE with router bias and per-expert biases; output.weight required. Real experts are
 * MXFP4 (GptOssModel.repack_mxfp4); F16 ones load the same. key_length from head_dim (TextModel.set_gguf_parameters),
 * expert_feed_forward_length and sliding_window from GptOssModel.set_gguf_parameters.
 */
function gptOss(s: Spec, out: LayoutBuilder): void {
  const E = s.embeddingLength
  const D = headDimOf(s)
  const X = s.expertCount ?? 0
  const ff = s.expertFeedForwardLength ?? s.feedForwardLength
  baseKeys(out, s)
  headKeys(out, s, D)
  out.f32('rope.freq_base', GPT_OSS_ROPE_FREQ_BASE)
  out.f32('attention.layer_norm_rms_epsilon', RMS_EPS)
  out.u32('attention.sliding_window', s.slidingWindow ?? 0)
  out.u32('expert_count', X)
  out.u32('expert_used_count', s.expertUsedCount ?? 0)
  out.u32('expert_feed_forward_length', ff)
  out.u32('vocab_size', s.vocabSize)
  embeddings(out, s, false)
  for (let i = 0; i < s.layers; i++) {
    const p = blk(i)
    out.constant(`${p}attn_norm.weight`, [E])
    out.constant(`${p}post_attention_norm.weight`, [E])
    qkv(out, p, E, s.heads * D, s.kvHeads * D, true)
    out.weight(`${p}attn_output.weight`, [s.heads * D, E])
    out.f32Tensor(`${p}attn_output.bias`, [E])
    out.f32Tensor(`${p}attn_sinks.weight`, [s.heads])
    expertFfn(out, p, E, ff, X, 'f32')
    out.f32Tensor(`${p}ffn_gate_inp.bias`, [X])
    out.f32Tensor(`${p}ffn_gate_exps.bias`, [ff, X])
    out.f32Tensor(`${p}ffn_down_exps.bias`, [E, X])
    out.f32Tensor(`${p}ffn_up_exps.bias`, [ff, X])
  }
}

/**
 * deepseek2 with MLA, the "lite" form (src/models/deepseek2.cpp): q is a plain projection (no q_lora), KV is
 * compressed to kv_lora_rank + the shared rotary key, decompressed per head by attn_k_b / attn_v_b (the split of
 * kv_b_proj DeepseekV2Model.modify_tensors writes). Keys as DeepseekV2Model.set_gguf_parameters writes them:
 * head_count_kv 1, key_length kv_lora_rank + rope, value_length kv_lora_rank, key/value_length_mla the decompressed
 * head sizes, rope.dimension_count the rotary part. load_arch_hparams reads q_lora_rank as required unless the model
 * has 26 or 27 layers (its "is_lite" guess for DeepSeek-V2-Lite), so q_lora_rank 0 is written; 0 selects attn_q.
 * Leading layers have a dense FFN, the rest routed + shared experts (softmax gating, as V2's scoring_func).
 */
function deepseek2(s: Spec, out: LayoutBuilder): void {
  const E = s.embeddingLength
  const H = s.heads
  const kvLora = s.kvLoraRank ?? 0
  const rope = s.ropeDims ?? 0
  const nope = s.nopeDims ?? 0
  const vDim = s.headDim ?? nope
  const X = s.expertCount ?? 0
  const ff = s.expertFeedForwardLength ?? s.feedForwardLength
  const shared = s.sharedExpertCount ?? 0
  const dense = s.leadingDenseLayers ?? 0
  baseKeys(out, s)
  out.u32('attention.head_count', H)
  out.u32('attention.head_count_kv', 1)
  out.f32('rope.freq_base', DEEPSEEK2_ROPE_FREQ_BASE)
  out.f32('attention.layer_norm_rms_epsilon', RMS_EPS)
  out.u32('expert_count', X)
  out.u32('expert_used_count', s.expertUsedCount ?? 0)
  out.u32('expert_gating_func', GATING_SOFTMAX)
  out.u32('leading_dense_block_count', dense)
  out.u32('vocab_size', s.vocabSize)
  out.u32('attention.q_lora_rank', 0)
  out.u32('attention.kv_lora_rank', kvLora)
  out.u32('attention.key_length', kvLora + rope)
  out.u32('attention.value_length', kvLora)
  out.u32('attention.key_length_mla', nope + rope)
  out.u32('attention.value_length_mla', vDim)
  out.u32('expert_feed_forward_length', ff)
  out.u32('expert_shared_count', shared)
  out.f32('expert_weights_scale', 1)
  out.u32('rope.dimension_count', rope)
  embeddings(out, s, s.tiedEmbeddings ?? false)
  for (let i = 0; i < s.layers; i++) {
    const p = blk(i)
    out.constant(`${p}attn_norm.weight`, [E])
    out.constant(`${p}attn_kv_a_norm.weight`, [kvLora])
    out.weight(`${p}attn_q.weight`, [E, H * (nope + rope)])
    out.weight(`${p}attn_kv_a_mqa.weight`, [E, kvLora + rope])
    out.weight(`${p}attn_k_b.weight`, [nope, kvLora, H])
    out.weight(`${p}attn_v_b.weight`, [kvLora, vDim, H])
    out.weight(`${p}attn_output.weight`, [H * vDim, E])
    out.constant(`${p}ffn_norm.weight`, [E])
    if (i < dense) {
      denseFfn(out, p, E, s.feedForwardLength)
      continue
    }
    expertFfn(out, p, E, ff, X, 'f32')
    sharedFfn(out, p, E, ff * shared)
  }
}

/**
 * mamba2 (src/models/mamba2.cpp): no attention, no FFN. Mamba2Model.set_gguf_parameters writes head_count 0 and
 * feed_forward_length 0 ("unused, but seemingly required when loading") and the five ssm.* keys. Tied embeddings
 * by default, as the Mamba-2 checkpoints have.
 */
function mamba2(s: Spec, out: LayoutBuilder): void {
  baseKeys(out, s)
  out.u32('attention.head_count', 0)
  ssmKeys(out, s)
  out.f32('attention.layer_norm_rms_epsilon', SSM_RMS_EPS)
  out.u32('vocab_size', s.vocabSize)
  embeddings(out, s, s.tiedEmbeddings ?? true)
  for (let i = 0; i < s.layers; i++) {
    const p = blk(i)
    out.constant(`${p}attn_norm.weight`, [s.embeddingLength])
    mamba2Mixer(out, p, s)
  }
}

/**
 * granitehybrid (src/models/granite-hybrid.cpp, Granite 4.0-H): Mamba-2 layers plus a few attention layers; a layer
 * is recurrent iff its head_count_kv entry is 0 (load_arch_hparams), so head_count_kv is a per-layer array as
 * GraniteHybridModel.set_gguf_parameters writes it. No RoPE (rope.scaling.finetuned false, has_rope), no attention
 * biases, the Granite scales, a dense SwiGLU FFN in every layer (the shared_mlp of a model without experts), tied
 * embeddings by default.
 */
function graniteHybrid(s: Spec, out: LayoutBuilder): void {
  const E = s.embeddingLength
  const D = headDimOf(s)
  const attn = new Set(s.attentionLayers ?? [])
  baseKeys(out, s)
  out.u32('attention.head_count', s.heads)
  out.i32s('attention.head_count_kv', Array.from({ length: s.layers }, (_, i) => (attn.has(i) ? s.kvHeads : 0)))
  out.f32('attention.layer_norm_rms_epsilon', SSM_RMS_EPS)
  out.u32('vocab_size', s.vocabSize)
  out.f32('attention.scale', 1 / D)
  out.f32('embedding_scale', GRANITE_EMBEDDING_SCALE)
  out.f32('residual_scale', GRANITE_RESIDUAL_SCALE)
  out.f32('logit_scale', GRANITE_LOGIT_SCALE)
  ssmKeys(out, s)
  out.bool('rope.scaling.finetuned', false)
  embeddings(out, s, s.tiedEmbeddings ?? true)
  for (let i = 0; i < s.layers; i++) {
    const p = blk(i)
    out.constant(`${p}attn_norm.weight`, [E])
    if (attn.has(i)) {
      qkv(out, p, E, s.heads * D, s.kvHeads * D, false)
      out.weight(`${p}attn_output.weight`, [s.heads * D, E])
    } else {
      mamba2Mixer(out, p, s)
    }
    out.constant(`${p}ffn_norm.weight`, [E])
    denseFfn(out, p, E, s.feedForwardLength)
  }
}

/**
 * exaone4 (src/models/exaone4.cpp, EXAONE 4.0): no pre-norms; the attention and FFN outputs are normed
 * (post_attention_norm, post_ffw_norm: LLM_TENSOR_ATTN_POST_NORM / FFN_POST_NORM) before the residual add; q/k norms
 * [head_dim]; attn_output is n_embd × n_embd, so heads × head_dim = n_embd. Both EXAONE 4.0 models use llama3 RoPE
 * scaling, for which Exaone4Model.generate_extra_tensors writes one rope_freqs.weight [head_dim / 2] (F32; written
 * as ones, plain RoPE: the loader checks only its shape). Exaone4Model.set_gguf_parameters writes vocab_size and,
 * when the config has a window, sliding_window and a per-layer sliding_window_pattern (from layer_types, LLLG in the
 * 32B). llama.cpp builds sliding layers only for 64-layer models (load_arch_hparams: swa_type, n_swa and
 * load_swa_pattern(ml, 4) only when n_layer == 64), so the spec's window is refused at any other depth
 * (synthetic-layout.ts); the global layers then skip RoPE.
 */
function exaone4(s: Spec, out: LayoutBuilder): void {
  const E = s.embeddingLength
  const D = headDimOf(s)
  baseKeys(out, s)
  headKeys(out, s, D)
  out.f32('rope.freq_base', EXAONE4_ROPE_FREQ_BASE)
  out.f32('attention.layer_norm_rms_epsilon', EXAONE4_RMS_EPS)
  out.u32('vocab_size', s.vocabSize)
  if (s.slidingWindow !== undefined) {
    out.u32('attention.sliding_window', s.slidingWindow)
    out.bools('attention.sliding_window_pattern', Array.from({ length: s.layers }, (_, i) => i % EXAONE4_SWA_PERIOD < EXAONE4_SWA_PERIOD - 1))
  }
  embeddings(out, s, s.tiedEmbeddings ?? false)
  out.constant('rope_freqs.weight', [D / 2])
  for (let i = 0; i < s.layers; i++) {
    const p = blk(i)
    qkv(out, p, E, s.heads * D, s.kvHeads * D, false)
    out.weight(`${p}attn_output.weight`, [E, E])
    out.constant(`${p}post_attention_norm.weight`, [E])
    out.constant(`${p}attn_q_norm.weight`, [D])
    out.constant(`${p}attn_k_norm.weight`, [D])
    denseFfn(out, p, E, s.feedForwardLength)
    out.constant(`${p}post_ffw_norm.weight`, [E])
  }
}

/**
 * The keys both BERT-family encoders share: BertModel.set_gguf_parameters writes attention.causal false (the
 * encoder attends both ways; llama.cpp builds it without a KV cache, create_memory), layer_norm_epsilon (read as
 * required by their load_arch_hparams) and the pooling type; head_count only (no head_count_kv: no GQA, llama.cpp
 * defaults it to head_count). BertModel.set_vocab writes token_type_count (type_vocab_size), which their
 * load_arch_tensors require ("model needs to define token type count").
 */
function encoderKeys(out: LayoutBuilder, s: Spec, normEps: number, pooling: number, tokenTypes: number): void {
  baseKeys(out, s)
  out.u32('attention.head_count', s.heads)
  out.f32('attention.layer_norm_epsilon', normEps)
  out.bool('attention.causal', false)
  out.u32('pooling_type', pooling)
  out.tokenTypeCount(tokenTypes)
}

/** A LayerNorm with bias (BERT's norms): weight ones, bias random F32; the BERT-family loaders require both. */
function layerNorm(out: LayoutBuilder, name: string, E: number): void {
  out.constant(`${name}.weight`, [E])
  out.f32Tensor(`${name}.bias`, [E])
}

/**
 * nomic-bert (src/models/nomic-bert.cpp, nomic-embed-text-v1.5): an encoder with RoPE (rope.freq_base from
 * rotary_emb_base; no position table), post-LayerNorms with biases (attn_output_norm, layer_output_norm),
 * token_types [n_embd, 2], a fused attn_qkv [n_embd, 3·n_embd] (Wqkv; NomicBertModel asserts qkv_proj_bias false)
 * and a SwiGLU FFN without biases (fc11 → ffn_up, fc12 → ffn_gate, fc2 → ffn_down). No output head (an embedding
 * model: no output_norm, no output). Pooling MEAN, as its sentence-transformers 1_Pooling config.
 */
function nomicBert(s: Spec, out: LayoutBuilder): void {
  const E = s.embeddingLength
  encoderKeys(out, s, NOMIC_NORM_EPS, POOLING_MEAN, NOMIC_TOKEN_TYPES)
  out.f32('rope.freq_base', NOMIC_ROPE_FREQ_BASE)
  out.u32('vocab_size', s.vocabSize)
  out.weight('token_embd.weight', [E, s.vocabSize])
  out.f32Tensor('token_types.weight', [E, NOMIC_TOKEN_TYPES])
  layerNorm(out, 'token_embd_norm', E)
  for (let i = 0; i < s.layers; i++) {
    const p = blk(i)
    out.weight(`${p}attn_qkv.weight`, [E, 3 * E])
    out.weight(`${p}attn_output.weight`, [E, E])
    layerNorm(out, `${p}attn_output_norm`, E)
    out.weight(`${p}ffn_up.weight`, [E, s.feedForwardLength])
    out.weight(`${p}ffn_gate.weight`, [E, s.feedForwardLength])
    out.weight(`${p}ffn_down.weight`, [s.feedForwardLength, E])
    layerNorm(out, `${p}layer_output_norm`, E)
  }
}

/**
 * bert as XLM-RoBERTa rerankers ship (src/models/bert.cpp; XLMRobertaModel in conversion/bert.py, bge-reranker-v2-m3):
 * learned position_embd [n_embd, n_ctx_train] (required; XLMRobertaModel drops the pad offset rows so it is
 * context_length long) and token_types [n_embd, 1] (both F32: prepare_tensors keeps POS_EMBD / TOKEN_TYPES in F32),
 * separate q/k/v and attn_output with biases, post-LayerNorms with biases, a GELU FFN with biases and no gate. The
 * classification head of XLMRobertaForSequenceClassification: classifier.dense → cls [n_embd, n_embd] + bias,
 * classifier.out_proj → cls.output [n_embd, n_cls_out] + bias, with n_cls_out from classifier.output_labels
 * (id2label, one label). pooling_type RANK: the pooling llama.cpp's reranking runs (build_pooling: cls → tanh →
 * cls.output); the converter itself writes a pooling type only from a sentence-transformers Pooling module.
 */
function bert(s: Spec, out: LayoutBuilder): void {
  const E = s.embeddingLength
  const ff = s.feedForwardLength
  encoderKeys(out, s, XLMR_NORM_EPS, POOLING_RANK, XLMR_TOKEN_TYPES)
  out.strs('classifier.output_labels', RERANKER_LABELS)
  out.u32('vocab_size', s.vocabSize)
  out.weight('token_embd.weight', [E, s.vocabSize])
  out.f32Tensor('position_embd.weight', [E, s.contextLength])
  out.f32Tensor('token_types.weight', [E, XLMR_TOKEN_TYPES])
  layerNorm(out, 'token_embd_norm', E)
  for (let i = 0; i < s.layers; i++) {
    const p = blk(i)
    qkv(out, p, E, E, E, true)
    out.weight(`${p}attn_output.weight`, [E, E])
    out.f32Tensor(`${p}attn_output.bias`, [E])
    layerNorm(out, `${p}attn_output_norm`, E)
    out.weight(`${p}ffn_up.weight`, [E, ff])
    out.f32Tensor(`${p}ffn_up.bias`, [ff])
    out.weight(`${p}ffn_down.weight`, [ff, E])
    out.f32Tensor(`${p}ffn_down.bias`, [E])
    layerNorm(out, `${p}layer_output_norm`, E)
  }
  out.weight('cls.weight', [E, E])
  out.f32Tensor('cls.bias', [E])
  out.weight('cls.output.weight', [E, RERANKER_LABELS.length])
  out.f32Tensor('cls.output.bias', [RERANKER_LABELS.length])
}

export const ARCHITECTURE_LAYOUTS: Record<SyntheticArchitecture, (spec: Spec, out: LayoutBuilder) => void> = {
  llama: llamaLike,
  qwen3moe: llamaLike,
  qwen2,
  qwen2moe: qwen2,
  gemma3,
  'gpt-oss': gptOss,
  deepseek2,
  mamba2,
  granitehybrid: graniteHybrid,
  qwen3: llamaLike,
  exaone4,
  'nomic-bert': nomicBert,
  bert
}
