// How much each measured fact's noise moves an estimate: the estimate recomputed with the fact at its lowest and at
// its highest sample (every other fact unchanged). Pure.
//
// A fact's spread alone says little about a row: the per-row cost of a type may spread 200 % over the probe's rounds
// and move a decode estimate by 0.3 %, while a prefill rate that spread 147 % moves its rows by as much. What the gate
// needs is the estimate's own spread under that noise, comparable with an observation's spread and the tolerance.

import type { HardwareProfile, MeasuredFact } from '../contracts/hardware.js'
import type { FactNoise, Prediction } from '../contracts/prediction.js'

/** Effects under this fraction are not listed (they cannot decide a verdict). */
export const FACT_NOISE_MIN_EFFECT = 0.01
/** At most this many facts are listed per estimate, the largest effects. */
export const FACT_NOISE_MAX_LISTED = 3

/** Every measured fact with samples to vary, as [path in hardware.json, fact], in a stable order. */
export function measuredFacts(hw: HardwareProfile): Array<[string[], MeasuredFact]> {
  const out: Array<[string[], MeasuredFact]> = []
  const walk = (node: unknown, path: string[]): void => {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return
    const o = node as Record<string, unknown>
    if (typeof o.value === 'number' && Array.isArray(o.samples) && typeof o.spread === 'number') {
      out.push([path, o as unknown as MeasuredFact])
      return
    }
    for (const k of Object.keys(o).sort()) walk(o[k], [...path, k])
  }
  walk(hw.measured, ['measured'])
  // A split model's estimate also rests on the host's facts and the bus (fit/split-speed.ts).
  walk(hw.measured_host, ['measured_host'])
  walk(hw.measured_offload, ['measured_offload'])
  return out
}

/** The profile with one fact's value replaced (the rest shared, not copied). */
function withValue(hw: HardwareProfile, path: string[], value: number): HardwareProfile {
  const set = (node: Record<string, unknown>, i: number): Record<string, unknown> => {
    const key = path[i] as string
    const child = node[key] as Record<string, unknown>
    return { ...node, [key]: i === path.length - 1 ? { ...child, value } : set(child, i + 1) }
  }
  return set(hw as unknown as Record<string, unknown>, 0) as unknown as HardwareProfile
}

/**
 * Each scenario's fact noise: for every fact whose samples differ, the estimate with the fact at its lowest and its
 * highest sample; |difference| / estimate is the effect. `estimate` is the pure estimator (predict without noise).
 */
export function factNoise(
  base: Prediction,
  hw: HardwareProfile,
  estimate: (hw: HardwareProfile) => Prediction
): Map<string, FactNoise[]> {
  const out = new Map<string, FactNoise[]>(base.scenarios.map((s) => [s.scenario, []]))
  if (base.scenarios.length === 0) return out
  for (const [path, fact] of measuredFacts(hw)) {
    const samples = fact.samples.filter((v) => Number.isFinite(v))
    if (samples.length < 2) continue
    const lo = Math.min(...samples)
    const hi = Math.max(...samples)
    if (!(hi > lo)) continue
    // A rate must stay positive to mean anything: a non-positive sample is not varied to.
    if (lo <= 0 && fact.value > 0 && path.some((p) => /bandwidth|flops|efficiency/.test(p))) continue
    const low = estimate(withValue(hw, path, lo))
    const high = estimate(withValue(hw, path, hi))
    for (const s of base.scenarios) {
      const a = low.scenarios.find((x) => x.scenario === s.scenario)?.predicted
      const b = high.scenarios.find((x) => x.scenario === s.scenario)?.predicted
      if (a === undefined || b === undefined || !(s.predicted > 0)) continue
      const effect = Math.abs(b - a) / s.predicted
      if (effect >= FACT_NOISE_MIN_EFFECT) out.get(s.scenario)!.push({ fact: path.join('.'), spread: fact.spread, effect: Number(effect.toPrecision(4)) })
    }
  }
  for (const [k, list] of out) out.set(k, list.sort((x, y) => y.effect - x.effect || x.fact.localeCompare(y.fact)).slice(0, FACT_NOISE_MAX_LISTED))
  return out
}
