// ModelProfile × HardwareProfile × Workload → Prediction: the memory fit and the four scenario estimates.

import type { ScenarioId, ScenarioUnit } from './scenarios.js'

export type FitStatus = 'fits' | 'fits-with-warning' | 'does-not-fit'

export interface MemoryFit {
  status: FitStatus
  weights_bytes: number
  /** llama.cpp's KV caches: the full-attention layers' and the sliding layers' (SWA cache). */
  kv_cache_bytes: number
  /** Recurrent state (llama.cpp's RS buffer: conv and SSM states of the recurrent layers), one sequence. */
  recurrent_state_bytes: number
  compute_bytes: number
  overhead_bytes: number
  total_bytes: number
  usable_bytes: number
  /** Layers that fit on the GPU when the whole model does not (partial offload); null on CPU-only. */
  gpu_layers_that_fit: number | null
  /** Machines of this kind a layer split would need. */
  machines_for_split: number
  reason: string
}

export interface ScenarioPrediction {
  scenario: ScenarioId
  unit: ScenarioUnit
  predicted: number
  predicted_range: [number, number]
  /** Named parts of the estimate (ms or tok/s), shown next to the observed breakdown. */
  breakdown: Record<string, number>
}

export interface Prediction {
  fit: MemoryFit
  scenarios: ScenarioPrediction[]
  /** Why a scenario is not predicted (embedding model, does not fit). */
  not_predicted: Partial<Record<ScenarioId, string>>
}
