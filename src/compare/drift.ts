// The machine's drift, judged: the probe's facts re-measured at the start of a run, and the sentinel's series. Pure.

import type { DriftRecord, RecheckedFact } from '../contracts/report.js'
import { formatDeltaPct } from '../util/format.js'
import { COMPARE_EPSILON } from './compare.js'

/** The re-checked facts that moved beyond the tolerance (|now / probed − 1|). */
export function movedFacts(drift: DriftRecord | null | undefined, tolerance: number): RecheckedFact[] {
  return (drift?.recheck?.facts ?? []).filter((f) => f.change !== null && Math.abs(f.change) > tolerance + COMPARE_EPSILON)
}

/**
 * What every judged row says when the machine is no longer the one that was probed: the facts that moved, and the
 * way out; null when none moved.
 */
export function machineMovedReason(drift: DriftRecord | null | undefined, tolerance: number): string | null {
  const moved = movedFacts(drift, tolerance)
  if (moved.length === 0 || !drift?.recheck) return null
  const facts = moved.map((f) => `${f.fact} ${formatDeltaPct((f.change as number) * 100)} (${f.test})`).join(', ')
  return (
    `the machine moved since the probe of ${drift.recheck.probed_at}: ${facts}, beyond the ${Math.round(tolerance * 1000) / 10} % tolerance; ` +
    `the estimate rests on facts that no longer hold (re-run with --refresh)`
  )
}

/** Whether the sentinel moved more than the tolerance during the run (its range). */
export function sentinelMoved(drift: DriftRecord | null | undefined, tolerance: number): boolean {
  return drift?.range != null && drift.range > tolerance + COMPARE_EPSILON
}
