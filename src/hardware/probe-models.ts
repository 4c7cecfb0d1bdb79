// The probe's own synthetic models: fixed geometries (deterministic), with sizes scaled from the device's caches
// (CPU) or memory (GPU) so that the bandwidth probes stream from memory, not from a cache. Pure: the plan is data;
// probe-files.ts turns it into files.
//
// Families (all llama unless noted; geometries differ from every accuracy-benchmark geometry on purpose):
//   bw-<TYPE>   decode per weight type, wide layers (2048), sized to ≥ BW_CACHE_MULTIPLE × caches
//   bwn-<TYPE>  the same bytes in narrow layers (512): 4× the matrix rows per byte. The pair separates the type's
//               streaming rate from its per-row cost (every row is one dot product with its own setup and reduction)
//   pf-<TYPE>   prefill per weight type: the narrow model pruned to PREFILL_LAYERS layers (same matrices)
//   pfw-<TYPE>  prefill per weight type in wide layers (the wide model pruned to one layer): the pair separates the
//               FLOP rate from the per-row cost, as bw/bwn do for decode
//   ovh-L<n>    fixed and per-layer decode overhead: narrow layers (256), two layer counts, nothing else differs
//   cached-<TYPE> decode bandwidth per type of a model that fits in the caches (working set ≈ CACHED_SHARE × caches)
//   kv-a, kv-b  attention cost at depth: two head geometries that separate per-query-element and per-KV-byte costs
//   moe-<TYPE>  qwen3moe: routing overhead in decode (F16) and expert-matmul efficiency in prefill per type
//   srv-v<n>    server overheads: the same small model at two vocabulary sizes (sampling cost ∝ vocabulary)

import { bitsPerWeight } from '../fit/rates.js'
import { CACHE_FULL_HIT_SHARE } from '../fit/speed.js'
import type { SyntheticModelSpec } from '../gguf/writer.js'

/**
 * Weight types whose decode bandwidth and prefill rate are measured: the synthesizable corpus types, plus Q5_0 and
 * Q5_1, which llama-quantize substitutes for Q4_K and Q5_K in matrices whose rows are not a multiple of 256
 * (widths like 576 or 896 are common in small models) and whose kernels are slower than either neighbour's.
 */
export const PROBE_WEIGHT_TYPES = ['F16', 'Q8_0', 'Q4_0', 'Q4_K', 'Q5_K', 'Q6_K', 'Q5_0', 'Q5_1'] as const
export type ProbeWeightType = (typeof PROBE_WEIGHT_TYPES)[number]

/** The smallest (fewest bits per weight) probe type's model must exceed the caches this many times. */
export const BW_CACHE_MULTIPLE = 2
/** On a GPU the bandwidth model's smallest type is sized to this share of free VRAM… */
export const BW_GPU_MEMORY_SHARE = 1 / 16
/** …within these bounds (large enough to saturate the memory system, small enough to write and quantize quickly). */
export const BW_GPU_MIN_BYTES = 512 * 1024 ** 2
export const BW_GPU_MAX_BYTES = 2 * 1024 ** 3
/** Without cache information (e.g. macOS without sysctl data) assume caches of this size. */
export const DEFAULT_CACHE_BYTES = 32 * 1024 ** 2
/** Probe files together may take at most this share of available RAM (they are mapped while measured). */
export const PROBE_RAM_SHARE = 1 / 4
export const MIN_BW_LAYERS = 1
export const PREFILL_LAYERS = 8
export const PREFILL_WIDE_LAYERS = 1
/** Layer counts of the overhead pair: the long one has at most the second (fewer when the caches are small). */
export const OVERHEAD_LAYERS = [2, 16] as const
export const OVERHEAD_MIN_LONG_LAYERS = 4
/** The long overhead model's share of the caches: fully cache-resident for the estimator (CACHE_FULL_HIT_SHARE). */
export const OVERHEAD_CACHE_SHARE = CACHE_FULL_HIT_SHARE
/** The in-cache probe's working set, as a share of the caches (at most where the estimator counts full hits). */
export const CACHED_SHARE = CACHE_FULL_HIT_SHARE
const CONTEXT = 4096

const BW_GEOMETRY = { embeddingLength: 2048, feedForwardLength: 6144, heads: 16, kvHeads: 4, vocabSize: 4096 } as const
/** A quarter as wide in every matrix dimension: 1/16 of the bytes per layer, so 16× the layers for the same bytes. */
const BWN_GEOMETRY = { embeddingLength: 512, feedForwardLength: 1536, heads: 8, kvHeads: 2, vocabSize: 4096 } as const
const BWN_LAYER_RATIO = 16
const CACHED_GEOMETRY = { embeddingLength: 512, feedForwardLength: 1536, heads: 8, kvHeads: 2, vocabSize: 2048 } as const

export interface ProbeModelSpec {
  id: string
  /** What the F16 source is made of (written by src/gguf's writer). */
  source: SyntheticModelSpec
  /** Weight type after `llama-quantize --pure` (F16: the source itself). */
  type: ProbeWeightType
  /** Keep only the first N layers of the (quantized) source (`llama-quantize --prune-layers … COPY`). */
  pruneToLayers?: number
}

export interface ProbePlan {
  models: ProbeModelSpec[]
  types: readonly ProbeWeightType[]
  /** Bytes the bandwidth models' smallest type was sized to exceed. */
  bandwidthTargetBytes: number
  cacheBytes: number
  /** The short and the long overhead model. */
  overheadIds: [string, string]
}

/** F16 bytes of one llama layer of a geometry (attention + dense FFN), for sizing. */
export function llamaLayerParams(g: { embeddingLength: number; feedForwardLength: number; heads: number; kvHeads: number; headDim?: number }): number {
  const d = g.headDim ?? g.embeddingLength / g.heads
  const q = g.heads * d
  const kv = g.kvHeads * d
  return g.embeddingLength * (q + 2 * kv) + q * g.embeddingLength + 3 * g.embeddingLength * g.feedForwardLength
}

function spec(over: Partial<SyntheticModelSpec> & Pick<SyntheticModelSpec, 'layers' | 'embeddingLength' | 'feedForwardLength' | 'heads' | 'kvHeads' | 'vocabSize'>): SyntheticModelSpec {
  return { architecture: 'llama', contextLength: CONTEXT, seed: 7, ...over }
}

export interface DeviceSize {
  /** CPU caches (data, all levels, each instance once); 0 when unknown. */
  cacheBytes: number
  /** Free memory of the GPU the model runs on, or null on CPU. */
  gpuFreeBytes: number | null
  ramAvailableBytes: number
}

/** Bytes the smallest-type bandwidth model must reach on this device. */
export function bandwidthTargetBytes(d: DeviceSize, cacheMultiple = BW_CACHE_MULTIPLE): number {
  if (d.gpuFreeBytes !== null) {
    return Math.min(BW_GPU_MAX_BYTES, Math.max(BW_GPU_MIN_BYTES, d.gpuFreeBytes * BW_GPU_MEMORY_SHARE))
  }
  return cacheMultiple * (d.cacheBytes > 0 ? d.cacheBytes : DEFAULT_CACHE_BYTES)
}

export interface PlanOptions {
  /** Weight types to measure (default: all of PROBE_WEIGHT_TYPES). */
  types?: readonly ProbeWeightType[]
  /** Override of BW_CACHE_MULTIPLE (a quick probe uses smaller bandwidth models, and knows its numbers are rough). */
  cacheMultiple?: number
}

/** The deterministic probe plan for a device. */
export function probePlan(d: DeviceSize, opts: PlanOptions = {}): ProbePlan {
  const types = opts.types ?? PROBE_WEIGHT_TYPES
  const cacheBytes = d.cacheBytes > 0 ? d.cacheBytes : DEFAULT_CACHE_BYTES
  const target = bandwidthTargetBytes(d, opts.cacheMultiple)
  // Sized so the smallest type measured (fewest bits per weight) still streams from memory.
  const smallestBits = Math.min(...types.map(bitsPerWeight))
  const layerBytesSmallest = (llamaLayerParams(BW_GEOMETRY) * smallestBits) / 8
  // The F16 source is 16/smallestBits times the smallest type; keep the whole set within a share of available RAM.
  const ramCapLayers = Math.floor((d.ramAvailableBytes * PROBE_RAM_SHARE) / (llamaLayerParams(BW_GEOMETRY) * 2))
  const bwLayers = Math.max(MIN_BW_LAYERS, Math.min(Math.ceil(target / layerBytesSmallest), Math.max(MIN_BW_LAYERS, ramCapLayers)))
  const bwSource = spec({ ...BW_GEOMETRY, layers: bwLayers })
  const bwnSource = spec({ ...BWN_GEOMETRY, layers: bwLayers * BWN_LAYER_RATIO })

  const cachedLayerBytes = llamaLayerParams(CACHED_GEOMETRY) * 2
  const cachedLayers = Math.max(1, Math.floor((cacheBytes * CACHED_SHARE) / cachedLayerBytes))

  const models: ProbeModelSpec[] = []
  for (const type of types) {
    models.push({ id: `bw-${type}`, source: bwSource, type })
    models.push({ id: `bwn-${type}`, source: bwnSource, type })
    models.push({ id: `pf-${type}`, source: bwnSource, type, pruneToLayers: Math.min(PREFILL_LAYERS, bwnSource.layers) })
    models.push({ id: `pfw-${type}`, source: bwSource, type, pruneToLayers: Math.min(PREFILL_WIDE_LAYERS, bwLayers) })
  }
  // Narrow but real layers (the per-layer cost of tiny 128-wide layers understates that of the small models it matters
  // for); 16 of them still fit in the caches of the smallest machines we run on.
  const ovhGeometry = { embeddingLength: 256, feedForwardLength: 768, heads: 4, kvHeads: 2, vocabSize: 512 }
  // The overhead fit treats both models as cache-resident: the longer one holds at most OVERHEAD_CACHE_SHARE of it.
  const ovhLayerBytes = llamaLayerParams(ovhGeometry) * 2
  const longLayers = Math.max(OVERHEAD_MIN_LONG_LAYERS, Math.min(OVERHEAD_LAYERS[1], Math.floor((OVERHEAD_CACHE_SHARE * cacheBytes) / ovhLayerBytes)))
  const overheadLayers = [OVERHEAD_LAYERS[0], longLayers] as const
  const ovhSource = spec({ ...ovhGeometry, layers: longLayers })
  for (const layers of overheadLayers) {
    models.push({ id: `ovh-L${layers}`, source: ovhSource, type: 'F16', ...(layers < ovhSource.layers ? { pruneToLayers: layers } : {}) })
  }
  const cachedSource = spec({ ...CACHED_GEOMETRY, layers: cachedLayers })
  for (const type of types) models.push({ id: `cached-${type}`, source: cachedSource, type })
  models.push({ id: 'kv-a', source: spec({ layers: 8, embeddingLength: 512, feedForwardLength: 1024, heads: 8, kvHeads: 8, headDim: 64, vocabSize: 2048 }), type: 'F16' })
  models.push({ id: 'kv-b', source: spec({ layers: 8, embeddingLength: 512, feedForwardLength: 1024, heads: 16, kvHeads: 2, headDim: 128, vocabSize: 2048 }), type: 'F16' })
  const moeSource = spec({ architecture: 'qwen3moe', layers: 3, embeddingLength: 512, feedForwardLength: 1024, heads: 8, kvHeads: 2, vocabSize: 2048, expertCount: 16, expertUsedCount: 2, expertFeedForwardLength: 512 })
  for (const type of types) models.push({ id: `moe-${type}`, source: moeSource, type })
  models.push({ id: 'srv-v2k', source: spec({ layers: 2, embeddingLength: 256, feedForwardLength: 768, heads: 4, kvHeads: 2, vocabSize: 2048 }), type: 'F16' })
  models.push({ id: 'srv-v64k', source: spec({ layers: 2, embeddingLength: 256, feedForwardLength: 768, heads: 4, kvHeads: 2, vocabSize: 65536 }), type: 'F16' })
  return { models, types, bandwidthTargetBytes: target, cacheBytes, overheadIds: [`ovh-L${overheadLayers[0]}`, `ovh-L${overheadLayers[1]}`] }
}
