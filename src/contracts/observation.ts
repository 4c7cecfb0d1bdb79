// The bench → Observation: what llama.cpp did, with its repeats, spread, logs and logged buffers.

import type { ScenarioId, ScenarioUnit } from './scenarios.js'

export interface Observation {
  scenario: ScenarioId
  unit: ScenarioUnit
  /** Median of the kept samples; null when the run failed. */
  observed: number | null
  samples: number[]
  /** Samples dropped by the single-outlier rule. */
  dropped_samples: number[]
  spread: number | null
  /** Measured breakdown (e.g. prefill_ms, first_decode_ms, unattributed_ms, cache_n). */
  breakdown: Record<string, number>
  error: { reason: string; log_tail: string[] } | null
  /** Paths of the llama.cpp logs of this observation, relative to the artifacts dir. */
  logs: string[]
  repeats: number
  /** With several passes (`passes`), what each pass observed, in pass order; the fields above merge them. */
  passes?: PassObservation[]
}

/** One pass's observation of a scenario (src/bench/passes.ts). */
export interface PassObservation {
  observed: number | null
  samples: number[]
  /** @minimum 0 */
  spread: number | null
  /** Why this pass failed. */
  error?: string
}

/** Everything one model's scenarios produced: the observations, and what llama-server logged when it loaded. */
export interface ModelRun {
  observations: Observation[]
  /** llama.cpp's buffer sizes from the server's load (null without a server scenario, or a server that logged none). */
  llama_memory: LlamaBufferSizes | null
}

/** llama.cpp's own account of its memory at load, bytes summed over devices per kind (null: not in the log). */
export interface LlamaBufferSizes {
  /** The weights where they are loaded (mapped, host or device buffers): each tensor once. */
  model_bytes: number | null
  /**
   * Copies of some weights in another layout, beside the loaded ones: the CPU's repacked matrices (CPU_REPACK)
   * and Intel AMX tiles (AMX). llama.cpp logs them as model buffers too; counting them as weights would count
   * those tensors twice.
   */
  repacked_model_bytes: number | null
  kv_bytes: number | null
  /** The recurrent state (RS buffer) of recurrent and hybrid models. */
  rs_bytes: number | null
  compute_bytes: number | null
  output_bytes: number | null
  /** Each parsed line's device and kind, for display. */
  buffers: { device: string; kind: LlamaBufferKind; bytes: number }[]
}

export type LlamaBufferKind = 'model' | 'repacked_model' | 'kv' | 'rs' | 'compute' | 'output'
