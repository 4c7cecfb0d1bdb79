// What the speed and memory terms need from a ModelProfile, derived once. Pure.
// Only the profile (GGUF metadata and tensor types/sizes) goes in: no names, no per-model constants.

import { ggmlTypeByName } from '../gguf/ggml-types.js'
import { kvBytesPerToken } from '../gguf/profile.js'
import type { ModelProfile } from '../contracts/profile.js'

export interface ModelGeometry {
  layers: number
  /** Layers with attention (all of them for the architectures we bench; hybrids have fewer). */
  attentionLayers: number
  embedding: number
  heads: number
  kvHeads: number
  keyLength: number
  valueLength: number
  vocab: number
  /** Dense FFN width, or used experts × expert width for MoE (what one token multiplies with). */
  ffnActiveWidth: number
  /** Bytes read per decoded token, by GGML type (routed experts at their used share). */
  activeBytesByType: Record<string, number>
  activeBytes: number
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
  /** Every byte of every tensor (all experts): what a prefill ubatch may touch. */
  tensorBytes: number
  /** Share of the body's matmul parameters that are routed experts (0 for dense models). */
  expertParamShare: number
  /**
   * Share of the body's matmul parameters in the feed-forward part (dense, routed and shared experts, by bytes of the
   * groups): llama.cpp runs the last layer's feed-forward only for the rows that need logits.
   */
  ffnParamShare: number
  /** The same share of a layer's matrix rows (dot products per token): FFN rows are longer than attention rows. */
  ffnRowShare: number
  expertCount: number
  expertUsed: number
  /** Matrix rows a decode step multiplies with (each a dot product): projections, FFN (used experts), output head. */
  matrixRowsPerToken: number
  /** The same by GGML type: body rows shared in proportion to the type's parameters, the output head's to its type. */
  matrixRowsByType: Record<string, number>
  /** Query elements per layer (heads × key length): the size of the attention products per position. */
  queryElements: number
  /** K+V bytes of one position in one layer at a cache type. */
  kvBytesPerPositionPerLayer: (kvType: string) => number
  /** K+V bytes of one position over all layers. */
  kvBytesPerPosition: (kvType: string) => number
}

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
  const vocab = p.vocabSize
  const outputParams = p.modelClass === 'causal-lm' ? vocab * p.embeddingLength : 0
  // The output head is output.weight, or token_embd itself when tied (then group "embedding" holds it).
  const outputBytes = p.bytesByGroup.output > 0 ? p.bytesByGroup.output : outputParams > 0 ? p.bytesByGroup.embedding : 0
  const outputBytesPerParam = outputParams > 0 ? outputBytes / outputParams : 2

  // Active bytes of the output head belong to one type; remove its parameters from that type's body share.
  const bodyParamsByType: Record<string, number> = {}
  let outputLeft = outputParams
  for (const [type, bytes] of Object.entries(p.activeBytesByType)) {
    let params = paramsOf(type, bytes)
    const ppb = paramsPerByte(type)
    if (outputLeft > 0 && ppb !== null && Math.abs(1 / ppb - outputBytesPerParam) < 1e-6 && params >= outputLeft) {
      params -= outputLeft
      outputLeft = 0
    }
    bodyParamsByType[type] = params
  }
  const expertShare = p.expertCount > 0 && p.expertUsedCount > 0 ? p.expertUsedCount / p.expertCount : 0
  const expertActiveBytes = p.bytesByGroup.ffn_expert * expertShare
  const expertParamShare = p.activeBytesPerToken > 0 ? Math.min(1, expertActiveBytes / p.activeBytesPerToken) : 0
  const ffnActiveBytes = p.bytesByGroup.ffn_dense + expertActiveBytes + p.bytesByGroup.ffn_shared_expert
  const bodyActiveBytes = ffnActiveBytes + p.bytesByGroup.attention
  const ffnParamShare = bodyActiveBytes > 0 ? ffnActiveBytes / bodyActiveBytes : 0
  const ffnActiveWidth =
    p.expertCount > 0 ? p.expertUsedCount * (p.expertFeedForwardLength || p.feedForwardLength) : p.feedForwardLength
  const attentionLayers = p.kvBytesPerTokenF16 > 0 ? p.layers : 0
  const outputType =
    Object.keys(p.activeBytesByType).find((t) => {
      const ppb = paramsPerByte(t)
      return ppb !== null && Math.abs(1 / ppb - outputBytesPerParam) < 1e-6
    }) ?? 'F16'
  // An untied token table is read one row per token; a tied one is the output head and streams whole.
  const tokenTableIdle = p.bytesByGroup.output > 0 ? p.bytesByGroup.embedding : 0
  const q = p.heads * p.keyLength
  const kvRows = p.kvHeads * (p.keyLength + p.valueLength)
  // Gate and up have one row per FFN unit, down one per embedding unit; MoE adds the router (one row per expert).
  const ffnRows = p.expertCount > 0 ? p.expertUsedCount * (2 * (p.expertFeedForwardLength || p.feedForwardLength) + p.embeddingLength) + p.expertCount : 2 * p.feedForwardLength + p.embeddingLength
  const layerRows = q + kvRows + p.embeddingLength + ffnRows
  const bodyRows = p.layers * layerRows
  const matrixRowsPerToken = bodyRows + (outputParams > 0 ? vocab : 0)
  const bodyParamsTotal = Object.values(bodyParamsByType).reduce((a, b) => a + b, 0)
  const matrixRowsByType: Record<string, number> = {}
  for (const [type, params] of Object.entries(bodyParamsByType)) {
    if (params > 0 && bodyParamsTotal > 0) matrixRowsByType[type] = (bodyRows * params) / bodyParamsTotal
  }
  if (outputParams > 0) matrixRowsByType[outputType] = (matrixRowsByType[outputType] ?? 0) + vocab
  return {
    layers: p.layers,
    attentionLayers,
    matrixRowsPerToken,
    matrixRowsByType,
    embedding: p.embeddingLength,
    heads: p.heads,
    kvHeads: p.kvHeads,
    keyLength: p.keyLength,
    valueLength: p.valueLength,
    vocab,
    ffnActiveWidth,
    activeBytesByType: p.activeBytesByType,
    activeBytes: p.activeBytesPerToken,
    bodyParamsByType,
    outputParams,
    outputBytesPerParam,
    outputType,
    outputBytes,
    workingSetBytes: Math.max(0, p.tensorBytes - tokenTableIdle),
    tensorBytes: p.tensorBytes,
    expertParamShare,
    ffnParamShare,
    ffnRowShare: layerRows > 0 ? ffnRows / layerRows : 0,
    expertCount: p.expertCount,
    expertUsed: p.expertUsedCount,
    queryElements: p.heads * p.keyLength,
    kvBytesPerPositionPerLayer: (kvType) => (attentionLayers > 0 ? kvBytesPerToken(p, kvType) / attentionLayers : 0),
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
