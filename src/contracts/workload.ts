// The workload: what the scenarios run, handed alike to the estimator and the bench.

import type { ScenarioId } from './scenarios.js'

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
   * Layers offloaded to the GPUs (llama.cpp -ngl); -1: as many as fit (`auto`), which a run resolves per model with
   * llama.cpp's own fit before anything is predicted or run (the model's report records the count).
   * @asType integer
   * @minimum -1
   */
  gpu_layers: number
  flash_attention: boolean
  /**
   * llama.cpp's -ts: each GPU's share of the offloaded layers, in its device order; absent: split by free memory.
   * @minItems 1
   */
  tensor_split?: number[]
  /** llama.cpp's -sm: how several GPUs share the model (layer: whole layers per GPU). Absent: layer. */
  split_mode?: 'none' | 'layer' | 'row'
  /**
   * llama.cpp's -mg: the GPU that holds the whole model with split mode none (and the intermediate results with row).
   * Absent: 0.
   * @asType integer
   * @minimum 0
   */
  main_gpu?: number
  /**
   * parallel_decode: llama-server slots (-np), and as many concurrent streams. Absent: 4.
   * @asType integer
   * @minimum 1
   */
  parallel_slots?: number
  /**
   * parallel_decode: each stream's prompt. Absent: 64.
   * @asType integer
   * @minimum 1
   */
  parallel_prompt_tokens?: number
  /**
   * parallel_decode: tokens each stream decodes. Absent: 64.
   * @asType integer
   * @minimum 2
   */
  parallel_decode_tokens?: number
}

/** A workload with the name a run's report rows carry (the `workloads:` section of thresholds.yml). */
export interface NamedWorkload {
  /** @pattern ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ */
  name: string
  workload: Workload
  /** The scenarios this workload runs (absent: the run's). */
  scenarios?: ScenarioId[]
}

/** parallel_decode's slots and concurrent streams when the workload names none. */
export const DEFAULT_PARALLEL_SLOTS = 4

/** parallel_decode's shape: slots, each stream's prompt and decoded tokens (the workload's, else the defaults). */
export function parallelShape(w: Workload): { slots: number; promptTokens: number; decodeTokens: number } {
  return { slots: w.parallel_slots ?? DEFAULT_PARALLEL_SLOTS, promptTokens: w.parallel_prompt_tokens ?? 64, decodeTokens: w.parallel_decode_tokens ?? 64 }
}
