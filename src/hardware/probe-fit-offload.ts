// From the host and offload observations of a GPU machine's probe to measured_host and measured_offload. Pure.
//
// The host facts are the probe's own fit (probe-fit.ts) over the CPU's observations. The offload facts are what
// remains of each split run after the law's terms for every device (fit/split-speed.ts with the measured host and
// GPU facts and free hand-offs): remainder = hand-offs × handoff_ms + bytes over the bus / bus_bytes_per_sec, one
// equation per run (a decode step hands one token's activations over; a 512-token prefill also copies the
// host-resident layers' weights and KV rows), solved non-negative per round, each equation weighted by its run's
// time so that the short decode steps count as much as the long prefills.

import type { MeasuredFacts, OffloadFacts } from '../contracts/hardware.js'
import { kvCells, modelGeometry } from '../fit/geometry.js'
import { assignLayers } from '../fit/offload.js'
import { kvKey, ratesFromFacts } from '../fit/rates.js'
import { placementOf, splitDecodeEstimate, splitPrefillEstimate, type DeviceRates } from '../fit/split-speed.js'
import { factWithValue, nonNegativeLeastSquares } from './facts.js'
import { fitProbeFacts, type FitContext } from './probe-fit.js'
import { at, MS_PER_S, roundsOf, solveRounds, type OffloadObservations, type OffloadRun, type ProbeObservations, type ProbeProfiles } from './probe-obs.js'
import { errorMessage } from '../util/errors.js'

/** The CPU's facts from its observations, or why there are none (every host model failed, say). */
export function fitHostFacts(host: ProbeObservations, profiles: ProbeProfiles, ctx: FitContext): { facts: MeasuredFacts | null; reason?: string } {
  try {
    return { facts: fitProbeFacts(host, profiles, ctx) }
  } catch (err) {
    return { facts: null, reason: errorMessage(err) }
  }
}

/** One run as the fit sees it: the law's time without the offload terms, and what the offload terms multiply. */
export interface OffloadEquation {
  run: OffloadRun
  /** The law's time of the run with free hand-offs and an infinitely fast bus, ms (per step, or per prompt). */
  lawMs: number
  /** Hand-offs in that time, and bytes over the bus. */
  handoffs: number
  bytes: number
  /** ms of the run per round on the same scale (per step, or per prompt). */
  measuredMs: number[]
}

/** The law's side of every run (null for a run whose model has no profile or that the law cannot cost). */
export function offloadEquations(obs: OffloadObservations, profiles: ProbeProfiles, gpu: MeasuredFacts, host: MeasuredFacts, ctx: FitContext): OffloadEquation[] {
  const rates: DeviceRates = {
    host: ratesFromFacts(host, ctx.cacheBytes),
    gpus: [ratesFromFacts(gpu, ctx.cacheBytes)],
    offload: { busBytesPerSec: { value: Infinity, spread: 0 }, handoffMs: { value: 0, spread: 0 } }
  }
  const kvType = ctx.kvType
  const out: OffloadEquation[] = []
  for (const run of obs.runs) {
    const profile = profiles[run.id]
    if (!profile || run.ms.length === 0) continue
    const g = modelGeometry(profile)
    const a = assignLayers({ layers: profile.layers, gpuLayers: run.gpu_layers, devices: [{ name: 'GPU', freeBytes: 1, totalBytes: 1 }], host: { freeBytes: 1, totalBytes: 1 } })
    const p = placementOf(profile, ['GPU'], a.layers, a.output)
    if (run.kind === 'decode') {
      const e = splitDecodeEstimate(g, p, rates, { startPos: 0, tokens: run.tokens, cells: kvCells(run.tokens), kvKey: kvKey(kvType, ctx.flashAttention), kvType }).estimate
      if (e) out.push({ run, lawMs: e.totalMs, handoffs: e.handoffs, bytes: e.activationBytes, measuredMs: run.ms })
    } else {
      const e = splitPrefillEstimate(g, p, rates, { startPos: 0, tokens: run.tokens, ubatch: run.tokens, cells: kvCells(run.tokens), outputs: 1, kvType }).estimate
      if (e) out.push({ run, lawMs: e.totalMs, handoffs: e.handoffs, bytes: e.activationBytes + e.busBytes, measuredMs: run.ms.map((x) => x * run.tokens) })
    }
  }
  return out
}

/**
 * measured_offload from the split runs: per round, what each run's time leaves after the law's terms (never below
 * 0) = hand-offs × handoff_ms + bytes × ms per byte, each equation divided by the run's time, solved non-negative.
 * Null when no run gives the bus (no bytes crossed it, or none of its time was left).
 */
export function fitOffloadFacts(obs: OffloadObservations, profiles: ProbeProfiles, gpu: MeasuredFacts, host: MeasuredFacts, ctx: FitContext): OffloadFacts | null {
  const eqs = offloadEquations(obs, profiles, gpu, host, ctx).filter((e) => e.handoffs > 0 || e.bytes > 0)
  if (eqs.length < 2 || !eqs.some((e) => e.bytes > 0)) return null
  const sol = solveRounds(roundsOf(...eqs.map((e) => e.measuredMs)), (i) => {
    const rows = eqs.map((e) => {
      const t = at(e.measuredMs, i)
      return { row: [e.handoffs / t, e.bytes / t], y: Math.max(0, t - e.lawMs) / t }
    })
    const x = nonNegativeLeastSquares(rows.map((r) => r.row), rows.map((r) => r.y))
    return x && (x[1] as number) > 0 ? x : null
  })
  if (!sol.value) return null
  const bw = (x: number[]) => MS_PER_S / (x[1] as number)
  return {
    bus_bytes_per_sec: factWithValue(bw(sol.value), sol.samples.map(bw), 'B/s'),
    handoff_ms: factWithValue(sol.value[0] as number, sol.samples.map((x) => x[0] as number), 'ms/hand-off')
  }
}
