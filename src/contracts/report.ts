// Everything above → Report (report.json): provenance, models, summary, gate, shards, baseline.

import type { GateResult, MemorySummary, ScenarioSummary, Thresholds } from './gate.js'
import type { HardwareProfile } from './hardware.js'
import type { MemoryFit } from './prediction.js'
import type { ModelProfile } from './profile.js'
import type { ScenarioId, ScenarioUnit } from './scenarios.js'
import type { LlamaMemoryCheck, MemoryCheck, ScenarioResult } from './verdict.js'
import type { NamedWorkload, Workload } from './workload.js'

export interface Provenance {
  llama_cpp_commit: string
  llama_cpp_build: number | null
  node_llama_cpp_version: string | null
  backend: string
  device: string
  driver: string | null
  /**
   * @asType integer
   * @minimum 0
   */
  threads: number
  runner_os: string
  /** @minimum 0 */
  wall_time_s: number
  /**
   * "k/n" when the run was shard k of n.
   * @pattern ^[1-9][0-9]{0,3}/[1-9][0-9]{0,3}$
   */
  shard: string | null
  runner_name: string | null
  /**
   * A digest of the whole corpus the run was a shard of (every ref, before sharding): shard reports of one corpus
   * carry the same one, and the aggregate refuses to mix corpora.
   */
  corpus_digest?: string
}

/** A line of a manifest file, relative to the directory the run started in (GitHub: the workspace). */
export interface ManifestLine {
  /** @minLength 1 */
  file: string
  /**
   * @asType integer
   * @minimum 1
   */
  line: number
}

export interface ModelReport {
  /** @minLength 1 */
  ref: string
  /** The named workload these rows ran (Report.workloads); absent in a run of one unnamed workload. */
  workload?: string
  /**
   * Token counts this model ran with where they differ from its workload's: the timed windows sized to the device
   * (the workload's min_window_s, from the predicted rate). The estimate was made for the same counts.
   */
  windows?: Partial<Workload>
  /**
   * The layers offloaded to the GPUs when the workload's gpu_layers is `auto`: as many as llama.cpp's own fit found
   * room for (this model's rows were predicted and run with it).
   * @asType integer
   * @minimum 0
   */
  gpu_layers?: number
  path: string
  /** The manifest line the model came from; absent for MODEL arguments and the `models` input. */
  source?: ManifestLine
  profile: ModelProfile | null
  fit: MemoryFit | null
  error: string | null
  scenarios: ScenarioResult[]
  /** Memory estimate vs llama.cpp's logged buffers, when a llama-server of this model logged them. */
  llama_memory?: LlamaMemoryCheck
  /** The memory estimate against llama.cpp's own projection (absent in reports made before it). */
  memory?: MemoryCheck
}

/** One shard's part of an aggregated report (report/aggregate.ts). */
export interface ShardProvenance {
  shard: string | null
  runner_name: string | null
  runner_os: string
  device: string
  backend: string
  llama_cpp_commit: string
  hardware_fingerprint: string
  /** @minimum 0 */
  wall_time_s: number
  models: string[]
  /** The shard's own gate, as it was written. */
  passed: boolean
  /**
   * @asType integer
   * @minimum 0
   */
  failures: number
}

/** One model × scenario observed in both this run and the baseline run (report/baseline.ts). */
export interface BaselineRow {
  ref: string
  scenario: ScenarioId
  unit: ScenarioUnit
  observed: number
  baseline_observed: number
  /** Speed change in %, in the ratio's direction: +20 is 20 % faster than the baseline, −20 is 20 % slower. */
  delta_pct: number
  /**
   * The wider of the two runs' spreads ((max − min) / median), in %: a change inside it may be noise.
   * @minimum 0
   */
  noise_band_pct: number
  /** false when neither run has two samples of this row: its noise is unknown, so it is never called a change. */
  noise_measured: boolean
  /** Slower than the baseline by more than the noise band. */
  regressed: boolean
  /** Faster than the baseline by more than the noise band. */
  improved: boolean
}

/** Why a model × scenario of this run has no BaselineRow. */
export type BaselineSkipReason = 'not-in-baseline' | 'no-observation' | 'no-baseline-observation' | 'unit-differs'

/** Report.baseline: the run this one was compared with, and the comparison. */
export interface BaselineComparison {
  /**
   * The baseline report's generated_at, llama.cpp commit, backend, device and hardware fingerprint.
   * @format date-time
   */
  generated_at: string
  llama_cpp_commit: string
  backend: string
  device: string
  hardware_fingerprint: string
  rows: BaselineRow[]
  /** This run's rows that could not be compared (models only in the baseline are not listed: shards). */
  not_compared: Array<{ ref: string; scenario: ScenarioId; reason: BaselineSkipReason }>
}

export interface Report {
  schema_version: 3
  /** @format date-time */
  generated_at: string
  tool: {
    /** @minLength 1 */
    name: string
    /** @minLength 1 */
    version: string
  }
  provenance: Provenance
  hardware: HardwareProfile
  /** The workload (with named workloads: the first one; each row's is in `workloads`). */
  workload: Workload
  /** The named workloads of the run, in the order they ran; absent: one unnamed workload (`workload`). */
  workloads?: NamedWorkload[]
  /** Per named workload: its rows' figures, as `summary` and `memory_summary` are for the whole run. */
  workload_summaries?: Record<string, { summary: Partial<Record<ScenarioId, ScenarioSummary>>; memory_summary?: MemorySummary }>
  estimator: { name: string; command: string | null }
  models: ModelReport[]
  summary: Partial<Record<ScenarioId, ScenarioSummary>>
  /** The memory gate's figures; absent when no model's memory was judged against llama.cpp's projection. */
  memory_summary?: MemorySummary
  gate: GateResult
  /** The limits `gate` was judged with (set by gate/applyGate); renderers show them next to the numbers. */
  thresholds?: Thresholds
  /** Set on an aggregate of shard reports: each shard's runner and result. */
  shards?: ShardProvenance[]
  /**
   * Models whose rows were read from the checkpoint of an earlier, interrupted run (`--resume`) with the same machine,
   * llama.cpp build, workload and estimator, instead of being measured again.
   */
  resumed?: string[]
  /** Set when the run was compared with a baseline report (`--baseline`): Δ % per model and scenario. */
  baseline?: BaselineComparison
  /**
   * Passes over the corpus (`passes`): each row's observation is the median of its passes, its spread covers every
   * pass's samples. Absent: one pass.
   * @asType integer
   * @minimum 1
   */
  passes?: number
  /** The machine's drift during the run (the sentinel) and since the probe (the re-check). Absent in older reports. */
  drift?: DriftRecord
}

/** One measurement of the sentinel: a short llama-bench decode of one probe model, at a moment of the run. */
export interface SentinelPoint {
  /** @format date-time */
  at: string
  /**
   * The pass it was measured in (0: the start of the run, before any model).
   * @asType integer
   * @minimum 0
   */
  pass: number
  /** The model measured just before it (null: the start). */
  after: string | null
  /** Decode rate, tok/s; null when the run failed (then `error`). */
  value: number | null
  error?: string
}

/** A probe fact measured again at the start of the run, the same way the probe measured it. */
export interface RecheckedFact {
  /** The fact in hardware.json it comes from. */
  fact: string
  /** What was run: the probe model and the test ("bw-Q8_0 decode 32 tokens"). */
  test: string
  unit: string
  /** The probe's median over its rounds. */
  probed: number
  /** Now; null when the run failed. */
  now: number | null
  /** now / probed − 1 (null: not measured). */
  change: number | null
}

/** How much the machine moved: since the probe (recheck), and during the run (the sentinel's series). */
export interface DriftRecord {
  /** The sentinel: the probe model and test; null when none could run (then `reason`). */
  sentinel: { part: string; test: string; unit: string } | null
  series: SentinelPoint[]
  /**
   * The series' spread, (max − min) / median; null with fewer than two values.
   * @minimum 0
   */
  range: number | null
  /** The cached probe's facts re-measured at the start; null when the probe ran in this run (or nothing to re-check). */
  recheck: { probed_at: string; facts: RecheckedFact[] } | null
  /** Why there is no sentinel or no re-check. */
  reason: string | null
}

/** How a model's rows are named wherever a run may hold them twice (named workloads): "ref · workload". */
export function rowLabel(m: { ref: string; workload?: string }): string {
  return m.workload ? `${m.ref} · ${m.workload}` : m.ref
}
