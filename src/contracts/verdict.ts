// Prediction × Observation → one row of verdicts (ScenarioResult), and the memory estimate beside llama.cpp's buffers.

import type { ScenarioId, ScenarioUnit, Verdict } from './scenarios.js'

/** The memory estimate beside what llama.cpp logged for the same model and context (report: llama_memory). */
export interface LlamaMemoryCheck {
  logged: { model_bytes: number | null; kv_bytes: number | null; compute_bytes: number | null }
  estimated: { model_bytes: number; kv_bytes: number; compute_bytes: number }
  /** (estimate − logged) / logged, %; null where the log lacks the buffer. */
  error_pct: { model: number | null; kv: number | null; compute: number | null }
}

export interface ScenarioResult {
  scenario: ScenarioId
  unit: ScenarioUnit
  predicted: number | null
  predicted_range: [number, number] | null
  observed: number | null
  samples: number[]
  spread: number | null
  /** observed / predicted for tok/s; for first_token (ms) predicted / observed, so > 1 always means faster. */
  ratio: number | null
  abs_error_pct: number | null
  verdict: Verdict
  detail: {
    reason?: string
    predicted_breakdown?: Record<string, number>
    observed_breakdown?: Record<string, number>
    dropped_samples?: number[]
    log_tail?: string[]
    logs?: string[]
    repeats?: number
  }
}

export interface CompareSettings {
  /** |ratio − 1| at or under this (fraction) is a match. */
  tolerance: number
  /** spread above this (fraction) is inconclusive-noisy. */
  maxSpread: number
}
