// Which device llama.cpp puts each layer on: llama_model::load_tensors' split, as the pinned source computes it
// (src/llama-model.cpp, "calculate the split points"). Pure.
//
// The split points are the devices' shares, cumulated and normalised: the tensor split when one is given (-ts),
// else each device's free memory (a device that reports none borrows the host's). With n_gpu_layers = ngl of the
// model's n_layer repeating layers plus the output layer (index n_layer), the first GPU layer is
// max(n_layer + 1 − ngl, 0), and layer il goes to the first device whose split point exceeds (il − first) / ngl'
// (ngl' = min(ngl, n_layer + 1)); layers before the first stay on the CPU, and so does the input layer always.
// llama.cpp computes the points and that fraction in 32-bit floats, so this does too (Math.fround): a layer on a
// boundary lands where llama.cpp puts it.

export interface OffloadDevice {
  name: string
  /** Free memory the device reports, bytes; 0 with total 0 means "none reported" (llama.cpp then uses the host's). */
  freeBytes: number
  totalBytes: number
}

export interface OffloadRequest {
  /** The model's repeating layers (n_layer_all). */
  layers: number
  /** -ngl: layers to offload; negative means all (llama.cpp's default, n_layer + 1). */
  gpuLayers: number
  /** The GPUs, in llama.cpp's device order. Empty: everything on the CPU. */
  devices: readonly OffloadDevice[]
  /** -ts: the share of each device; absent or all zero splits by free memory. */
  tensorSplit?: readonly number[]
  /** The host's free and total memory, for a device that reports none. */
  host: { freeBytes: number; totalBytes: number }
}

export interface LayerAssignment {
  /** Per repeating layer: the device index, or -1 for the CPU. */
  layers: number[]
  /** The output layer's device index, or -1 for the CPU. */
  output: number
  /** Layers (repeating and output) each device holds, by device index. */
  layersPerDevice: number[]
}

const f32 = Math.fround

/** The cumulative, normalised split points (llama.cpp's `splits` after its two loops), in 32-bit floats. */
export function splitPoints(r: Pick<OffloadRequest, 'devices' | 'tensorSplit' | 'host'>): number[] {
  const n = r.devices.length
  const given = r.tensorSplit && r.tensorSplit.slice(0, n).some((x) => x !== 0) ? r.tensorSplit : null
  const shares = r.devices.map((d, i) => {
    if (given) return f32(given[i] ?? 0)
    const free = d.freeBytes === 0 && d.totalBytes === 0 ? r.host.freeBytes : d.freeBytes
    return f32(free)
  })
  let sum = f32(0)
  const points = shares.map((s) => (sum = f32(sum + s)))
  return points.map((p) => f32(p / sum))
}

/** The device of every layer, as llama_model::load_tensors assigns them. */
export function assignLayers(r: OffloadRequest): LayerAssignment {
  const n = r.devices.length
  const ngl = r.gpuLayers >= 0 ? r.gpuLayers : r.layers + 1
  const first = Math.max(r.layers + 1 - ngl, 0)
  const active = n === 0 ? 0 : Math.min(ngl, r.layers + 1)
  const points = n > 0 ? splitPoints(r) : []
  const deviceOf = (il: number): number => {
    if (il < first || il - first >= active) return -1
    const x = f32(f32(il - first) / active)
    // std::upper_bound: the first point greater than x.
    const i = points.findIndex((p) => p > x)
    return i === -1 ? n - 1 : i
  }
  const layers = Array.from({ length: r.layers }, (_, il) => deviceOf(il))
  const output = deviceOf(r.layers)
  const layersPerDevice = new Array<number>(n).fill(0)
  for (const d of [...layers, output]) if (d >= 0) layersPerDevice[d]!++
  return { layers, output, layersPerDevice }
}
