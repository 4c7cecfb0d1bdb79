// The accuracy benchmark: synthesize the benchmark geometries, probe the hardware (cached), predict every model,
// run all four scenarios with real llama.cpp through src/bench, and print each model's row and the per-scenario
// median and max |error|. The estimator sees only the profiles and the hardware facts, never the observations.

import { join } from 'node:path'
import { runModel } from '../bench/runner.js'
import { DEFAULT_RUN_TIMEOUT_SEC } from '../bench/runner.js'
import { defaultWorkload } from '../bench/workload.js'
import { predict } from '../fit/predict.js'
import { profileFile } from '../gguf/index.js'
import { probeHardware } from '../hardware/probe.js'
import { synthesize } from '../synth/synth.js'
import { SCENARIO_IDS, type ModelRun, type Prediction } from '../types.js'
import { writeFileAtomic } from '../util/fs.js'
import { stableStringify } from '../util/json.js'
import { accuracySpec } from './geometries.js'
import { accuracyRow, renderAccuracy, summarizeAccuracy, summarizeMemory, type AccuracyRow, type MemoryAccuracy, type ScenarioAccuracy } from './table.js'

export interface AccuracyOptions {
  binDir: string
  workDir: string
  log: (line: string) => void
  /** Re-measure the hardware instead of using the cached profile. */
  refreshHardware?: boolean
  /** Only these model names (for a quick partial run). */
  only?: readonly string[]
  /** A quick probe (tests): two weight types, one round; its facts are rough. */
  quickProbe?: boolean
  /**
   * Passes over all models (default DEFAULT_PASSES). Each pass runs every model's scenarios once; a model's
   * observation is the median of its passes, and the pass-to-pass difference is the machine's run-to-run noise.
   */
  passes?: number
  now?: () => string
}

export interface AccuracyResult {
  rows: AccuracyRow[]
  summary: ScenarioAccuracy[]
  memory: MemoryAccuracy[]
  resultsPath: string
}

/**
 * Two passes, minutes apart: on a shared machine the same run moves by more between minutes than within its own
 * repeats (measured here: 12 % median, 45 % at worst for decode between two passes), which one pass cannot show.
 */
export const DEFAULT_PASSES = 2

export async function runAccuracyBenchmark(opts: AccuracyOptions): Promise<AccuracyResult> {
  const passes = opts.passes ?? DEFAULT_PASSES
  if (!Number.isInteger(passes) || passes < 1) throw new Error(`passes must be an integer ≥ 1, got ${passes}`)
  const now = opts.now ?? (() => new Date().toISOString())
  const spec = accuracySpec()
  if (opts.only) spec.models = spec.models.filter((m) => opts.only!.includes(m.name))
  const progress = (line: string): void => opts.log(`accuracy: ${line}`)
  const synth = await synthesize(spec, join(opts.workDir, 'models'), opts.binDir, progress)
  const hardware = await probeHardware({
    binDir: opts.binDir,
    cacheDir: join(opts.workDir, 'hardware'),
    refresh: Boolean(opts.refreshHardware),
    log: progress,
    now,
    quick: Boolean(opts.quickProbe)
  })
  const workload = defaultWorkload({ threads: hardware.system.threads })
  const models: { ref: string; path: string; sizeBytes: number; vocab: number; prediction: Prediction }[] = []
  for (const m of synth.models) {
    const { profile } = await profileFile(m.path)
    models.push({ ref: m.ref, path: m.path, sizeBytes: profile.fileBytes, vocab: profile.vocabSize, prediction: predict(profile, hardware, workload) })
  }
  const observed = new Map<string, ModelRun[]>()
  for (let pass = 1; pass <= passes; pass++) {
    for (const m of models) {
      progress(`pass ${pass}/${passes}: ${m.ref}: running ${SCENARIO_IDS.join(', ')}`)
      const run = await runModel(m.path, SCENARIO_IDS, workload, {
        binDir: opts.binDir,
        logsDir: join(opts.workDir, 'logs', `pass-${pass}`),
        runTimeoutSec: DEFAULT_RUN_TIMEOUT_SEC,
        vocabSize: m.vocab,
        log: progress
      })
      const got = [...(observed.get(m.ref) ?? []), run]
      observed.set(m.ref, got)
      opts.log(renderAccuracy([accuracyRow(m.ref, m.sizeBytes, m.prediction, got)], []).split('\n')[1] ?? '')
    }
  }
  const rows: AccuracyRow[] = models.map((m) => accuracyRow(m.ref, m.sizeBytes, m.prediction, observed.get(m.ref) ?? []))
  const summary = summarizeAccuracy(rows)
  const memory = summarizeMemory(rows)
  opts.log(renderAccuracy(rows, summary, memory))
  const resultsPath = join(opts.workDir, 'accuracy.json')
  await writeFileAtomic(resultsPath, stableStringify({ generated_at: now(), hardware_fingerprint: hardware.fingerprint, workload, passes, rows, summary, memory }))
  opts.log(`accuracy: results → ${resultsPath}`)
  return { rows, summary, memory, resultsPath }
}
