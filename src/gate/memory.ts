// The memory gate: each model's memory check (compare/memory-projection.ts) judged by thresholds.yml's `memory:`
// limits. Pure.

import type { GateFailure, MemorySummary, Thresholds } from '../contracts/gate.js'
import type { ModelReport } from '../contracts/report.js'
import type { MemoryCheck } from '../contracts/verdict.js'
import { MEMORY_BUFFERS, memoryVerdict, type MemoryCheckSettings } from '../compare/memory-projection.js'
import { MEMORY_SAFETY_MARGIN } from '../fit/memory.js'
import { formatLimit, formatPct } from '../util/format.js'
import { median } from '../util/stats.js'
import { exceeds } from './thresholds.js'
import { rowLabel } from '../contracts/report.js'

const JUDGED = new Set(['match', 'off', 'wrong-fit'])

/** The memory verdict settings thresholds imply: the memory section's limits, else tolerance_pct for every buffer. */
export function memorySettingsFrom(t: Thresholds): MemoryCheckSettings {
  const m = t.memory
  return {
    maxAbsErrorPct: {
      weights: m ? m.weights.max_abs_error_pct : t.tolerance_pct,
      context: m ? m.context.max_abs_error_pct : t.tolerance_pct,
      compute: m ? m.compute.max_abs_error_pct : t.tolerance_pct
    },
    checkFit: m ? m.check_fit : true,
    margin: MEMORY_SAFETY_MARGIN
  }
}

/** A stored memory check judged again with other thresholds (`check --thresholds`). */
export function reverdictMemory(c: MemoryCheck, s: MemoryCheckSettings): MemoryCheck {
  if (!JUDGED.has(c.verdict)) return c
  return { ...c, ...memoryVerdict(c.error_pct, c.fit, s) }
}

/** The memory summary and failures of a run; no memory row at all: nothing. */
export function gateMemory(models: readonly ModelReport[], t: Thresholds): { summary: MemorySummary | null; failures: GateFailure[]; gatedModels: string[]; runtimeErrors: string[] } {
  const rows = models.filter((m): m is ModelReport & { memory: MemoryCheck } => m.memory !== undefined)
  if (rows.length === 0) return { summary: null, failures: [], gatedModels: [], runtimeErrors: [] }
  const judged = rows.filter((m) => JUDGED.has(m.memory.verdict))
  const buffers = {} as MemorySummary['buffers']
  const failures: GateFailure[] = []
  for (const b of MEMORY_BUFFERS) {
    const errors = judged.flatMap((m) => (m.memory.error_pct[b] === null ? [] : [{ ref: rowLabel(m), abs: Math.abs(m.memory.error_pct[b] as number), signed: m.memory.error_pct[b] as number }]))
    const med = errors.length > 0 ? median(errors.map((e) => e.abs)) : null
    const max = errors.length > 0 ? Math.max(...errors.map((e) => e.abs)) : null
    buffers[b] = { median_abs_error_pct: med, max_abs_error_pct: max }
    const limits = t.memory?.[b]
    if (!limits) continue
    if (med !== null && exceeds(med, limits.max_median_abs_error_pct)) {
      failures.push({ scenario: 'memory', model: null, limit: `${b}.max_median_abs_error_pct`, value: med, message: `memory ${b}: median |error| ${formatPct(med)} % against llama.cpp's projection > ${formatLimit(limits.max_median_abs_error_pct)} % limit` })
    }
    for (const e of errors.filter((x) => exceeds(x.abs, limits.max_abs_error_pct)).sort((x, y) => y.abs - x.abs || (x.ref < y.ref ? -1 : 1))) {
      failures.push({ scenario: 'memory', model: e.ref, limit: `${b}.max_abs_error_pct`, value: e.abs, message: `memory ${b}: ${e.ref} ${e.signed > 0 ? '+' : ''}${formatPct(e.signed)} % against llama.cpp's projection > ${formatLimit(limits.max_abs_error_pct)} % limit` })
    }
  }
  const wrong = judged.filter((m) => m.memory.verdict === 'wrong-fit')
  if (t.memory?.check_fit) {
    for (const m of wrong) {
      failures.push({ scenario: 'memory', model: rowLabel(m), limit: 'check_fit', value: 1, message: `memory fit: ${rowLabel(m)} ${m.memory.reason ?? 'wrong fit verdict'}` })
    }
  }
  const errored = rows.filter((m) => m.memory.verdict === 'runtime-error')
  return {
    summary: { samples: rows.length, gated: judged.length, runtime_errors: errored.length, wrong_fit: wrong.length, buffers },
    failures,
    gatedModels: t.memory ? judged.map((m) => rowLabel(m)) : [],
    runtimeErrors: errored.map((m) => `${rowLabel(m)} memory: ${m.memory.reason ?? 'projection failed'}`)
  }
}
