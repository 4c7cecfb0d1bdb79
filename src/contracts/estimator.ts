// The external estimator's protocol (`estimator-command`): what it reads on stdin and writes on stdout. It gets the
// hardware profile, each model's GGUF profile and the workload — never an observation.

import type { HardwareProfile } from './hardware.js'
import type { ModelProfile } from './profile.js'
import type { ScenarioId } from './scenarios.js'
import type { Workload } from './workload.js'

/** @minimum 0 */
type NonNegative = number

/** What `estimator-command` reads on stdin. */
export interface EstimatorInput {
  /** The measured hardware profile (hardware.json). */
  hardware: HardwareProfile
  /** Each model's GGUF profile, by the ref its predictions must name. */
  models: EstimatorModel[]
  /** The scenarios to predict. */
  scenarios: ScenarioId[]
  /** The workload every scenario runs with. */
  workload: Workload
}

export interface EstimatorModel {
  /** @minLength 1 */
  ref: string
  profile: ModelProfile
}

/**
 * One prediction per model ref and scenario; a missing one makes that row `skipped`. Units: tok/s for steady_decode,
 * prefill and kv_warm_reuse; ms for first_token.
 */
export interface EstimatorPrediction {
  /** @minLength 1 */
  ref: string
  scenario: ScenarioId
  /** @exclusiveMinimum 0 */
  predicted: number
  /** The low and high end of the estimate, in the scenario's unit. */
  predicted_range?: [NonNegative, NonNegative]
  /** Named parts of the estimate (ms or tok/s), shown next to the observed breakdown. */
  breakdown?: Record<string, number>
  /**
   * The hardware facts whose noise moves this estimate, with how much (the estimate's spread when the fact takes its
   * lowest and its highest sample). A row that a fact moves beyond the tolerance is inconclusive-noisy, the fact named.
   */
  fact_noise?: EstimatorFactNoise[]
}

export interface EstimatorFactNoise {
  /** @minLength 1 */
  fact: string
  spread: NonNegative
  effect: NonNegative
}

/** One device's share of a model's memory ("Host" for the host's buffers; other names as llama.cpp's devices). */
export interface EstimatorDeviceMemory {
  /** @minLength 1 */
  device: string
  weights_bytes: NonNegative
  context_bytes: NonNegative
  compute_bytes: NonNegative
}

/**
 * The estimator's memory estimate of one model, judged against llama.cpp's own projection for the workload: the
 * weights, the context (KV caches and recurrent state) and the compute buffer, bytes, and whether it fits the free
 * memory of hardware.system.llama_devices (and the host's available RAM). Optional: a model without one has its
 * memory row skipped.
 */
export interface EstimatorMemory {
  /** @minLength 1 */
  ref: string
  status: 'fits' | 'fits-with-warning' | 'does-not-fit'
  weights_bytes: NonNegative
  context_bytes: NonNegative
  compute_bytes: NonNegative
  /** Per device, as llama.cpp places the buffers; absent: the totals are judged. */
  devices?: EstimatorDeviceMemory[]
}

/** What `estimator-command` writes on stdout. */
export interface EstimatorOutput {
  predictions: EstimatorPrediction[]
  /** Memory estimates, at most one per model. */
  memory?: EstimatorMemory[]
}
