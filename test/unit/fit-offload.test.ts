// The layer split llama.cpp computes (llama_model::load_tensors), over a table of devices: each case's expected
// assignment worked by hand from the source's rules (split points from free memory or -ts, first GPU layer
// n_layer + 1 − ngl, upper_bound of (il − first) / ngl over the points).
import { describe, expect, test } from '@jest/globals'
import { assignLayers, splitPoints, type OffloadDevice } from '../../src/fit/offload.js'

const GiB = 1024 ** 3
const gpu = (name: string, freeGiB: number): OffloadDevice => ({ name, freeBytes: freeGiB * GiB, totalBytes: freeGiB * GiB })
const host = { freeBytes: 64 * GiB, totalBytes: 128 * GiB }
/** Runs of equal devices: [device, count] pairs, for readable expectations. */
const runs = (xs: number[]): [number, number][] => xs.reduce<[number, number][]>((acc, d) => {
  const last = acc[acc.length - 1]
  if (last && last[0] === d) last[1]++
  else acc.push([d, 1])
  return acc
}, [])

describe("llama.cpp's layer split", () => {
  test('one GPU, every layer offloaded: all repeating layers and the output on it', () => {
    const a = assignLayers({ layers: 32, gpuLayers: 99, devices: [gpu('CUDA0', 24)], host })
    expect(runs(a.layers)).toEqual([[0, 32]])
    expect(a.output).toBe(0)
  })

  test('two equal GPUs split the 33 offloaded layers 17/16: the boundary falls where the 32-bit fractions cross ½', () => {
    const a = assignLayers({ layers: 32, gpuLayers: -1, devices: [gpu('CUDA0', 24), gpu('CUDA1', 24)], host })
    // (il)/33 > 0.5 first at il = 17.
    expect(runs(a.layers)).toEqual([[0, 17], [1, 15]])
    expect(a.output).toBe(1)
    expect(a.layersPerDevice).toEqual([17, 16])
  })

  test('by free memory: an 80 GB and a 40 GB GPU take two thirds and one third', () => {
    const a = assignLayers({ layers: 80, gpuLayers: 99, devices: [gpu('CUDA0', 80), gpu('CUDA1', 40)], host })
    // 54/81 is 2/3 exactly, the same 32-bit float as the split point: upper_bound (first point greater) passes it,
    // so layer 54 is already the second GPU's.
    expect(runs(a.layers)).toEqual([[0, 54], [1, 26]])
    expect(a.layersPerDevice).toEqual([54, 27])
  })

  test('-ts 3,1 overrides free memory; an all-zero -ts does not', () => {
    const devices = [gpu('CUDA0', 24), gpu('CUDA1', 80)]
    expect(splitPoints({ devices, tensorSplit: [3, 1], host })).toEqual([0.75, 1])
    expect(assignLayers({ layers: 39, gpuLayers: 99, devices, tensorSplit: [3, 1], host }).layersPerDevice).toEqual([30, 10])
    expect(splitPoints({ devices, tensorSplit: [0, 0], host })).toEqual([Math.fround(24 / 104), 1])
  })

  test('partial offload: the last ngl layers (output included) go to the GPU, the first stay on the CPU', () => {
    const a = assignLayers({ layers: 32, gpuLayers: 16, devices: [gpu('CUDA0', 8)], host })
    // first GPU layer = 32 + 1 − 16 = 17: layers 17–31 and the output.
    expect(runs(a.layers)).toEqual([[-1, 17], [0, 15]])
    expect(a.output).toBe(0)
    expect(assignLayers({ layers: 32, gpuLayers: 0, devices: [gpu('CUDA0', 8)], host })).toEqual({ layers: new Array(32).fill(-1), output: -1, layersPerDevice: [0] })
  })

  test('no GPU: everything on the CPU whatever -ngl says', () => {
    const a = assignLayers({ layers: 4, gpuLayers: 99, devices: [], host })
    expect(a).toEqual({ layers: [-1, -1, -1, -1], output: -1, layersPerDevice: [] })
  })

  test("a device that reports no memory (free and total 0) is split by the host's free memory", () => {
    const unified: OffloadDevice = { name: 'Metal', freeBytes: 0, totalBytes: 0 }
    expect(splitPoints({ devices: [gpu('CUDA0', 64), unified], host })).toEqual([0.5, 1])
  })
})
