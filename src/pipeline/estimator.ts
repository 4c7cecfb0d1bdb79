import type { HardwareProfile } from '../contracts/hardware.js'
import type { Prediction } from '../contracts/prediction.js'
import type { ModelProfile } from '../contracts/profile.js'
import type { ScenarioId } from '../contracts/scenarios.js'
import type { Workload } from '../contracts/workload.js'

export interface EstimatorInput {
  ref: string
  profile: ModelProfile
}

/**
 * Where predictions come from: our own pure estimator, or a team's estimator run as a command (issue 7).
 * Either way the estimator sees the profile and hardware only — never the observations.
 */
export interface Estimator {
  readonly name: string
  readonly command: string | null
  predict(models: EstimatorInput[], hardware: HardwareProfile, workload: Workload, scenarios: ScenarioId[]): Promise<Map<string, Prediction>>
}
