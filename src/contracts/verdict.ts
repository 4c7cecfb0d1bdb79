// Prediction × Observation → one row of verdicts (ScenarioResult), and the memory estimate beside llama.cpp's buffers.

import type { PassObservation } from './observation.js'
import type { EstimatedMemory, FactNoise, FitStatus } from './prediction.js'
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
    /** With several passes: each pass's observation, in pass order (observed and spread above merge them). */
    passes?: PassObservation[]
    /** The probe facts whose noise moves this prediction most (the estimator's own account, ScenarioPrediction). */
    fact_noise?: FactNoise[]
    /** The estimator's range, when the row's predicted_range was widened by a fact's noise beyond the tolerance. */
    estimator_range?: [number, number]
  }
}

export interface CompareSettings {
  /** |ratio − 1| at or under this (fraction) is a match. */
  tolerance: number
  /** spread above this (fraction) is inconclusive-noisy. */
  maxSpread: number
}

/** Bytes llama.cpp projects for one buffer, as an interval: it prints whole MiB rounded down, its log 0.01 MiB. */
export type ProjectedBytes = [number, number]

/** One device's line of llama.cpp's memory projection (llama-fit-params), "Host" for the host's buffers. */
export interface ProjectedDevice {
  device: string
  weights_bytes: ProjectedBytes
  /** KV caches and recurrent state. */
  context_bytes: ProjectedBytes
  compute_bytes: ProjectedBytes
  /**
   * Free memory of the device when the run started (the host: available RAM); null when unknown.
   * @minimum 0
   */
  free_bytes: number | null
}

/** The verdict of a model's memory estimate against llama.cpp's projection. */
export type MemoryVerdict = 'match' | 'off' | 'wrong-fit' | 'runtime-error' | 'skipped'

/** Memory error per buffer, %: signed, and counting memory estimated on the wrong device as error. */
export interface MemoryErrorPct {
  weights: number | null
  context: number | null
  compute: number | null
}

/**
 * A model's memory estimate judged against llama.cpp's own projection (src/compare/memory-projection.ts): the
 * engine's allocator run on the model's header with the workload's flags, nothing allocated.
 */
export interface MemoryCheck {
  verdict: MemoryVerdict
  /** What llama.cpp read: the model file, or a sparse copy that holds only its header at its real size. */
  source: 'file' | 'header' | null
  projected: ProjectedDevice[]
  /** The estimator's memory estimate: totals, fit, and per device where it gave them (null: it gave none). */
  estimated: EstimatedMemory | null
  error_pct: MemoryErrorPct
  fit: {
    /** The estimator's fit. */
    estimated: FitStatus | null
    /** llama.cpp's: every device's projected buffers within its free memory. */
    llama: 'fits' | 'does-not-fit' | null
    /** false: a wrong fit verdict (see docs/estimator.md for the margin zone counted as agreeing). */
    agrees: boolean | null
  }
  /** Why it was not judged, or what went wrong. */
  reason: string | null
}
