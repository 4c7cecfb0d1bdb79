// The workload: what the scenarios run, handed alike to the estimator and the bench.

/** What the scenarios run: the same workload is handed to the estimator and the bench. */
export interface Workload {
  /**
   * Context size the model is loaded with (KV cache size).
   * @asType integer
   * @minimum 0
   */
  context_tokens: number
  kv_type: string
  /**
   * Depth at which steady decode is measured (llama-bench -d).
   * @asType integer
   * @minimum 0
   */
  decode_depth: number
  /**
   * @asType integer
   * @minimum 0
   */
  decode_tokens: number
  /**
   * @asType integer
   * @minimum 0
   */
  prefill_tokens: number
  /**
   * Depth at which prefill is measured (llama-bench -d): the prompt is appended to this many cached tokens, so its
   * attention covers them (long context). Absent: 0.
   * @asType integer
   * @minimum 0
   */
  prefill_depth?: number
  /**
   * Prompt length for first_token.
   * @asType integer
   * @minimum 0
   */
  first_token_prompt_tokens: number
  /**
   * kv_warm_reuse: cached prefix length and new suffix length.
   * @asType integer
   * @minimum 0
   */
  warm_prefix_tokens: number
  /**
   * @asType integer
   * @minimum 0
   */
  warm_suffix_tokens: number
  /**
   * @asType integer
   * @minimum 0
   */
  warm_decode_tokens: number
  /**
   * @asType integer
   * @minimum 0
   */
  ubatch: number
  /**
   * @asType integer
   * @minimum 0
   */
  batch: number
  /**
   * @asType integer
   * @minimum 0
   */
  threads: number
  /**
   * @asType integer
   * @minimum 0
   */
  gpu_layers: number
  flash_attention: boolean
  /**
   * llama.cpp's -ts: each GPU's share of the offloaded layers, in its device order; absent: split by free memory.
   * @minItems 1
   */
  tensor_split?: number[]
}
