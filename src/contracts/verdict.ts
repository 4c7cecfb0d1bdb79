// Prediction × Observation → one row of verdicts (ScenarioResult), and the memory estimate beside llama.cpp's buffers.

import type { ScenarioId, ScenarioUnit, Verdict } from './scenarios.js'

/** The buffer sizes llama.cpp logged, bytes (null: not in the log). */
export interface LlamaMemoryBytes {
  /** @minimum 0 */
  model_bytes: number | null
  /** @minimum 0 */
  kv_bytes: number | null
  /**
   * The recurrent state (RS buffer).
   * @minimum 0
   */
  rs_bytes: number | null
  /** @minimum 0 */
  compute_bytes: number | null
  /**
   * Second copies of some weights in another layout (CPU_REPACK, AMX): shown, not compared.
   * @minimum 0
   */
  repacked_model_bytes: number | null
}

/** The memory estimate's parts that llama.cpp logs a buffer for, bytes. */
export interface LlamaMemoryEstimate {
  /** @minimum 0 */
  model_bytes: number
  /** @minimum 0 */
  kv_bytes: number
  /** @minimum 0 */
  rs_bytes: number
  /** @minimum 0 */
  compute_bytes: number
}

/** The memory estimate beside what llama.cpp logged for the same model and context (report: llama_memory). */
export interface LlamaMemoryCheck {
  logged: LlamaMemoryBytes
  estimated: LlamaMemoryEstimate
  /** (estimate − logged) / logged, %; null where the log lacks the buffer. */
  error_pct: { model: number | null; kv: number | null; state: number | null; compute: number | null }
}

export interface ScenarioResult {
  scenario: ScenarioId
  unit: ScenarioUnit
  /** @exclusiveMinimum 0 */
  predicted: number | null
  predicted_range: [number, number] | null
  /** @exclusiveMinimum 0 */
  observed: number | null
  samples: number[]
  /** @minimum 0 */
  spread: number | null
  /**
   * observed / predicted for tok/s; for first_token (ms) predicted / observed, so > 1 always means faster.
   * @exclusiveMinimum 0
   */
  ratio: number | null
  /** @minimum 0 */
  abs_error_pct: number | null
  verdict: Verdict
  detail: {
    reason?: string
    predicted_breakdown?: Record<string, number>
    observed_breakdown?: Record<string, number>
    dropped_samples?: number[]
    log_tail?: string[]
    logs?: string[]
    /**
     * @asType integer
     * @minimum 0
     */
    repeats?: number
  }
}

export interface CompareSettings {
  /** |ratio − 1| at or under this (fraction) is a match. */
  tolerance: number
  /** spread above this (fraction) is inconclusive-noisy. */
  maxSpread: number
}
