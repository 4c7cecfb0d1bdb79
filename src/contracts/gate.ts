// Verdicts × thresholds.yml → GateResult.

import type { ScenarioId } from './scenarios.js'
import type { Workload } from './workload.js'

export interface ScenarioThresholds {
  /**
   * Median |error| over the gated rows (match, slower-than-fit, faster-than-fit).
   * @minimum 0
   */
  max_median_abs_error_pct: number
  /**
   * Largest |error| any single gated row may have.
   * @minimum 0
   */
  max_abs_error_pct: number
  /**
   * How many inconclusive-noisy rows are tolerated (they are left out of the error statistics).
   * @asType integer
   * @minimum 0
   */
  max_noisy: number
}

/** Limits on one buffer's memory error against llama.cpp's projection. */
export interface BufferThresholds {
  /**
   * Median |error| over the models whose memory was judged.
   * @minimum 0
   */
  max_median_abs_error_pct: number
  /**
   * Largest |error| any single model may have.
   * @minimum 0
   */
  max_abs_error_pct: number
}

/** The memory gate: the estimate against llama.cpp's own projection (llama-fit-params), per buffer. */
export interface MemoryThresholds {
  weights: BufferThresholds
  /** KV caches and recurrent state. */
  context: BufferThresholds
  compute: BufferThresholds
  /** Fail a model whose fits / does-not-fit verdict llama.cpp's projection contradicts. */
  check_fit: boolean
}

/**
 * Gate limits (thresholds.yml). Percentages are plain numbers (10 means 10 %). |error| is |observed − predicted| /
 * predicted × 100 in the scenario's unit.
 */
export interface Thresholds {
  /**
   * A row whose |error| is at or under this (and inside the predicted range) is a match.
   * @minimum 0
   */
  tolerance_pct: number
  /**
   * A row whose samples spread ((max - min) / median) more than this is inconclusive-noisy.
   * @minimum 0
   */
  max_spread_pct: number
  /**
   * At least this many models must have a gated (comparable) row.
   * @asType integer
   * @minimum 0
   */
  min_models: number
  /**
   * Runtime-error rows plus models that failed before any scenario ran.
   * @asType integer
   * @minimum 0
   */
  max_runtime_errors: number
  /**
   * With a baseline report: fail a row that got slower than the baseline by more than this, beyond the measured noise.
   * @minimum 0
   */
  max_regression_pct?: number
  /** Per-scenario limits; a scenario left out is reported but not gated. */
  scenarios: Partial<Record<ScenarioId, ScenarioThresholds>>
  /** The memory gate; left out, memory is judged against llama.cpp's projection and reported but not gated. */
  memory?: MemoryThresholds
  /**
   * Named workloads, each gated in the same run (its rows name it): the keys override the built-in workload, and
   * `thresholds` the limits above for its rows. Left out: one workload, the built-in one with the run's flags.
   */
  workloads?: Record<string, WorkloadConfig>
}

/** The limits a workload may set for its own rows; what it leaves out is the file's. */
export interface WorkloadThresholds {
  /** @minimum 0 */
  tolerance_pct?: number
  /** @minimum 0 */
  max_spread_pct?: number
  /**
   * @asType integer
   * @minimum 0
   */
  min_models?: number
  /**
   * @asType integer
   * @minimum 0
   */
  max_runtime_errors?: number
  /** @minimum 0 */
  max_regression_pct?: number
  /** Replace the file's limits of these scenarios. */
  scenarios?: Partial<Record<ScenarioId, ScenarioThresholds>>
  memory?: MemoryThresholds
}

/**
 * @asType integer
 * @minimum 0
 */
type LayerCount = number
/** A layer count, or `auto`. */
export type GpuLayers = LayerCount | 'auto'

/**
 * One named workload of thresholds.yml: what llama.cpp runs (the Workload's keys; the built-in defaults for those
 * left out), which scenarios, and its limits.
 */
export interface WorkloadConfig extends Partial<Omit<Workload, 'gpu_layers'>> {
  /**
   * Layers offloaded to the GPUs (-ngl), or `auto`: as many as fit, as llama.cpp's own fit finds for each model.
   */
  gpu_layers?: GpuLayers
  /**
   * Timed windows sized to the device: the decode token counts grow (from each model's predicted rate) until each
   * timed decode window lasts at least this many seconds, within the context and at most 8× the workload's counts.
   * Absent: 0, the counts as given.
   * @minimum 0
   */
  min_window_s?: number
  /**
   * The scenarios this workload runs; absent: the run's.
   * @minItems 1
   */
  scenarios?: ScenarioId[]
  thresholds?: WorkloadThresholds
}

export interface GateFailure {
  /** The workload whose rows failed (a run of named workloads); absent: the run has one workload. */
  workload?: string
  /** The scenario, 'memory' for the memory gate, null for a run-wide limit. */
  scenario: ScenarioId | 'memory' | null
  model: string | null
  limit: string
  value: number
  message: string
}

export interface GateResult {
  passed: boolean
  failures: GateFailure[]
}

export interface ScenarioSummary {
  /**
   * @asType integer
   * @minimum 0
   */
  samples: number
  /**
   * @asType integer
   * @minimum 0
   */
  gated: number
  /**
   * @asType integer
   * @minimum 0
   */
  noisy: number
  /**
   * @asType integer
   * @minimum 0
   */
  runtime_errors: number
  /** @minimum 0 */
  median_abs_error_pct: number | null
  /** @minimum 0 */
  max_abs_error_pct: number | null
}

/** The memory rows of a run: per buffer over the models judged (match, off, wrong-fit). */
export interface MemorySummary {
  /**
   * @asType integer
   * @minimum 0
   */
  samples: number
  /**
   * @asType integer
   * @minimum 0
   */
  gated: number
  /**
   * @asType integer
   * @minimum 0
   */
  runtime_errors: number
  /**
   * Models whose fit verdict llama.cpp's projection contradicts.
   * @asType integer
   * @minimum 0
   */
  wrong_fit: number
  buffers: Record<'weights' | 'context' | 'compute', { median_abs_error_pct: number | null; max_abs_error_pct: number | null }>
}
