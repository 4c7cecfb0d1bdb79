// What a synthetic model contains: the metadata keys and tensors llama.cpp's loader requires for the `llama` and
// `qwen3moe` architectures (src/models/llama.cpp, src/models/qwen3moe.cpp, llama_model_base::load_hparams), plus a
// byte-level BPE tokenizer llama-vocab.cpp accepts. Pure: spec in, layout out; writer.ts puts it on disk.

import { InputError } from '../util/errors.js'
import { GGML_TYPE } from './ggml-types.js'
import { GGUF_DEFAULT_ALIGNMENT, GgufValueType, type GgufKv } from './format.js'
import type { TensorSpec } from './encode.js'

export interface SyntheticModelSpec {
  architecture: 'llama' | 'qwen3moe'
  layers: number
  embeddingLength: number
  feedForwardLength: number
  heads: number
  kvHeads: number
  /** Defaults to embeddingLength / heads. */
  headDim?: number
  vocabSize: number
  contextLength: number
  expertCount?: number
  expertUsedCount?: number
  /** Per-expert FFN width (qwen3moe); defaults to feedForwardLength. */
  expertFeedForwardLength?: number
  /** No output.weight: llama.cpp reuses token_embd as the output head. */
  tiedEmbeddings?: boolean
  seed: number
}

/** How the writer fills a tensor: random small F16 values, or F32 ones (norm weights). */
export type TensorFill = 'random-f16' | 'ones-f32'

export interface SyntheticTensor extends TensorSpec {
  fill: TensorFill
}

export interface SyntheticLayout {
  metadata: GgufKv[]
  tensors: SyntheticTensor[]
  alignment: number
}

/** 256 byte tokens + the end-of-text token: the smallest vocabulary that can encode any text. */
export const MIN_SYNTHETIC_VOCAB = 257
/** LLAMA_MAX_LAYERS in llama-hparams.h. */
export const MAX_SYNTHETIC_LAYERS = 512
/** LLAMA_MAX_EXPERTS in llama-hparams.h. */
export const MAX_SYNTHETIC_EXPERTS = 512
/** general.file_type for "mostly F16" (llama_ftype LLAMA_FTYPE_MOSTLY_F16). */
const FILE_TYPE_MOSTLY_F16 = 1
const RMS_EPS = 1e-6
const ROPE_FREQ_BASE = 1_000_000
const END_OF_TEXT = '<|endoftext|>'
/** llama_token_type values stored in tokenizer.ggml.token_type. */
const TOKEN_TYPE_NORMAL = 1
const TOKEN_TYPE_CONTROL = 3

const u32 = (key: string, value: number): GgufKv => ({ key, type: GgufValueType.UINT32, value })
const f32 = (key: string, value: number): GgufKv => ({ key, type: GgufValueType.FLOAT32, value })
const str = (key: string, value: string): GgufKv => ({ key, type: GgufValueType.STRING, value })

function check(spec: SyntheticModelSpec): void {
  const fail = (field: string, msg: string): never => {
    throw new InputError('synthetic spec', field, msg)
  }
  const positiveInts: (keyof SyntheticModelSpec)[] = [
    'layers',
    'embeddingLength',
    'feedForwardLength',
    'heads',
    'kvHeads',
    'vocabSize',
    'contextLength'
  ]
  for (const k of positiveInts) {
    const v = spec[k]
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) fail(k, `must be a positive integer, got ${String(v)}`)
  }
  if (spec.layers > MAX_SYNTHETIC_LAYERS) fail('layers', `at most ${MAX_SYNTHETIC_LAYERS}`)
  if (spec.heads % spec.kvHeads !== 0) fail('kvHeads', `heads (${spec.heads}) must be a multiple of kvHeads (${spec.kvHeads})`)
  const headDim = spec.headDim ?? spec.embeddingLength / spec.heads
  if (!Number.isInteger(headDim) || headDim <= 0 || headDim % 2 !== 0) fail('headDim', `must be a positive even integer, got ${headDim}`)
  if (spec.vocabSize < MIN_SYNTHETIC_VOCAB) fail('vocabSize', `must be at least ${MIN_SYNTHETIC_VOCAB}`)
  const experts = spec.expertCount ?? 0
  const used = spec.expertUsedCount ?? 0
  if (spec.architecture === 'qwen3moe' && experts === 0) fail('expertCount', 'qwen3moe needs experts')
  if (experts > MAX_SYNTHETIC_EXPERTS) fail('expertCount', `at most ${MAX_SYNTHETIC_EXPERTS}`)
  if (experts > 0 && (!Number.isInteger(used) || used <= 0 || used > experts)) {
    fail('expertUsedCount', `must be in 1..expertCount (${experts}), got ${used}`)
  }
  if (experts === 0 && used !== 0) fail('expertUsedCount', 'set without expertCount')
  if (spec.architecture === 'llama' && spec.expertFeedForwardLength !== undefined) {
    fail('expertFeedForwardLength', 'llama sizes experts by feedForwardLength; use qwen3moe for a separate width')
  }
  if (!Number.isInteger(spec.seed)) fail('seed', 'must be an integer')
}

/** GPT-2's byte→unicode table: printable bytes map to themselves, the rest to U+0100 upwards. */
function byteLevelChars(): string[] {
  const chars: string[] = []
  let extra = 0
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255)
    chars.push(String.fromCodePoint(printable ? b : 256 + extra++))
  }
  return chars
}

/**
 * A byte-level BPE vocabulary of exactly `vocabSize` unique tokens: the 256 byte tokens, the end-of-text control
 * token, then two- and three-character tokens each with the merge that builds it, so every merge is consistent.
 */
export function syntheticVocab(vocabSize: number): { tokens: string[]; types: number[]; merges: string[]; eos: number } {
  const bytes = byteLevelChars()
  const tokens = [...bytes, END_OF_TEXT]
  const types = [...bytes.map(() => TOKEN_TYPE_NORMAL), TOKEN_TYPE_CONTROL]
  const merges: string[] = []
  /** Adds left + right for every pair, with its merge, while the vocabulary has room; returns the tokens added. */
  const combine = (lefts: readonly string[], rights: readonly string[]): string[] => {
    const added: string[] = []
    for (const a of lefts) {
      for (const b of rights) {
        if (tokens.length >= vocabSize) return added
        tokens.push(a + b)
        types.push(TOKEN_TYPE_NORMAL)
        merges.push(`${a} ${b}`)
        added.push(a + b)
      }
    }
    return added
  }
  combine(combine(bytes, bytes), bytes)
  return { tokens, types, merges, eos: bytes.length }
}

export function syntheticLayout(spec: SyntheticModelSpec): SyntheticLayout {
  check(spec)
  const arch = spec.architecture
  const E = spec.embeddingLength
  const D = spec.headDim ?? E / spec.heads
  const Q = spec.heads * D
  const KV = spec.kvHeads * D
  const V = spec.vocabSize
  const experts = spec.expertCount ?? 0
  const used = spec.expertUsedCount ?? 0
  // llama's MoE variant (Mixtral) sizes experts by feed_forward_length; qwen3moe has its own key.
  const expertFf = arch === 'qwen3moe' ? (spec.expertFeedForwardLength ?? spec.feedForwardLength) : spec.feedForwardLength
  const vocab = syntheticVocab(V)

  // general.name is deliberately uninformative: an estimator must read geometry from the arch keys and tensors.
  const metadata: GgufKv[] = [
    str('general.architecture', arch),
    str('general.name', 'synthetic'),
    u32('general.file_type', FILE_TYPE_MOSTLY_F16),
    u32('general.alignment', GGUF_DEFAULT_ALIGNMENT),
    u32(`${arch}.context_length`, spec.contextLength),
    u32(`${arch}.embedding_length`, E),
    u32(`${arch}.block_count`, spec.layers),
    u32(`${arch}.feed_forward_length`, spec.feedForwardLength),
    u32(`${arch}.attention.head_count`, spec.heads),
    u32(`${arch}.attention.head_count_kv`, spec.kvHeads),
    u32(`${arch}.attention.key_length`, D),
    u32(`${arch}.attention.value_length`, D),
    u32(`${arch}.rope.dimension_count`, D),
    f32(`${arch}.rope.freq_base`, ROPE_FREQ_BASE),
    f32(`${arch}.attention.layer_norm_rms_epsilon`, RMS_EPS),
    u32(`${arch}.vocab_size`, V)
  ]
  if (experts > 0) {
    metadata.push(u32(`${arch}.expert_count`, experts), u32(`${arch}.expert_used_count`, used))
    if (arch === 'qwen3moe') metadata.push(u32(`${arch}.expert_feed_forward_length`, expertFf))
  }
  metadata.push(
    str('tokenizer.ggml.model', 'gpt2'),
    str('tokenizer.ggml.pre', 'default'),
    { key: 'tokenizer.ggml.tokens', type: GgufValueType.ARRAY, itemType: GgufValueType.STRING, value: vocab.tokens },
    { key: 'tokenizer.ggml.token_type', type: GgufValueType.ARRAY, itemType: GgufValueType.INT32, value: vocab.types },
    { key: 'tokenizer.ggml.merges', type: GgufValueType.ARRAY, itemType: GgufValueType.STRING, value: vocab.merges },
    u32('tokenizer.ggml.bos_token_id', vocab.eos),
    u32('tokenizer.ggml.eos_token_id', vocab.eos),
    { key: 'tokenizer.ggml.add_bos_token', type: GgufValueType.BOOL, value: false }
  )

  const tensors: SyntheticTensor[] = []
  const w = (name: string, dims: number[]): void => {
    tensors.push({ name, dims, type: GGML_TYPE.F16, fill: 'random-f16' })
  }
  const norm = (name: string, n: number): void => {
    tensors.push({ name, dims: [n], type: GGML_TYPE.F32, fill: 'ones-f32' })
  }
  w('token_embd.weight', [E, V])
  norm('output_norm.weight', E)
  if (!spec.tiedEmbeddings) w('output.weight', [E, V])
  for (let i = 0; i < spec.layers; i++) {
    const p = `blk.${i}.`
    norm(`${p}attn_norm.weight`, E)
    w(`${p}attn_q.weight`, [E, Q])
    w(`${p}attn_k.weight`, [E, KV])
    w(`${p}attn_v.weight`, [E, KV])
    w(`${p}attn_output.weight`, [Q, E])
    if (arch === 'qwen3moe') {
      norm(`${p}attn_q_norm.weight`, D)
      norm(`${p}attn_k_norm.weight`, D)
    }
    norm(`${p}ffn_norm.weight`, E)
    if (experts > 0) {
      w(`${p}ffn_gate_inp.weight`, [E, experts])
      w(`${p}ffn_gate_exps.weight`, [E, expertFf, experts])
      w(`${p}ffn_down_exps.weight`, [expertFf, E, experts])
      w(`${p}ffn_up_exps.weight`, [E, expertFf, experts])
    } else {
      w(`${p}ffn_gate.weight`, [E, spec.feedForwardLength])
      w(`${p}ffn_down.weight`, [spec.feedForwardLength, E])
      w(`${p}ffn_up.weight`, [E, spec.feedForwardLength])
    }
  }
  return { metadata, tensors, alignment: GGUF_DEFAULT_ALIGNMENT }
}
