// Turning probe samples into MeasuredFacts. Pure: numbers in, facts out.

import type { MeasuredFact } from '../contracts/hardware.js'
import { median, spread } from '../util/stats.js'

/** Digits kept in stored facts: far below the noise, and keeps hardware.json readable and byte-stable. */
const SIGNIFICANT_DIGITS = 6

export function roundSig(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x
  return Number(x.toPrecision(SIGNIFICANT_DIGITS))
}

/** A fact from repeated samples: the median is the value, spread = (max − min) / median. */
export function makeFact(samples: readonly number[], unit: string): MeasuredFact {
  if (samples.length === 0) throw new Error(`makeFact: no samples for ${unit}`)
  const s = samples.map(roundSig)
  return { value: roundSig(median(s)), unit, samples: s, spread: roundSig(spread(s)) }
}

/** A fact whose value is a derived number (e.g. a fit over all samples) with the per-round values as samples. */
export function factWithValue(value: number, samples: readonly number[], unit: string): MeasuredFact {
  const s = samples.map(roundSig)
  return { value: roundSig(value), unit, samples: s, spread: roundSig(spread(s)) }
}

/**
 * Ordinary least squares y ≈ X·b by the normal equations (the systems here have 2–4 unknowns and well-separated
 * probe geometries, so conditioning is not a concern). Returns null when the system is singular.
 */
export function leastSquares(rows: readonly (readonly number[])[], y: readonly number[]): number[] | null {
  const n = rows[0]?.length ?? 0
  if (n === 0 || rows.length < n || rows.length !== y.length) return null
  const a: number[][] = Array.from({ length: n }, () => new Array<number>(n + 1).fill(0))
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as readonly number[]
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) (a[i] as number[])[j]! += (row[i] as number) * (row[j] as number)
      ;(a[i] as number[])[n]! += (row[i] as number) * (y[r] as number)
    }
  }
  // Gauss-Jordan with partial pivoting.
  for (let c = 0; c < n; c++) {
    let p = c
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[p]![c]!)) p = r
    if (Math.abs(a[p]![c]!) < 1e-300) return null
    ;[a[c], a[p]] = [a[p]!, a[c]!]
    for (let r = 0; r < n; r++) {
      if (r === c) continue
      const f = a[r]![c]! / a[c]![c]!
      for (let k = c; k <= n; k++) a[r]![k]! -= f * a[c]![k]!
    }
  }
  return a.map((row, i) => row[n]! / row[i]!)
}

/**
 * Non-negative least squares for small systems: solve, and while a coefficient is negative drop the most negative
 * one (fix it at 0) and solve again. Physical costs cannot be negative; noise can make a free fit say so.
 */
export function nonNegativeLeastSquares(rows: readonly (readonly number[])[], y: readonly number[]): number[] | null {
  const n = rows[0]?.length ?? 0
  const active = new Array<boolean>(n).fill(true)
  for (let iter = 0; iter <= n; iter++) {
    const idx = active.map((on, i) => (on ? i : -1)).filter((i) => i >= 0)
    if (idx.length === 0) return new Array<number>(n).fill(0)
    const sol = leastSquares(
      rows.map((r) => idx.map((i) => r[i] as number)),
      y
    )
    if (!sol) return null
    let worst = -1
    for (let k = 0; k < idx.length; k++) if ((sol[k] as number) < 0 && (worst < 0 || (sol[k] as number) < (sol[worst] as number))) worst = k
    if (worst < 0) {
      const out = new Array<number>(n).fill(0)
      idx.forEach((i, k) => (out[i] = sol[k] as number))
      return out
    }
    active[idx[worst] as number] = false
  }
  return null
}
