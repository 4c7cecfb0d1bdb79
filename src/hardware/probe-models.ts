// The probe's own synthetic models: fixed geometries where the device does not matter, and bandwidth models sized
// from the device — its measured cache (CPU) or free memory (GPU) — so that they stream from memory, not from a
// cache. Pure: the plan is data; probe-files.ts turns it into files, and planCost() says what it costs in disk and
// time at a device's rates, so the unit tests can hold every plan to llama.cpp's limits and the probe's budgets.
//
// Families (all llama unless noted; geometries differ from every accuracy-benchmark geometry on purpose):
//   bw-<TYPE>   decode per weight type, wide layers, ≈ the bandwidth target in bytes (per type: fewer layers of
//               the wider types, so no type's model is bigger than it needs to be)
//   bwn-<TYPE>  the same bytes in layers a quarter as wide: 4× the matrix rows per byte. The pair separates the type's
//               streaming rate from its per-row cost (every row is one dot product with its own setup and reduction)
//   pf-<TYPE>   prefill per weight type: 8 narrow layers (512)
//   pfw-<TYPE>  prefill per weight type, one wide layer (2048): the pair separates the FLOP rate from the per-row cost
//   ovh-L<n>    fixed and per-layer decode overhead: narrow layers (256), two layer counts, nothing else differs
//   cached-<TYPE> decode bandwidth per type of a model that fits in the caches (working set ≈ CACHED_SHARE × caches)
//   kv-a, kv-b  attention cost at depth: two head geometries that separate per-query-element and per-KV-byte costs
//   moe-<TYPE>  qwen3moe: routing overhead in decode (F16) and expert-matmul efficiency in prefill per type
//   srv-v<n>    server overheads: the same small model at two vocabulary sizes (sampling cost ∝ vocabulary)
//   ssm-F16     mamba2: the recurrent scan's prefill cost per state element (the state updated token by token)
//
// The bandwidth families grow with the device. Their width is chosen from a ladder so that no model has more than
// PROBE_MAX_LAYERS layers (llama.cpp refuses more than LLAMA_MAX_LAYERS) and no tensor more than
// PROBE_MAX_TENSOR_BYTES; the weight types they cover are limited by the disk and time budgets (a type left out
// borrows a measured neighbour's rate, and the plan says so).

import { bitsPerWeight } from '../fit/rates.js'
import { CACHE_FULL_HIT_SHARE } from '../fit/speed.js'
import type { SyntheticModelSpec } from '../gguf/writer.js'
import { ssmGeometry } from '../gguf/synthetic-spec.js'

/**
 * Weight types whose decode bandwidth and prefill rate are measured, in priority order (the disk budget drops
 * bandwidth models from the end): the synthesizable corpus types, plus Q5_0 and Q5_1, which llama-quantize
 * substitutes for Q4_K and Q5_K in matrices whose rows are not a multiple of 256 (widths like 576 or 896 are common in
 * small models) and whose kernels are slower than either neighbour's.
 */
export const PROBE_WEIGHT_TYPES = ['F16', 'Q8_0', 'Q4_K', 'Q4_0', 'Q6_K', 'Q5_K', 'Q5_0', 'Q5_1'] as const
export type ProbeWeightType = (typeof PROBE_WEIGHT_TYPES)[number]

/** llama.cpp's own limit on layers (LLAMA_MAX_LAYERS in src/llama-hparams.h): a model with more fails to load. */
export const LLAMA_MAX_LAYERS = 512
/** Ours, well below it: a probe model's layers cost per-layer overhead that the fit must subtract. */
export const PROBE_MAX_LAYERS = 256
/** The largest tensor a probe model may hold (F16 bytes): the writer streams it, llama-quantize holds it whole. */
export const PROBE_MAX_TENSOR_BYTES = 1024 ** 3
/** On a CPU every bandwidth model is at least this many times the usable cache and the sweep's knee. */
export const BW_CACHE_MULTIPLE = 2
/** On a GPU the bandwidth model is sized to this share of free VRAM… */
export const BW_GPU_MEMORY_SHARE = 1 / 32
/**
 * …within these bounds: above every GPU's L2 (≤ 126 MB today) several times over, and small enough that writing and
 * quantizing the set stays within the probe's disk and time budget.
 */
export const BW_GPU_MIN_BYTES = 256 * 1024 ** 2
export const BW_GPU_MAX_BYTES = 512 * 1024 ** 2
/** Without cache information (e.g. macOS without sysctl data and no sweep) assume caches of this size. */
export const DEFAULT_CACHE_BYTES = 32 * 1024 ** 2
/** One probe model may take at most this share of available RAM (it is mapped while measured). */
export const PROBE_RAM_SHARE = 1 / 4
/** The probe's files may take at most this share of the free disk where they are cached… */
export const PROBE_DISK_SHARE = 1 / 2
/** …and never more than this. */
export const PROBE_DISK_MAX_BYTES = 64 * 1024 ** 3
export const PREFILL_LAYERS = 8
export const PREFILL_WIDE_LAYERS = 1
/** Layer counts of the overhead pair: the long one has at most the second (fewer when the caches are small). */
export const OVERHEAD_LAYERS = [2, 16] as const
export const OVERHEAD_MIN_LONG_LAYERS = 4
/** The long overhead model's share of the caches: fully cache-resident for the estimator (CACHE_FULL_HIT_SHARE). */
export const OVERHEAD_CACHE_SHARE = CACHE_FULL_HIT_SHARE
/** The in-cache probe's working set, as a share of the caches (at most where the estimator counts full hits). */
export const CACHED_SHARE = CACHE_FULL_HIT_SHARE
/** Widths of the wide bandwidth model; the narrow one is NARROW_RATIO times narrower (multiples of 256: K-quants). */
export const BW_WIDE_WIDTHS = [2048, 4096, 8192] as const
export const NARROW_RATIO = 4
/** The smallest bandwidth target a budget may cut the device's down to. */
export const MIN_REDUCED_TARGET_BYTES = 64 * 1024 ** 2
/** Types every plan measures, whatever the disk: without a float and an 8-bit rate nothing can stand in. */
export const ESSENTIAL_TYPES: readonly ProbeWeightType[] = ['F16', 'Q8_0']
const CONTEXT = 4096
const BW_VOCAB = 4096

const PREFILL_GEOMETRY = { embeddingLength: 512, feedForwardLength: 1536, heads: 8, kvHeads: 2, vocabSize: 4096 } as const
const PREFILL_WIDE_GEOMETRY = { embeddingLength: 2048, feedForwardLength: 6144, heads: 16, kvHeads: 4, vocabSize: 4096 } as const
const CACHED_GEOMETRY = { embeddingLength: 512, feedForwardLength: 1536, heads: 8, kvHeads: 2, vocabSize: 2048 } as const

export interface ProbeModelSpec {
  id: string
  /** The F16 source (written by src/gguf's writer); models of one family share it. */
  source: SyntheticModelSpec
  /** Weight type after `llama-quantize --pure` (F16: the source, or its pruned copy, itself). */
  type: ProbeWeightType
  /** Keep only the first N layers of the F16 source (`llama-quantize --prune-layers … COPY`), then quantize that. */
  pruneToLayers?: number
}

/** A weight type the plan measures only in part, and why. */
export interface PlanOmission {
  type: ProbeWeightType
  families: string[]
  reason: string
}

export interface ProbePlan {
  models: ProbeModelSpec[]
  /** Types measured in every family. */
  types: readonly ProbeWeightType[]
  /** Types whose bandwidth models (bw, bwn) are measured: `types` less those the disk or time budget left out. */
  bandwidthTypes: readonly ProbeWeightType[]
  omitted: PlanOmission[]
  /** Bytes every bandwidth model was sized to reach. */
  bandwidthTargetBytes: number
  /**
   * Set when the layer limit, or a budget with F16 and Q8_0 alone, cut the device's target: the target it was cut
   * down from, and why. The bandwidth models may then be partly cache-resident, and their rates an over-estimate.
   */
  targetReduced?: { fromBytes: number; reason: string }
  cacheBytes: number
  /** Disk the probe may use (the plan fits it). */
  diskBudgetBytes: number
  /** The short and the long overhead model. */
  overheadIds: [string, string]
}

interface Dims {
  embeddingLength: number
  feedForwardLength: number
  heads: number
  kvHeads: number
  headDim?: number
}

/** F16 bytes of one llama layer of a geometry (attention + dense FFN), for sizing. */
export function llamaLayerParams(g: Dims): number {
  const d = g.headDim ?? g.embeddingLength / g.heads
  const q = g.heads * d
  const kv = g.kvHeads * d
  return g.embeddingLength * (q + 2 * kv) + q * g.embeddingLength + 3 * g.embeddingLength * g.feedForwardLength
}

/** The bandwidth family's geometry at width w: FFN 3w, heads of 64 (narrow) or 128 (wide), 4 query heads per KV head. */
export function bandwidthGeometry(width: number): Dims & { vocabSize: number } {
  const headDim = width >= 2048 ? 128 : 64
  const heads = width / headDim
  return { embeddingLength: width, feedForwardLength: 3 * width, heads, kvHeads: heads / 4, vocabSize: BW_VOCAB }
}

/** Bytes of one layer of a geometry in a weight type. */
export function layerBytes(g: Dims, type: string): number {
  return (llamaLayerParams(g) * bitsPerWeight(type)) / 8
}

/** F16 bytes of a spec's largest tensor (the FFN matrices or the embedding). */
export function largestTensorBytes(s: SyntheticModelSpec): number {
  const ffn = s.embeddingLength * Math.max(s.feedForwardLength, s.expertFeedForwardLength ?? 0) * (s.expertCount ?? 1)
  return 2 * Math.max(ffn, s.embeddingLength * s.vocabSize)
}

function spec(over: Partial<SyntheticModelSpec> & Pick<SyntheticModelSpec, 'layers' | 'embeddingLength' | 'feedForwardLength' | 'heads' | 'kvHeads' | 'vocabSize'>): SyntheticModelSpec {
  return { architecture: 'llama', contextLength: CONTEXT, seed: 7, ...over }
}

export interface DeviceSize {
  /** The usable CPU cache (measured knee bounded by the reported size; see ceilings.ts); 0 when unknown. */
  cacheBytes: number
  /** The sweep's knee, when measured: the bandwidth models must be past it too. */
  cacheKneeBytes?: number | null
  /** Free memory of the GPU the model runs on, or null on CPU. */
  gpuFreeBytes: number | null
  ramAvailableBytes: number
  /** Free disk where the probe caches its models; unknown: only PROBE_DISK_MAX_BYTES bounds the plan. */
  diskFreeBytes?: number | null
  /** Cores that write the files (default 1). */
  cores?: number
  /**
   * The rate the bandwidth models will stream at, when known before they run (the CPU's measured memory read): with
   * a decode schedule, the plan then keeps its bandwidth families inside the time budget too.
   */
  streamBytesPerSec?: number | null
}

/** Bytes every bandwidth model must reach on this device. */
export function bandwidthTargetBytes(d: DeviceSize, cacheMultiple = BW_CACHE_MULTIPLE): number {
  if (d.gpuFreeBytes !== null) {
    return Math.min(BW_GPU_MAX_BYTES, Math.max(BW_GPU_MIN_BYTES, d.gpuFreeBytes * BW_GPU_MEMORY_SHARE))
  }
  // Past the knee by the multiple too: at the knee a stream still gains up to KNEE_MARGIN from the caches.
  const cache = d.cacheBytes > 0 ? d.cacheBytes : DEFAULT_CACHE_BYTES
  return cacheMultiple * Math.max(cache, d.cacheKneeBytes ?? 0)
}

export interface PlanOptions {
  /** Weight types to measure (default: all of PROBE_WEIGHT_TYPES, in that priority order). */
  types?: readonly ProbeWeightType[]
  /** Override of BW_CACHE_MULTIPLE (a quick probe uses smaller bandwidth models, and knows its numbers are rough). */
  cacheMultiple?: number
  /** How the probe decodes each bandwidth model: with a known stream rate, the plan fits PLAN_TIME_BUDGET_SEC. */
  schedule?: DecodeSchedule
  /** Models whose files are already made (cached from an earlier probe): they cost no time to make. */
  made?: (m: ProbeModelSpec) => boolean
}

/**
 * Seconds the device-sized part of the probe (writing the files, decoding the bandwidth models) may take: the probe's
 * 150 s budget less what its fixed parts (attention at depth, prefill, server) take on a 2-core machine (~70 s).
 */
export const PLAN_TIME_BUDGET_SEC = 80
/** Files are written by at most this many writers at once (one per two cores: the rest keep the machine responsive). */
export const MAX_PARALLEL_WRITES = 4

export function parallelWrites(cores: number): number {
  return Math.max(1, Math.min(MAX_PARALLEL_WRITES, Math.floor(cores / 2)))
}

/** Layers of a bandwidth model of `type` at width w that reach `target` bytes (at least one). */
function layersFor(target: number, width: number, type: string): number {
  return Math.max(1, Math.ceil(target / layerBytes(bandwidthGeometry(width), type)))
}

/**
 * The narrowest rung of the width ladder at which the smallest type's narrow model stays within PROBE_MAX_LAYERS
 * (the widest rung when none does: probePlan caps the target at maxTargetForLayers first, so that cannot happen).
 */
/** The largest target whose narrow model, at the widest rung, stays within PROBE_MAX_LAYERS in `smallestType`. */
export function maxTargetForLayers(smallestType: string): number {
  return PROBE_MAX_LAYERS * layerBytes(bandwidthGeometry(BW_WIDE_WIDTHS[BW_WIDE_WIDTHS.length - 1]! / NARROW_RATIO), smallestType)
}

export function bandwidthWidths(target: number, smallestType: string): { wide: number; narrow: number } {
  for (const wide of BW_WIDE_WIDTHS) {
    if (layersFor(target, wide / NARROW_RATIO, smallestType) <= PROBE_MAX_LAYERS) return { wide, narrow: wide / NARROW_RATIO }
  }
  const wide = BW_WIDE_WIDTHS[BW_WIDE_WIDTHS.length - 1]!
  return { wide, narrow: wide / NARROW_RATIO }
}

/**
 * The bandwidth models of `types` at one width: one F16 source as deep as the smallest type needs, each type's model
 * its first layers, as many as reach the target in that type (so no type's model is bigger than it needs to be).
 */
function bandwidthFamily(prefix: string, width: number, target: number, types: readonly ProbeWeightType[], ramCap: number): ProbeModelSpec[] {
  const g = bandwidthGeometry(width)
  // One model may take at most a share of RAM: fewer layers (a smaller model) rather than a swapping probe.
  const layersOf = (t: ProbeWeightType) => Math.min(layersFor(target, width, t), Math.max(1, Math.floor(ramCap / layerBytes(g, t))))
  const sourceLayers = Math.max(...types.map(layersOf))
  const source = spec({ ...g, layers: sourceLayers })
  return types.map((type) => {
    const layers = layersOf(type)
    return { id: `${prefix}-${type}`, source, type, ...(layers < sourceLayers ? { pruneToLayers: layers } : {}) }
  })
}

/** Bytes of a model in a type (weights; the header is a rounding error at these sizes). */
export function modelBytes(m: Pick<ProbeModelSpec, 'source' | 'type' | 'pruneToLayers'>): number {
  const perLayer = m.source.architecture === 'qwen3moe' ? moeLayerParams(m.source) : m.source.architecture === 'mamba2' ? mambaLayerParams(m.source) : llamaLayerParams(m.source)
  const embed = m.source.embeddingLength * m.source.vocabSize * (m.source.tiedEmbeddings ? 1 : 2)
  return (((m.pruneToLayers ?? m.source.layers) * perLayer + embed) * bitsPerWeight(m.type)) / 8
}

/** A Mamba-2 layer's parameters, near enough for disk and time: the in and out projections (the rest is vectors). */
function mambaLayerParams(s: SyntheticModelSpec): number {
  const g = ssmGeometry(s)
  return s.embeddingLength * (2 * g.innerSize + 2 * g.groupCount * g.stateSize + g.timeStepRank) + g.innerSize * s.embeddingLength
}

function moeLayerParams(s: SyntheticModelSpec): number {
  const attn = llamaLayerParams({ ...s, feedForwardLength: 0 })
  return attn + 3 * s.embeddingLength * (s.expertFeedForwardLength ?? s.feedForwardLength) * (s.expertCount ?? 1) + s.embeddingLength * (s.expertCount ?? 1)
}

/**
 * Every file the plan leaves on disk: each F16 source once, and each model that is not its source (a pruned F16 copy
 * made only as a quantize input is deleted once used, see probe-files.ts).
 */
export function planDiskBytes(models: readonly ProbeModelSpec[]): number {
  const files = new Map<string, number>()
  for (const m of models) {
    files.set(JSON.stringify(m.source), modelBytes({ source: m.source, type: 'F16' }))
    if (m.type !== 'F16' || m.pruneToLayers !== undefined) files.set(`${JSON.stringify(m.source)}/${m.pruneToLayers}/${m.type}`, modelBytes(m))
  }
  return [...files.values()].reduce((a, b) => a + b, 0)
}

/** The deterministic probe plan for a device. */
export function probePlan(d: DeviceSize, opts: PlanOptions = {}): ProbePlan {
  const types = opts.types ?? PROBE_WEIGHT_TYPES
  const cacheBytes = d.cacheBytes > 0 ? d.cacheBytes : DEFAULT_CACHE_BYTES
  const deviceTarget = bandwidthTargetBytes(d, opts.cacheMultiple)
  const ramCap = d.ramAvailableBytes * PROBE_RAM_SHARE
  const diskBudgetBytes = Math.min(PROBE_DISK_MAX_BYTES, d.diskFreeBytes != null ? d.diskFreeBytes * PROBE_DISK_SHARE : Infinity)

  const fixed = fixedModels(types, cacheBytes)
  // A cache so large that even the widest ladder rung would need more than PROBE_MAX_LAYERS caps the target first.
  const layerCap = maxTargetForLayers([...types].sort((a, b) => bitsPerWeight(a) - bitsPerWeight(b))[0]!)
  let target = Math.min(deviceTarget, layerCap)
  let targetReduced: ProbePlan['targetReduced'] =
    target < deviceTarget ? { fromBytes: deviceTarget, reason: `the layer limit (${PROBE_MAX_LAYERS} layers at the widest width)` } : undefined
  const bandwidthModels = (bwTypes: readonly ProbeWeightType[]): ProbeModelSpec[] => {
    const smallest = [...bwTypes].sort((a, b) => bitsPerWeight(a) - bitsPerWeight(b))[0]!
    const { wide, narrow } = bandwidthWidths(target, smallest)
    return [...bandwidthFamily('bw', wide, target, bwTypes, ramCap), ...bandwidthFamily('bwn', narrow, target, bwTypes, ramCap)]
  }
  // Without a known stream rate (a GPU before it is measured) only the files' time is held to the budget.
  const stream = d.streamBytesPerSec ?? null
  const over = (models: ProbeModelSpec[]): string | null => {
    if (planDiskBytes(models) > diskBudgetBytes) return `the bandwidth models would pass the probe's disk budget (${(diskBudgetBytes / 1024 ** 3).toFixed(1)} GiB)`
    if (opts.schedule) {
      const c = planCost({ models }, { cores: d.cores ?? 1, streamBytesPerSec: stream ?? Infinity }, opts.schedule, opts.made)
      if (c.filesSec + c.bandwidthDecodeSec > PLAN_TIME_BUDGET_SEC) {
        return `the bandwidth models would pass the probe's time budget (${PLAN_TIME_BUDGET_SEC} s${stream ? ` at ${(stream / 1e9).toFixed(0)} GB/s` : ''})`
      }
    }
    return null
  }
  // Types join the bandwidth families in priority order while the whole plan fits the disk and time budgets. When the
  // essential types alone do not fit, the target halves until they do (never below MIN_REDUCED_TARGET_BYTES).
  const essential = types.filter((t) => ESSENTIAL_TYPES.includes(t))
  let bandwidthTypes: ProbeWeightType[] = essential.length > 0 ? essential : types.slice(0, 1)
  for (let why = over([...fixed, ...bandwidthModels(bandwidthTypes)]); why && target / 2 >= MIN_REDUCED_TARGET_BYTES; why = over([...fixed, ...bandwidthModels(bandwidthTypes)])) {
    targetReduced ??= { fromBytes: deviceTarget, reason: why }
    target /= 2
  }
  const reasons = new Map<ProbeWeightType, string>()
  for (const t of types) {
    if (bandwidthTypes.includes(t)) continue
    const tryTypes = types.filter((x) => bandwidthTypes.includes(x) || x === t)
    const why = over([...fixed, ...bandwidthModels(tryTypes)])
    if (why) reasons.set(t, why)
    else bandwidthTypes = tryTypes
  }
  bandwidthTypes = types.filter((t) => bandwidthTypes.includes(t))
  const omitted: PlanOmission[] = types.filter((t) => !bandwidthTypes.includes(t)).map((type) => ({ type, families: ['bw', 'bwn'], reason: reasons.get(type)! }))
  const models = [...bandwidthModels(bandwidthTypes), ...fixed]
  return {
    models,
    types,
    bandwidthTypes,
    omitted,
    bandwidthTargetBytes: target,
    ...(targetReduced ? { targetReduced } : {}),
    cacheBytes,
    diskBudgetBytes,
    overheadIds: overheadIdsOf(cacheBytes)
  }
}

/** Narrow but real overhead layers (256 wide): 16 of them still fit in the caches of the smallest machines we run on. */
const OVH_GEOMETRY = { embeddingLength: 256, feedForwardLength: 768, heads: 4, kvHeads: 2, vocabSize: 512 } as const

function overheadLayers(cacheBytes: number): [number, number] {
  // The overhead fit treats both models as cache-resident: the longer one holds at most OVERHEAD_CACHE_SHARE of it.
  const ovhLayerBytes = llamaLayerParams(OVH_GEOMETRY) * 2
  const longLayers = Math.max(OVERHEAD_MIN_LONG_LAYERS, Math.min(OVERHEAD_LAYERS[1], Math.floor((OVERHEAD_CACHE_SHARE * cacheBytes) / ovhLayerBytes)))
  return [OVERHEAD_LAYERS[0], longLayers]
}

function overheadIdsOf(cacheBytes: number): [string, string] {
  const [a, b] = overheadLayers(cacheBytes)
  return [`ovh-L${a}`, `ovh-L${b}`]
}

/** The families whose size does not come from the device's memory (the in-cache family follows the cache, bounded). */
function fixedModels(types: readonly ProbeWeightType[], cacheBytes: number): ProbeModelSpec[] {
  const models: ProbeModelSpec[] = []
  // Written at their own depth, not pruned from the device-sized models: the prefill pair is the same on every device.
  const pfSource = spec({ ...PREFILL_GEOMETRY, layers: PREFILL_LAYERS })
  const pfwSource = spec({ ...PREFILL_WIDE_GEOMETRY, layers: PREFILL_WIDE_LAYERS })
  for (const type of types) {
    models.push({ id: `pf-${type}`, source: pfSource, type })
    models.push({ id: `pfw-${type}`, source: pfwSource, type })
  }
  const ovh = overheadLayers(cacheBytes)
  const ovhSource = spec({ ...OVH_GEOMETRY, layers: ovh[1] })
  for (const layers of ovh) {
    models.push({ id: `ovh-L${layers}`, source: ovhSource, type: 'F16', ...(layers < ovhSource.layers ? { pruneToLayers: layers } : {}) })
  }
  // The same layers in every type: the F16 model's working set is CACHED_SHARE of the caches, the others' less.
  const cachedLayerBytes = llamaLayerParams(CACHED_GEOMETRY) * 2
  const cachedLayers = Math.min(PROBE_MAX_LAYERS, Math.max(1, Math.floor((cacheBytes * CACHED_SHARE) / cachedLayerBytes)))
  const cachedSource = spec({ ...CACHED_GEOMETRY, layers: cachedLayers })
  for (const type of types) models.push({ id: `cached-${type}`, source: cachedSource, type })
  models.push({ id: 'kv-a', source: spec({ layers: 8, embeddingLength: 512, feedForwardLength: 1024, heads: 8, kvHeads: 8, headDim: 64, vocabSize: 2048 }), type: 'F16' })
  models.push({ id: 'kv-b', source: spec({ layers: 8, embeddingLength: 512, feedForwardLength: 1024, heads: 16, kvHeads: 2, headDim: 128, vocabSize: 2048 }), type: 'F16' })
  const moeSource = spec({ architecture: 'qwen3moe', layers: 3, embeddingLength: 512, feedForwardLength: 1024, heads: 8, kvHeads: 2, vocabSize: 2048, expertCount: 16, expertUsedCount: 2, expertFeedForwardLength: 512 })
  for (const type of types) models.push({ id: `moe-${type}`, source: moeSource, type })
  // State-heavy on purpose (4 × 128 × 1024 elements against 1.7M weights): the scan is most of its prefill.
  models.push({ id: 'ssm-F16', source: spec({ architecture: 'mamba2', layers: 4, embeddingLength: 512, feedForwardLength: 0, heads: 0, kvHeads: 0, vocabSize: 2048, ssmInnerSize: 1024, ssmStateSize: 128 }), type: 'F16' })
  models.push({ id: 'srv-v2k', source: spec({ layers: 2, embeddingLength: 256, feedForwardLength: 768, heads: 4, kvHeads: 2, vocabSize: 2048 }), type: 'F16' })
  models.push({ id: 'srv-v64k', source: spec({ layers: 2, embeddingLength: 256, feedForwardLength: 768, heads: 4, kvHeads: 2, vocabSize: 65536 }), type: 'F16' })
  return models
}

/**
 * llama-quantize's speed per core, F16 input bytes/s by output type (`--pure`, file I/O included), measured on an AMD
 * EPYC (Zen 5) VM core: the K-quants search their scales and are 5–10× slower than the legacy block quants.
 */
export const QUANTIZE_F16_BYTES_PER_SEC_PER_CORE: Readonly<Record<ProbeWeightType, number>> = {
  F16: Infinity, Q8_0: 265e6, Q4_0: 400e6, Q5_0: 345e6, Q5_1: 415e6, Q4_K: 36e6, Q5_K: 42e6, Q6_K: 64e6
}
/** The writer's F16 rate into the page cache (one writer), measured likewise; a pruning copy's. */
export const WRITE_BYTES_PER_SEC = 0.4e9
export const COPY_BYTES_PER_SEC = 1.4e9
/** Loading a model llama-bench has mapped before: page-cache reads (and, on a GPU, the upload). */
export const LOAD_BYTES_PER_SEC = 2e9

/** What one bandwidth model's decode costs per measuring round: runs of `tokens` decoded tokens, each a load too. */
export interface DecodeSchedule {
  rounds: number
  /** llama-bench runs per round per model (its repetitions plus its warm-up run). */
  runsPerRound: number
  tokens: number
}

export interface PlanRates {
  cores: number
  /** The rate the bandwidth models stream at (memory or VRAM), bytes/s. */
  streamBytesPerSec: number
}

export interface PlanCost {
  diskBytes: number
  /** Writing, pruning and quantizing every file, seconds (first run; later runs find them cached). */
  filesSec: number
  /** Decoding the bandwidth models, seconds. */
  bandwidthDecodeSec: number
}

/** Pure: the disk and time a plan implies at a device's rates (the unit tests hold every device's plan to budgets). */
export function planCost(plan: Pick<ProbePlan, 'models'>, rates: PlanRates, schedule: DecodeSchedule, made: (m: ProbeModelSpec) => boolean = () => false): PlanCost {
  let bandwidthDecodeSec = 0
  let writeBytes = 0
  let quantizeSec = 0
  const written = new Set<string>()
  for (const m of plan.models) {
    const key = JSON.stringify(m.source)
    if (!made(m)) {
      // A source is written once, for the first of its models that is not made yet.
      if (!written.has(key)) writeBytes += modelBytes({ source: m.source, type: 'F16' })
      written.add(key)
      const f16Bytes = modelBytes({ ...m, type: 'F16' })
      if (m.pruneToLayers !== undefined) quantizeSec += f16Bytes / COPY_BYTES_PER_SEC
      // llama-quantize uses every core; one at a time.
      quantizeSec += f16Bytes / (QUANTIZE_F16_BYTES_PER_SEC_PER_CORE[m.type] * rates.cores)
    }
    if (!/^bwn?-/.test(m.id)) continue
    const bytes = modelBytes(m)
    // One llama-bench process per round loads the model once, then decodes `tokens` steps over all its bytes per run.
    bandwidthDecodeSec += schedule.rounds * (bytes / LOAD_BYTES_PER_SEC + (schedule.runsPerRound * schedule.tokens * bytes) / rates.streamBytesPerSec)
  }
  const filesSec = writeBytes / (WRITE_BYTES_PER_SEC * parallelWrites(rates.cores)) + quantizeSec
  return { diskBytes: planDiskBytes(plan.models), filesSec, bandwidthDecodeSec }
}
