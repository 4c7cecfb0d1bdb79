// The speed law of a model split between devices (src/fit/split-speed.ts), on a small llama geometry with flat facts
// (one rate for every weight type, no caches, no per-row cost) so that every term can be written out by hand: the
// layers a device holds at its rates, the output layer and the pass's fixed cost on the output's device, a hand-off
// at every change of device, the op offload of prefill ubatches of 32 tokens and more.
import { describe, expect, test } from '@jest/globals'
import { readGgufHeader } from '../../src/gguf/reader.js'
import { buildProfile } from '../../src/gguf/profile.js'
import type { SyntheticModelSpec } from '../../src/gguf/writer.js'
import type { HardwareProfile, LlamaDevice, MeasuredFact, MeasuredFacts } from '../../src/contracts/hardware.js'
import type { ModelProfile } from '../../src/contracts/profile.js'
import { defaultWorkload } from '../../src/bench/workload.js'
import { kvCells, modelGeometry, type ModelGeometry } from '../../src/fit/geometry.js'
import { ratesFromFacts, resolveRates } from '../../src/fit/rates.js'
import { decodeEstimate, prefillEstimate, type DecodeShape } from '../../src/fit/speed.js'
import {
  deviceRates,
  HOST_DEVICE,
  OP_OFFLOAD_MIN_BATCH,
  partGeometry,
  placementOf,
  ROW_SPLIT_NOT_MODELLED,
  splitDecodeEstimate,
  splitPlacement,
  splitPrefillEstimate,
  speedLaw,
  usesSplitLaw,
  type DeviceRates,
  type Placement
} from '../../src/fit/split-speed.js'
import { syntheticHeaderSource } from '../helpers/synthetic.js'
import { predict } from '../../src/fit/predict.js'

const GiB = 1024 ** 3
const f = (value: number, unit = 'x', spread = 0): MeasuredFact => ({ value, unit, samples: [value], spread })

/** Flat facts: every type streams at `bw`, multiplies at `flops`; attention per position and layer from α, β. */
function facts(o: { bw: number; flops: number; fixed: number; perLayer: number; alpha: number; beta: number; spread?: number }): MeasuredFacts {
  const s = o.spread ?? 0
  return {
    decode_bandwidth_bytes_per_sec: f(o.bw, 'B/s', s),
    decode_bandwidth_by_type: { F16: f(o.bw, 'B/s', s) },
    prefill_flops_per_sec: f(o.flops, 'FLOP/s'),
    prefill_flops_by_type: { F16: f(o.flops, 'FLOP/s') },
    fixed_decode_ms: f(o.fixed, 'ms'),
    per_layer_decode_ms: f(o.perLayer, 'ms'),
    kv_depth_ms_per_token_per_layer: {},
    kv_depth_coefficients: { f16: { ns_per_query_element_token: f(o.alpha), ns_per_kv_byte_token: f(o.beta) } },
    prefill_depth_ms_per_token_per_layer: null,
    prefill_attention_coefficients: { ns_per_head_token_position: f(0), ns_per_query_element_token_position: f(o.alpha) },
    server_decode_overhead_ms: null,
    server_first_token_overhead_ms: null
  }
}

const GPU = facts({ bw: 2e12, flops: 2e14, fixed: 0.2, perLayer: 0.01, alpha: 0.001, beta: 0.0005 })
const CPU = facts({ bw: 5e10, flops: 1e12, fixed: 0.05, perLayer: 0.02, alpha: 0.05, beta: 0.02, spread: 0.1 })
const OFFLOAD = { bus_bytes_per_sec: { ...f(2e10, 'B/s'), spread: 0.2 }, handoff_ms: f(0.03, 'ms') }
const HANDOFF_MS = 0.03
const BUS = 2e10

const dev = (name: string, freeGiB: number, description = 'NVIDIA H200'): LlamaDevice => ({ name, description, total_bytes: freeGiB * GiB, free_bytes: freeGiB * GiB })

function hardware(over: Partial<HardwareProfile> = {}, devices: LlamaDevice[] = [dev('CUDA0', 100)]): HardwareProfile {
  return {
    schema_version: 2,
    fingerprint: 't',
    system: { os: 'linux', arch: 'x64', cpu_model: 'CPU', cores: 16, threads: 16, ram_total_bytes: 128 * GiB, ram_available_bytes: 100 * GiB, cache_bytes: 0, gpus: [], llama_devices: devices },
    llama: { commit: 'c', build_number: 1, backend: 'CUDA', node_llama_cpp_version: null, bin_dir: '/' },
    measured: GPU,
    measured_host: CPU,
    measured_offload: OFFLOAD,
    ceilings: { memory_read_bytes_per_sec: null, peak_flops_per_sec: null },
    probe_seconds: {},
    measured_at: '2026-01-01T00:00:00Z',
    ...over
  }
}

const SPEC: SyntheticModelSpec = { architecture: 'llama', layers: 4, embeddingLength: 256, feedForwardLength: 768, heads: 4, kvHeads: 4, headDim: 64, vocabSize: 1024, contextLength: 4096, seed: 3 }

async function profileOf(spec: SyntheticModelSpec): Promise<ModelProfile> {
  const h = await readGgufHeader(syntheticHeaderSource(spec))
  return buildProfile([h], h.fileSize, 'test.gguf')
}

const decodeShape: DecodeShape = { startPos: 0, tokens: 1, cells: 256, kvKey: 'f16', kvType: 'f16' }
const prefillShape = (tokens: number, ubatch = 512) => ({ startPos: 0, tokens, ubatch, cells: kvCells(tokens), outputs: 1 })
const ms = (bytes: number, perSec: number): number => (bytes / perSec) * 1e3
const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0)

/** The model's setup, its placement for a workload and the rates that go with it. */
async function setup(w: Parameters<typeof defaultWorkload>[0], hw = hardware()): Promise<{ p: ModelProfile; g: ModelGeometry; pl: Placement; rates: DeviceRates }> {
  const p = await profileOf(SPEC)
  const g = modelGeometry(p)
  const out = splitPlacement(p, hw, defaultWorkload(w))
  if (!out.placement) throw new Error(out.reason)
  return { p, g, pl: out.placement, rates: deviceRates(hw, out.placement) }
}

describe('everything on one device: the single-device law, exactly', () => {
  test('every layer on the GPU: decodeEstimate and prefillEstimate with the GPU facts', async () => {
    const { g, pl, rates } = await setup({ gpu_layers: 99 })
    expect(pl.layers).toEqual([0, 0, 0, 0])
    expect(usesSplitLaw(pl)).toBe(false)
    const r = ratesFromFacts(GPU, 0)
    const d = splitDecodeEstimate(g, pl, rates, decodeShape)
    expect(d.estimate).toMatchObject({ ...decodeEstimate(g, r, decodeShape), handoffMs: 0, handoffs: 0 })
    const s = prefillShape(1000)
    const pf = splitPrefillEstimate(g, pl, rates, s)
    expect(pf.estimate).toMatchObject({ ...prefillEstimate(g, r, s), handoffMs: 0, busMs: 0, pipelineSavedMs: 0 })
  })

  test('a CPU build: the host is `measured` itself, no op offload', async () => {
    const hw = hardware({ llama: { commit: 'c', build_number: 1, backend: 'CPU', node_llama_cpp_version: null, bin_dir: '/' }, measured: CPU, measured_host: undefined, measured_offload: undefined }, [])
    const { g, pl, rates } = await setup({ gpu_layers: 99 }, hw)
    expect(pl.gpus).toEqual([])
    expect(pl.layers).toEqual([HOST_DEVICE, HOST_DEVICE, HOST_DEVICE, HOST_DEVICE])
    expect(usesSplitLaw(pl)).toBe(false)
    const r = ratesFromFacts(CPU, 0)
    expect(splitDecodeEstimate(g, pl, rates, decodeShape).estimate).toMatchObject(decodeEstimate(g, r, decodeShape))
    const s = prefillShape(512)
    expect(splitPrefillEstimate(g, pl, rates, s).estimate).toMatchObject(prefillEstimate(g, r, s))
  })

  test('-ngl 0 on a GPU machine: decode is the CPU’s own law; prefill ubatches under 32 tokens too', async () => {
    const { g, pl, rates } = await setup({ gpu_layers: 0 })
    expect(pl.gpus).toEqual(['CUDA0'])
    expect(usesSplitLaw(pl)).toBe(true)
    const r = ratesFromFacts(CPU, 0)
    expect(splitDecodeEstimate(g, pl, rates, decodeShape).estimate).toMatchObject(decodeEstimate(g, r, decodeShape))
    const s = prefillShape(16, 16)
    expect(splitPrefillEstimate(g, pl, rates, s).estimate).toMatchObject(prefillEstimate(g, r, s))
  })

  test('a part holding every layer and the output is the model’s own geometry', async () => {
    const { g, pl } = await setup({ gpu_layers: 99 })
    const whole = partGeometry(g, pl, [0, 1, 2, 3], true)
    for (const k of ['layers', 'attentionLayers', 'outputParams', 'ffnParamShare', 'recurrentStateBytes'] as const) expect(whole[k]).toBe(g[k])
    expect(whole.active_bytes_per_token).toBeCloseTo(g.active_bytes_per_token, 6)
    expect(whole.matrixRowsPerToken).toBeCloseTo(g.matrixRowsPerToken, 6)
  })
})

describe('half the layers offloaded (-ngl 3 of 4: layers 0–1 on the CPU, 2–3 and the output on the GPU)', () => {
  test('decode: the CPU half at the CPU rates, the GPU half with the output and the fixed cost at the GPU rates, one hand-off', async () => {
    const { p, g, pl, rates } = await setup({ gpu_layers: 3 })
    expect(pl.layers).toEqual([HOST_DEVICE, HOST_DEVICE, 0, 0])
    expect(pl.output).toBe(0)
    const d = splitDecodeEstimate(g, pl, rates, decodeShape).estimate!
    // By hand: the body's active bytes (all but the output head) split by the layers' bytes, here equal halves.
    const head = p.bytes_by_group.output
    const body = p.active_bytes_per_token - head
    expect(p.layer_bytes![0]).toBe(p.layer_bytes![3])
    const attentionPerLayer = (c: MeasuredFacts) =>
      (256 * (g.queryElements * c.kv_depth_coefficients!.f16!.ns_per_query_element_token.value + g.kvBytesPerPositionPerLayer('f16') * c.kv_depth_coefficients!.f16!.ns_per_kv_byte_token.value)) / 1e6
    const cpu = ms(body / 2, 5e10) + 2 * 0.02 + 2 * attentionPerLayer(CPU)
    const gpu = ms(body / 2 + head, 2e12) + 0.2 + 2 * 0.01 + 2 * attentionPerLayer(GPU)
    const handoff = HANDOFF_MS + ms(256 * 4, BUS)
    expect(d.handoffs).toBe(1)
    expect(d.handoffMs).toBeCloseTo(handoff, 9)
    expect(d.parts.map((x) => [x.device, x.computedOn, x.layers, x.output])).toEqual([
      ['CPU', 'CPU', 2, false],
      ['CUDA0', 'CUDA0', 2, true]
    ])
    expect(d.parts[0]!.ms).toBeCloseTo(cpu, 9)
    expect(d.parts[1]!.ms).toBeCloseTo(gpu, 9)
    expect(d.totalMs).toBeCloseTo(cpu + gpu + handoff, 9)
    expect(d.weightsMs).toBeCloseTo(ms(body / 2, 5e10) + ms(body / 2 + head, 2e12), 9)
    expect(d.overheadMs).toBeCloseTo(0.2 + 2 * 0.02 + 2 * 0.01, 9)
    // The spread is the time-weighted spread of the facts behind the terms: the CPU's weights 10 %, the bus's 20 %.
    expect(d.spread).toBeCloseTo((0.1 * ms(body / 2, 5e10) + 0.2 * ms(256 * 4, BUS)) / d.totalMs, 9)
  })

  test('prefill of 512 tokens (op offload): the CPU layers run on the GPU, their weights and KV rows cross the bus, two hand-offs per layer', async () => {
    const { p, g, pl, rates } = await setup({ gpu_layers: 3 })
    const s = prefillShape(512)
    const e = splitPrefillEstimate(g, pl, rates, s).estimate!
    const kvRow = g.kvBytesPerPositionPerLayer('f16')
    expect(kvRow).toBe(2 * 4 * 64 * 2)
    const bus = p.layer_bytes![0]! + p.layer_bytes![1]! + 2 * (512 + 512) * kvRow
    expect(e.busBytes).toBe(bus)
    expect(e.busMs).toBeCloseTo(ms(bus, BUS), 9)
    expect(e.handoffs).toBe(4)
    expect(e.handoffMs).toBeCloseTo(4 * HANDOFF_MS, 9)
    expect(e.parts.map((x) => [x.device, x.computedOn, x.layers])).toEqual([
      ['CPU', 'CUDA0', 2],
      ['CUDA0', 'CUDA0', 2]
    ])
    // Compute: the whole model at the GPU's rates, as one device (the terms are linear in the layers here).
    const whole = prefillEstimate(g, ratesFromFacts(GPU, 0), s)
    expect(e.totalMs).toBeCloseTo(whole.totalMs + 4 * HANDOFF_MS + ms(bus, BUS), 9)
  })

  test('prefill in ubatches of 16 (under the op offload threshold): the CPU computes its layers, one hand-off of 16 rows each', async () => {
    const { g, pl, rates } = await setup({ gpu_layers: 3 })
    expect(OP_OFFLOAD_MIN_BATCH).toBe(32)
    const s = prefillShape(32, 16)
    const e = splitPrefillEstimate(g, pl, rates, s).estimate!
    expect(e.busBytes).toBe(0)
    expect(e.handoffs).toBe(2)
    expect(e.activationBytes).toBe(2 * 16 * 256 * 4)
    const cpuPart = prefillEstimate(partGeometry(g, pl, [0, 1], false), { ...ratesFromFacts(CPU, 0), fixedDecodeMs: { value: 0, spread: 0 } }, { ...s, outputs: 1 })
    expect(e.parts[0]).toMatchObject({ device: 'CPU', computedOn: 'CPU', layers: 2 })
    expect(e.parts[0]!.ms).toBeCloseTo(cpuPart.totalMs, 9)
  })

  test('-ngl 0 on a GPU machine, 512 tokens: every layer runs on the GPU with its weights copied, the output row on the CPU', async () => {
    const { p, g, pl, rates } = await setup({ gpu_layers: 0 })
    const e = splitPrefillEstimate(g, pl, rates, prefillShape(512)).estimate!
    // The last layer's feed-forward runs for the one row with logits: on the CPU, its weights stay.
    const lb = p.layer_bytes!
    const kv = 4 * (512 + 512) * g.kvBytesPerPositionPerLayer('f16')
    expect(e.busBytes).toBeCloseTo(lb[0]! + lb[1]! + lb[2]! + lb[3]! * (1 - pl.ffnBytesShare) + kv, 3)
    // 2 per layer for the KV stores, then GPU → CPU for the last feed-forward (the output stays there).
    expect(e.handoffs).toBe(4 * 2 + 1)
    expect(e.parts.map((x) => [x.device, x.computedOn, x.layers, x.output])).toEqual([
      ['CPU', 'CUDA0', 4, false],
      ['CPU', 'CPU', 0, true]
    ])
  })
})

describe('two GPUs, -ts 1,1 (layers 0–2 on CUDA0, layer 3 and the output on CUDA1)', () => {
  const two = [dev('CUDA0', 80), dev('CUDA1', 80)]

  test('decode: the two GPU parts and one GPU↔GPU hand-off', async () => {
    const { g, pl, rates } = await setup({ gpu_layers: 99, tensor_split: [1, 1] }, hardware({}, two))
    expect(pl.layers).toEqual([0, 0, 0, 1])
    expect(pl.output).toBe(1)
    expect(pl.pipelineParallel).toBe(true)
    const d = splitDecodeEstimate(g, pl, rates, decodeShape).estimate!
    expect(d.handoffs).toBe(1)
    // Identical GPUs and linear terms: the two parts add up to the model on one of them.
    const one = decodeEstimate(g, ratesFromFacts(GPU, 0), decodeShape)
    expect(sum(d.parts.map((x) => x.ms))).toBeCloseTo(one.totalMs, 9)
    expect(d.totalMs).toBeCloseTo(one.totalMs + HANDOFF_MS + ms(256 * 4, BUS), 9)
    expect(d.parts.map((x) => [x.device, x.layers, x.output])).toEqual([
      ['CUDA0', 3, false],
      ['CUDA1', 1, true]
    ])
  })

  test('prefill of two ubatches: each sums its parts and hand-off; pipelined, the second ubatch overlaps the first', async () => {
    const { g, pl, rates } = await setup({ gpu_layers: 99, tensor_split: [1, 1] }, hardware({}, two))
    const s = prefillShape(1024)
    const e = splitPrefillEstimate(g, pl, rates, s).estimate!
    expect(e.handoffs).toBe(2)
    expect(e.activationBytes).toBe(2 * 512 * 256 * 4)
    const sequential = e.matmulMs + e.attentionMs + e.stateMs + e.outputMs + e.overheadMs + e.handoffMs + e.busMs
    expect(e.pipelineSavedMs).toBeGreaterThan(0)
    expect(e.totalMs).toBeCloseTo(sequential - e.pipelineSavedMs, 9)
    // One call per ubatch (n_batch = n_ubatch): nothing overlaps.
    const unpiped = splitPrefillEstimate(g, pl, rates, { ...s, batch: 512 }).estimate!
    expect(unpiped.pipelineSavedMs).toBe(0)
    expect(unpiped.totalMs).toBeCloseTo(sequential, 9)
  })

  test('-sm none puts every layer on main_gpu; the single-GPU law applies', async () => {
    const { g, pl, rates } = await setup({ gpu_layers: 99, split_mode: 'none', main_gpu: 1, tensor_split: [1, 1] }, hardware({}, two))
    expect(pl.gpus).toEqual(['CUDA1'])
    expect(pl.layers).toEqual([0, 0, 0, 0])
    expect(usesSplitLaw(pl)).toBe(false)
    const d = splitDecodeEstimate(g, pl, rates, decodeShape).estimate!
    expect(d.parts).toEqual([{ device: 'CUDA1', computedOn: 'CUDA1', layers: 4, output: true, ms: d.totalMs }])
    expect(d.totalMs).toBe(decodeEstimate(g, ratesFromFacts(GPU, 0), decodeShape).totalMs)
  })

  test('-sm none with a main GPU llama.cpp does not list: no placement', async () => {
    const p = await profileOf(SPEC)
    const out = splitPlacement(p, hardware({}, two), defaultWorkload({ split_mode: 'none', main_gpu: 2 }))
    expect(out.placement).toBeNull()
    expect(out.reason).toMatch(/main GPU 2 does not exist/)
  })

  test('-sm row is not modelled', async () => {
    const p = await profileOf(SPEC)
    const out = splitPlacement(p, hardware({}, two), defaultWorkload({ split_mode: 'row' }))
    expect(out).toEqual({ placement: null, reason: ROW_SPLIT_NOT_MODELLED })
  })

  test('GPUs of different models are costed with the probed GPU’s facts, and the rates say so', async () => {
    const hw = hardware({}, [dev('CUDA0', 80), dev('CUDA1', 24, 'NVIDIA L4')])
    const { pl } = await setup({ gpu_layers: 99 }, hw)
    expect(deviceRates(hw, pl).assumptions[0]).toMatch(/GPUs differ \(NVIDIA H200, NVIDIA L4\)/)
  })
})

describe('missing facts: no estimate, a reason', () => {
  test('a GPU profile probed before the host facts: partial offload is not predicted', async () => {
    const hw = hardware({ measured_host: undefined })
    const { g, pl, rates } = await setup({ gpu_layers: 3 }, hw)
    const d = splitDecodeEstimate(g, pl, rates, decodeShape)
    expect(d.estimate).toBeNull()
    expect(d.reason).toMatch(/measured_host/)
    expect(splitPrefillEstimate(g, pl, rates, prefillShape(64, 16)).reason).toMatch(/measured_host/)
    // From 32 tokens up the GPU runs every layer: the CPU's facts are not needed.
    expect(splitPrefillEstimate(g, pl, rates, prefillShape(512)).estimate).not.toBeNull()
  })

  test('no offload facts: a split is not predicted, a single GPU still is', async () => {
    const hw = hardware({ measured_offload: undefined })
    const split = await setup({ gpu_layers: 3 }, hw)
    expect(splitDecodeEstimate(split.g, split.pl, split.rates, decodeShape).reason).toMatch(/measured_offload/)
    expect(splitPrefillEstimate(split.g, split.pl, split.rates, prefillShape(512)).reason).toMatch(/measured_offload/)
    const whole = await setup({ gpu_layers: 99 }, hw)
    expect(splitDecodeEstimate(whole.g, whole.pl, whole.rates, decodeShape).estimate).not.toBeNull()
  })

  test('a placement of another model is refused', async () => {
    const { p, g, rates } = await setup({ gpu_layers: 3 })
    const wrong = placementOf({ ...p, layers: 3, layer_bytes: p.layer_bytes!.slice(0, 3) }, ['CUDA0'], [HOST_DEVICE, 0, 0], 0)
    expect(splitDecodeEstimate(g, wrong, rates, decodeShape).reason).toMatch(/3 layers, the model 4/)
  })
})

describe('speedLaw: what predict calls', () => {
  test('every layer on one GPU: decodeEstimate and prefillEstimate with resolveRates, as before', async () => {
    const p = await profileOf(SPEC)
    const g = modelGeometry(p)
    const hw = hardware()
    const law = speedLaw(p, hw, defaultWorkload({ gpu_layers: 99 })).law!
    expect(law.split).toBe(false)
    expect(law.decode(decodeShape).estimate).toMatchObject({ ...decodeEstimate(g, resolveRates(hw), decodeShape), handoffMs: 0 })
    const s = prefillShape(512)
    expect(law.prefill(s).estimate).toMatchObject({ ...prefillEstimate(g, resolveRates(hw), s), busMs: 0 })
  })

  test('half the layers offloaded: the split law, with the workload’s KV type and batch', async () => {
    const p = await profileOf(SPEC)
    const g = modelGeometry(p)
    const hw = hardware()
    const w = defaultWorkload({ gpu_layers: 3 })
    const law = speedLaw(p, hw, w).law!
    expect(law.split).toBe(true)
    const pl = splitPlacement(p, hw, w).placement!
    expect(law.decode(decodeShape)).toEqual(splitDecodeEstimate(g, pl, deviceRates(hw, pl), decodeShape))
    const s = prefillShape(512)
    expect(law.prefill(s)).toEqual(splitPrefillEstimate(g, pl, deviceRates(hw, pl), { ...s, kvType: 'f16', batch: w.batch }))
  })

  test('-sm row: no law, the reason', async () => {
    const p = await profileOf(SPEC)
    expect(speedLaw(p, hardware({}, [dev('CUDA0', 80), dev('CUDA1', 80)]), defaultWorkload({ split_mode: 'row' }))).toEqual({ law: null, reason: ROW_SPLIT_NOT_MODELLED })
  })
})

describe('predict: partial offload through the split law', () => {
  test('half the layers offloaded: decode slower than all on the GPU, the hand-off in the breakdown, parallel_decode not modelled', async () => {
    const p = await profileOf(SPEC)
    const hw = hardware()
    const all = predict(p, hw, defaultWorkload({ gpu_layers: 99, threads: 16 }))
    const half = predict(p, hw, defaultWorkload({ gpu_layers: 3, threads: 16 }))
    const rate = (x: typeof all, s: string) => x.scenarios.find((r) => r.scenario === s)!
    expect(rate(half, 'steady_decode').predicted).toBeLessThan(rate(all, 'steady_decode').predicted)
    // One hand-off: its fixed cost and one token's activations (n_embd f32) over the bus.
    expect(rate(half, 'steady_decode').breakdown?.handoff_ms).toBeCloseTo(HANDOFF_MS + ms(256 * 4, BUS), 6)
    expect(rate(all, 'steady_decode').breakdown?.handoff_ms).toBeUndefined()
    const g = modelGeometry(p)
    const pl = splitPlacement(p, hw, defaultWorkload({ gpu_layers: 3 })).placement!
    const expected = splitDecodeEstimate(g, pl, deviceRates(hw, pl), { startPos: 0, tokens: 64, cells: kvCells(64), kvKey: 'f16', kvType: 'f16' }).estimate!
    expect(rate(half, 'steady_decode').predicted).toBeCloseTo(1000 / expected.totalMs, 2)
    expect(half.not_predicted.parallel_decode).toMatch(/split across devices is not modelled/)
    expect(rate(all, 'parallel_decode').predicted).toBeGreaterThan(0)
  })

  test('a GPU profile without the host facts: a split model is not predicted, and says why', async () => {
    const p = await profileOf(SPEC)
    const out = predict(p, hardware({ measured_host: undefined }), defaultWorkload({ gpu_layers: 2, threads: 16 }))
    expect(out.scenarios.find((s) => s.scenario === 'steady_decode')).toBeUndefined()
    expect(out.not_predicted.steady_decode).toMatch(/host|CPU/)
  })
})

test('memory: -sm none puts the whole offload on the main GPU, as llama_model_load keeps only that device', async () => {
  const p = await profileOf(SPEC)
  const hw = hardware({}, [dev('CUDA0', 80), dev('CUDA1', 80)])
  const byDevice = (w: Parameters<typeof defaultWorkload>[0]) => Object.fromEntries((predict(p, hw, defaultWorkload({ threads: 16, ...w })).fit.devices ?? []).map((d) => [d.device, d.weights_bytes]))
  const none = byDevice({ split_mode: 'none', main_gpu: 1 })
  expect(none.CUDA0 ?? 0).toBe(0)
  expect(none.CUDA1).toBeGreaterThan(0)
  const layer = byDevice({})
  expect(layer.CUDA0).toBeGreaterThan(0)
  expect(layer.CUDA1).toBeGreaterThan(0)
})

test("a split prefill attends by its KV key's law, as a single-device one does (flash attention's own coefficients)", async () => {
  const withFa = (m: MeasuredFacts): MeasuredFacts => ({ ...m, prefill_attention_by_kv: { 'q8_0+fa': { ns_per_head_token_position: f(50), ns_per_query_element_token_position: f(1) } } })
  const hw = hardware({ measured: withFa(GPU), measured_host: withFa(CPU) })
  const { g, pl } = await setup({ gpu_layers: 3 }, hw)
  const s = { startPos: 2048, tokens: 512, ubatch: 512, cells: kvCells(2560), outputs: 1 }
  const plain = splitPrefillEstimate(g, pl, deviceRates(hw, pl), s).estimate!
  const fa = splitPrefillEstimate(g, pl, deviceRates(hw, pl), { ...s, kvKey: 'q8_0+fa' }).estimate!
  expect(fa.attentionMs).toBeGreaterThan(plain.attentionMs * 10)
})
