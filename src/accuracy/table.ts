// Accuracy results: per-model rows and per-scenario summaries against the targets. Pure.

import { absErrorPct } from '../compare/compare.js'
import { formatDeltaPct } from '../util/format.js'
import { llamaMemoryCheck } from '../compare/memory-check.js'
import { type ModelRun } from '../contracts/observation.js'
import { type Prediction } from '../contracts/prediction.js'
import { SCENARIO_IDS, SCENARIO_UNITS, type ScenarioId } from '../contracts/scenarios.js'
import { type LlamaMemoryCheck } from '../contracts/verdict.js'
import { median, spread } from '../util/stats.js'

/** Targets from the issue: median and worst |error| % per scenario. */
export const ACCURACY_TARGETS: Readonly<Record<ScenarioId, { median_pct: number; max_pct: number }>> = {
  steady_decode: { median_pct: 5, max_pct: 12 },
  prefill: { median_pct: 10, max_pct: 20 },
  first_token: { median_pct: 10, max_pct: 20 },
  kv_warm_reuse: { median_pct: 10, max_pct: 20 },
  // A server scenario like warm reuse, with the batch's compute on top: the same targets.
  parallel_decode: { median_pct: 10, max_pct: 20 }
}

export interface AccuracyCell {
  predicted: number | null
  /** The median of the passes' observations. */
  observed: number | null
  /** Each pass's observation (null where that pass failed), in pass order. */
  passes: (number | null)[]
  /** (max − min) / median of the passes, %: how far the same run moves between passes minutes apart. */
  pass_delta_pct: number | null
  /** The largest within-run spread of the passes. */
  spread: number | null
  error_pct: number | null
  /** The least-disturbed sample (fastest) and its error: on a shared machine, the noise-free side of the picture. */
  best: number | null
  best_error_pct: number | null
  /**
   * The law error apart from drift: the model's observation over its pair's (the probe model nearest in type and
   * size, measured right after it in the same pass), median over the passes, against the ratio of the two estimates;
   * |observed ratio − predicted ratio| / predicted ratio, %. Null without a pair.
   */
  paired_error_pct: number | null
  note: string | null
}

export interface AccuracyRow {
  ref: string
  size_bytes: number
  /** The probe model measured back to back with it (paired_error_pct); null: none. */
  pair: string | null
  cells: Record<ScenarioId, AccuracyCell>
  /** The memory estimate beside the buffers llama-server logged for this model, when it logged them. */
  memory: LlamaMemoryCheck | null
}

/** Median and max |error| % of the memory estimate per buffer over the models whose server logged it. */
export interface MemoryAccuracy {
  buffer: 'model' | 'kv' | 'compute'
  models: number
  median_pct: number | null
  max_pct: number | null
}

export interface ScenarioAccuracy {
  scenario: ScenarioId
  models: number
  median_pct: number | null
  max_pct: number | null
  /** The same over the best samples (diagnostic). */
  best_median_pct: number | null
  /**
   * Median over the models of the pass-to-pass difference (pass_delta_pct): the machine's own run-to-run noise. Errors
   * much below it cannot be told apart from noise on this machine.
   */
  run_to_run_pct: number | null
  /**
   * The score of an oracle that predicts each pass with another pass's observation of the same model (median and max
   * |error| over the models, averaged over the ordered pairs of passes): what a perfect estimator, measured minutes
   * away from the observation, would score on this machine. Null with fewer than two passes.
   */
  other_pass: { median_pct: number; max_pct: number } | null
  /** Median and max of the paired law error (AccuracyCell.paired_error_pct) over the models with a pair. */
  paired: { models: number; median_pct: number; max_pct: number } | null
  meets_target: boolean
}

function medianOrNull(xs: readonly number[]): number | null {
  return xs.length > 0 ? median(xs) : null
}

/** The probe model a benchmark model is paired with, its estimate, and its runs (one per pass, right after the model's). */
export interface AccuracyPair {
  ref: string
  prediction: Prediction
  passes: readonly ModelRun[]
}

/**
 * The paired law error of one scenario: per pass, the model's observation over its pair's (measured back to back, so
 * the machine's drift between minutes cancels); the median of those ratios against the ratio of the estimates.
 */
export function pairedErrorPct(s: ScenarioId, prediction: Prediction, passes: readonly ModelRun[], pair: AccuracyPair): number | null {
  const pm = prediction.scenarios.find((x) => x.scenario === s)?.predicted
  const pp = pair.prediction.scenarios.find((x) => x.scenario === s)?.predicted
  if (!pm || !pp) return null
  const ratios: number[] = []
  for (let i = 0; i < Math.min(passes.length, pair.passes.length); i++) {
    const om = passes[i]?.observations.find((x) => x.scenario === s)?.observed
    const op = pair.passes[i]?.observations.find((x) => x.scenario === s)?.observed
    if (om && op && om > 0 && op > 0) ratios.push(om / op)
  }
  return ratios.length > 0 ? absErrorPct(pm / pp, median(ratios)) : null
}

/** One model's cells from its prediction and each pass's run (passes run minutes apart). */
export function accuracyRow(ref: string, sizeBytes: number, prediction: Prediction, passes: readonly ModelRun[], pair: AccuracyPair | null = null): AccuracyRow {
  const cells = {} as Record<ScenarioId, AccuracyCell>
  for (const s of SCENARIO_IDS) {
    const p = prediction.scenarios.find((x) => x.scenario === s) ?? null
    const os = passes.map((run) => run.observations.find((x) => x.scenario === s) ?? null)
    const values = os.map((o) => o?.observed ?? null)
    const got = values.filter((v): v is number => v !== null)
    const observed = medianOrNull(got)
    const predicted = p?.predicted ?? null
    const all = os.flatMap((o) => (o ? [...o.samples, ...o.dropped_samples] : []))
    const best = all.length === 0 ? null : SCENARIO_UNITS[s] === 'ms' ? Math.min(...all) : Math.max(...all)
    const spreads = os.map((o) => o?.spread ?? null).filter((x): x is number => x !== null)
    cells[s] = {
      predicted,
      observed,
      passes: values,
      pass_delta_pct: got.length >= 2 ? 100 * spread(got) : null,
      spread: spreads.length > 0 ? Math.max(...spreads) : null,
      error_pct: predicted !== null && observed !== null ? absErrorPct(predicted, observed) : null,
      best,
      best_error_pct: predicted !== null && best !== null ? absErrorPct(predicted, best) : null,
      paired_error_pct: pair ? pairedErrorPct(s, prediction, passes, pair) : null,
      note: os.find((o) => o?.error)?.error?.reason ?? prediction.not_predicted[s] ?? null
    }
  }
  const logged = passes.find((run) => run.llama_memory)?.llama_memory
  return { ref, size_bytes: sizeBytes, pair: pair?.ref ?? null, cells, memory: logged ? llamaMemoryCheck(prediction.fit, logged) : null }
}

/** ScenarioAccuracy.other_pass of one scenario. */
function otherPassScore(rows: readonly AccuracyRow[], s: ScenarioId): { median_pct: number; max_pct: number } | null {
  const passes = Math.max(0, ...rows.map((r) => r.cells[s].passes.length))
  const medians: number[] = []
  const maxima: number[] = []
  for (let j = 0; j < passes; j++) {
    for (let k = 0; k < passes; k++) {
      if (j === k) continue
      const errs: number[] = []
      for (const r of rows) {
        const [pj, pk] = [r.cells[s].passes[j], r.cells[s].passes[k]]
        if (typeof pj === 'number' && typeof pk === 'number' && pj > 0) errs.push(absErrorPct(pj, pk))
      }
      if (errs.length === 0) continue
      medians.push(median(errs))
      maxima.push(Math.max(...errs))
    }
  }
  if (medians.length === 0) return null
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  return { median_pct: mean(medians), max_pct: mean(maxima) }
}

export function summarizeAccuracy(rows: readonly AccuracyRow[], scenarios: readonly ScenarioId[] = SCENARIO_IDS): ScenarioAccuracy[] {
  return scenarios.map((s) => {
    const errs = rows.map((r) => r.cells[s].error_pct).filter((e): e is number => e !== null)
    const med = medianOrNull(errs)
    const max = errs.length > 0 ? Math.max(...errs) : null
    const t = ACCURACY_TARGETS[s]
    const bestErrs = rows.map((r) => r.cells[s].best_error_pct).filter((e): e is number => e !== null)
    const deltas = rows.map((r) => r.cells[s].pass_delta_pct).filter((e): e is number => e !== null)
    const paired = rows.map((r) => r.cells[s].paired_error_pct).filter((e): e is number => e !== null)
    return {
      scenario: s,
      models: errs.length,
      median_pct: med,
      max_pct: max,
      best_median_pct: medianOrNull(bestErrs),
      run_to_run_pct: medianOrNull(deltas),
      other_pass: otherPassScore(rows, s),
      paired: paired.length > 0 ? { models: paired.length, median_pct: median(paired), max_pct: Math.max(...paired) } : null,
      meets_target: med !== null && max !== null && med <= t.median_pct && max <= t.max_pct
    }
  })
}

export function summarizeMemory(rows: readonly AccuracyRow[]): MemoryAccuracy[] {
  return (['model', 'kv', 'compute'] as const).map((buffer) => {
    const errs = rows.map((r) => r.memory?.error_pct[buffer] ?? null).filter((e): e is number => e !== null).map(Math.abs)
    return { buffer, models: errs.length, median_pct: medianOrNull(errs), max_pct: errs.length > 0 ? Math.max(...errs) : null }
  })
}

function fmt(x: number | null, digits = 1): string {
  if (x === null) return '—'
  return x >= 1000 ? x.toFixed(0) : x.toFixed(digits)
}

const SHORT: Record<ScenarioId, string> = { steady_decode: 'decode', prefill: 'prefill', first_token: 'first_tok', kv_warm_reuse: 'warm', parallel_decode: 'parallel' }

/**
 * A fixed-width text table: one row per model (predicted / observed, |error| and the pass-to-pass difference per
 * scenario), then the summary against the targets and the memory check.
 */
export function renderAccuracy(rows: readonly AccuracyRow[], summary: readonly ScenarioAccuracy[], memory: readonly MemoryAccuracy[] = [], scenarios: readonly ScenarioId[] = summary.map((x) => x.scenario)): string {
  const lines: string[] = []
  const head = ['model'.padEnd(MODEL_COLUMN), 'MiB'.padStart(6), ...scenarios.map((s) => `${SHORT[s]} pred/obs (err%|Δpass%)`.padStart(28))]
  lines.push(head.join(' '))
  for (const r of rows) {
    const cells = scenarios.map((s) => {
      const c = r.cells[s]
      const text = c.error_pct === null ? (c.note ? 'n/a' : '—') : `${fmt(c.predicted)}/${fmt(c.observed)} (${fmt(c.error_pct)}|${fmt(c.pass_delta_pct)})`
      return text.padStart(28)
    })
    const e = r.memory?.error_pct
    const mem = e ? `mem ${[e.model, e.kv, e.compute].map((x) => (x === null ? '—' : formatDeltaPct(x))).join(' / ')}` : ''
    lines.push([shortRef(r.ref).padEnd(MODEL_COLUMN), (r.size_bytes / 1024 ** 2).toFixed(0).padStart(6), ...cells, mem].join(' ').trimEnd())
  }
  if (rows.some((r) => r.pair)) {
    lines.push('')
    lines.push(['paired with'.padEnd(MODEL_COLUMN), ''.padStart(6), ...scenarios.map((s) => `${SHORT[s]} paired err%`.padStart(28))].join(' '))
    for (const r of rows) {
      if (!r.pair) continue
      const cells = scenarios.map((s) => fmt(r.cells[s].paired_error_pct).padStart(28))
      lines.push([`${shortRef(r.ref).slice(0, 13)}~${r.pair}`.slice(0, MODEL_COLUMN).padEnd(MODEL_COLUMN), ''.padStart(6), ...cells].join(' ').trimEnd())
    }
  }
  lines.push('')
  lines.push(`${'scenario'.padEnd(14)} ${'|error| median / max'.padStart(22)} ${'noise floor median / max'.padStart(26)} ${'paired law error median / max'.padStart(31)}`)
  for (const s of summary) {
    const pair = (x: { median_pct: number; max_pct: number } | null): string => (x ? `${fmt(x.median_pct)} / ${fmt(x.max_pct)} %` : '—')
    lines.push(`${s.scenario.padEnd(14)} ${`${fmt(s.median_pct)} / ${fmt(s.max_pct)} %`.padStart(22)} ${pair(s.other_pass).padStart(26)} ${pair(s.paired).padStart(31)}`)
  }
  lines.push('')
  for (const s of summary) {
    const t = ACCURACY_TARGETS[s.scenario]
    lines.push(
      `${s.scenario.padEnd(14)} models ${String(s.models).padStart(2)}  median |error| ${fmt(s.median_pct)} % (target ≤ ${t.median_pct})  max ${fmt(s.max_pct)} % (target ≤ ${t.max_pct})  ${s.meets_target ? 'MEETS' : 'MISSES'}  (vs best samples: median ${fmt(s.best_median_pct)} %; pass to pass: median ${fmt(s.run_to_run_pct)} %${s.other_pass ? `; another pass as the prediction: median ${fmt(s.other_pass.median_pct)} % max ${fmt(s.other_pass.max_pct)} %` : ''})`
    )
  }
  for (const m of memory) {
    lines.push(`memory ${m.buffer.padEnd(7)} models ${String(m.models).padStart(2)}  median |error| ${fmt(m.median_pct)} %  max ${fmt(m.max_pct)} %  (estimate vs llama.cpp's logged buffer)`)
  }
  return lines.join('\n')
}

const MODEL_COLUMN = 26

/** The ref without its corpus prefix, cut to the column: "synthetic/acc-w256-l2:F16" → "acc-w256-l2:F16". */
function shortRef(ref: string): string {
  return ref.slice(ref.indexOf('/') + 1).slice(0, MODEL_COLUMN)
}
