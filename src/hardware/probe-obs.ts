// What the probe observes, and the small helpers the fits share. Pure.
//
// Every series holds one time per round (ms). A fact's value is solved from the median of each series, the statistic
// the scenarios' observations use too (the median of their runs), so a machine whose speed drifts between phases
// biases facts and observations alike rather than facts towards its fastest phase. The same solve on each single
// round gives the samples whose spread is the fact's noise.

import { kvCells, modelGeometry, attendedPositions, type ModelGeometry } from '../fit/geometry.js'
import type { HardwareProfile, ModelProfile } from '../types.js'
import { median } from '../util/stats.js'

export const NS_PER_MS = 1e6
export const MS_PER_S = 1e3

/** One model's timings at two depths (ms per token per round). */
export interface DepthPair {
  shallowDepth: number
  deepDepth: number
  tokens: number
  shallowMs: number[]
  deepMs: number[]
}

export interface ServerObservation {
  vocab: number
  /** Server ms per decoded token of the reused request, and llama-bench's at the same positions. */
  serverDecodeMs: number[]
  benchDecodeMs: number[]
  /** Server prompt_ms of the first_token prompt, and llama-bench's prefill of the same length (ms, whole prompt). */
  serverPromptMs: number[]
  benchPromptMs: number[]
  /** Client ms to the first token minus prompt_ms. */
  unattributedMs: number[]
}

export interface ProbeObservations {
  /** Decode ms per token at depth 0, `decodeTokens` tokens, per weight type, per round (wide bandwidth models). */
  decodeTokens: number
  bandwidth: Record<string, number[]>
  /** The same bytes in narrow layers (4× the rows), per weight type, per round. */
  bandwidthNarrow?: Record<string, number[]>
  /** Prefill ms per prompt token at `prefillTokens`, per weight type, per round. */
  prefillTokens: number
  prefill: Record<string, number[]>
  /** The same on the one-layer wide model, per weight type, per round. */
  prefillWide?: Record<string, number[]>
  overhead: { shortId: string; longId: string; shortMs: number[]; longMs: number[] }
  /** Decode ms per token of the cache-resident probe model, per weight type, per round. */
  cached: Record<string, number[]>
  /** Decode at two depths for the two KV geometries, per KV key. */
  kvDecode: Record<string, { a: DepthPair; b: DepthPair }>
  /** Prefill (ms per prompt token) at two depths for the two KV geometries. */
  kvPrefill: { a: DepthPair; b: DepthPair } | null
  /** The MoE probe: decode ms per token of the F16 model, prefill ms per prompt token per type, per round. */
  moe: { decodeMs: number[]; prefillMsByType: Record<string, number[]> } | null
  server: ServerObservation[]
}

export type ProbeProfiles = Record<string, ModelProfile>
export type Measured = HardwareProfile['measured']

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

/** Two series maps as one: each key's rounds, `a`'s then `b`'s. */
function concatSeries(a: Readonly<Record<string, number[]>>, b: Readonly<Record<string, number[]>>): Record<string, number[]> {
  const out: Record<string, number[]> = {}
  for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) out[k] = [...(a[k] ?? []), ...(b[k] ?? [])]
  return out
}

function concatPair(a: DepthPair, b: DepthPair, what: string): DepthPair {
  if (a.shallowDepth !== b.shallowDepth || a.deepDepth !== b.deepDepth || a.tokens !== b.tokens) {
    throw new Error(`probe: ${what}: passes measured different depths or tokens`)
  }
  return { ...a, shallowMs: [...a.shallowMs, ...b.shallowMs], deepMs: [...a.deepMs, ...b.deepMs] }
}

/**
 * Two passes of the probe as one: every series holds the rounds of both, so a fact is solved from the median over
 * all of them and its spread covers both. The passes must have measured the same plan (same models, shapes).
 */
export function mergeObservations(a: ProbeObservations, b: ProbeObservations): ProbeObservations {
  if (a.decodeTokens !== b.decodeTokens || a.prefillTokens !== b.prefillTokens) throw new Error('probe: passes measured different token counts')
  if (a.overhead.shortId !== b.overhead.shortId || a.overhead.longId !== b.overhead.longId) throw new Error('probe: passes measured different overhead models')
  const kvDecode: ProbeObservations['kvDecode'] = {}
  for (const key of [...new Set([...Object.keys(a.kvDecode), ...Object.keys(b.kvDecode)])].sort()) {
    const x = a.kvDecode[key]
    const y = b.kvDecode[key]
    kvDecode[key] = x && y ? { a: concatPair(x.a, y.a, `kv ${key} a`), b: concatPair(x.b, y.b, `kv ${key} b`) } : (x ?? y)!
  }
  const kvPrefill =
    a.kvPrefill && b.kvPrefill ? { a: concatPair(a.kvPrefill.a, b.kvPrefill.a, 'kv prefill a'), b: concatPair(a.kvPrefill.b, b.kvPrefill.b, 'kv prefill b') } : (a.kvPrefill ?? b.kvPrefill)
  const moe = a.moe && b.moe ? { decodeMs: [...a.moe.decodeMs, ...b.moe.decodeMs], prefillMsByType: concatSeries(a.moe.prefillMsByType, b.moe.prefillMsByType) } : (a.moe ?? b.moe)
  const server: ServerObservation[] = a.server.map((s) => {
    const t = b.server.find((o) => o.vocab === s.vocab)
    if (!t) return s
    return {
      vocab: s.vocab,
      serverDecodeMs: [...s.serverDecodeMs, ...t.serverDecodeMs],
      benchDecodeMs: [...s.benchDecodeMs, ...t.benchDecodeMs],
      serverPromptMs: [...s.serverPromptMs, ...t.serverPromptMs],
      benchPromptMs: [...s.benchPromptMs, ...t.benchPromptMs],
      unattributedMs: [...s.unattributedMs, ...t.unattributedMs]
    }
  })
  for (const t of b.server) if (!a.server.some((s) => s.vocab === t.vocab)) server.push(t)
  const merged: ProbeObservations = {
    decodeTokens: a.decodeTokens,
    bandwidth: concatSeries(a.bandwidth, b.bandwidth),
    prefillTokens: a.prefillTokens,
    prefill: concatSeries(a.prefill, b.prefill),
    overhead: { ...a.overhead, shortMs: [...a.overhead.shortMs, ...b.overhead.shortMs], longMs: [...a.overhead.longMs, ...b.overhead.longMs] },
    cached: concatSeries(a.cached, b.cached),
    kvDecode,
    kvPrefill,
    moe,
    server
  }
  if (a.bandwidthNarrow || b.bandwidthNarrow) merged.bandwidthNarrow = concatSeries(a.bandwidthNarrow ?? {}, b.bandwidthNarrow ?? {})
  if (a.prefillWide || b.prefillWide) merged.prefillWide = concatSeries(a.prefillWide ?? {}, b.prefillWide ?? {})
  return merged
}
