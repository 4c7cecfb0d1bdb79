// Builds complete, schema-valid Report objects from plain rows ("predicted 100 tok/s, observed 70"), running the
// real compare and gate code, so tests state expectations in the user's terms.
import { SCENARIO_UNITS } from '../../src/contracts/scenarios.js'
import type { Thresholds } from '../../src/contracts/gate.js'
import type { HardwareProfile } from '../../src/contracts/hardware.js'
import type { Observation } from '../../src/contracts/observation.js'
import type { ScenarioPrediction } from '../../src/contracts/prediction.js'
import type { ModelProfile } from '../../src/contracts/profile.js'
import type { ModelReport, Report } from '../../src/contracts/report.js'
import type { ScenarioId } from '../../src/contracts/scenarios.js'
import type { Workload } from '../../src/contracts/workload.js'
import { compareScenario } from '../../src/compare/compare.js'
import { applyGate } from '../../src/gate/apply.js'
import { compareSettingsFrom } from '../../src/gate/thresholds.js'
import { DEFAULT_THRESHOLDS } from '../../src/gate/defaults.js'
import { defaultWorkload } from '../../src/bench/workload.js'

export interface RowSpec {
  scenario: ScenarioId
  /** null: not predicted (skipped). */
  predicted: number | null
  /** null with `error`: runtime error; null without: not run. */
  observed: number | null
  /** (max − min) / median of three generated samples; default 0.02. */
  spread?: number
  /** One sample instead of three: a run that measured no noise. */
  singleSample?: boolean
  range?: [number, number]
  error?: string
  logTail?: string[]
  notPredicted?: string
  predictedBreakdown?: Record<string, number>
  observedBreakdown?: Record<string, number>
}

export interface ModelSpec {
  ref: string
  rows: RowSpec[]
  architecture?: string
  paramCount?: number
  fileType?: string
  fileBytes?: number
  error?: string | null
  doesNotFit?: boolean
}

export interface ReportOptions {
  thresholds?: Thresholds
  generatedAt?: string
  shard?: string | null
  runnerName?: string | null
  device?: string
  llamaCommit?: string
  /** A previous report to compare with (applyGate's baseline): the report gets its `baseline` section. */
  baseline?: Report
}

export const FIXTURE_DEFAULT_SPREAD = 0.02

export function makeReport(models: ModelSpec[], opts: ReportOptions = {}): Report {
  const thresholds = opts.thresholds ?? DEFAULT_THRESHOLDS
  const settings = compareSettingsFrom(thresholds)
  const modelReports: ModelReport[] = models.map((m) => {
    const fit = makeFit(m)
    return {
      ref: m.ref,
      path: `/models/${m.ref.replace(/[^A-Za-z0-9._-]+/g, '_')}.gguf`,
      profile: makeProfile(m),
      fit,
      error: m.error ?? null,
      scenarios: m.rows.map((r) => compareScenario(prediction(r), observation(r), settings, {
        scenario: r.scenario,
        reason: r.notPredicted,
        doesNotFit: m.doesNotFit,
        fitReason: fit?.reason
      }))
    }
  })
  const report: Report = {
    schema_version: 3,
    generated_at: opts.generatedAt ?? '2026-10-01T12:00:00.000Z',
    tool: { name: 'model-fit-gate', version: '0.1.0' },
    provenance: {
      llama_cpp_commit: opts.llamaCommit ?? 'de3ff81',
      llama_cpp_build: 1,
      node_llama_cpp_version: '3.22.1',
      backend: 'CPU',
      device: opts.device ?? 'AMD EPYC 7B13',
      driver: null,
      threads: 2,
      runner_os: 'Linux',
      wall_time_s: 42.5,
      shard: opts.shard ?? null,
      runner_name: opts.runnerName ?? null
    },
    hardware: makeHardware(opts.device ?? 'AMD EPYC 7B13'),
    workload: makeWorkload(),
    estimator: { name: 'builtin', command: null },
    models: modelReports,
    summary: {},
    gate: { passed: true, failures: [] }
  }
  return applyGate(report, thresholds, { baseline: opts.baseline })
}

function prediction(r: RowSpec): ScenarioPrediction | null {
  if (r.predicted === null) return null
  return {
    scenario: r.scenario,
    unit: SCENARIO_UNITS[r.scenario],
    predicted: r.predicted,
    predicted_range: r.range ?? [r.predicted * 0.75, r.predicted * 1.3],
    breakdown: r.predictedBreakdown ?? defaultBreakdown(r.scenario, r.predicted)
  }
}

function observation(r: RowSpec): Observation | null {
  if (r.observed === null && !r.error) return null
  const unit = SCENARIO_UNITS[r.scenario]
  if (r.error) {
    return {
      scenario: r.scenario,
      unit,
      observed: null,
      samples: [],
      dropped_samples: [],
      spread: null,
      breakdown: {},
      error: { reason: r.error, log_tail: r.logTail ?? ['llama_model_load: error loading model'] },
      logs: [`logs/${r.scenario}.log`],
      repeats: 3
    }
  }
  const observed = r.observed as number
  const spread = r.spread ?? FIXTURE_DEFAULT_SPREAD
  return {
    scenario: r.scenario,
    unit,
    observed,
    samples: r.singleSample ? [observed] : [observed * (1 - spread / 2), observed, observed * (1 + spread / 2)],
    dropped_samples: [],
    spread: r.singleSample ? 0 : spread,
    breakdown: r.observedBreakdown ?? defaultBreakdown(r.scenario, observed),
    error: null,
    logs: [`logs/${r.scenario}.log`],
    repeats: 3
  }
}

/** Per-token (tok/s) or per-request (ms) parts that add up to the value, as an estimator and a bench report them. */
function defaultBreakdown(scenario: ScenarioId, value: number): Record<string, number> {
  if (SCENARIO_UNITS[scenario] === 'ms') return { prefill_ms: round(value * 0.8), first_decode_ms: round(value * 0.2) }
  const perTokenMs = 1000 / value
  return { weights_ms: round(perTokenMs * 0.85), fixed_ms: round(perTokenMs * 0.15) }
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000
}

function makeFit(m: ModelSpec): ModelReport['fit'] {
  const weights = m.fileBytes ?? 150_000_000
  const total = weights + 600_000_000
  return {
    status: m.doesNotFit ? 'does-not-fit' : 'fits',
    weights_bytes: weights,
    kv_cache_bytes: 50_000_000,
    recurrent_state_bytes: 0,
    compute_bytes: 536_870_912,
    overhead_bytes: 268_435_456,
    total_bytes: total,
    usable_bytes: m.doesNotFit ? total / 2 : 6_000_000_000,
    gpu_layers_that_fit: null,
    machines_for_split: m.doesNotFit ? 2 : 1,
    reason: m.doesNotFit ? 'needs 1.5 GiB, 0.7 GiB usable' : 'fits in RAM'
  }
}

export function makeProfile(m: Pick<ModelSpec, 'architecture' | 'paramCount' | 'fileType' | 'fileBytes'>): ModelProfile {
  const fileBytes = m.fileBytes ?? 150_000_000
  const zeroGroups = { attention: 0, ffn_dense: 0, ffn_expert: 0, ffn_shared_expert: 0, embedding: 0, output: 0, norm: 0, ssm: 0, other: 0 }
  return {
    architecture: m.architecture ?? 'llama',
    model_class: 'causal-lm',
    file_type: m.fileType ?? 'Q8_0',
    shards: 1,
    file_bytes: fileBytes,
    tensor_bytes: fileBytes - 1_000_000,
    tensor_count: 272,
    param_count: m.paramCount ?? 134_515_008,
    layers: 30,
    embedding_length: 576,
    feed_forward_length: 1536,
    expert_feed_forward_length: 0,
    heads: 9,
    kv_heads: 3,
    key_length: 64,
    value_length: 64,
    expert_count: 0,
    expert_used_count: 0,
    shared_expert_count: 0,
    shared_expert_feed_forward_length: 0,
    vocab_size: 49152,
    context_length: 8192,
    bytes_by_group: { ...zeroGroups, attention: fileBytes / 4, ffn_dense: fileBytes / 2, embedding: fileBytes / 4 },
    bytes_by_type: { Q8_0: fileBytes },
    active_bytes_per_token: fileBytes * 0.8,
    active_bytes_by_type: { Q8_0: fileBytes * 0.8 },
    flops_per_token: 2 * (m.paramCount ?? 134_515_008),
    attention_flops_per_token_per_depth: 4 * 30 * 576,
    kv_bytes_per_token_f16: 2 * 30 * 3 * 64 * 2,
    layer_plan: {
      full_attention_layers: 30,
      sliding_attention_layers: 0,
      sliding_window: 0,
      recurrent_layers: 0,
      full_k_elements: 30 * 3 * 64,
      full_v_elements: 30 * 3 * 64,
      sliding_k_elements: 0,
      sliding_v_elements: 0,
      v_elements_max: 3 * 64,
      full_query_elements: 30 * 9 * 64,
      sliding_query_elements: 0,
      full_attention_flops_per_position: 4 * 30 * 576,
      sliding_attention_flops_per_position: 0,
      recurrent_state_elements: 0,
      ssm_inner_size: 0,
      ssm_conv_channels: 0,
      dense_ffn_layers: 30,
      attention_sink_layers: 0,
      mla_kv_lora_rank: 0,
      assumptions: []
    }
  }
}

export function makeHardware(device: string): HardwareProfile {
  const fact = (value: number, unit: string) => ({ value, unit, samples: [value], spread: 0 })
  return {
    schema_version: 2,
    fingerprint: `cpu-${device.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-de3ff81`,
    system: {
      os: 'linux',
      arch: 'x64',
      cpu_model: device,
      cores: 2,
      threads: 2,
      ram_total_bytes: 8_000_000_000,
      ram_available_bytes: 6_000_000_000,
      gpus: []
    },
    llama: { commit: 'de3ff81', build_number: 1, backend: 'CPU', node_llama_cpp_version: '3.22.1', bin_dir: '/tmp/llb/src/build/bin' },
    measured: {
      decode_bandwidth_bytes_per_sec: fact(30e9, 'B/s'),
      decode_bandwidth_by_type: {},
      prefill_flops_per_sec: fact(1.2e11, 'FLOP/s'),
      prefill_flops_by_type: {},
      fixed_decode_ms: fact(0.4, 'ms'),
      per_layer_decode_ms: null,
      kv_depth_ms_per_token_per_layer: {},
      prefill_depth_ms_per_token_per_layer: null,
      server_decode_overhead_ms: null,
      server_first_token_overhead_ms: null
    },
    ceilings: { memory_read_bytes_per_sec: fact(37e9, 'B/s'), peak_flops_per_sec: null },
    probe_seconds: { decode: 12.5 },
    measured_at: '2026-10-01T11:00:00.000Z'
  }
}

export function makeWorkload(): Workload {
  return defaultWorkload({ threads: 2, warm_prefix_tokens: 1024, warm_suffix_tokens: 32, gpu_layers: 0 })
}

/**
 * A small but varied report: matches, a 30 % slow model, a noisy row, a runtime error, a skipped embedding model,
 * and a ref with markup in it (to prove escaping).
 */
export function showcaseReport(opts: ReportOptions = {}): Report {
  return makeReport(
    [
      {
        ref: 'bartowski/SmolLM2-135M-Instruct-GGUF:Q8_0',
        fileType: 'Q8_0',
        paramCount: 134_515_008,
        fileBytes: 144_805_440,
        rows: [
          { scenario: 'steady_decode', predicted: 182, observed: 175 },
          { scenario: 'prefill', predicted: 2150, observed: 2010 },
          { scenario: 'first_token', predicted: 140, observed: 151 },
          { scenario: 'kv_warm_reuse', predicted: 160, observed: 152 }
        ]
      },
      {
        ref: 'unsloth/Qwen3-0.6B-GGUF:Q4_K_M',
        architecture: 'qwen3',
        fileType: 'Q4_K_M',
        paramCount: 596_049_920,
        fileBytes: 396_705_472,
        rows: [
          { scenario: 'steady_decode', predicted: 64, observed: 44.8 },
          { scenario: 'prefill', predicted: 610, observed: 540 },
          { scenario: 'first_token', predicted: 420, observed: 505 },
          { scenario: 'kv_warm_reuse', predicted: 58, observed: 40, spread: 0.31 }
        ]
      },
      {
        ref: 'local/<script>alert("x")</script>|pipe',
        fileType: 'F16',
        paramCount: 25_000_000,
        fileBytes: 52_000_000,
        rows: [
          { scenario: 'steady_decode', predicted: 400, observed: 415 },
          { scenario: 'prefill', predicted: 5200, observed: 6100 },
          { scenario: 'first_token', predicted: 60, observed: 48 },
          { scenario: 'kv_warm_reuse', predicted: 350, observed: null, error: 'llama-server exited with code 1', logTail: ['srv  load_model: failed', 'main: exiting due to model loading error'] }
        ]
      },
      {
        ref: 'nomic-ai/nomic-embed-text-v1.5-GGUF:Q8_0',
        architecture: 'nomic-bert',
        paramCount: 136_731_648,
        fileBytes: 146_146_432,
        rows: [
          { scenario: 'steady_decode', predicted: null, observed: null, notPredicted: 'embedding model: no decode' },
          { scenario: 'prefill', predicted: 3900, observed: 3810 }
        ]
      },
      {
        ref: 'synthetic/llama-q4_0-40m.gguf',
        fileType: 'Q4_0',
        paramCount: 40_000_000,
        fileBytes: 24_000_000,
        rows: [
          { scenario: 'steady_decode', predicted: 950, observed: 1010 },
          { scenario: 'prefill', predicted: 9800, observed: 9300 },
          { scenario: 'first_token', predicted: 28, observed: 30.5 },
          { scenario: 'kv_warm_reuse', predicted: 800, observed: 870 }
        ]
      }
    ],
    opts
  )
}
