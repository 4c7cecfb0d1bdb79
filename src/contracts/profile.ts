// Model files → ModelProfile: what the GGUF header says about a model, in the units the estimator costs.

export const TENSOR_GROUPS = [
  'attention',
  'ffn_dense',
  'ffn_expert',
  'ffn_shared_expert',
  'embedding',
  'output',
  'norm',
  'ssm',
  'other'
] as const
export type TensorGroup = (typeof TENSOR_GROUPS)[number]

export type ModelClass = 'causal-lm' | 'embedding' | 'reranker'

export interface ModelProfile {
  architecture: string
  modelClass: ModelClass
  /** general.file_type as a name (e.g. "Q4_K_M"), or null when absent. */
  fileType: string | null
  shards: number
  fileBytes: number
  tensorBytes: number
  tensorCount: number
  paramCount: number
  layers: number
  embeddingLength: number
  feedForwardLength: number
  /** Per-expert FFN width for MoE models (expert_feed_forward_length), else 0. */
  expertFeedForwardLength: number
  heads: number
  kvHeads: number
  keyLength: number
  valueLength: number
  expertCount: number
  expertUsedCount: number
  sharedExpertCount: number
  vocabSize: number
  contextLength: number
  bytesByGroup: Record<TensorGroup, number>
  /** GGML type name → bytes of tensors of that type. Keys sorted. */
  bytesByType: Record<string, number>
  /** Bytes read from weights per decoded token: routed experts scaled by used/total, one embedding row. */
  activeBytesPerToken: number
  /** The same, split by GGML type name. Keys sorted. */
  activeBytesByType: Record<string, number>
  /** Matmul FLOPs per token over weights (2 × active matmul parameters), without attention scores. */
  flopsPerToken: number
  /** Attention FLOPs per token per token of context (QK^T and AV over all layers). */
  attentionFlopsPerTokenPerDepth: number
  /** KV cache bytes per token of context at F16 K and V (use kvBytesPerToken() for other types). */
  kvBytesPerTokenF16: number
}
