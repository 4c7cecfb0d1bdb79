// Where llama.cpp puts a model's memory, device by device, in the shape its own projection prints
// (llama-fit-params --fit-print: per device and for the host, weights, context, compute). Pure.
//
// The devices are llama.cpp's own list read when the run starts (hardware.system.llama_devices: free memory then, and
// for Metal the recommended working-set size), else the GPUs the probe saw. Layers go where llama_model::load_tensors
// puts them (offload.ts): the input layer (token embeddings) always on the CPU, the output layer on the device of
// layer n_layer (a copy of the token embeddings there when the output is tied to them), each repeating layer's
// weights, KV cells and recurrent state on its device. Every device that computes layers reserves a compute buffer;
// with every layer offloaded the host keeps only the input rows (a ubatch of embeddings, f32). Buffers on the CPU
// (weights in RAM or mapped from the file, CPU KV, the CPU compute buffer) are "Host", as llama.cpp's breakdown
// counts every host buffer type there.

import type { HardwareProfile } from '../contracts/hardware.js'
import type { DeviceMemory } from '../contracts/prediction.js'
import type { ModelProfile } from '../contracts/profile.js'
import type { Workload } from '../contracts/workload.js'
import { F32_BYTES } from './geometry.js'
import { assignLayers, type OffloadDevice } from './offload.js'

export const HOST = 'Host'

/** The parts of a model's memory the fit computed, to be placed on devices. */
export interface MemoryParts {
  kvFullBytes: number
  kvSlidingBytes: number
  stateBytes: number
  computeBytes: number
  /** The runtime's own memory (process, tables, logits): always the host's. */
  overheadBytes: number
  ubatch: number
}

/** llama.cpp's name for GPU i of a backend, as its device registry numbers them. */
function deviceName(backend: string, i: number): string {
  const b = backend.toUpperCase()
  if (b.startsWith('METAL')) return `MTL${i}`
  if (b.startsWith('CUDA')) return `CUDA${i}`
  if (b.startsWith('VULKAN')) return `Vulkan${i}`
  if (b.startsWith('HIP') || b.startsWith('ROCM')) return `ROCm${i}`
  return `${backend}${i}`
}

/** The GPUs llama.cpp will offload to, with the memory it budgets by; empty on a CPU build. */
export function offloadDevices(hw: HardwareProfile): (OffloadDevice & { budgetBytes: number | null })[] {
  if (hw.llama.backend.toUpperCase() === 'CPU') return []
  if (hw.system.llama_devices) {
    return hw.system.llama_devices.map((d) => ({ name: d.name, freeBytes: d.free_bytes, totalBytes: d.total_bytes, budgetBytes: d.free_bytes }))
  }
  return hw.system.gpus.map((g, i) => {
    const free = g.memory_free_bytes ?? g.memory_total_bytes
    return { name: deviceName(hw.llama.backend, i), freeBytes: free ?? 0, totalBytes: g.memory_total_bytes ?? 0, budgetBytes: free }
  })
}

/**
 * The copy the CPU keeps of a tied output head: the head is the token table (TENSOR_DUPLICATED), and where the CPU
 * backend repacks its type (hardware.llama.repacked_types, measured) the head's matmuls get a repacked copy while
 * the table itself stays mapped for the embedding lookups. 0 otherwise.
 */
export function tiedRepackBytes(profile: ModelProfile, hw: HardwareProfile): number {
  const tied = profile.model_class === 'causal-lm' && profile.bytes_by_group.output === 0
  const type = profile.output_type
  if (!tied || !type || !hw.llama.repacked_types?.includes(type) || profile.vocab_size % 8 !== 0) return 0
  return profile.bytes_by_group.embedding
}

/** The share of each device in a kind of layer (F, S, R, B of layer_kinds), by index; all on one device → 1. */
function kindShares(kinds: string | undefined, layerDevice: readonly number[], devices: number, match: (k: string) => boolean): number[] {
  const count = new Array<number>(devices + 1).fill(0)
  let total = 0
  layerDevice.forEach((d, il) => {
    // Without a per-layer plan every layer is counted alike.
    if (kinds !== undefined && !match(kinds[il] ?? '-')) return
    count[d + 1]!++
    total++
  })
  return count.map((c) => (total > 0 ? c / total : 0))
}

/**
 * The model's memory per device, Host last. With no GPU to offload to (a CPU build, gpu_layers 0) everything is the
 * host's.
 */
export function deviceMemory(profile: ModelProfile, hw: HardwareProfile, w: Workload, parts: MemoryParts): DeviceMemory[] {
  const gpus = offloadDevices(hw)
  const hostBudget = hw.system.ram_available_bytes
  const context = parts.kvFullBytes + parts.kvSlidingBytes + parts.stateBytes
  // -sm none: the whole offload goes to the main GPU (llama_model_load keeps only devices[main_gpu]).
  const candidates = w.split_mode === 'none' ? gpus.filter((_, i) => i === (w.main_gpu ?? 0)) : gpus
  const usable = candidates.filter((g) => g.freeBytes > 0 || g.totalBytes > 0)
  if (usable.length === 0 || w.gpu_layers === 0) {
    return [{ device: HOST, weights_bytes: profile.tensor_bytes + tiedRepackBytes(profile, hw), context_bytes: context, compute_bytes: parts.computeBytes, budget_bytes: hostBudget, layers: profile.layers + 1 }]
  }
  const a = assignLayers({
    layers: profile.layers,
    gpuLayers: w.gpu_layers,
    devices: usable,
    ...(w.tensor_split ? { tensorSplit: w.tensor_split } : {}),
    host: { freeBytes: hw.system.ram_available_bytes, totalBytes: hw.system.ram_total_bytes }
  })
  const n = usable.length
  // Index 0 is the host (CPU), 1 … n the devices: a layer's device d lands at d + 1.
  const weights = new Array<number>(n + 1).fill(0)
  const layerBytes = profile.layer_bytes && profile.layer_bytes.length === profile.layers ? profile.layer_bytes : null
  const embedding = profile.bytes_by_group.embedding
  const output = profile.bytes_by_group.output
  const body = layerBytes ? layerBytes.reduce((s, b) => s + b, 0) : profile.tensor_bytes - embedding - output
  a.layers.forEach((d, il) => (weights[d + 1]! += layerBytes ? layerBytes[il]! : body / Math.max(1, profile.layers)))
  // The input layer and whatever is neither a layer nor the output head (rope tables, norms of the output) stay on
  // the host; the output head goes with layer n_layer — tied to the embeddings, as a copy of them.
  weights[0]! += profile.tensor_bytes - body - output
  const tied = output === 0 && profile.model_class === 'causal-lm'
  weights[a.output + 1]! += tied && a.output >= 0 ? embedding : output
  if (a.output < 0) weights[0]! += tiedRepackBytes(profile, hw)

  const kinds = profile.layer_plan.layer_kinds
  const full = kindShares(kinds, a.layers, n, (k) => k === 'F' || k === 'B')
  const sliding = kindShares(kinds, a.layers, n, (k) => k === 'S')
  const state = kindShares(kinds, a.layers, n, (k) => k === 'R' || k === 'B')
  const held = new Array<number>(n + 1).fill(0)
  for (const d of [...a.layers, a.output]) held[d + 1]!++
  const inputRows = parts.ubatch * profile.embedding_length * F32_BYTES
  const out: DeviceMemory[] = usable.map((g, i) => ({
    device: g.name,
    weights_bytes: weights[i + 1]!,
    context_bytes: full[i + 1]! * parts.kvFullBytes + sliding[i + 1]! * parts.kvSlidingBytes + state[i + 1]! * parts.stateBytes,
    compute_bytes: held[i + 1]! > 0 ? parts.computeBytes : 0,
    budget_bytes: g.budgetBytes,
    layers: held[i + 1]!
  }))
  out.push({
    device: HOST,
    weights_bytes: weights[0]!,
    context_bytes: full[0]! * parts.kvFullBytes + sliding[0]! * parts.kvSlidingBytes + state[0]! * parts.stateBytes,
    compute_bytes: held[0]! > 0 ? parts.computeBytes : inputRows,
    budget_bytes: hostBudget,
    layers: held[0]!
  })
  return out
}

/** What a device must hold: its buffers, and on the host the runtime's own memory too. */
export function deviceTotal(d: DeviceMemory, overheadBytes: number): number {
  return d.weights_bytes + d.context_bytes + d.compute_bytes + (d.device === HOST ? overheadBytes : 0)
}
