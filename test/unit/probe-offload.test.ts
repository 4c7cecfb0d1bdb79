// The host and offload part of a GPU machine's probe (src/hardware/probe-host.ts, probe-fit-offload.ts), run against
// a fake llama-bench that answers with the estimator's own law on a "true" machine: a CPU, a GPU and the bus between
// them. The fit must give back the CPU's facts and the offload facts it was given.
import { describe, expect, test } from '@jest/globals'
import { GGML_TYPE } from '../../src/gguf/ggml-types.js'
import { readGgufHeader } from '../../src/gguf/reader.js'
import { buildProfile } from '../../src/gguf/profile.js'
import { kvCells, modelGeometry } from '../../src/fit/geometry.js'
import { assignLayers } from '../../src/fit/offload.js'
import { ratesFromFacts } from '../../src/fit/rates.js'
import { prefillEstimate } from '../../src/fit/speed.js'
import { offloadRates, placementOf, splitDecodeEstimate, splitPrefillEstimate, type DeviceRates } from '../../src/fit/split-speed.js'
import { findTiming, probeBenchArgs, type BenchRequest, type BenchTiming } from '../../src/hardware/probe-bench.js'
import { fitHostFacts, fitOffloadFacts, offloadEquations } from '../../src/hardware/probe-fit-offload.js'
import { dropFailedRuns, emptyHostObservations, emptyOffloadObservations, halfGpuLayers, hostPlan, hostRound, type Attempt } from '../../src/hardware/probe-host.js'
import { probePlan, type ProbePlan } from '../../src/hardware/probe-models.js'
import { dropFailed } from '../../src/hardware/probe-failures.js'
import type { ProbeProfiles } from '../../src/hardware/probe-obs.js'
import type { MeasuredFact, MeasuredFacts, OffloadFacts } from '../../src/contracts/hardware.js'
import { defaultWorkload } from '../../src/bench/workload.js'
import { syntheticHeaderSource } from '../helpers/synthetic.js'

const MiB = 1024 ** 2
const GiB = 1024 ** 3
const f = (value: number, unit = 'x'): MeasuredFact => ({ value, unit, samples: [value], spread: 0 })
const CACHE = 64 * MiB
const CTX = { kvType: 'f16', flashAttention: false, cacheBytes: CACHE }

/** The CPU: what -ngl 0 measures. No prefill attention, server, scan or MoE prefill facts, as the host part measures none. */
const CPU: MeasuredFacts = {
  decode_bandwidth_bytes_per_sec: f(30e9),
  decode_bandwidth_by_type: { F16: f(30e9), Q8_0: f(25e9) },
  decode_cached_bandwidth_bytes_per_sec: f(55e9),
  decode_cached_bandwidth_by_type: { F16: f(55e9), Q8_0: f(32e9) },
  prefill_flops_per_sec: f(2.2e11),
  prefill_flops_by_type: { F16: f(2e11), Q8_0: f(2.2e11) },
  prefill_ns_per_row_token_by_type: { F16: f(0.2), Q8_0: f(0.3) },
  fixed_decode_ms: f(0.012),
  per_layer_decode_ms: f(0.0095),
  decode_ns_per_row_by_type: { F16: f(12), Q8_0: f(10) },
  kv_depth_ms_per_token_per_layer: {},
  kv_depth_coefficients: { f16: { ns_per_query_element_token: f(0.098), ns_per_kv_byte_token: f(0.043) } },
  prefill_depth_ms_per_token_per_layer: null,
  prefill_attention_coefficients: null,
  moe_decode_extra_per_layer_ms: f(0.004),
  server_decode_overhead_ms: null,
  server_first_token_overhead_ms: null
}

/** The GPU: its facts as the GPU part of the probe measured them. */
const GPU: MeasuredFacts = {
  ...CPU,
  decode_bandwidth_bytes_per_sec: f(3e12),
  decode_bandwidth_by_type: { F16: f(3e12), Q8_0: f(2.6e12) },
  decode_cached_bandwidth_bytes_per_sec: f(3e12),
  decode_cached_bandwidth_by_type: { F16: f(3e12), Q8_0: f(2.6e12) },
  prefill_flops_per_sec: f(4e14),
  prefill_flops_by_type: { F16: f(4e14), Q8_0: f(3e14) },
  prefill_ns_per_row_token_by_type: { F16: f(0.001), Q8_0: f(0.001) },
  fixed_decode_ms: f(0.15),
  per_layer_decode_ms: f(0.006),
  decode_ns_per_row_by_type: { F16: f(0.05), Q8_0: f(0.05) },
  kv_depth_coefficients: { f16: { ns_per_query_element_token: f(0.001), ns_per_kv_byte_token: f(0.0004) } },
  prefill_attention_coefficients: { ns_per_head_token_position: f(0.01), ns_per_query_element_token_position: f(0.0002) },
  moe_decode_extra_per_layer_ms: f(0.002)
}

const OFFLOAD: OffloadFacts = { bus_bytes_per_sec: f(12e9, 'B/s'), handoff_ms: f(0.04, 'ms') }

const TYPE_ID: Record<string, number> = { F16: GGML_TYPE.F16, Q8_0: 8 }

/** The plan of an 80 GB GPU with the quick probe's types, and the profiles of its models (headers only). */
async function gpuPlan(): Promise<{ plan: ProbePlan; profiles: ProbeProfiles }> {
  const plan = probePlan({ cacheBytes: CACHE, gpuFreeBytes: 80e9, ramAvailableBytes: 64 * GiB }, { types: ['F16', 'Q8_0'] })
  const profiles: ProbeProfiles = {}
  for (const m of plan.models) {
    const spec = { ...m.source, layers: m.pruneToLayers ?? m.source.layers }
    const id = TYPE_ID[m.type]!
    const h = await readGgufHeader(syntheticHeaderSource(spec, { retype: (t) => (t.dims.length < 2 ? t.type : id) }))
    profiles[m.id] = buildProfile([h], h.fileSize, m.id)
  }
  return { plan, profiles }
}

/**
 * llama-bench on the true machine: every combination of -ngl, depth and test, timed by the law (the CPU's own law
 * with -ngl 0 and no op offload), ±1 % alternating between rounds.
 */
function fakeBench(profiles: ProbeProfiles, calls: string[] = []) {
  const truth: DeviceRates = { host: ratesFromFacts(CPU, CACHE), gpus: [ratesFromFacts(GPU, CACHE)], offload: offloadRates(OFFLOAD) }
  const seen = new Map<string, number>()
  return async (id: string, req: BenchRequest): Promise<BenchTiming[]> => {
    calls.push(`${id} ngl=${(req.gpuLayers ?? [99]).join(',')}${req.noOpOffload ? ' nopo' : ''}`)
    const round = seen.get(id) ?? 0
    seen.set(id, round + 1)
    const noise = round % 2 === 0 ? 0.99 : 1.01
    const profile = profiles[id]!
    const g = modelGeometry(profile)
    const out: BenchTiming[] = []
    for (const ngl of req.gpuLayers ?? [99]) {
      const a = assignLayers({ layers: profile.layers, gpuLayers: ngl, devices: [{ name: 'CUDA0', freeBytes: 1, totalBytes: 1 }], host: { freeBytes: 1, totalBytes: 1 } })
      const p = placementOf(profile, ['CUDA0'], a.layers, a.output)
      for (const d of req.depth ?? [0]) {
        for (const n of (req.prompt ?? []).filter((x) => x > 0)) {
          const shape = { startPos: d, tokens: n, ubatch: 512, cells: kvCells(d + n), outputs: 1 }
          const ms = req.noOpOffload ? prefillEstimate(g, truth.host!, shape).totalMs : splitPrefillEstimate(g, p, truth, shape).estimate!.totalMs
          out.push({ nPrompt: n, nGen: 0, nDepth: d, nGpuLayers: ngl, msPerToken: (noise * ms) / n })
        }
        for (const n of (req.gen ?? []).filter((x) => x > 0)) {
          const ms = splitDecodeEstimate(g, p, truth, { startPos: d, tokens: n, cells: kvCells(d + n), kvKey: 'f16', kvType: 'f16' }).estimate!.totalMs
          out.push({ nPrompt: 0, nGen: n, nDepth: d, nGpuLayers: ngl, msPerToken: noise * ms })
        }
      }
    }
    return out
  }
}

const SHAPE = { decodeTokens: 32, prefillTokens: 512, kvKey: 'f16', kvDepth: 1536, kvTokens: 16 }
const passThrough: Attempt = async (_id, run) => run()

async function measure(rounds: number, bench: (id: string, req: BenchRequest) => Promise<BenchTiming[]>, attempt = passThrough) {
  const { plan, profiles } = await gpuPlan()
  const hp = hostPlan(plan)
  const obs = { host: emptyHostObservations(hp, SHAPE), offload: emptyOffloadObservations(hp, profiles, SHAPE) }
  for (let r = 0; r < rounds; r++) await hostRound(hp, obs, bench, attempt, { ...SHAPE, reps: 3 })
  return { plan, profiles, hp, obs }
}

describe('the host part of a GPU probe', () => {
  test('its plan: F16 and Q8_0, the long overhead model and the F16 bandwidth model split in half', async () => {
    const { plan, profiles } = await gpuPlan()
    const hp = hostPlan(plan)
    expect(hp.types).toEqual(['F16', 'Q8_0'])
    expect(hp.offloadDecodeId).toBe(plan.overheadIds[1])
    expect(hp.offloadPrefillId).toBe('bw-F16')
    const runs = emptyOffloadObservations(hp, profiles, SHAPE).runs
    const half = halfGpuLayers(profiles['bw-F16']!.layers)
    expect(runs.map((r) => [r.id, r.gpu_layers, r.kind])).toEqual([
      [plan.overheadIds[1], halfGpuLayers(profiles[plan.overheadIds[1]]!.layers), 'decode'],
      ['bw-F16', half, 'decode'],
      ['bw-F16', half, 'prefill'],
      ['bw-F16', 0, 'prefill']
    ])
    // Half: the first layers on the CPU, the rest and the output on the GPU.
    expect(halfGpuLayers(16)).toBe(9)
    expect(assignLayers({ layers: 16, gpuLayers: 9, devices: [{ name: 'G', freeBytes: 1, totalBytes: 1 }], host: { freeBytes: 1, totalBytes: 1 } }).layers.filter((d) => d < 0)).toHaveLength(8)
  })

  test('one llama-bench process per model and round; the split runs share the processes of their models', async () => {
    const calls: string[] = []
    const { profiles } = await gpuPlan()
    await measure(1, fakeBench(profiles, calls))
    const half = halfGpuLayers(profiles['bw-F16']!.layers)
    expect(calls).toContain(`bw-F16 ngl=0,${half}`)
    expect(calls).toContain('pf-F16 ngl=0 nopo')
    expect(calls.filter((c) => c.startsWith('bw-F16'))).toHaveLength(1)
    // bw, bwn, cached × 2 types, the overhead pair, kv-a, kv-b, moe-F16, pf and pfw × 2 types.
    expect(calls).toHaveLength(6 + 2 + 2 + 1 + 4)
  })

  test('llama-bench arguments: every -ngl in one list, the op offload off when asked', () => {
    const args = probeBenchArgs('m.gguf', { prompt: [512], gpuLayers: [0, 9], noOpOffload: true, reps: 3 }, defaultWorkload({ threads: 4 }))
    expect(args[args.indexOf('-ngl') + 1]).toBe('0,9')
    expect(args.slice(args.indexOf('-nopo'), args.indexOf('-nopo') + 2)).toEqual(['-nopo', '1'])
    const plain = probeBenchArgs('m.gguf', { gen: [32], reps: 3 }, defaultWorkload({ threads: 4 }))
    expect(plain[plain.indexOf('-ngl') + 1]).toBe('99')
    expect(plain).not.toContain('-nopo')
    const t = [
      { nPrompt: 0, nGen: 32, nDepth: 0, nGpuLayers: 0, msPerToken: 2 },
      { nPrompt: 0, nGen: 32, nDepth: 0, nGpuLayers: 9, msPerToken: 1 }
    ]
    expect(findTiming(t, { nGen: 32, nGpuLayers: 9 }).msPerToken).toBe(1)
    expect(findTiming(t, { nGen: 32 }).msPerToken).toBe(2)
    expect(() => findTiming(t, { nGen: 32, nGpuLayers: 4 })).toThrow(/n32\/d0\/ngl4/)
  })

  test('the CPU’s facts and the offload facts come back from what the true machine measured', async () => {
    const { profiles } = await gpuPlan()
    const { obs } = await measure(2, fakeBench(profiles))
    expect(obs.host.bandwidth.F16).toHaveLength(2)
    expect(obs.offload.runs.every((r) => r.ms.length === 2)).toBe(true)
    const host = fitHostFacts(obs.host, profiles, CTX).facts!
    const near = (got: number | undefined, want: number, tol = 0.03) => expect(Math.abs((got ?? NaN) / want - 1)).toBeLessThan(tol)
    for (const t of ['F16', 'Q8_0']) {
      near(host.decode_bandwidth_by_type[t]?.value, CPU.decode_bandwidth_by_type[t]!.value)
      near(host.decode_cached_bandwidth_by_type?.[t]?.value, CPU.decode_cached_bandwidth_by_type![t]!.value)
      near(host.prefill_flops_by_type[t]?.value, CPU.prefill_flops_by_type[t]!.value)
    }
    near(host.per_layer_decode_ms?.value, 0.0095, 0.05)
    near(host.fixed_decode_ms?.value, 0.012, 0.1)
    near(host.kv_depth_coefficients?.f16?.ns_per_query_element_token.value, 0.098)
    near(host.kv_depth_coefficients?.f16?.ns_per_kv_byte_token.value, 0.043)
    near(host.moe_decode_extra_per_layer_ms?.value, 0.004, 0.1)
    // What the host part does not measure stays absent (its fallbacks are fit/rates.ts's), never invented.
    expect(host.server_decode_overhead_ms).toBeNull()
    expect(host.ssm_scan_ns_per_state_element_token).toBeNull()

    const offload = fitOffloadFacts(obs.offload, profiles, GPU, host, CTX)!
    near(offload.bus_bytes_per_sec.value, 12e9, 0.05)
    near(offload.handoff_ms.value, 0.04, 0.1)
    expect(offload.bus_bytes_per_sec.samples).toHaveLength(2)
    expect(offload.bus_bytes_per_sec.spread).toBeGreaterThan(0)
  })

  test('the fit’s equations: the prefill with -ngl 0 copies every layer but the last feed-forward, two hand-offs per layer', async () => {
    const { profiles } = await gpuPlan()
    const { obs } = await measure(1, fakeBench(profiles))
    const eqs = offloadEquations(obs.offload, profiles, GPU, CPU, CTX)
    const all = eqs.find((e) => e.run.kind === 'prefill' && e.run.gpu_layers === 0)!
    const p = profiles['bw-F16']!
    const lb = p.layer_bytes!
    const L = p.layers
    expect(all.handoffs).toBe(2 * L + 1)
    expect(all.bytes).toBeGreaterThan(lb.slice(0, L - 1).reduce((a, b) => a + b, 0))
    const decode = eqs.find((e) => e.run.id === 'bw-F16' && e.run.kind === 'decode')!
    expect(decode.handoffs).toBe(1)
    expect(decode.bytes).toBe(p.embedding_length * 4)
  })

  test('a model that fails costs its own host series; the rest are measured and fitted', async () => {
    const { profiles } = await gpuPlan()
    const failed = new Set<string>()
    const bench = fakeBench(profiles)
    const failing = async (id: string, req: BenchRequest): Promise<BenchTiming[]> => {
      if (id === 'bwn-Q8_0' || id === 'bw-F16') throw new Error('llama-bench was killed by SIGSEGV')
      return bench(id, req)
    }
    const attempt: Attempt = async (id, run) => {
      if (failed.has(id)) return undefined
      try {
        return await run()
      } catch {
        failed.add(id)
        return undefined
      }
    }
    const { obs } = await measure(2, failing, attempt)
    const host = dropFailed(obs.host, failed)
    expect(host.bandwidth.F16).toBeUndefined()
    expect(host.bandwidth_narrow?.Q8_0).toBeUndefined()
    expect(host.bandwidth.Q8_0).toHaveLength(2)
    const runs = dropFailedRuns(obs.offload, failed).runs
    expect(runs.map((r) => r.id)).toEqual([hostPlan((await gpuPlan()).plan).offloadDecodeId])
    const facts = fitHostFacts(host, profiles, CTX).facts!
    expect(facts.decode_bandwidth_by_type.F16).toBeUndefined()
    // Without its narrow model Q8_0's rate is the wide model's plain streaming rate, its rows' cost included.
    expect(facts.decode_bandwidth_by_type.Q8_0!.value).toBeLessThan(25e9)
    expect(facts.decode_bandwidth_by_type.Q8_0!.value).toBeGreaterThan(0.8 * 25e9)
    // Without the prefill runs nothing crossed the bus: no offload facts, none made up.
    expect(fitOffloadFacts({ runs }, profiles, GPU, facts, CTX)).toBeNull()
  })
})
