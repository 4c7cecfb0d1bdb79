// Memory fit: weights + KV cache + llama.cpp's compute buffer + runtime overhead against usable memory. Pure.
//
// The compute buffer follows how llama.cpp sizes it (llama_context::sched_reserve): the worst-case graph of one
// ubatch is allocated once, and ggml-alloc reuses memory, so its size is the largest set of f32 tensors alive at
// one point of the graph. Measured on the pinned build (server and llama-bench logs, many geometries), per ubatch
// token, in f32 elements, the peak is the larger of
//   attention, no flash attention:  n_ctx·heads (KQ scores) + the masks + 3·embd + 2·q + 2·kv
//   feed-forward:                   3·ffn (gate, up, product) + 4·embd + the masks
//   attention, flash attention:     3·embd + 2·q + 2·kv (the scores are never materialised)
//   a Mamba layer:                  3·conv + 2·inner + 3·embd (+ the attention mask of a hybrid, alive throughout)
// where the masks are a row per cell of each KV cache (n_ctx, plus the SWA cache's cells with sliding layers), f32
// without flash attention and f16 (half an f32 element) with it; plus logits for the rows that need them (llama-bench
// reserves a whole ubatch of logits, the server one row per slot). The Mamba phase (conv = inner + 2·groups·state
// channels: the projection's x, B and C through the convolution, the scan's output, the gate) was fitted on six
// Mamba-2 geometries (inner 512–2048, state 16–128, 1–4 groups) at ubatches of 64–1024, within 4 %, plus one
// layer's state.

import type { HardwareProfile } from '../contracts/hardware.js'
import type { EstimatedMemory, MemoryFit } from '../contracts/prediction.js'
import type { ModelProfile } from '../contracts/profile.js'
import type { Workload } from '../contracts/workload.js'
import { HOST, deviceMemory, deviceTotal, offloadDevices } from './devices.js'
import { F32_BYTES, kvCacheBytes, kvCells, llamaUbatch, modelGeometry, slidingCells, type ModelGeometry } from './geometry.js'

/** Fraction of usable memory kept free: page cache, the OS, other processes, allocator slack. */
export const MEMORY_SAFETY_MARGIN = 0.1
/** Above this share of the (margin-reduced) limit the fit is flagged: it runs, but little else will. */
export const MEMORY_WARNING_SHARE = 0.9
/** Process baseline of llama.cpp (code, threads, ggml contexts, tokenizer tables), measured as RSS of tiny models. */
export const RUNTIME_BASE_BYTES = 48 * 1024 * 1024
/** Per-vocabulary-entry runtime tables (token text, scores, the tokenizer's caches). */
export const RUNTIME_BYTES_PER_VOCAB_ENTRY = 64

export interface ComputeBufferShape {
  contextTokens: number
  ubatch: number
  flashAttention: boolean
  /** Rows of logits reserved per ubatch: 1 per slot on the server, the whole ubatch in llama-bench. */
  outputRows: number
  /** Cells of the sliding layers' window cache (slidingCells); 0 or absent without sliding layers. */
  slidingCells?: number
}

/** llama.cpp's CPU compute buffer for a model and shape, bytes (see the file comment). */
export function computeBufferBytes(g: ModelGeometry, s: ComputeBufferShape): number {
  // At most the (unpadded) context: llama.cpp caps n_batch, and with it n_ubatch, by it.
  const tokens = Math.min(s.ubatch, s.contextTokens)
  // An encoder has no KV cache: a ubatch attends only its own tokens.
  const ctx = g.encoder ? tokens : kvCells(s.contextTokens)
  const q = g.heads * g.key_length
  const kv = g.kv_heads * (g.key_length + g.value_length) / 2
  const ffn = 3 * g.ffnPhaseWidth + 4 * g.embedding_length
  const hasAttention = g.attentionLayers + g.slidingLayers > 0 || g.encoder
  // One mask per KV cache, a row per cell: f32 without flash attention, f16 with it. Sliding layers have their own.
  const maskCells = ctx + (g.slidingLayers > 0 ? (s.slidingCells ?? 0) : 0)
  const attention = s.flashAttention
    ? 3 * g.embedding_length + 2 * q + 2 * kv
    : ctx * g.heads + maskCells + 3 * g.embedding_length + 2 * q + 2 * kv
  const mask = !hasAttention ? 0 : s.flashAttention ? maskCells / 2 : maskCells
  const mamba = g.ssmConvChannels > 0 ? 3 * g.ssmConvChannels + 2 * g.ssmInnerSize + 3 * g.embedding_length + mask : 0
  const perToken = Math.max(hasAttention ? attention : 0, ffn + mask, mamba)
  const stateRow = g.recurrentLayers > 0 ? g.recurrentStateElements / g.recurrentLayers : 0
  // An encoder's graph ends in pooled embeddings or a classifier: no vocabulary logits.
  // Without flash attention the f32 mask stays alive to the end; with it the f16 mask is not alive beside the logits
  // (llama-fit-params at 4k, 8k and 16.5k cells: the buffer grows by the f16 mask beside the feed-forward phase, and
  // stays under logits + mask); a model without attention has none.
  const logits = (g.encoder ? 0 : g.vocab_size * s.outputRows) + (hasAttention && !s.flashAttention ? ctx * tokens : 0)
  return (Math.max(perToken * tokens, logits + g.embedding_length * tokens) + stateRow) * F32_BYTES
}

/** Memory the runtime needs besides buffers: a process baseline plus the vocabulary's tables. */
export function runtimeOverheadBytes(g: ModelGeometry): number {
  return RUNTIME_BASE_BYTES + g.vocab_size * RUNTIME_BYTES_PER_VOCAB_ENTRY
}

export interface MemoryBudget {
  /** Bytes the model may use on the device it runs on. */
  usableBytes: number
  /** GPU memory when offloading to a GPU, else null. */
  gpuBytes: number | null
  where: string
}

/** The GPU with the most free memory (total when free is unknown), or undefined when none reports a size. */
export function largestGpu<G extends { memory_free_bytes: number | null; memory_total_bytes: number | null }>(gpus: readonly G[]): G | undefined {
  const known = gpus.filter((g) => g.memory_free_bytes !== null || g.memory_total_bytes !== null)
  return [...known].sort((a, b) => (b.memory_free_bytes ?? b.memory_total_bytes ?? 0) - (a.memory_free_bytes ?? a.memory_total_bytes ?? 0))[0]
}

/**
 * Usable memory of one device: the free memory of the GPU with the most (offloadDevices: llama.cpp's own device list
 * read at run start where there is one, else the probe's) when layers go to a GPU, else available RAM. What a
 * single-device figure (machines for a split, layers that fit one GPU) is measured against; the fit itself is per
 * device (devices.ts).
 */
export function memoryBudget(hw: HardwareProfile, w: Workload): MemoryBudget {
  const best = offloadDevices(hw)
    .filter((d): d is typeof d & { budgetBytes: number } => d.budgetBytes !== null)
    .sort((a, b) => b.budgetBytes - a.budgetBytes)[0]
  if (w.gpu_layers === 0 || !best) return { usableBytes: hw.system.ram_available_bytes, gpuBytes: null, where: 'available RAM' }
  return { usableBytes: best.budgetBytes, gpuBytes: best.budgetBytes, where: `free memory of ${best.name}` }
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`
}

/** The memory fit of `profile` for workload `w` on `hw`: one sequence, a whole ubatch of logits (see computeBufferBytes' call). */
export function memoryFit(profile: ModelProfile, hw: HardwareProfile, w: Workload): MemoryFit {
  const g = modelGeometry(profile)
  const ubatch = llamaUbatch(w.ubatch, w.batch, w.context_tokens)
  const kv = kvCacheBytes(profile, { contextTokens: w.context_tokens, kvType: w.kv_type, flashAttention: w.flash_attention, ubatch })
  const kvBytes = kv.full + kv.sliding
  // One sequence (the server runs one slot): llama.cpp keeps max(1, n_seq_max) recurrent states.
  const stateBytes = g.recurrentStateBytes
  const shape = { contextTokens: w.context_tokens, ubatch, flashAttention: w.flash_attention, slidingCells: slidingCells(w.context_tokens, g.slidingWindow, ubatch) }
  // Logits for a whole ubatch, as llama.cpp's common tools reserve them (n_outputs_max = n_batch: llama-cli,
  // llama-bench, and its own projection llama-fit-params); llama-server reserves one row per slot, so its logged
  // compute buffer is smaller by up to (ubatch − 1) × vocab × 4 bytes.
  const computeBytes = computeBufferBytes(g, { ...shape, outputRows: Math.min(ubatch, w.context_tokens) })
  const serverComputeBytes = computeBufferBytes(g, { ...shape, outputRows: 1 })
  const overheadBytes = runtimeOverheadBytes(g) + g.vocab_size * F32_BYTES
  const budget = memoryBudget(hw, w)
  const devices = deviceMemory(profile, hw, w, { kvFullBytes: kv.full, kvSlidingBytes: kv.sliding, stateBytes, computeBytes, overheadBytes, ubatch })
  // The weights in memory: the file's tensors, and the copies llama.cpp keeps of a tied output head (on the GPU
  // that computes it, or repacked on the CPU).
  const weightsBytes = devices.reduce((sum, d) => sum + d.weights_bytes, 0)
  const totalBytes = weightsBytes + kvBytes + stateBytes + computeBytes + overheadBytes
  // Each device against its own budget less the margin: the fullest one decides.
  const judged = devices
    .filter((d) => d.budget_bytes !== null && deviceTotal(d, overheadBytes) > 0)
    .map((d) => ({ d, need: deviceTotal(d, overheadBytes), limit: (d.budget_bytes as number) * (1 - MEMORY_SAFETY_MARGIN) }))
    .sort((x, y) => y.need / Math.max(1, y.limit) - x.need / Math.max(1, x.limit))
  const worst = judged[0]
  const limit = worst ? worst.limit : budget.usableBytes * (1 - MEMORY_SAFETY_MARGIN)
  const need = worst ? worst.need : totalBytes
  const status = need > limit ? 'does-not-fit' : need > limit * MEMORY_WARNING_SHARE ? 'fits-with-warning' : 'fits'
  const singleLimit = budget.usableBytes * (1 - MEMORY_SAFETY_MARGIN)
  const machinesForSplit = Math.max(1, Math.ceil(totalBytes / Math.max(1, singleLimit)))

  let gpuLayersThatFit: number | null = null
  if (budget.gpuBytes !== null) {
    // Per layer: its share of the body weights and of the KV cache; the rest (token table, output head, compute
    // buffer, runtime) must fit first.
    const layers = Math.max(1, profile.layers)
    const nonLayer = profile.bytes_by_group.embedding + profile.bytes_by_group.output + computeBytes + overheadBytes
    const perLayer = (weightsBytes - profile.bytes_by_group.embedding - profile.bytes_by_group.output + kvBytes + stateBytes) / layers
    gpuLayersThatFit = Math.max(0, Math.min(layers, Math.floor((singleLimit - nonLayer) / Math.max(1, perLayer))))
  }

  const pct = ((100 * need) / Math.max(1, limit)).toFixed(0)
  const state = stateBytes > 0 ? ` + state ${gib(stateBytes)}` : ''
  const parts = `weights ${gib(weightsBytes)} + KV ${gib(kvBytes)}${state} + compute ${gib(computeBytes)} + overhead ${gib(overheadBytes)} = ${gib(totalBytes)}`
  const where = worst && (devices.length > 1 || worst.d.device !== HOST) ? `${worst.d.device}: ${gib(worst.need)} of its ` : ''
  const what = worst && worst.d.device !== HOST ? `free memory of ${worst.d.device}` : budget.where
  const reason =
    status === 'does-not-fit'
      ? `${parts}; ${where}${where ? '' : 'it '}exceeds ${gib(limit)} (${what} less a ${MEMORY_SAFETY_MARGIN * 100} % margin); a layer split needs ${machinesForSplit} machines like this one`
      : `${parts}; ${where}${pct} % of ${gib(limit)} (${what} less a ${MEMORY_SAFETY_MARGIN * 100} % margin)`
  return { status, weights_bytes: weightsBytes, kv_cache_bytes: kvBytes, recurrent_state_bytes: stateBytes, compute_bytes: computeBytes, server_compute_bytes: serverComputeBytes, overhead_bytes: overheadBytes, total_bytes: totalBytes, usable_bytes: budget.usableBytes, gpu_layers_that_fit: gpuLayersThatFit, machines_for_split: machinesForSplit, reason, devices }
}

/** A MemoryFit as the memory estimate judged against llama.cpp's projection. */
export function estimatedMemory(fit: MemoryFit): EstimatedMemory {
  return {
    status: fit.status,
    weights_bytes: fit.weights_bytes,
    context_bytes: fit.kv_cache_bytes + fit.recurrent_state_bytes,
    compute_bytes: fit.compute_bytes,
    ...(fit.devices ? { devices: fit.devices } : {})
  }
}
