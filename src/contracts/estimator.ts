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
}

/** What `estimator-command` writes on stdout. */
export interface EstimatorOutput {
  predictions: EstimatorPrediction[]
}
