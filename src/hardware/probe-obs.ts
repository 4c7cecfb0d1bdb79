// What the probe observes, and the small helpers the fits share. Pure.
//
// Every series holds one time per round (ms). A fact's value is solved from the median of each series, the statistic
// the scenarios' observations use too (the median of their runs), so a machine whose speed drifts between phases
// biases facts and observations alike rather than facts towards its fastest phase. The same solve on each single
// round gives the samples whose spread is the fact's noise.

import { kvCells, modelGeometry, attendedPositions, type ModelGeometry } from '../fit/geometry.js'
import type { MeasuredFacts } from '../contracts/hardware.js'
import type { ModelProfile } from '../contracts/profile.js'
import { median } from '../util/stats.js'

export const NS_PER_MS = 1e6
export const MS_PER_S = 1e3

/** One model's timings at two depths (ms per token per round). */
export interface DepthPair {
  shallow_depth: number
  deep_depth: number
  tokens: number
  shallow_ms: number[]
  deep_ms: number[]
}

export interface ServerObservation {
  /** The probe model it was measured on (absent in observations saved before probe parts could fail alone). */
  id?: string
  vocab: number
  /** Server ms per decoded token of the reused request, and llama-bench's at the same positions. */
  server_decode_ms: number[]
  bench_decode_ms: number[]
  /** Server prompt_ms of the first_token prompt, and llama-bench's prefill of the same length (ms, whole prompt). */
  server_prompt_ms: number[]
  bench_prompt_ms: number[]
  /** Client ms to the first token minus prompt_ms. */
  unattributed_ms: number[]
}

export interface ProbeObservations {
  /** Decode ms per token at depth 0, `decodeTokens` tokens, per weight type, per round (wide bandwidth models). */
  decode_tokens: number
  bandwidth: Record<string, number[]>
  /** The same bytes in narrow layers (4× the rows), per weight type, per round. */
  bandwidth_narrow?: Record<string, number[]>
  /** Prefill ms per prompt token at `prefillTokens`, per weight type, per round. */
  prefill_tokens: number
  prefill: Record<string, number[]>
  /** The same on the one-layer wide model, per weight type, per round. */
  prefill_wide?: Record<string, number[]>
  overhead: { short_id: string; long_id: string; short_ms: number[]; long_ms: number[] }
  /** Decode ms per token of the cache-resident probe model, per weight type, per round. */
  cached: Record<string, number[]>
  /** Decode at two depths for the two KV geometries, per KV key. */
  kv_decode: Record<string, { a: DepthPair; b: DepthPair }>
  /** Prefill (ms per prompt token) at two depths for the two KV geometries. */
  kv_prefill: { a: DepthPair; b: DepthPair } | null
  /** The same per KV key other than the workload's (the quantized cache with flash attention); absent before it. */
  kv_prefill_by_key?: Record<string, { a: DepthPair; b: DepthPair }>
  /** The MoE probe: decode ms per token of the F16 model, prefill ms per prompt token per type, per round. */
  moe: { decode_ms: number[]; prefill_ms_by_type: Record<string, number[]> } | null
  /** The Mamba-2 probe: prefill ms per prompt token, per round (absent in observations made before it). */
  ssm?: { prefill_ms: number[] } | null
  server: ServerObservation[]
  /**
   * A GPU machine's CPU, measured like the rest with every layer on it (-ngl 0; prefill without the op offload): the
   * families probe-host.ts names. Absent on a CPU machine and in observations made before it.
   */
  host?: ProbeObservations | null
  /** A GPU machine's probe models split between the CPU and the GPU (probe-host.ts). Absent likewise. */
  offload?: OffloadObservations | null
}

/** One probe model timed with `gpu_layers` of its layers on the GPU (the rest on the CPU). */
export interface OffloadRun {
  id: string
  gpu_layers: number
  kind: 'decode' | 'prefill'
  /** Tokens decoded, or the prompt's length (one ubatch). */
  tokens: number
  /** ms per token (decoded or prompt), per round. */
  ms: number[]
}

export interface OffloadObservations {
  runs: OffloadRun[]
}

export type ProbeProfiles = Record<string, ModelProfile>
export type Measured = MeasuredFacts

/** The round index that means "the median of every series". */
export const AGGREGATE = -1

/** A series' time at a round, or its median for AGGREGATE. */
export function at(series: readonly number[], round: number): number {
  return round === AGGREGATE ? median(series) : (series[round] as number)
}

/**
 * What remains of a measured time after the terms already known are subtracted, never less than
 * MIN_REMAINDER_SHARE of it: a disturbed round can make the known terms look larger than the whole, and a remainder
 * near zero would turn into an absurd rate.
 */
export const MIN_REMAINDER_SHARE = 0.25
export function remainder(totalMs: number, knownMs: number): number {
  return Math.max(totalMs - knownMs, MIN_REMAINDER_SHARE * totalMs)
}

/** Rounds every given series has. */
export function roundsOf(...series: (readonly number[])[]): number {
  return series.length === 0 ? 0 : Math.min(...series.map((s) => s.length))
}

/** Solves for AGGREGATE and for every round: the value and the per-round samples. */
export function solveRounds<T>(rounds: number, solve: (round: number) => T | null): { value: T | null; samples: T[] } {
  const samples: T[] = []
  for (let i = 0; i < rounds; i++) {
    const s = solve(i)
    if (s !== null) samples.push(s)
  }
  return { value: rounds > 0 ? solve(AGGREGATE) : null, samples }
}

/** Mean attended positions of a decode run (llama-bench context = depth + tokens). */
export function meanDecodePositions(depth: number, tokens: number): number {
  const cells = kvCells(depth + tokens)
  let sum = 0
  for (let i = 0; i < tokens; i++) sum += attendedPositions(depth + i, cells)
  return sum / tokens
}

/** Attended positions of a one-ubatch prefill of `tokens` after `depth` (llama-bench context = depth + tokens). */
export function prefillPositions(depth: number, tokens: number): number {
  return attendedPositions(depth + tokens - 1, kvCells(depth + tokens))
}

export function geometryOf(profiles: ProbeProfiles): (id: string) => ModelGeometry {
  return (id) => {
    const p = profiles[id]
    if (!p) throw new Error(`probe: no profile for probe model ${id}`)
    return modelGeometry(p)
  }
}

/**
 * Two passes of the probe as one: every timing series (an array of numbers) holds the rounds of both, `a`'s then
 * `b`'s, so a fact is solved from the median over all of them and its spread covers both. Everything else (model
 * ids, depths, token counts, vocabularies, which parts and types were measured) must be the same in both passes, the
 * same plan: a difference is refused with its path, never mixed.
 */
export function mergeObservations(a: ProbeObservations, b: ProbeObservations): ProbeObservations {
  return mergeValue(a, b, 'observations') as ProbeObservations
}

const isNumbers = (xs: readonly unknown[]): boolean => xs.every((x) => typeof x === 'number')
const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x)

function mergeValue(a: unknown, b: unknown, path: string): unknown {
  const differs = (): Error => new Error(`probe: passes measured different plans (at ${path})`)
  if (Array.isArray(a) && Array.isArray(b)) {
    if (isNumbers(a) && isNumbers(b)) return [...a, ...b]
    if (a.length !== b.length) throw differs()
    return a.map((x, i) => mergeValue(x, b[i], `${path}[${i}]`))
  }
  if (isRecord(a) && isRecord(b)) {
    const keys = Object.keys(a).sort()
    if (keys.join('\n') !== Object.keys(b).sort().join('\n')) throw differs()
    return Object.fromEntries(keys.map((k) => [k, mergeValue(a[k], b[k], `${path}.${k}`)]))
  }
  if (a !== b) throw differs()
  return a
}
