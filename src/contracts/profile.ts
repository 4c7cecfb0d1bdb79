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
  model_class: ModelClass
  /** general.file_type as a name (e.g. "Q4_K_M"), or null when absent. */
  file_type: string | null
  shards: number
  /** @minimum 0 */
  file_bytes: number
  tensor_bytes: number
  tensor_count: number
  /** @minimum 0 */
  param_count: number
  layers: number
  embedding_length: number
  feed_forward_length: number
  /** Per-expert FFN width for MoE models (expert_feed_forward_length), else 0. */
  expert_feed_forward_length: number
  heads: number
  kv_heads: number
  key_length: number
  value_length: number
  expert_count: number
  expert_used_count: number
  shared_expert_count: number
  vocab_size: number
  context_length: number
  bytes_by_group: Record<TensorGroup, number>
  /** GGML type name → bytes of tensors of that type. Keys sorted. */
  bytes_by_type: Record<string, number>
  /** Bytes read from weights per decoded token: routed experts scaled by used/total, one embedding row. */
  active_bytes_per_token: number
  /** The same, split by GGML type name. Keys sorted. */
  active_bytes_by_type: Record<string, number>
  /** Matmul FLOPs per token over weights (2 × active matmul parameters), without attention scores. */
  flops_per_token: number
  /** Attention FLOPs per token per token of context (QK^T and AV over all layers). */
  attention_flops_per_token_per_depth: number
  /** KV cache bytes per token of context at F16 K and V (use kvBytesPerToken() for other types). */
  kv_bytes_per_token_f16: number
}
