// ModelProfile × HardwareProfile × Workload → Prediction: the memory fit and the four scenario estimates.

import type { ScenarioId, ScenarioUnit } from './scenarios.js'

export type FitStatus = 'fits' | 'fits-with-warning' | 'does-not-fit'

/** One device's share of a model's memory, as llama.cpp places the buffers (src/fit/devices.ts). */
export interface DeviceMemory {
  /** llama.cpp's name: "Host" for host memory (the CPU's buffers), else the device ("CUDA0", "MTL0"). */
  device: string
  /** @minimum 0 */
  weights_bytes: number
  /**
   * KV caches and recurrent state.
   * @minimum 0
   */
  context_bytes: number
  /** @minimum 0 */
  compute_bytes: number
  /**
   * What the device may use, bytes: free memory read when the run started (Metal: the working-set limit; the host:
   * available RAM); null when unknown.
   * @minimum 0
   */
  budget_bytes: number | null
  /**
   * Repeating layers it holds (the output layer counted as one more); absent from an external estimator.
   * @asType integer
   * @minimum 0
   */
  layers?: number
}

export interface MemoryFit {
  status: FitStatus
  weights_bytes: number
  /** llama.cpp's KV caches: the full-attention layers' and the sliding layers' (SWA cache). */
  kv_cache_bytes: number
  /** Recurrent state (llama.cpp's RS buffer: conv and SSM states of the recurrent layers), one sequence. */
  recurrent_state_bytes: number
  /** llama.cpp's compute buffer as its projection and llama-bench reserve it: logits for a whole ubatch. */
  compute_bytes: number
  /**
   * The compute buffer llama-server reserves (one logits row per slot): what its log is compared with. Absent in
   * reports made before it.
   */
  server_compute_bytes?: number
  overhead_bytes: number
  total_bytes: number
  usable_bytes: number
  /** Layers that fit on the GPU when the whole model does not (partial offload); null on CPU-only. */
  gpu_layers_that_fit: number | null
  /** Machines of this kind a layer split would need. */
  machines_for_split: number
  reason: string
  /**
   * The same memory per device, Host last, in the shape llama.cpp's own projection prints (llama-fit-params). Absent
   * in reports made before it, and from an external estimator that answers no memory.
   */
  devices?: DeviceMemory[]
}

export interface ScenarioPrediction {
  scenario: ScenarioId
  unit: ScenarioUnit
  predicted: number
  predicted_range: [number, number]
  /** Named parts of the estimate (ms or tok/s), shown next to the observed breakdown. */
  breakdown: Record<string, number>
  /**
   * The measured facts whose noise moves this estimate most, largest effect first (ours: those moving it by 1 % or
   * more). A row whose estimate a fact moves by more than the tolerance is inconclusive-noisy, the fact named.
   */
  fact_noise?: FactNoise[]
}

/** How much one measured fact's noise moves an estimate. */
export interface FactNoise {
  /** The fact's path in hardware.json ("measured.prefill_flops_by_type.Q4_K"). */
  fact: string
  /**
   * The fact's spread over the probe's rounds: (max − min) / median of its samples.
   * @minimum 0
   */
  spread: number
  /**
   * The estimate's spread when the fact takes its lowest and its highest sample, the rest unchanged:
   * |estimate(max) − estimate(min)| / estimate.
   * @minimum 0
   */
  effect: number
}

/** The memory estimate judged against llama.cpp's projection: the estimator's own (ours from MemoryFit). */
export interface EstimatedMemory {
  status: FitStatus
  /** @minimum 0 */
  weights_bytes: number
  /**
   * KV caches and recurrent state.
   * @minimum 0
   */
  context_bytes: number
  /** @minimum 0 */
  compute_bytes: number
  /** Per device, Host last, as llama.cpp's projection prints them; absent: only the totals are judged. */
  devices?: DeviceMemory[]
}

export interface Prediction {
  /** Our memory fit: it decides which models run (a does-not-fit model's scenarios are not run). */
  fit: MemoryFit
  /** The estimator's memory estimate, judged against llama.cpp's projection; absent: it gave none. */
  memory?: EstimatedMemory
  scenarios: ScenarioPrediction[]
  /** Why a scenario is not predicted (embedding model, does not fit). */
  not_predicted: Partial<Record<ScenarioId, string>>
}
