// Model hyper-parameters from GGUF metadata, with llama.cpp's defaults (llama_model_base::load_hparams):
// head_count_kv defaults to head_count, key/value length to embedding_length / head_count. Per-layer arrays
// (head_count, head_count_kv, feed_forward_length can be arrays) are kept per layer for KV and attention sums.

import { GgufError } from '../util/errors.js'
import { isGgufArray, type GgufValue } from './format.js'
import { llamaFileTypeName } from './ggml-types.js'

/** llama_pooling_type: -1 unspecified, 0 none, 1 mean, 2 cls, 3 last, 4 rank. */
export const POOLING_RANK = 4
/** Architectures llama.cpp runs as encoders (embeddings, no generation). */
export const ENCODER_ARCHITECTURES: ReadonlySet<string> = new Set([
  'bert',
  'nomic-bert',
  'nomic-bert-moe',
  'jina-bert-v2',
  'jina-bert-v3',
  'modern-bert',
  'neo-bert',
  'eurobert',
  't5encoder'
])

export interface Hparams {
  architecture: string
  fileType: string | null
  layers: number
  contextLength: number
  embeddingLength: number
  feedForwardLength: number
  expertFeedForwardLength: number
  /** Per layer (length = layers). */
  headsPerLayer: number[]
  kvHeadsPerLayer: number[]
  keyLength: number
  valueLength: number
  expertCount: number
  expertUsedCount: number
  /** `{arch}.expert_shared_count`, or null when the key is absent. */
  sharedExpertCount: number | null
  /** `{arch}.vocab_size`, else the tokenizer token list length, else null. */
  vocabSize: number | null
  poolingType: number | null
  causalAttention: boolean | null
  hasClassifierLabels: boolean
}

type Meta = Record<string, GgufValue>

/** A scalar or array metadata value as numbers (booleans as 0/1), or null when absent or not numeric. */
export function numbers(v: GgufValue | undefined): number[] | null {
  if (v === undefined) return null
  if (isGgufArray(v)) {
    if (!v.values) return null
    return v.values.map((x) => Number(x)).filter((x) => Number.isFinite(x))
  }
  if (typeof v === 'number') return [v]
  if (typeof v === 'bigint') return [Number(v)]
  if (typeof v === 'boolean') return [v ? 1 : 0]
  return null
}

/** llama.cpp's own limits (src/llama-hparams.h): a file past them does not load. */
const LLAMA_MAX_LAYERS = 512
const LLAMA_MAX_EXPERTS = 1024
/**
 * Bounds of physical sense, far above any real model (the widest have embeddings of ~16k, contexts of ~10M tokens,
 * vocabularies of ~260k): a header past them is corrupt or hostile, and sizing anything by it would exhaust memory.
 */
const MAX_WIDTH = 1 << 20
const MAX_CONTEXT = 1 << 27
const MAX_VOCAB = 1 << 24

export function readHparams(meta: Meta, source: string): Hparams {
  const archValue = meta['general.architecture']
  if (typeof archValue !== 'string' || archValue === '') {
    throw new GgufError(source, 'key general.architecture', 'missing or not a string')
  }
  const arch = archValue
  const key = (k: string): string => `${arch}.${k}`
  const nonNegative = (k: string, v: number): number => {
    if (!Number.isSafeInteger(v) || v < 0) throw new GgufError(source, `key ${k}`, `must be a non-negative integer, got ${v}`)
    return v
  }
  /** Largest value of a scalar or per-layer array key (per-layer arrays: a model's widest layer). */
  const max = (k: string, fallback: number | null): number => {
    const vs = numbers(meta[k])
    if (!vs || vs.length === 0) {
      if (fallback === null) throw new GgufError(source, `key ${k}`, 'missing')
      return fallback
    }
    return nonNegative(k, Math.max(...vs))
  }
  const perLayer = (k: string, layers: number, fallback: number[]): number[] => {
    const vs = numbers(meta[k])
    if (!vs || vs.length === 0) return fallback
    if (vs.length === 1) return new Array<number>(layers).fill(nonNegative(k, vs[0]!))
    if (vs.length !== layers) throw new GgufError(source, `key ${k}`, `has ${vs.length} entries for ${layers} layers`)
    return vs.map((v) => nonNegative(k, v))
  }

  const within = (k: string, v: number, lo: number, hi: number, why: string): number => {
    if (v < lo || v > hi) throw new GgufError(source, `key ${k}`, `${v} is outside ${lo}..${hi} (${why})`)
    return v
  }
  const layers = within(key('block_count'), max(key('block_count'), null), 1, LLAMA_MAX_LAYERS, "llama.cpp's LLAMA_MAX_LAYERS")
  const embeddingLength = within(key('embedding_length'), max(key('embedding_length'), null), 1, MAX_WIDTH, 'no model is that wide')
  const headsPerLayer = perLayer(key('attention.head_count'), layers, new Array<number>(layers).fill(0))
  // head_count_kv defaults to head_count layer by layer; it may be an array with 0 for recurrent layers.
  const kvHeadsPerLayer = perLayer(key('attention.head_count_kv'), layers, headsPerLayer)
  const heads = Math.max(0, ...headsPerLayer)
  const defaultHeadDim = heads > 0 ? Math.floor(embeddingLength / heads) : 0
  const tokens = meta['tokenizer.ggml.tokens']
  const explicitVocab = numbers(meta[key('vocab_size')])
  const fileType = numbers(meta['general.file_type'])
  const pooling = numbers(meta[key('pooling_type')])
  const causal = meta[key('attention.causal')]
  const shared = numbers(meta[key('expert_shared_count')])

  // Absent, the context is unknown (0: the workload's context is used); present, it must be a context.
  const contextLength = meta[key('context_length')] === undefined ? 0 : within(key('context_length'), max(key('context_length'), 0), 1, MAX_CONTEXT, 'no model has that context')
  const feedForwardLength = within(key('feed_forward_length'), max(key('feed_forward_length'), 0), 0, 8 * MAX_WIDTH, 'no model is that wide')
  const expertCount = within(key('expert_count'), max(key('expert_count'), 0), 0, LLAMA_MAX_EXPERTS, "llama.cpp's LLAMA_MAX_EXPERTS")
  const expertUsedCount = within(key('expert_used_count'), max(key('expert_used_count'), 0), 0, Math.max(expertCount, 0), 'more used experts than experts')
  within(key('attention.head_count'), heads, 0, MAX_WIDTH, 'more heads than any model has')
  // Zero heads is a recurrent model (Mamba, RWKV, LFM2's short convolutions); in any other it is a broken header.
  const recurrent = Object.keys(meta).some((k) => ['ssm.', 'wkv.', 'shortconv.', 'time_mix'].some((p) => k.startsWith(`${arch}.${p}`)))
  if (heads === 0 && !recurrent) throw new GgufError(source, `key ${key('attention.head_count')}`, 'is 0 (or missing) in a model without recurrent layers')
  const vocabSize = explicitVocab?.[0] ?? (isGgufArray(tokens) ? tokens.length : null)
  if (vocabSize !== null) within(key('vocab_size'), vocabSize, 1, MAX_VOCAB, 'no vocabulary is that large')

  return {
    architecture: arch,
    fileType: fileType && fileType.length > 0 ? llamaFileTypeName(fileType[0]!) : null,
    layers,
    contextLength,
    embeddingLength,
    feedForwardLength,
    expertFeedForwardLength: max(key('expert_feed_forward_length'), 0),
    headsPerLayer,
    kvHeadsPerLayer,
    keyLength: within(key('attention.key_length'), max(key('attention.key_length'), defaultHeadDim), 0, MAX_WIDTH, 'no head is that wide'),
    valueLength: within(key('attention.value_length'), max(key('attention.value_length'), defaultHeadDim), 0, MAX_WIDTH, 'no head is that wide'),
    expertCount,
    expertUsedCount,
    sharedExpertCount: shared && shared.length > 0 ? nonNegative(key('expert_shared_count'), shared[0]!) : null,
    vocabSize,
    poolingType: pooling?.[0] ?? null,
    causalAttention: typeof causal === 'boolean' ? causal : null,
    hasClassifierLabels: meta[key('classifier.output_labels')] !== undefined
  }
}
