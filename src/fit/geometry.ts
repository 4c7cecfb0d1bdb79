// What the speed and memory terms need from a ModelProfile, derived once. Pure.
// Only the profile (GGUF metadata and tensor types/sizes) goes in: no names, no per-model constants.

import { ggmlTypeByName } from '../gguf/ggml-types.js'
import { kvBytesPerToken, kvElementBytes } from '../gguf/profile.js'
import type { ModelProfile } from '../contracts/profile.js'

/**
 * The profile's own dimensions, under the profile's names (tensor_bytes: every byte of every tensor, what a prefill
 * ubatch may touch; active_bytes_*: bytes read per decoded token, routed experts at their used share).
 */
const PROFILE_DIMENSIONS = [
  'layers',
  'embedding_length',
  'heads',
  'kv_heads',
  'key_length',
  'value_length',
  'vocab_size',
  'active_bytes_per_token',
  'active_bytes_by_type',
  'tensor_bytes',
  'expert_count',
  'expert_used_count'
] as const

/** The profile's dimensions, and what the speed and memory terms derive from them. */
export interface ModelGeometry extends Pick<ModelProfile, (typeof PROFILE_DIMENSIONS)[number]> {
  /** Layers whose attention spans the whole context (sliding and recurrent layers are counted apart). */
  attentionLayers: number
  /**
   * An encoder (BERT and kin): heads, but no cache and no state. llama.cpp gives it no memory, so each ubatch attends
   * only its own tokens, and its graph ends in pooled embeddings or a classifier head, never vocabulary logits.
   */
  encoder: boolean
  /** Layers that attend only a window of positions, and the window. */
  slidingLayers: number
  slidingWindow: number
  /** Query elements of one sliding layer, and its K+V bytes per cached position at a cache type. */
  slidingQueryElements: number
  slidingKvBytesPerPositionPerLayer: (kvType: string) => number
  /** f32 bytes of one sequence's recurrent state over all recurrent layers, and the count of those layers. */
  recurrentStateBytes: number
  recurrentStateElements: number
  recurrentLayers: number
  /** Mamba layers' inner width and convolution channels (0 without Mamba layers). */
  ssmInnerSize: number
  ssmConvChannels: number
  /** Dense FFN width, or used experts × expert width (+ the shared experts' width) for MoE: what one token multiplies with. */
  ffnActiveWidth: number
  /**
   * The widest feed-forward llama.cpp computes at one time: a dense layer's, the used experts' together, or the shared
   * experts' (run after the routed ones are summed). What the compute buffer's feed-forward phase holds per token.
   */
  ffnPhaseWidth: number
  /** Matmul parameters per token by GGML type, output head excluded (prefill computes it for one row only). */
  bodyParamsByType: Record<string, number>
  /** Output-head parameters (vocab × embedding) and the bytes/parameter of its type. */
  outputParams: number
  outputBytesPerParam: number
  /** GGML type of the output head (matched by bytes per parameter), for its decode bandwidth. */
  outputType: string
  outputBytes: number
  /** Bytes a run streams through repeatedly: all weights but the token table's unused rows (what caches must hold). */
  workingSetBytes: number
  /** Share of the body's matmul parameters that are routed experts (0 for dense models). */
  expertParamShare: number
  /**
   * Share of the body's matmul parameters in the feed-forward part (dense, routed and shared experts, by bytes of the
   * groups): llama.cpp runs the last layer's feed-forward only for the rows that need logits.
   */
  ffnParamShare: number
  /** The same share of a layer's matrix rows (dot products per token): FFN rows are longer than attention rows. */
  ffnRowShare: number
  /** Matrix rows a decode step multiplies with (each a dot product): projections, FFN (used experts), output head. */
  matrixRowsPerToken: number
  /** The same by GGML type: body rows shared in proportion to the type's parameters, the output head's to its type. */
  matrixRowsByType: Record<string, number>
  /** Query elements per full-attention layer (heads × key length): the size of the attention products per position. */
  queryElements: number
  /** K+V bytes of one position in one full-attention layer at a cache type. */
  kvBytesPerPositionPerLayer: (kvType: string) => number
  /** K+V bytes of one position over the full-attention layers. */
  kvBytesPerPosition: (kvType: string) => number
}

/** Bytes of an f32 element: llama.cpp's activations, recurrent states and logits. */
export const F32_BYTES = 4

/** Parameters per byte of a GGML type (block elements / block bytes); null for an unknown name. */
export function paramsPerByte(typeName: string): number | null {
  const t = ggmlTypeByName(typeName)
  return t ? t.blockSize / t.typeSize : null
}

/** Params a type's bytes hold; unknown types count as 2 bytes per parameter (F16), the commonest float width. */
function paramsOf(typeName: string, bytes: number): number {
  return bytes * (paramsPerByte(typeName) ?? 0.5)
}

export function modelGeometry(p: ModelProfile): ModelGeometry {
  const vocab = p.vocab_size
  const outputParams = p.model_class === 'causal-lm' ? vocab * p.embedding_length : 0
  // The output head is output.weight, or token_embd itself when tied (then group "embedding" holds it).
  const outputBytes = p.bytes_by_group.output > 0 ? p.bytes_by_group.output : outputParams > 0 ? p.bytes_by_group.embedding : 0
  const outputBytesPerParam = outputParams > 0 ? outputBytes / outputParams : 2

  // Active bytes of the output head belong to one type; remove its parameters from that type's body share.
  const bodyParamsByType: Record<string, number> = {}
  let outputLeft = outputParams
  for (const [type, bytes] of Object.entries(p.active_bytes_by_type)) {
    let params = paramsOf(type, bytes)
    const ppb = paramsPerByte(type)
    if (outputLeft > 0 && ppb !== null && Math.abs(1 / ppb - outputBytesPerParam) < 1e-6 && params >= outputLeft) {
      params -= outputLeft
      outputLeft = 0
    }
    bodyParamsByType[type] = params
  }
  const expertShare = p.expert_count > 0 && p.expert_used_count > 0 ? p.expert_used_count / p.expert_count : 0
  const expertActiveBytes = p.bytes_by_group.ffn_expert * expertShare
  const expertParamShare = p.active_bytes_per_token > 0 ? Math.min(1, expertActiveBytes / p.active_bytes_per_token) : 0
  const ffnActiveBytes = p.bytes_by_group.ffn_dense + expertActiveBytes + p.bytes_by_group.ffn_shared_expert
  const bodyActiveBytes = ffnActiveBytes + p.bytes_by_group.attention
  const ffnParamShare = bodyActiveBytes > 0 ? ffnActiveBytes / bodyActiveBytes : 0
  const shared = p.shared_expert_feed_forward_length
  const ffnActiveWidth =
    p.expert_count > 0 ? p.expert_used_count * (p.expert_feed_forward_length || p.feed_forward_length) + shared : p.feed_forward_length
  const routedWidth = p.expert_count > 0 ? p.expert_used_count * (p.expert_feed_forward_length || p.feed_forward_length) : 0
  const denseWidth = p.expert_count === 0 || p.layer_plan.dense_ffn_layers > 0 ? p.feed_forward_length : 0
  const ffnPhaseWidth = Math.max(denseWidth, routedWidth, shared)
  const plan = p.layer_plan
  const attentionLayers = plan.full_attention_layers
  const outputType =
    Object.keys(p.active_bytes_by_type).find((t) => {
      const ppb = paramsPerByte(t)
      return ppb !== null && Math.abs(1 / ppb - outputBytesPerParam) < 1e-6
    }) ?? 'F16'
  // An untied token table is read one row per token; a tied one is the output head and streams whole.
  const tokenTableIdle = p.bytes_by_group.output > 0 ? p.bytes_by_group.embedding : 0
  const q = p.heads * p.key_length
  const kvRows = p.kv_heads * (p.key_length + p.value_length)
  // Gate and up have one row per FFN unit, down one per embedding unit; MoE adds the router (one row per expert).
  // Shared experts add their own gate, up and down rows, read every token.
  const sharedRows = shared > 0 ? 2 * shared + p.embedding_length : 0
  const ffnRows = p.expert_count > 0 ? p.expert_used_count * (2 * (p.expert_feed_forward_length || p.feed_forward_length) + p.embedding_length) + p.expert_count + sharedRows : 2 * p.feed_forward_length + p.embedding_length
  const layerRows = q + kvRows + p.embedding_length + ffnRows
  const bodyRows = p.layers * layerRows
  const matrixRowsPerToken = bodyRows + (outputParams > 0 ? vocab : 0)
  const bodyParamsTotal = Object.values(bodyParamsByType).reduce((a, b) => a + b, 0)
  const matrixRowsByType: Record<string, number> = {}
  for (const [type, params] of Object.entries(bodyParamsByType)) {
    if (params > 0 && bodyParamsTotal > 0) matrixRowsByType[type] = (bodyRows * params) / bodyParamsTotal
  }
  if (outputParams > 0) matrixRowsByType[outputType] = (matrixRowsByType[outputType] ?? 0) + vocab
  return {
    ...(Object.fromEntries(PROFILE_DIMENSIONS.map((k) => [k, p[k]])) as Pick<ModelProfile, (typeof PROFILE_DIMENSIONS)[number]>),
    attentionLayers,
    encoder: attentionLayers + plan.sliding_attention_layers + plan.recurrent_layers === 0 && p.heads > 0,
    matrixRowsPerToken,
    matrixRowsByType,
    ffnActiveWidth,
    ffnPhaseWidth,
    bodyParamsByType,
    outputParams,
    outputBytesPerParam,
    outputType,
    outputBytes,
    workingSetBytes: Math.max(0, p.tensor_bytes - tokenTableIdle),
    expertParamShare,
    ffnParamShare,
    ffnRowShare: layerRows > 0 ? ffnRows / layerRows : 0,
    queryElements: attentionLayers > 0 ? plan.full_query_elements / attentionLayers : p.heads * p.key_length,
    kvBytesPerPositionPerLayer: (kvType) => (attentionLayers > 0 ? kvBytesPerToken(p, kvType) / attentionLayers : 0),
    slidingLayers: plan.sliding_attention_layers,
    slidingWindow: plan.sliding_window,
    slidingQueryElements: plan.sliding_attention_layers > 0 ? plan.sliding_query_elements / plan.sliding_attention_layers : 0,
    slidingKvBytesPerPositionPerLayer: (kvType) =>
      plan.sliding_attention_layers > 0 ? kvElementBytes(plan.sliding_k_elements + plan.sliding_v_elements, kvType) / plan.sliding_attention_layers : 0,
    recurrentStateBytes: plan.recurrent_state_elements * F32_BYTES,
    recurrentStateElements: plan.recurrent_state_elements,
    recurrentLayers: plan.recurrent_layers,
    ssmInnerSize: plan.ssm_inner_size,
    ssmConvChannels: plan.ssm_conv_channels,
    kvBytesPerPosition: (kvType) => kvBytesPerToken(p, kvType)
  }
}

/** llama.cpp's KV cache works in cells padded to this many (llama_kv_cache::get_n_kv, n_pad_cur). */
export const KV_PAD_CELLS = 256

/** Cells of the KV cache llama.cpp allocates for a context (the context padded to KV_PAD_CELLS). */
export function kvCells(contextTokens: number): number {
  return Math.ceil(contextTokens / KV_PAD_CELLS) * KV_PAD_CELLS
}

/**
 * Positions the attention of a ubatch spans when its last token sits at position `lastPos` (0-based): the used
 * cells padded to 256, at least 256, at most the cache (llama_kv_cache::get_n_kv). Without flash attention the
 * products run over all of them, masked or not.
 */
export function attendedPositions(lastPos: number, cells: number): number {
  const used = Math.ceil((lastPos + 1) / KV_PAD_CELLS) * KV_PAD_CELLS
  return Math.min(cells, Math.max(KV_PAD_CELLS, used))
}

/** The ubatch llama.cpp runs: n_ubatch, at most n_batch, which is at most the (unpadded) context (llama_context). */
export function llamaUbatch(ubatch: number, batch: number, contextTokens: number): number {
  return Math.min(ubatch, batch, contextTokens)
}

/**
 * Cells of the SWA cache (llama_kv_cache_iswa) for one sequence, as the bench's server and llama-bench run: the
 * window plus one ubatch, padded to 256, at most the base cache. (A unified cache of n sequences holds n windows;
 * --swa-full the whole base cache: neither is a workload we run.)
 */
export function slidingCells(contextTokens: number, window: number, ubatch: number): number {
  const base = kvCells(contextTokens)
  return Math.ceil(Math.min(base, window + ubatch) / KV_PAD_CELLS) * KV_PAD_CELLS
}

export interface KvShape {
  contextTokens: number
  kvType: string
  /** Without flash attention llama.cpp stores V transposed and pads every layer's V to the widest (v_trans). */
  flashAttention: boolean
  /** The ubatch llama.cpp runs (n_ubatch, at most n_batch and the context). */
  ubatch: number
}

/** Bytes of llama.cpp's KV caches for one sequence: the base cache of the full layers and the SWA cache. */
export function kvCacheBytes(p: ModelProfile, s: KvShape): { full: number; sliding: number } {
  const plan = p.layer_plan
  const v = (layers: number, elements: number): number => kvElementBytes(s.flashAttention ? elements : layers * plan.v_elements_max, s.kvType)
  const full = kvCells(s.contextTokens) * (kvElementBytes(plan.full_k_elements, s.kvType) + v(plan.full_attention_layers, plan.full_v_elements))
  const slidingPerCell = kvElementBytes(plan.sliding_k_elements, s.kvType) + v(plan.sliding_attention_layers, plan.sliding_v_elements)
  const sliding = plan.sliding_attention_layers > 0 ? slidingCells(s.contextTokens, plan.sliding_window, s.ubatch) * slidingPerCell : 0
  return { full, sliding }
}
