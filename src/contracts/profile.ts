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

/**
 * What llama.cpp builds layer by layer, as its loader derives it from the header: which layers attend the whole
 * context, which only a sliding window, which carry a recurrent state, and what each caches per position.
 */
export interface LayerPlan {
  /** Layers whose attention spans the whole context (llama.cpp's base KV cache). */
  full_attention_layers: number
  /** Layers that attend only the last `sliding_window` positions (llama.cpp's SWA cache). */
  sliding_attention_layers: number
  /** Window of the sliding layers, tokens; 0 without sliding layers. */
  sliding_window: number
  /** Layers with a recurrent state (Mamba's conv and SSM states, RWKV's token shift and WKV state, short convolutions). */
  recurrent_layers: number
  /** K elements cached per position, summed over the full-attention layers. */
  full_k_elements: number
  /** V elements cached per position, summed over the full-attention layers (0 for MLA, which caches only K). */
  full_v_elements: number
  /** K elements cached per position, summed over the sliding layers. */
  sliding_k_elements: number
  /** V elements cached per position, summed over the sliding layers. */
  sliding_v_elements: number
  /** Widest V row of one attention layer: without flash attention llama.cpp gives every layer's V cache this width. */
  v_elements_max: number
  /** Query heads × key length, summed over the full-attention layers: the attention products per position. */
  full_query_elements: number
  /** The same over the sliding layers. */
  sliding_query_elements: number
  /** Attention FLOPs of one token per attended position (QKᵀ and AV) over the full-attention layers. */
  full_attention_flops_per_position: number
  /** The same over the sliding layers. */
  sliding_attention_flops_per_position: number
  /** f32 elements of one sequence's recurrent state over all recurrent layers (llama.cpp's R and S buffers). */
  recurrent_state_elements: number
  /** Mamba layers' inner width (ssm.inner_size), 0 without. */
  ssm_inner_size: number
  /** Channels of a Mamba layer's convolution (inner + 2 × groups × state: x, B and C), 0 without. */
  ssm_conv_channels: number
  /** Layers with a dense feed-forward (a `blk.N.ffn_down` tensor): all of a dense model, the leading ones of some MoE. */
  dense_ffn_layers: number
  /**
   * Layers with attention sinks (`blk.N.attn_sinks`, gpt-oss): a learned per-head logit added to every softmax. Their
   * bytes are in the weights; the compute is llama.cpp's soft_max with sinks, costed like any softmax.
   */
  attention_sink_layers: number
  /**
   * One character per layer, in order: F full attention, S sliding, R recurrent, B recurrent and full attention (falcon-h1), - nothing cached (an MTP layer, an
   * MLP-only layer). Where each layer's cache lives when llama.cpp splits layers between devices. Absent in profiles
   * made before it.
   */
  layer_kinds?: string
  /** The latent MLA caches per position (kv_lora_rank); 0 without MLA. */
  mla_kv_lora_rank: number
  /** What could not be read from the header and was assumed (an architecture the plan does not know). */
  assumptions: string[]
}

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
  /** FFN width of a layer's shared experts together (its ffn_up_shexp rows), 0 without; read every token. */
  shared_expert_feed_forward_length: number
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
  /** Attention FLOPs per token per token of context (QK^T and AV over the full-attention layers). */
  attention_flops_per_token_per_depth: number
  /**
   * KV cache bytes per token of context at F16 K and V over the full-attention layers (use kvBytesPerToken() for
   * other types). Sliding layers cache only their window and recurrent layers a fixed state: see layer_plan.
   */
  kv_bytes_per_token_f16: number
  layer_plan: LayerPlan
  /**
   * Weight bytes of each repeating layer (the `blk.N.` tensors), N = 0 … layers − 1: what each device holds when
   * llama.cpp splits layers between devices. Absent in profiles made before it (the body is then split evenly).
   */
  layer_bytes?: number[]
  /**
   * GGML type of the output head's weights (output.weight, or token_embd.weight when the output is tied to it);
   * null without a head. Absent in profiles made before it.
   */
  output_type?: string | null
}
