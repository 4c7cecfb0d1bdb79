// The memory per device, as llama.cpp places the buffers (src/fit/devices.ts), over a table of devices: a CPU build,
// one GPU, two GPUs split by free memory, partial offload, a tied output head, and Metal's working-set limit read
// from llama.cpp's own device list. Each expectation is worked from the rules in the file comment.
import { describe, expect, test } from '@jest/globals'
import { readGgufHeader } from '../../src/gguf/reader.js'
import { buildProfile } from '../../src/gguf/profile.js'
import type { SyntheticModelSpec } from '../../src/gguf/writer.js'
import type { HardwareProfile, LlamaDevice } from '../../src/contracts/hardware.js'
import type { ModelProfile } from '../../src/contracts/profile.js'
import { defaultWorkload, llamaWorkloadFlags, validateWorkload } from '../../src/bench/workload.js'
import { HOST, deviceMemory, offloadDevices, tiedRepackBytes } from '../../src/fit/devices.js'
import { memoryFit } from '../../src/fit/memory.js'
import { syntheticHeaderSource } from '../helpers/synthetic.js'
import { renderFitTable } from '../../src/cli/render-fit.js'

const GiB = 1024 ** 3
const MiB = 1024 ** 2

async function profileOf(spec: SyntheticModelSpec): Promise<ModelProfile> {
  const h = await readGgufHeader(syntheticHeaderSource(spec))
  return buildProfile([h], h.fileSize, 'test.gguf')
}

const llama = (layers: number, tied = false): SyntheticModelSpec => ({
  architecture: 'llama', layers, embeddingLength: 512, feedForwardLength: 1536, heads: 8, kvHeads: 4, headDim: 64, vocabSize: 4096, contextLength: 8192, seed: 1, tiedEmbeddings: tied
})

function hw(backend: string, devices: LlamaDevice[] | null, ramGiB = 64): HardwareProfile {
  return {
    system: { gpus: [], ram_available_bytes: ramGiB * GiB, ram_total_bytes: 2 * ramGiB * GiB, ...(devices ? { llama_devices: devices } : {}) },
    llama: { backend }
  } as unknown as HardwareProfile
}
const dev = (name: string, freeGiB: number, totalGiB = freeGiB): LlamaDevice => ({ name, description: name, total_bytes: totalGiB * GiB, free_bytes: freeGiB * GiB })
const parts = { kvFullBytes: 64 * MiB, kvSlidingBytes: 0, stateBytes: 0, computeBytes: 80 * MiB, overheadBytes: 50 * MiB, ubatch: 512 }
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0)

describe('memory per device', () => {
  test('a CPU build: everything is the host’s, against available RAM', async () => {
    const p = await profileOf(llama(8))
    const d = deviceMemory(p, hw('CPU', []), defaultWorkload(), parts)
    expect(d).toEqual([{ device: HOST, weights_bytes: p.tensor_bytes, context_bytes: 64 * MiB, compute_bytes: 80 * MiB, budget_bytes: 64 * GiB, layers: 9 }])
  })

  test('one GPU, every layer offloaded: the layers, KV, output head and compute on it; the host keeps the token table and a ubatch of input rows', async () => {
    const p = await profileOf(llama(8))
    const [gpu, host] = deviceMemory(p, hw('CUDA', [dev('CUDA0', 24)]), defaultWorkload(), parts)
    expect(gpu).toMatchObject({ device: 'CUDA0', context_bytes: 64 * MiB, compute_bytes: 80 * MiB, budget_bytes: 24 * GiB, layers: 9 })
    expect(gpu!.weights_bytes).toBe(sum(p.layer_bytes!) + p.bytes_by_group.output)
    expect(host).toMatchObject({ device: HOST, context_bytes: 0, compute_bytes: 512 * 512 * 4, layers: 0 })
    expect(host!.weights_bytes + gpu!.weights_bytes).toBe(p.tensor_bytes)
  })

  test('two GPUs split by their free memory: 8 layers + output in a 2:1 split, KV with its layers', async () => {
    const p = await profileOf(llama(8))
    const d = deviceMemory(p, hw('CUDA', [dev('CUDA0', 40), dev('CUDA1', 20)]), defaultWorkload(), parts)
    // Split points 2/3, 1 over the 9 offloaded layers: il/9 < 2/3 for il 0–5 → 6 on CUDA0, 3 (2 layers + output) on CUDA1.
    expect(d.map((x) => [x.device, x.layers])).toEqual([['CUDA0', 6], ['CUDA1', 3], [HOST, 0]])
    expect(d[0]!.context_bytes).toBe((6 / 8) * 64 * MiB)
    expect(d[1]!.context_bytes).toBe((2 / 8) * 64 * MiB)
    expect(d[0]!.weights_bytes).toBe(sum(p.layer_bytes!.slice(0, 6)))
    expect(d[1]!.weights_bytes).toBe(sum(p.layer_bytes!.slice(6)) + p.bytes_by_group.output)
    // Each GPU computes its own layers: both reserve a compute buffer.
    expect(d.map((x) => x.compute_bytes)).toEqual([80 * MiB, 80 * MiB, 512 * 512 * 4])
  })

  test('partial offload (-ngl 4 of 8): the first 5 layers and their KV stay on the host, which computes them', async () => {
    const p = await profileOf(llama(8))
    const [gpu, host] = deviceMemory(p, hw('CUDA', [dev('CUDA0', 24)]), defaultWorkload({ gpu_layers: 4 }), parts)
    expect(gpu!.layers).toBe(4)
    expect(host!.layers).toBe(5)
    expect(host!.context_bytes).toBe((5 / 8) * 64 * MiB)
    expect(host!.compute_bytes).toBe(80 * MiB)
    expect(host!.weights_bytes).toBe(p.tensor_bytes - sum(p.layer_bytes!.slice(5)) - p.bytes_by_group.output)
  })

  test('a tied output head: the GPU holds a copy of the token table, which the host keeps too', async () => {
    const p = await profileOf(llama(4, true))
    expect(p.bytes_by_group.output).toBe(0)
    const [gpu, host] = deviceMemory(p, hw('CUDA', [dev('CUDA0', 24)]), defaultWorkload(), parts)
    expect(gpu!.weights_bytes).toBe(sum(p.layer_bytes!) + p.bytes_by_group.embedding)
    expect(host!.weights_bytes).toBe(p.tensor_bytes - sum(p.layer_bytes!))
  })

  test("Metal: the budget is llama.cpp's working-set limit from its device list, not the RAM", async () => {
    const h = hw('Metal', [dev('MTL0', 21, 21)], 32)
    expect(offloadDevices(h).map((d) => [d.name, d.budgetBytes])).toEqual([['MTL0', 21 * GiB]])
    // Without llama.cpp's list the probe's GPUs stand in, named as llama.cpp numbers them.
    const probeOnly = { ...h, system: { ...h.system, llama_devices: undefined, gpus: [{ name: 'Apple M2 Pro', memory_total_bytes: 32 * GiB, memory_free_bytes: null, driver: null, compute_capability: null }] } } as HardwareProfile
    expect(offloadDevices(probeOnly).map((d) => [d.name, d.budgetBytes])).toEqual([['MTL0', 32 * GiB]])
  })

  test('the fit is each device’s own: a model too big for one GPU fits two, and a split is only as good as its fullest device', async () => {
    const p = await profileOf(llama(8))
    const w = defaultWorkload({ context_tokens: 4096 })
    const one = memoryFit(p, hw('CUDA', [dev('CUDA0', 64)]), w)
    const need = (d: { weights_bytes: number; context_bytes: number; compute_bytes: number }) => d.weights_bytes + d.context_bytes + d.compute_bytes
    const whole = need(one.devices![0]!)
    const compute = one.devices![0]!.compute_bytes
    // A budget (less the 10 % margin) between half the model (plus a compute buffer each) and the whole of it.
    const budget = (whole + ((whole - compute) / 2 + compute)) / 2 / 0.9
    const mb = (bytes: number): LlamaDevice => ({ name: 'x', description: 'x', total_bytes: bytes, free_bytes: bytes })
    expect(memoryFit(p, hw('CUDA', [{ ...mb(budget), name: 'CUDA0' }]), w).status).toBe('does-not-fit')
    const two = memoryFit(p, hw('CUDA', [{ ...mb(budget), name: 'CUDA0' }, { ...mb(budget), name: 'CUDA1' }]), w)
    expect(two.status).not.toBe('does-not-fit')
    expect(two.devices!.map((d) => d.layers)).toEqual([5, 4, 0])
    expect(memoryFit(p, hw('CUDA', [{ ...mb(budget), name: 'CUDA0' }]), w).reason).toContain('CUDA0')
  })

  test("a tied output head of a type the CPU repacks: the CPU keeps a repacked copy of the token table beside it", async () => {
    const p = await profileOf(llama(4, true))
    const retyped = { ...p, output_type: 'Q4_K' }
    const cpu = (types: string[]) => ({ ...hw('CPU', []), llama: { backend: 'CPU', repacked_types: types } }) as unknown as HardwareProfile
    expect(tiedRepackBytes(retyped, cpu(['Q4_0', 'Q4_K']))).toBe(p.bytes_by_group.embedding)
    expect(tiedRepackBytes(retyped, cpu(['Q4_0']))).toBe(0)
    // Not measured: no copy assumed.
    expect(tiedRepackBytes(retyped, hw('CPU', []))).toBe(0)
    const [host] = deviceMemory(retyped, cpu(['Q4_K']), defaultWorkload(), parts)
    expect(host!.weights_bytes).toBe(p.tensor_bytes + p.bytes_by_group.embedding)
    // An untied head is moved into the repacked buffer, not copied.
    const untied = await profileOf(llama(4, false))
    expect(tiedRepackBytes({ ...untied, output_type: 'Q4_K' }, cpu(['Q4_K']))).toBe(0)
  })

  test('`fit` prints each device’s share when the model is split', async () => {
    const p = await profileOf(llama(8))
    const h = hw('CUDA', [dev('CUDA0', 40), dev('CUDA1', 20)])
    const fit = memoryFit(p, h, defaultWorkload())
    const text = renderFitTable([{ ref: 'm', profile: p, prediction: { fit, scenarios: [], not_predicted: {} } }])
    expect(text).toMatch(/\n {4}CUDA0: 6 layers · weights .* of 40\.00 GiB\n {4}CUDA1: 3 layers · .* of 20\.00 GiB\n {4}Host: 0 layers · /)
    // One device (a CPU build): no per-device lines.
    expect(renderFitTable([{ ref: 'm', profile: p, prediction: { fit: memoryFit(p, hw('CPU', []), defaultWorkload()), scenarios: [], not_predicted: {} } }])).not.toMatch(/Host:/)
  })

  test('a tensor split (-ts 1,2) overrides free memory, and the bench passes it to llama.cpp', async () => {
    const p = await profileOf(llama(8))
    const w = defaultWorkload({ tensor_split: [1, 2] })
    const d = deviceMemory(p, hw('CUDA', [dev('CUDA0', 40), dev('CUDA1', 20)]), w, parts)
    // Points 1/3, 1 over 9 offloaded layers: il/9 < 1/3 for il 0–2 → 3 on CUDA0, 6 (5 layers + output) on CUDA1.
    expect(d.map((x) => [x.device, x.layers])).toEqual([['CUDA0', 3], ['CUDA1', 6], [HOST, 0]])
    expect(llamaWorkloadFlags(w).join(' ')).toContain('-ts 1,2')
    expect(llamaWorkloadFlags(defaultWorkload()).join(' ')).not.toContain('-ts')
    expect(() => validateWorkload(defaultWorkload({ tensor_split: [0, 0] }))).toThrow(/tensor_split: must be shares ≥ 0 per GPU, at least one above 0/)
  })
})

