// The workload: what the scenarios run, handed alike to the estimator and the bench.

/** What the scenarios run: the same workload is handed to the estimator and the bench. */
export interface Workload {
  /** Context size the model is loaded with (KV cache size). */
  context_tokens: number
  kv_type: string
  /** Depth at which steady decode is measured (llama-bench -d). */
  decode_depth: number
  decode_tokens: number
  prefill_tokens: number
  /** Prompt length for first_token. */
  first_token_prompt_tokens: number
  /** kv_warm_reuse: cached prefix length and new suffix length. */
  warm_prefix_tokens: number
  warm_suffix_tokens: number
  warm_decode_tokens: number
  ubatch: number
  batch: number
  threads: number
  gpu_layers: number
  flash_attention: boolean
}
