// The host and offload part of a GPU machine's probe: what the speed law of a model split between devices
// (fit/split-speed.ts) needs beyond the GPU's own facts.
//
//   host     the CPU's facts, measured like the GPU's with every layer on the CPU (-ngl 0): decode of the bandwidth,
//            narrow and in-cache models of HOST_TYPES, the overhead pair, decode at two depths of the two attention
//            models, the MoE model's decode, and prefill of the prefill pair with the op offload off (-nopo 1: with
//            it on, llama.cpp would run a 512-token ubatch on the GPU). The CPU of a GPU build keeps its weights
//            mapped, not repacked (make_cpu_buft_list puts the GPU's host buffer first), as a partial offload does.
//   offload  two probe models with about half their layers on the GPU: the long overhead model's decode (small and
//            cache-resident: the hand-off is a visible share of its step) and the first bandwidth model's decode and
//            512-token prefill, that prefill also with -ngl 0 (the op offload copies all its weights every ubatch).
//
// Both ride on runs the host part makes anyway: `-ngl 0,<half>` is one llama-bench process with a test per value.
// One process per model and round, two rounds (one in a quick probe), no extra rounds: the part must stay short.
// The fits are in probe-fit-offload.ts.

import type { BenchRequest, BenchTiming } from './probe-bench.js'
import { findTiming } from './probe-bench.js'
import type { ProbePlan, ProbeWeightType } from './probe-models.js'
import type { OffloadObservations, OffloadRun, ProbeObservations, ProbeProfiles } from './probe-obs.js'

/** Weight types whose rates the host part measures (others borrow the nearest, as fit/rates.ts standInType says). */
export const HOST_TYPES: readonly ProbeWeightType[] = ['F16', 'Q8_0']

/** -ngl that puts half of a model's repeating layers on the GPU, with the output layer (the first ones stay on the CPU). */
export function halfGpuLayers(layers: number): number {
  return Math.floor(layers / 2) + 1
}

export interface HostPlan {
  types: ProbeWeightType[]
  overheadIds: [string, string]
  /** Decode with half the layers offloaded: the long overhead model. */
  offloadDecodeId: string
  /** Decode and prefill with half the layers offloaded, and prefill with none: the first host type's bandwidth model. */
  offloadPrefillId: string | null
  /** Whether the MoE model's decode is measured (its routing overhead on the CPU). */
  moe: boolean
}

/** What the host part runs, from the probe's plan (the same files; nothing new is written). */
export function hostPlan(plan: Pick<ProbePlan, 'bandwidthTypes' | 'overheadIds' | 'models'>): HostPlan {
  const types = HOST_TYPES.filter((t) => plan.bandwidthTypes.includes(t))
  const ids = new Set(plan.models.map((m) => m.id))
  return {
    types,
    overheadIds: plan.overheadIds,
    offloadDecodeId: plan.overheadIds[1],
    offloadPrefillId: types[0] ? `bw-${types[0]}` : null,
    moe: ids.has('moe-F16')
  }
}

/** The host observations before any round: the probe's own shapes, the families the host part measures. */
export function emptyHostObservations(hp: HostPlan, shape: { decodeTokens: number; prefillTokens: number; kvKey: string; kvDepth: number; kvTokens: number }): ProbeObservations {
  const pair = () => ({ shallow_depth: 0, deep_depth: shape.kvDepth, tokens: shape.kvTokens, shallow_ms: [] as number[], deep_ms: [] as number[] })
  return {
    decode_tokens: shape.decodeTokens,
    bandwidth: {},
    bandwidth_narrow: {},
    prefill_tokens: shape.prefillTokens,
    prefill: {},
    prefill_wide: {},
    overhead: { short_id: hp.overheadIds[0], long_id: hp.overheadIds[1], short_ms: [], long_ms: [] },
    cached: {},
    kv_decode: { [shape.kvKey]: { a: pair(), b: pair() } },
    kv_prefill: null,
    moe: hp.moe ? { decode_ms: [], prefill_ms_by_type: {} } : null,
    ssm: null,
    server: []
  }
}

/** The offload runs, each filled one round at a time. */
export function emptyOffloadObservations(hp: HostPlan, profiles: ProbeProfiles, shape: { decodeTokens: number; prefillTokens: number }): OffloadObservations {
  const runs: OffloadRun[] = []
  const half = (id: string): number => halfGpuLayers(profiles[id]?.layers ?? 0)
  if (profiles[hp.offloadDecodeId]) runs.push({ id: hp.offloadDecodeId, gpu_layers: half(hp.offloadDecodeId), kind: 'decode', tokens: shape.decodeTokens, ms: [] })
  const pf = hp.offloadPrefillId
  if (pf && profiles[pf]) {
    runs.push({ id: pf, gpu_layers: half(pf), kind: 'decode', tokens: shape.decodeTokens, ms: [] })
    runs.push({ id: pf, gpu_layers: half(pf), kind: 'prefill', tokens: shape.prefillTokens, ms: [] })
    runs.push({ id: pf, gpu_layers: 0, kind: 'prefill', tokens: shape.prefillTokens, ms: [] })
  }
  return { runs }
}

/** One llama-bench run of a probe model; throws when it fails (the caller's `attempt` records it). */
export type HostBench = (id: string, req: BenchRequest, variant: string) => Promise<BenchTiming[]>
/** Runs one model's measurement, recording a failure and returning undefined (the probe's attempt()). */
export type Attempt = <T>(id: string, run: () => Promise<T>) => Promise<T | undefined>

export interface HostRoundContext {
  reps: number
  decodeTokens: number
  prefillTokens: number
  kvKey: string
  kvDepth: number
  kvTokens: number
}

/**
 * One round of the host part: every host family once, with the offload runs inside the processes that share their
 * model. A failed model costs its own series (the caller drops a model that failed in a later round from the earlier
 * ones, as the main part does).
 */
export async function hostRound(hp: HostPlan, obs: { host: ProbeObservations; offload: OffloadObservations }, bench: HostBench, attempt: Attempt, c: HostRoundContext): Promise<void> {
  const host = obs.host
  const push = (into: Record<string, number[]>, key: string, value: number | undefined): void => {
    if (value !== undefined) (into[key] ??= []).push(value)
  }
  const offloadRuns = (id: string) => obs.offload.runs.filter((r) => r.id === id)
  /** Decode at -ngl 0 (and the model's offload runs in the same process); the host decode ms per token. */
  const decode = async (id: string): Promise<number | undefined> => {
    const runs = offloadRuns(id)
    const ngl = [0, ...new Set(runs.map((r) => r.gpu_layers).filter((n) => n !== 0))]
    const prompt = runs.some((r) => r.kind === 'prefill') ? [c.prefillTokens] : []
    const m = await attempt(id, async () => {
      const timings = await bench(id, { gen: [c.decodeTokens], ...(prompt.length > 0 ? { prompt } : {}), gpuLayers: ngl, reps: c.reps }, '-host')
      const host = findTiming(timings, { nGen: c.decodeTokens, nGpuLayers: 0 }).msPerToken
      const split = runs.map((r) => findTiming(timings, r.kind === 'decode' ? { nGen: r.tokens, nGpuLayers: r.gpu_layers } : { nPrompt: r.tokens, nGpuLayers: r.gpu_layers }).msPerToken)
      return { host, split }
    })
    if (!m) return undefined
    runs.forEach((r, i) => r.ms.push(m.split[i]!))
    return m.host
  }
  for (const type of hp.types) {
    push(host.bandwidth, type, await decode(`bw-${type}`))
    push((host.bandwidth_narrow ??= {}), type, await decode(`bwn-${type}`))
    push(host.cached, type, await decode(`cached-${type}`))
  }
  const short = await decode(hp.overheadIds[0])
  const long = await decode(hp.overheadIds[1])
  if (short !== undefined && long !== undefined) {
    host.overhead.short_ms.push(short)
    host.overhead.long_ms.push(long)
  }
  const key = Object.keys(host.kv_decode)[0]!
  for (const which of ['a', 'b'] as const) {
    const id = `kv-${which}`
    const t = await attempt(id, () => bench(id, { gen: [c.kvTokens], depth: [0, c.kvDepth], gpuLayers: [0], reps: c.reps }, '-host'))
    if (!t) continue
    const pair = host.kv_decode[key]![which]
    pair.shallow_ms.push(findTiming(t, { nGen: c.kvTokens }).msPerToken)
    pair.deep_ms.push(findTiming(t, { nGen: c.kvTokens, nDepth: c.kvDepth }).msPerToken)
  }
  if (hp.moe && host.moe) {
    const m = await decode('moe-F16')
    if (m !== undefined) host.moe.decode_ms.push(m)
  }
  for (const type of hp.types) {
    for (const [id, into] of [[`pf-${type}`, host.prefill], [`pfw-${type}`, (host.prefill_wide ??= {})]] as const) {
      const t = await attempt(id, () => bench(id, { prompt: [c.prefillTokens], gpuLayers: [0], noOpOffload: true, reps: c.reps }, '-host'))
      push(into, type, t ? findTiming(t, { nPrompt: c.prefillTokens }).msPerToken : undefined)
    }
  }
}

/** The offload runs without those of failed models (a model that failed in a later round loses its earlier ones). */
export function dropFailedRuns(obs: OffloadObservations, failed: ReadonlySet<string>): OffloadObservations {
  return { runs: obs.runs.filter((r) => !failed.has(r.id)) }
}
