// The probe → HardwareProfile (hardware.json): the machine and llama.cpp build, measured.

/** A measured quantity with the samples it came from. spread = (max − min) / median. */
export interface MeasuredFact {
  value: number
  /** @minLength 1 */
  unit: string
  samples: number[]
  /** @minimum 0 */
  spread: number
}

/** A measured rate (bytes/s, FLOP/s, an efficiency ratio): a rate of zero or less is no measurement at all. */
export interface RateFact extends MeasuredFact {
  /** @exclusiveMinimum 0 */
  value: number
}

/** A measured cost beyond the rates (ms, ns per unit): the probe fits these non-negative; a negative one is corrupt. */
export interface CostFact extends MeasuredFact {
  /** @minimum 0 */
  value: number
}

export interface GpuInfo {
  name: string
  /** @minimum 0 */
  memory_total_bytes: number | null
  /** @minimum 0 */
  memory_free_bytes: number | null
  driver: string | null
  compute_capability: string | null
}

/** See HardwareProfile.measured.kv_depth_coefficients. */
export interface KvDepthCoefficients {
  /** ns per query element (heads × key length) per KV position per layer: the QK^T and AV arithmetic. */
  ns_per_query_element_token: MeasuredFact
  /** ns per byte of one position's K and V row per layer: reading the cache. */
  ns_per_kv_byte_token: MeasuredFact
}

/** See HardwareProfile.measured.prefill_attention_coefficients: per prompt token, per KV position, per layer. */
export interface PrefillAttentionCoefficients {
  /** ns per query head (softmax, masking: work per score). */
  ns_per_head_token_position: MeasuredFact
  /** ns per query element (heads × key length: the QK^T and AV products). */
  ns_per_query_element_token_position: MeasuredFact
}

/** A device as llama.cpp lists it, in its order (the order its loader splits layers in). */
export interface LlamaDevice {
  /**
   * llama.cpp's name for it ("CUDA0", "MTL0", "Vulkan0"): the name its memory projection prints.
   * @minLength 1
   */
  name: string
  description: string
  /**
   * Memory, bytes, as llama.cpp reads it (whole MiB): for Metal the recommended working-set size, not the RAM.
   * @minimum 0
   */
  total_bytes: number
  /**
   * Free memory, bytes, when the run started (Metal: the working-set size less what is allocated).
   * @minimum 0
   */
  free_bytes: number
}

export interface LlamaBuildInfo {
  /** @minLength 1 */
  commit: string
  build_number: number | null
  /**
   * Backend llama.cpp reports in use ("CPU", "CUDA", "Metal", …).
   * @minLength 1
   */
  backend: string
  /** node-llama-cpp package version whose bundle was built (the upstream release number is not in it). */
  node_llama_cpp_version: string | null
  /**
   * Weight types this build's CPU backend repacks on this CPU into its own layout (a CPU_REPACK buffer), measured
   * when the run starts: a header-only model per type through llama.cpp's projection. Where the output head is tied
   * to the token table and of such a type, the CPU keeps a repacked copy of it beside the mapped table. Absent:
   * not measured.
   */
  repacked_types?: string[]
  bin_dir: string
}

/**
 * What moving work between devices costs, measured by a GPU machine's probe (a probe model split between the CPU and
 * the GPU): the estimator's law for partial offload and several GPUs (fit/split-speed.ts, docs/estimator.md).
 */
export interface OffloadFacts {
  /**
   * Bytes per second llama.cpp's copies between the host and the GPU reach: the activations handed from one device to
   * the next, and in a prefill ubatch of at least 32 tokens the weights of the layers kept in host memory, which
   * llama.cpp's scheduler copies to the GPU every ubatch to multiply them there (the op offload).
   */
  bus_bytes_per_sec: RateFact
  /**
   * Fixed cost of one hand-off between two devices (a change of device along the layer order, or a KV store of a
   * host-resident layer during the op offload), ms: the copy's launch, the synchronisation, the other device's start.
   * GPU↔GPU hand-offs are costed alike.
   */
  handoff_ms: CostFact
}

/** A directly measured fact whose probe rounds disagreed beyond the target, even after its part was re-measured. */
export interface NoisyFact {
  /** Its path in hardware.json ("measured.prefill_flops_by_type.Q5_K"). */
  fact: string
  /** @minimum 0 */
  spread: number
  /**
   * @asType integer
   * @minimum 0
   */
  samples: number
}

/** A probe part that failed: the probe goes on without it, and every report that uses the profile names it. */
export interface ProbeFailure {
  /**
   * The probe model id (e.g. "pf-Q8_0").
   * @minLength 1
   */
  part: string
  /** Where it failed; 'budget': the plan left it out (disk or time), nothing failed. */
  stage: 'write' | 'quantize' | 'run' | 'budget'
  /** llama.cpp's or the system's own words, shortened. */
  reason: string
  /** The facts it would have measured (hardware.json paths, e.g. "measured.prefill_flops_by_type.Q8_0"). */
  facts: string[]
  /** What the estimator uses instead, in words (e.g. "Q4_0's measured rate"). */
  stand_in: string
}

/** One size of the cache sweep: all threads reading a buffer of `bytes` again and again. */
export interface CacheSweepPoint {
  /** @exclusiveMinimum 0 */
  bytes: number
  /** @exclusiveMinimum 0 */
  read_bytes_per_sec: number
}

export interface HardwareProfile {
  schema_version: 2
  /** @minLength 1 */
  fingerprint: string
  system: {
    os: string
    arch: string
    cpu_model: string
    /**
     * @asType integer
     * @minimum 1
     */
    cores: number
    /**
     * @asType integer
     * @minimum 1
     */
    threads: number
    /** @minimum 0 */
    ram_total_bytes: number
    /** @minimum 0 */
    ram_available_bytes: number
    /**
     * The cache a weight stream can use, bytes: the measured knee of the read sweep (ceilings.cache_sweep), bounded by
     * the reported size; the reported size when no knee was measured (cache_source says which). The estimator's cache
     * rule and the probe's model sizes use it. Absent in old profiles.
     * @minimum 0
     */
    cache_bytes?: number
    /**
     * Data-cache bytes of all levels as the OS reports them, each shared instance once; 0 when unknown.
     * @minimum 0
     */
    cache_reported_bytes?: number
    /** Where cache_bytes came from: the sweep's knee, the OS's report, or a default (neither known). */
    cache_source?: 'measured' | 'reported' | 'default'
    gpus: GpuInfo[]
    /**
     * The devices llama.cpp itself lists (`--list-devices`), with the memory it reads for them, taken when the run
     * starts (not when the probe ran): the budgets of the memory fit and the layer split. Absent in a probe's own
     * profile and on a llama.cpp without the tool.
     */
    llama_devices?: LlamaDevice[]
  }
  llama: LlamaBuildInfo
  /**
   * Facts measured through llama.cpp. Keys of maps are GGML type names. Absent in a memory-only run's profile (the
   * system and llama.cpp's devices, no speed measured): then no speed is predicted.
   */
  measured?: MeasuredFacts
  /**
   * On a GPU machine: the CPU's own facts, measured like `measured` with every layer on the CPU (`-ngl 0`; prefill
   * with the op offload off): what the layers a partial offload keeps in host memory cost. A shorter set (F16 and
   * Q8_0 rates; no server, MoE prefill, recurrent scan or prefill attention facts, whose fallbacks fit/rates.ts
   * states). Absent on a CPU machine (there `measured` is the CPU's) and in profiles made before it: then partial
   * offload is not predicted.
   */
  measured_host?: MeasuredFacts
  /** On a GPU machine: the cost of moving work between devices. Absent on a CPU machine and in older profiles. */
  measured_offload?: OffloadFacts
  /** Physical ceilings, for context only (the estimator uses `measured`). */
  ceilings: {
    memory_read_bytes_per_sec: MeasuredFact | null
    peak_flops_per_sec: MeasuredFact | null
    /** All-thread read rate by buffer size, from inside the caches to the memory-rate buffer. */
    cache_sweep?: CacheSweepPoint[]
    /**
     * Smallest swept size from which the read rate stays at the memory rate; null when the sweep shows none.
     * @exclusiveMinimum 0
     */
    cache_knee_bytes?: number | null
  }
  /**
   * Probe models that could not be written, quantized, loaded or timed: the facts they would have given and what the
   * estimator uses instead. Absent or empty when every part measured.
   */
  probe_failures?: ProbeFailure[]
  /**
   * Facts whose rounds disagreed beyond the probe's target (10 %) even after their part was re-measured: the machine
   * was busy. Such a profile is not reused from the cache (the next run probes again); rows whose estimate these
   * facts move beyond the tolerance are inconclusive-noisy. Absent: every directly measured fact is sound.
   */
  noisy_facts?: NoisyFact[]
  /** Seconds each probe part took, for the log and report. */
  probe_seconds: Record<string, number>
  /**
   * ISO time the probe ran; passed in as data.
   * @format date-time
   */
  measured_at: string
}

/**
 * The facts measured through llama.cpp on one device (HardwareProfile.measured: the device the probe ran on;
 * HardwareProfile.measured_host: a GPU machine's CPU). Keys of maps are GGML type names.
 */
export interface MeasuredFacts {
  decode_bandwidth_bytes_per_sec: RateFact
  /** @propertyNames {"pattern": "^[A-Za-z0-9_+.-]+$"} */
  decode_bandwidth_by_type: Record<string, RateFact>
  /** Decode bandwidth of a probe model whose weights fit in the caches (small models stream from cache). */
  decode_cached_bandwidth_bytes_per_sec?: RateFact | null
  /**
   * The same per weight type: compute-bound types gain less from the caches than F16 does.
   * @propertyNames {"pattern": "^[A-Za-z0-9_+.-]+$"}
   */
  decode_cached_bandwidth_by_type?: Record<string, RateFact>
  prefill_flops_per_sec: RateFact
  /** @propertyNames {"pattern": "^[A-Za-z0-9_+.-]+$"} */
  prefill_flops_by_type: Record<string, RateFact>
  /**
   * Prefill cost per matrix row per prompt token beyond its FLOPs (the row-wise kernels' per-dot work), ns, per
   * weight type: wide models prefill at a higher FLOP rate than narrow ones.
   * @propertyNames {"pattern": "^[A-Za-z0-9_+.-]+$"}
   */
  prefill_ns_per_row_token_by_type?: Record<string, MeasuredFact>
  fixed_decode_ms: CostFact | null
  per_layer_decode_ms: CostFact | null
  /**
   * Cost of one matrix row in a decode step beyond its bytes (the dot product's setup and reduction), ns, per
   * weight type: why wide models stream their weights faster than narrow ones of the same size.
   * @propertyNames {"pattern": "^[A-Za-z0-9_+.-]+$"}
   */
  decode_ns_per_row_by_type?: Record<string, MeasuredFact>
  /**
   * Decode slowdown per token of context per layer, in ms, by KV cache type ("f16", "q8_0").
   * @propertyNames {"pattern": "^[A-Za-z0-9_+.-]+$"}
   */
  kv_depth_ms_per_token_per_layer: Record<string, MeasuredFact>
  /**
   * The attention-at-depth cost of decode as a law over geometry, per KV key (as kv_depth_ms_per_token_per_layer): per
   * KV position and per layer, ns per query element (heads × key length) + ns per byte of K and V.
   */
  kv_depth_coefficients?: Record<string, KvDepthCoefficients>
  /** Prefill slowdown with prompt length: extra ms per token per token of prompt, per layer. */
  prefill_depth_ms_per_token_per_layer: MeasuredFact | null
  /** Attention cost inside a prefill ubatch as a law over geometry (fitted on two probe geometries). */
  prefill_attention_coefficients?: PrefillAttentionCoefficients | null
  /**
   * The same law per KV key other than the profile's own ("q8_0+fa": a quantized cache with flash attention, whose
   * kernel attends token by token): measured at depth like the plain one. Absent: every key uses the plain law.
   */
  prefill_attention_by_kv?: Record<string, PrefillAttentionCoefficients>
  /**
   * Prefill cost of a recurrent layer's scan (Mamba's ssm_scan, the state updated token by token), ns per element of
   * the recurrent state and prompt token; measured on the probe's Mamba-2 model. Absent in profiles made before it.
   */
  ssm_scan_ns_per_state_element_token?: CostFact | null
  /** Extra decode ms per MoE layer over a dense layer reading the same bytes (router, top-k, gathers). */
  moe_decode_extra_per_layer_ms?: CostFact | null
  /**
   * Prefill rate of expert matmuls (llama.cpp's mul_mat_id) relative to the dense rate of the same weight type:
   * the kernels differ (dense F16 and Q8_0 use tiled GEMMs, expert products row-wise dot products), so it is
   * measured per type.
   * @propertyNames {"pattern": "^[A-Za-z0-9_+.-]+$"}
   */
  moe_prefill_efficiency_by_type?: Record<string, RateFact>
  /** Extra per-token cost of the server path over llama-bench's (HTTP, sampling), ms. */
  server_decode_overhead_ms: CostFact | null
  /** The vocabulary-proportional part of the server's per-token cost (sampling over the logits), ns per entry. */
  server_sampler_ns_per_vocab_entry?: CostFact | null
  /** Extra ms of the server's prompt_ms over llama-bench's prefill of the same prompt (first-token sampling…). */
  server_prompt_overhead_ms?: CostFact | null
  /** Extra time on the server path between end of prefill and first token, ms. */
  server_first_token_overhead_ms: CostFact | null
}
