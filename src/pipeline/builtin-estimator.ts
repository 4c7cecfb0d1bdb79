import { predict } from '../fit/index.js'
import type { Prediction } from '../contracts/prediction.js'
import type { Estimator } from './estimator.js'

/** Our own estimator: pure, from the GGUF profile and the measured hardware facts only. */
export function builtinEstimator(): Estimator {
  return {
    name: 'model-fit-gate',
    command: null,
    async predict(models, hardware, workload) {
      const out = new Map<string, Prediction>()
      for (const m of models) out.set(m.ref, predict(m.profile, hardware, workload))
      return out
    }
  }
}
