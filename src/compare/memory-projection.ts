// The memory estimate against llama.cpp's own projection (bench/fit-params.ts): per buffer and device, and the fit
// verdict against the devices' free memory. Pure.
//
// llama.cpp's figures are intervals (it prints whole MiB rounded down; its log 0.01 MiB), so an estimate inside the
// interval has no error, and one outside it is off by its distance to the nearer end. A buffer's error adds the
// distances over devices (memory estimated on the wrong device is error, not a wash) and is signed by their sum,
// relative to the projection's midpoint: 0 % is "lands where llama.cpp puts it".

import type { EstimatedMemory, FitStatus } from '../contracts/prediction.js'
import type { MemoryCheck, MemoryErrorPct, ProjectedBytes, ProjectedDevice } from '../contracts/verdict.js'

export type MemoryBuffer = 'weights' | 'context' | 'compute'
export const MEMORY_BUFFERS: readonly MemoryBuffer[] = ['weights', 'context', 'compute']

export interface MemoryCheckSettings {
  /** |error| above this, per buffer, is `off`. */
  maxAbsErrorPct: Record<MemoryBuffer, number>
  /** Judge fits / does-not-fit against the projection (a wrong one is `wrong-fit`). */
  checkFit: boolean
  /** The share of a device's free memory an estimator keeps free (ours: MEMORY_SAFETY_MARGIN). */
  margin: number
}

const key = (b: MemoryBuffer): 'weights_bytes' | 'context_bytes' | 'compute_bytes' => `${b}_bytes`

/** Distance of an estimate from an interval: 0 inside, negative below, positive above. */
function distance(est: number, [lo, hi]: ProjectedBytes): number {
  return est < lo ? est - lo : est > hi ? est - hi : 0
}

const mid = ([lo, hi]: ProjectedBytes): number => (lo + hi) / 2

/** The error of each buffer, % (see the file comment); devices matched by name, a missing one counted as 0 bytes. */
export function projectionErrors(est: EstimatedMemory, projected: readonly ProjectedDevice[]): MemoryErrorPct {
  const out: MemoryErrorPct = { weights: null, context: null, compute: null }
  for (const b of MEMORY_BUFFERS) {
    const k = key(b)
    const total = projected.reduce((s, d) => s + mid(d[k]), 0)
    let abs = 0
    let signed = 0
    if (est.devices && est.devices.length > 0) {
      const names = new Set([...projected.map((d) => d.device), ...est.devices.map((d) => d.device)])
      for (const name of names) {
        const e = est.devices.find((d) => d.device === name)?.[k] ?? 0
        const p = projected.find((d) => d.device === name)?.[k] ?? [0, 0]
        const dist = distance(e, p)
        abs += Math.abs(dist)
        signed += dist
      }
    } else {
      // Totals only: against the sum of the devices' intervals.
      const lo = projected.reduce((s, d) => s + d[k][0], 0)
      const hi = projected.reduce((s, d) => s + d[k][1], 0)
      signed = distance(est[k], [lo, hi])
      abs = Math.abs(signed)
    }
    if (total <= 0) out[b] = abs === 0 ? 0 : null
    else out[b] = Math.round(((signed < 0 ? -1 : 1) * abs * 1000) / total) / 10
  }
  return out
}

/** llama.cpp's fit: every device's projected buffers (midpoints) within its free memory; null when none is known. */
export function projectedFit(projected: readonly ProjectedDevice[]): 'fits' | 'does-not-fit' | null {
  const known = projected.filter((d) => d.free_bytes !== null)
  if (known.length === 0) return null
  return known.every((d) => mid(d.weights_bytes) + mid(d.context_bytes) + mid(d.compute_bytes) <= (d.free_bytes as number)) ? 'fits' : 'does-not-fit'
}

/**
 * What a device needs beyond the buffers llama.cpp projects (the process around them: code, tokenizer tables, the
 * runtime's own allocations): llama.cpp's own `--fit` keeps this much free per device (common_params'
 * fit_params_target, 1024 MiB), and so does the zone where both fit answers stand.
 */
export const FIT_ZONE_SLACK_BYTES = 1024 * 1024 * 1024

/**
 * Whether an estimator's fit agrees with llama.cpp's. `does-not-fit` is wrong where the projection fits with room to
 * spare on every device — within the estimator's margin and a further FIT_ZONE_SLACK_BYTES; `fits` (or
 * `fits-with-warning`) is wrong where the projection does not fit at all. Between the two both answers stand: an
 * estimator that keeps memory free says does-not-fit there, one that keeps none says fits.
 */
export function fitAgrees(status: FitStatus, projected: readonly ProjectedDevice[], margin: number): boolean | null {
  const known = projected.filter((d) => d.free_bytes !== null)
  if (known.length === 0) return null
  const need = (d: ProjectedDevice): number => mid(d.weights_bytes) + mid(d.context_bytes) + mid(d.compute_bytes)
  const fitsAtAll = known.every((d) => need(d) <= (d.free_bytes as number))
  const fitsWithRoom = known.every((d) => need(d) <= (d.free_bytes as number) * (1 - margin) - FIT_ZONE_SLACK_BYTES)
  return status === 'does-not-fit' ? !fitsWithRoom : fitsAtAll
}

/** The verdict of judged errors and fit: a wrong fit first (when checked), then any buffer beyond its limit. */
export function memoryVerdict(error: MemoryErrorPct, fit: MemoryCheck['fit'], s: MemoryCheckSettings): { verdict: 'match' | 'off' | 'wrong-fit'; reason: string | null } {
  if (s.checkFit && fit.agrees === false) {
    return { verdict: 'wrong-fit', reason: `estimated ${fit.estimated}, llama.cpp's projection ${fit.llama === 'fits' ? 'fits' : 'does not fit'} the devices' free memory` }
  }
  const over = MEMORY_BUFFERS.filter((b) => error[b] !== null && Math.abs(error[b] as number) > s.maxAbsErrorPct[b])
  if (over.length === 0) return { verdict: 'match', reason: null }
  return { verdict: 'off', reason: over.map((b) => `${b} ${(error[b] as number) > 0 ? '+' : ''}${error[b]} %`).join(', ') }
}

/** The memory check of one model: the estimate (null: the estimator gave none) against the projection. */
export function memoryCheck(est: EstimatedMemory | null, projected: ProjectedDevice[], source: 'file' | 'header', s: MemoryCheckSettings): MemoryCheck {
  const llama = projectedFit(projected)
  if (!est) {
    return { verdict: 'skipped', source, projected, estimated: null, error_pct: { weights: null, context: null, compute: null }, fit: { estimated: null, llama, agrees: null }, reason: 'the estimator gave no memory estimate' }
  }
  const error = projectionErrors(est, projected)
  const fit = { estimated: est.status, llama, agrees: fitAgrees(est.status, projected, s.margin) }
  const { verdict, reason } = memoryVerdict(error, fit, s)
  return { verdict, source, projected, estimated: est, error_pct: error, fit, reason }
}

/** The failed projection of a model: its memory row is a runtime error naming llama.cpp's words. */
export function failedMemoryCheck(reason: string, source: 'file' | 'header' | null): MemoryCheck {
  return { verdict: 'runtime-error', source, projected: [], estimated: null, error_pct: { weights: null, context: null, compute: null }, fit: { estimated: null, llama: null, agrees: null }, reason }
}
