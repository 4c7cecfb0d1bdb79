// The workload: what the scenarios run, handed alike to the estimator and the bench.

/** What the scenarios run: the same workload is handed to the estimator and the bench. */
export interface Workload {
  /** Context size the model is loaded with (KV cache size). */
  contextTokens: number
  kvType: string
  /** Depth at which steady decode is measured (llama-bench -d). */
  decodeDepth: number
  decodeTokens: number
  prefillTokens: number
  /** Prompt length for first_token. */
  firstTokenPromptTokens: number
  /** kv_warm_reuse: cached prefix length and new suffix length. */
  warmPrefixTokens: number
  warmSuffixTokens: number
  warmDecodeTokens: number
  ubatch: number
  batch: number
  threads: number
  gpuLayers: number
  flashAttention: boolean
}
