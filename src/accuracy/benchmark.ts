// The accuracy benchmark: synthesize the benchmark geometries, probe the hardware (cached), predict every model,
// run all four scenarios with real llama.cpp through src/bench, and print each model's row and the per-scenario
// median and max |error|. The estimator sees only the profiles and the hardware facts, never the observations.

import { join } from 'node:path'
import { runScenarios } from '../bench/runner.js'
import { DEFAULT_RUN_TIMEOUT_SEC } from '../bench/runner.js'
import { defaultWorkload } from '../bench/workload.js'
import { predict } from '../fit/predict.js'
import { profileFile } from '../gguf/index.js'
import { probeHardware } from '../hardware/probe.js'
import { synthesize } from '../synth/synth.js'
import { SCENARIO_IDS } from '../types.js'
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
  now?: () => string
}

export interface AccuracyResult {
  rows: AccuracyRow[]
  summary: ScenarioAccuracy[]
  memory: MemoryAccuracy[]
  resultsPath: string
}

export async function runAccuracyBenchmark(opts: AccuracyOptions): Promise<AccuracyResult> {
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
  const rows: AccuracyRow[] = []
  for (const m of synth.models) {
    const { profile } = await profileFile(m.path)
    const prediction = predict(profile, hardware, workload)
    progress(`${m.ref}: running ${SCENARIO_IDS.join(', ')}`)
    const observations = await runScenarios(m.path, SCENARIO_IDS, workload, {
      binDir: opts.binDir,
      logsDir: join(opts.workDir, 'logs'),
      runTimeoutSec: DEFAULT_RUN_TIMEOUT_SEC,
      vocabSize: profile.vocabSize,
      log: progress
    })
    const row = accuracyRow(m.ref, profile.fileBytes, prediction, observations)
    rows.push(row)
    opts.log(renderAccuracy([row], []).split('\n')[1] ?? '')
  }
  const summary = summarizeAccuracy(rows)
  const memory = summarizeMemory(rows)
  opts.log(renderAccuracy(rows, summary, memory))
  const resultsPath = join(opts.workDir, 'accuracy.json')
  await writeFileAtomic(resultsPath, stableStringify({ generated_at: now(), hardware_fingerprint: hardware.fingerprint, workload, rows, summary, memory }))
  opts.log(`accuracy: results → ${resultsPath}`)
  return { rows, summary, memory, resultsPath }
}
