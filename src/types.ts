// The data that flows along the pipeline:
// manifest → model files → ModelProfile → Prediction → Observation → Verdict → GateResult → report.
// Every stage folder imports its inputs and outputs from here, so the contracts live in one place.
// Units are in the names (Bytes, Ms, TokPerSec, Pct). The report's own keys are snake_case; the stage contracts it
// embeds (ModelProfile, MemoryFit, HardwareProfile, Workload) keep their camelCase keys. The in-memory shapes below
// are the same objects.

export const SCENARIO_IDS = ['steady_decode', 'prefill', 'first_token', 'kv_warm_reuse'] as const
export type ScenarioId = (typeof SCENARIO_IDS)[number]
export type ScenarioUnit = 'tok/s' | 'ms'
export const SCENARIO_UNITS: Record<ScenarioId, ScenarioUnit> = {
  steady_decode: 'tok/s',
  prefill: 'tok/s',
  first_token: 'ms',
  kv_warm_reuse: 'tok/s'
}

export const VERDICTS = [
  'match',
  'slower-than-fit',
  'faster-than-fit',
  'inconclusive-noisy',
  'runtime-error',
  'skipped',
  'does-not-fit'
] as const
export type Verdict = (typeof VERDICTS)[number]

// ---------------------------------------------------------------------------------------------
// Manifest and model sources
// ---------------------------------------------------------------------------------------------

/** One line of a manifest, parsed. `line` is 1-based, `file` the manifest path (or '<input>'). */
export type ModelRef =
  | { kind: 'hf'; ref: string; repo: string; quant?: string; revision?: string; file: string; line: number }
  | { kind: 'local'; ref: string; path: string; file: string; line: number }
  /** An http(s) URL to a .gguf (MODEL arguments only; manifests list Hub refs and paths). */
  | { kind: 'url'; ref: string; url: string; file: string; line: number }

/** A model whose bytes are on disk (all shards, first one first). */
export interface ResolvedModel {
  ref: string
  paths: string[]
}

// ---------------------------------------------------------------------------------------------
// GGUF and the model profile
// ---------------------------------------------------------------------------------------------

export const TENSOR_GROUPS = [
  'attention',
  'ffn_dense',
  'ffn_expert',
  'ffn_shared_expert',
  'embedding',
  'output',
  'norm',
  'ssm',
  'other'
] as const
export type TensorGroup = (typeof TENSOR_GROUPS)[number]

export type ModelClass = 'causal-lm' | 'embedding' | 'reranker'

export interface ModelProfile {
  architecture: string
  modelClass: ModelClass
  /** general.file_type as a name (e.g. "Q4_K_M"), or null when absent. */
  fileType: string | null
  shards: number
  fileBytes: number
  tensorBytes: number
  tensorCount: number
  paramCount: number
  layers: number
  embeddingLength: number
  feedForwardLength: number
  /** Per-expert FFN width for MoE models (expert_feed_forward_length), else 0. */
  expertFeedForwardLength: number
  heads: number
  kvHeads: number
  keyLength: number
  valueLength: number
  expertCount: number
  expertUsedCount: number
  sharedExpertCount: number
  vocabSize: number
  contextLength: number
  bytesByGroup: Record<TensorGroup, number>
  /** GGML type name → bytes of tensors of that type. Keys sorted. */
  bytesByType: Record<string, number>
  /** Bytes read from weights per decoded token: routed experts scaled by used/total, one embedding row. */
  activeBytesPerToken: number
  /** The same, split by GGML type name. Keys sorted. */
  activeBytesByType: Record<string, number>
  /** Matmul FLOPs per token over weights (2 × active matmul parameters), without attention scores. */
  flopsPerToken: number
  /** Attention FLOPs per token per token of context (QK^T and AV over all layers). */
  attentionFlopsPerTokenPerDepth: number
  /** KV cache bytes per token of context at F16 K and V (use kvBytesPerToken() for other types). */
  kvBytesPerTokenF16: number
}

// ---------------------------------------------------------------------------------------------
// Hardware
// ---------------------------------------------------------------------------------------------

/** A measured quantity with the samples it came from. spread = (max − min) / median. */
export interface MeasuredFact {
  value: number
  unit: string
  samples: number[]
  spread: number
}

export interface GpuInfo {
  name: string
  memoryTotalBytes: number | null
  memoryFreeBytes: number | null
  driver: string | null
  computeCapability: string | null
}

/** See HardwareProfile.measured.kvDepthCoefficients. */
export interface KvDepthCoefficients {
  /** ns per query element (heads × key length) per KV position per layer: the QK^T and AV arithmetic. */
  nsPerQueryElementToken: MeasuredFact
  /** ns per byte of one position's K and V row per layer: reading the cache. */
  nsPerKvByteToken: MeasuredFact
}

/** See HardwareProfile.measured.prefillAttentionCoefficients: per prompt token, per KV position, per layer. */
export interface PrefillAttentionCoefficients {
  /** ns per query head (softmax, masking: work per score). */
  nsPerHeadTokenPosition: MeasuredFact
  /** ns per query element (heads × key length: the QK^T and AV products). */
  nsPerQueryElementTokenPosition: MeasuredFact
}

export interface LlamaBuildInfo {
  commit: string
  buildNumber: number | null
  /** Backend llama.cpp reports in use ("CPU", "CUDA", "Metal", …). */
  backend: string
  /** node-llama-cpp package version whose bundle was built (the upstream release number is not in it). */
  nodeLlamaCppVersion: string | null
  binDir: string
}

/** A probe part that failed: the probe goes on without it, and every report that uses the profile names it. */
export interface ProbeFailure {
  /** The probe model id (e.g. "pf-Q8_0"). */
  part: string
  /** Where it failed; 'budget': the plan left it out (disk or time), nothing failed. */
  stage: 'write' | 'quantize' | 'run' | 'budget'
  /** llama.cpp's or the system's own words, shortened. */
  reason: string
  /** The facts it would have measured (hardware.json paths, e.g. "measured.prefillFlopsByType.Q8_0"). */
  facts: string[]
  /** What the estimator uses instead, in words (e.g. "Q4_0's measured rate"). */
  standIn: string
}

/** One size of the cache sweep: all threads reading a buffer of `bytes` again and again. */
export interface CacheSweepPoint {
  bytes: number
  readBytesPerSec: number
}

export interface HardwareProfile {
  schema_version: 1
  fingerprint: string
  system: {
    os: string
    arch: string
    cpuModel: string
    cores: number
    threads: number
    ramTotalBytes: number
    ramAvailableBytes: number
    /**
     * The cache a weight stream can use, bytes: the measured knee of the read sweep (ceilings.cacheSweep), bounded by
     * the reported size; the reported size when no knee was measured (cacheSource says which). The estimator's cache
     * rule and the probe's model sizes use it. Absent in old profiles.
     */
    cacheBytes?: number
    /** Data-cache bytes of all levels as the OS reports them, each shared instance once; 0 when unknown. */
    cacheReportedBytes?: number
    /** Where cacheBytes came from: the sweep's knee, the OS's report, or a default (neither known). */
    cacheSource?: 'measured' | 'reported' | 'default'
    gpus: GpuInfo[]
  }
  llama: LlamaBuildInfo
  /** Facts measured through llama.cpp. Keys of maps are GGML type names. */
  measured: {
    decodeBandwidthBytesPerSec: MeasuredFact
    decodeBandwidthByType: Record<string, MeasuredFact>
    /** Decode bandwidth of a probe model whose weights fit in the caches (small models stream from cache). */
    decodeCachedBandwidthBytesPerSec?: MeasuredFact | null
    /** The same per weight type: compute-bound types gain less from the caches than F16 does. */
    decodeCachedBandwidthByType?: Record<string, MeasuredFact>
    prefillFlopsPerSec: MeasuredFact
    prefillFlopsByType: Record<string, MeasuredFact>
    /**
     * Prefill cost per matrix row per prompt token beyond its FLOPs (the row-wise kernels' per-dot work), ns, per
     * weight type: wide models prefill at a higher FLOP rate than narrow ones.
     */
    prefillNsPerRowTokenByType?: Record<string, MeasuredFact>
    fixedDecodeMs: MeasuredFact | null
    perLayerDecodeMs: MeasuredFact | null
    /**
     * Cost of one matrix row in a decode step beyond its bytes (the dot product's setup and reduction), ns, per
     * weight type: why wide models stream their weights faster than narrow ones of the same size.
     */
    decodeNsPerRowByType?: Record<string, MeasuredFact>
    /** Decode slowdown per token of context per layer, in ms, by KV cache type ("f16", "q8_0"). */
    kvDepthMsPerTokenPerLayer: Record<string, MeasuredFact>
    /**
     * The attention-at-depth cost of decode as a law over geometry, per KV key (as kvDepthMsPerTokenPerLayer): per
     * KV position and per layer, ns per query element (heads × key length) + ns per byte of K and V.
     */
    kvDepthCoefficients?: Record<string, KvDepthCoefficients>
    /** Prefill slowdown with prompt length: extra ms per token per token of prompt, per layer. */
    prefillDepthMsPerTokenPerLayer: MeasuredFact | null
    /** Attention cost inside a prefill ubatch as a law over geometry (fitted on two probe geometries). */
    prefillAttentionCoefficients?: PrefillAttentionCoefficients | null
    /** Extra decode ms per MoE layer over a dense layer reading the same bytes (router, top-k, gathers). */
    moeDecodeExtraPerLayerMs?: MeasuredFact | null
    /**
     * Prefill rate of expert matmuls (llama.cpp's mul_mat_id) relative to the dense rate of the same weight type:
     * the kernels differ (dense F16 and Q8_0 use tiled GEMMs, expert products row-wise dot products), so it is
     * measured per type.
     */
    moePrefillEfficiencyByType?: Record<string, MeasuredFact>
    /** Extra per-token cost of the server path over llama-bench's (HTTP, sampling), ms. */
    serverDecodeOverheadMs: MeasuredFact | null
    /** The vocabulary-proportional part of the server's per-token cost (sampling over the logits), ns per entry. */
    serverSamplerNsPerVocabEntry?: MeasuredFact | null
    /** Extra ms of the server's prompt_ms over llama-bench's prefill of the same prompt (first-token sampling…). */
    serverPromptOverheadMs?: MeasuredFact | null
    /** Extra time on the server path between end of prefill and first token, ms. */
    serverFirstTokenOverheadMs: MeasuredFact | null
  }
  /** Physical ceilings, for context only (the estimator uses `measured`). */
  ceilings: {
    memoryReadBytesPerSec: MeasuredFact | null
    peakFlopsPerSec: MeasuredFact | null
    /** All-thread read rate by buffer size, from inside the caches to the memory-rate buffer. */
    cacheSweep?: CacheSweepPoint[]
    /** Smallest swept size from which the read rate stays at the memory rate; null when the sweep shows none. */
    cacheKneeBytes?: number | null
  }
  /**
   * Probe models that could not be written, quantized, loaded or timed: the facts they would have given and what the
   * estimator uses instead. Absent or empty when every part measured.
   */
  probeFailures?: ProbeFailure[]
  /** Seconds each probe part took, for the log and report. */
  probeSeconds: Record<string, number>
  /** ISO time the probe ran; passed in as data. */
  measuredAt: string
}

// ---------------------------------------------------------------------------------------------
// Workload and prediction
// ---------------------------------------------------------------------------------------------

/** What the scenarios run: the same workload is handed to the estimator and the bench. */
export interface Workload {
  /** Context size the model is loaded with (KV cache size). */
  contextTokens: number
  kvType: string
  /** Depth at which steady decode is measured (llama-bench -d). */
  decodeDepth: number
  decodeTokens: number
  prefillTokens: number
  /** Prompt length for first_token. */
  firstTokenPromptTokens: number
  /** kv_warm_reuse: cached prefix length and new suffix length. */
  warmPrefixTokens: number
  warmSuffixTokens: number
  warmDecodeTokens: number
  ubatch: number
  batch: number
  threads: number
  gpuLayers: number
  flashAttention: boolean
}

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

// ---------------------------------------------------------------------------------------------
// Observation (bench) and verdicts (compare)
// ---------------------------------------------------------------------------------------------

export interface Observation {
  scenario: ScenarioId
  unit: ScenarioUnit
  /** Median of the kept samples; null when the run failed. */
  observed: number | null
  samples: number[]
  /** Samples dropped by the single-outlier rule. */
  droppedSamples: number[]
  spread: number | null
  /** Measured breakdown (e.g. prefill_ms, first_decode_ms, unattributed_ms, cache_n). */
  breakdown: Record<string, number>
  error: { reason: string; logTail: string[] } | null
  /** Paths of the llama.cpp logs of this observation, relative to the artifacts dir. */
  logs: string[]
  repeats: number
}

/** Everything one model's scenarios produced: the observations, and what llama-server logged when it loaded. */
export interface ModelRun {
  observations: Observation[]
  /** llama.cpp's buffer sizes from the server's load (null without a server scenario, or a server that logged none). */
  llamaMemory: LlamaBufferSizes | null
}

/** llama.cpp's own account of its memory at load, bytes summed over devices per kind (null: not in the log). */
export interface LlamaBufferSizes {
  modelBytes: number | null
  kvBytes: number | null
  computeBytes: number | null
  outputBytes: number | null
  /** Each parsed line's device and kind, for display. */
  buffers: { device: string; kind: 'model' | 'kv' | 'compute' | 'output'; bytes: number }[]
}

/** The memory estimate beside what llama.cpp logged for the same model and context (report: llama_memory). */
export interface LlamaMemoryCheck {
  logged: { model_bytes: number | null; kv_bytes: number | null; compute_bytes: number | null }
  estimated: { model_bytes: number; kv_bytes: number; compute_bytes: number }
  /** (estimate − logged) / logged, %; null where the log lacks the buffer. */
  error_pct: { model: number | null; kv: number | null; compute: number | null }
}

export interface ScenarioResult {
  scenario: ScenarioId
  unit: ScenarioUnit
  predicted: number | null
  predicted_range: [number, number] | null
  observed: number | null
  samples: number[]
  spread: number | null
  /** observed / predicted for tok/s; for first_token (ms) predicted / observed, so > 1 always means faster. */
  ratio: number | null
  abs_error_pct: number | null
  verdict: Verdict
  detail: {
    reason?: string
    predicted_breakdown?: Record<string, number>
    observed_breakdown?: Record<string, number>
    dropped_samples?: number[]
    log_tail?: string[]
    logs?: string[]
    repeats?: number
  }
}

export interface CompareSettings {
  /** |ratio − 1| at or under this (fraction) is a match. */
  tolerance: number
  /** spread above this (fraction) is inconclusive-noisy. */
  maxSpread: number
}

// ---------------------------------------------------------------------------------------------
// Thresholds and gate
// ---------------------------------------------------------------------------------------------

export interface ScenarioThresholds {
  max_median_abs_error_pct: number
  max_abs_error_pct: number
  max_noisy: number
}

export interface Thresholds {
  tolerance_pct: number
  max_spread_pct: number
  min_models: number
  max_runtime_errors: number
  max_regression_pct?: number
  scenarios: Partial<Record<ScenarioId, ScenarioThresholds>>
}

export interface GateFailure {
  scenario: ScenarioId | null
  model: string | null
  limit: string
  value: number
  message: string
}

export interface GateResult {
  passed: boolean
  failures: GateFailure[]
}

export interface ScenarioSummary {
  samples: number
  gated: number
  noisy: number
  runtime_errors: number
  median_abs_error_pct: number | null
  max_abs_error_pct: number | null
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

export interface Provenance {
  llama_cpp_commit: string
  llama_cpp_build: number | null
  node_llama_cpp_version: string | null
  backend: string
  device: string
  driver: string | null
  threads: number
  runner_os: string
  wall_time_s: number
  shard: string | null
  runner_name: string | null
}

export interface ModelReport {
  ref: string
  path: string
  profile: ModelProfile | null
  fit: MemoryFit | null
  error: string | null
  scenarios: ScenarioResult[]
  /** Memory estimate vs llama.cpp's logged buffers, when a llama-server of this model logged them. */
  llama_memory?: LlamaMemoryCheck
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
  wall_time_s: number
  models: string[]
  /** The shard's own gate, as it was written. */
  passed: boolean
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
  /** The wider of the two runs' spreads ((max − min) / median), in %: a change inside it may be noise. */
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
  /** The baseline report's generated_at, llama.cpp commit, backend, device and hardware fingerprint. */
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
  schema_version: 1
  generated_at: string
  tool: { name: string; version: string }
  provenance: Provenance
  hardware: HardwareProfile
  workload: Workload
  estimator: { name: string; command: string | null }
  models: ModelReport[]
  summary: Partial<Record<ScenarioId, ScenarioSummary>>
  gate: GateResult
  /** The limits `gate` was judged with (set by gate/applyGate); renderers show them next to the numbers. */
  thresholds?: Thresholds
  /** Set on an aggregate of shard reports: each shard's runner and result. */
  shards?: ShardProvenance[]
  /** Set when the run was compared with a baseline report (`--baseline`): Δ % per model and scenario. */
  baseline?: BaselineComparison
}

// ---------------------------------------------------------------------------------------------
// Edges: small interfaces the core is driven through (real implementations live in their folders)
// ---------------------------------------------------------------------------------------------

/** Random-access bytes: a local file, an HTTP resource read with Range requests, or a buffer. */
export interface ByteSource {
  /** A human name for errors (path or URL). */
  readonly name: string
  size(): Promise<number>
  read(offset: number, length: number): Promise<Uint8Array>
  /** Bytes actually fetched so far (for header-only reads). */
  bytesRead(): number
}

export interface ArtifactSink {
  upload(name: string, files: string[], rootDir: string): Promise<{ uploaded: boolean; message: string }>
}

export interface SummarySink {
  write(markdown: string): Promise<void>
}
