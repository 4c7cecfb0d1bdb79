// ModelProfile × HardwareProfile × Workload → Prediction: the memory fit and the four scenario estimates.

import type { ScenarioId, ScenarioUnit } from './scenarios.js'

export type FitStatus = 'fits' | 'fits-with-warning' | 'does-not-fit'

export interface MemoryFit {
  status: FitStatus
  weightsBytes: number
  kvCacheBytes: number
  computeBytes: number
  overheadBytes: number
  totalBytes: number
  usableBytes: number
  /** Layers that fit on the GPU when the whole model does not (partial offload); null on CPU-only. */
  gpuLayersThatFit: number | null
  /** Machines of this kind a layer split would need. */
  machinesForSplit: number
  reason: string
}

export interface ScenarioPrediction {
  scenario: ScenarioId
  unit: ScenarioUnit
  predicted: number
  predictedRange: [number, number]
  /** Named parts of the estimate (ms or tok/s), shown next to the observed breakdown. */
  breakdown: Record<string, number>
}

export interface Prediction {
  fit: MemoryFit
  scenarios: ScenarioPrediction[]
  /** Why a scenario is not predicted (embedding model, does not fit). */
  notPredicted: Partial<Record<ScenarioId, string>>
}
