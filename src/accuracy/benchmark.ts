// The accuracy benchmark: synthesize the benchmark geometries, probe the hardware (cached), predict every model,
// run all four scenarios with real llama.cpp through src/bench, and print each model's row and the per-scenario
// median and max |error|. The estimator sees only the profiles and the hardware facts, never the observations.

import { join } from 'node:path'
import { runModel } from '../bench/runner.js'
import { DEFAULT_RUN_TIMEOUT_SEC } from '../bench/runner.js'
import { defaultWorkload } from '../bench/workload.js'
import { predict } from '../fit/predict.js'
import { profileFile } from '../gguf/index.js'
import { cachedProfilePath, probeHardware, readProbeRecord } from '../hardware/probe.js'
import { existsSync } from 'node:fs'
import { formatValue } from '../report/view.js'
import { synthesize } from '../synth/synth.js'
import { type HardwareProfile } from '../contracts/hardware.js'
import { type ModelRun } from '../contracts/observation.js'
import { type ModelProfile } from '../contracts/profile.js'
import { DEFAULT_SCENARIOS, SCENARIO_IDS, SCENARIO_UNITS } from '../contracts/scenarios.js'
import { type Workload } from '../contracts/workload.js'
import { writeFileAtomic } from '../util/fs.js'
import { stableStringify } from '../util/json.js'
import { accuracySpec } from './geometries.js'
import { accuracyRow, renderAccuracy, summarizeAccuracy, summarizeMemory, type AccuracyRow, type MemoryAccuracy, type ScenarioAccuracy } from './table.js'

export interface AccuracyOptions {
  binDir: string
  workDir: string
  log: (line: string) => void
  /**
   * Use the cached hardware profile (measured first if absent) instead of probing in every pass: a quicker look, but
   * its facts come from other minutes than the observations (see DEFAULT_PASSES).
   */
  cachedProbe?: boolean
  /** With cachedProbe: re-measure the cached profile first. */
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
  /**
   * Measure each model back to back with the probe model nearest in type and size (default true): the paired law error,
   * the estimator's own error with the machine's drift between minutes cancelled. Doubles the benchmark's time.
   */
  paired?: boolean
  now?: () => string
}

export interface AccuracyResult {
  rows: AccuracyRow[]
  summary: ScenarioAccuracy[]
  memory: MemoryAccuracy[]
  resultsPath: string
}

/**
 * Passes, minutes apart: on a shared machine the same run moves by more between minutes than within its own
 * repeats (measured here: 12–15 % median, 45 % at worst for decode between two passes), which one pass cannot show.
 * The probe runs once before every pass and the facts are fitted from all its passes (probeHardware's interleave), so
 * the facts and the observations sample the same minutes: a probe measured in a fast stretch and models observed in
 * a slow one would otherwise show the machine's drift as the estimator's error.
 */
export const DEFAULT_PASSES = 3

interface BenchModel {
  ref: string
  path: string
  profile: ModelProfile
}

/** The type holding most of a model's weight bytes. */
function mainType(p: ModelProfile): string {
  return Object.entries(p.bytes_by_type).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? ''
}

/**
 * The probe model nearest a benchmark model: of the same class and main weight type (and, where the probe has one,
 * the same architecture and MoE-ness), the nearest in file size (log ratio), then the id; null when the probe has
 * none of that type.
 */
export function nearestProbeModel(model: ModelProfile, probe: readonly BenchModel[]): BenchModel | null {
  const type = mainType(model)
  const alike = probe.filter((p) => p.profile.model_class === model.model_class && mainType(p.profile) === type)
  // The same architecture and MoE-ness where the probe has one (a llama model is not paired with the Mamba probe).
  const moe = alike.filter((p) => (model.expert_count > 0) === (p.profile.expert_count > 0))
  const kin = moe.filter((p) => p.profile.architecture === model.architecture)
  const pool = kin.length > 0 ? kin : moe.length > 0 ? moe : alike
  const dist = (p: BenchModel): number => Math.abs(Math.log(p.profile.file_bytes / model.file_bytes))
  return [...pool].sort((a, b) => dist(a) - dist(b) || a.ref.localeCompare(b.ref))[0] ?? null
}

/** The probe's models on disk, profiled (the server probes are not generating benchmarks of their own kind). */
async function probeModels(listed: Record<string, string>): Promise<BenchModel[]> {
  const out: BenchModel[] = []
  for (const [id, path] of Object.entries(listed).sort()) {
    if (!existsSync(path) || id.startsWith('srv-')) continue
    out.push({ ref: id, path, profile: (await profileFile(path)).profile })
  }
  return out
}

/** What one pass observed of a model, for the progress log (the predictions come after the last pass). */
function observedLine(ref: string, run: ModelRun): string {
  const parts = SCENARIO_IDS.map((s) => `${s} ${formatValue(run.observations.find((x) => x.scenario === s)?.observed ?? null, SCENARIO_UNITS[s])}`)
  return `${ref}: observed ${parts.join(', ')}`
}

export async function runAccuracyBenchmark(opts: AccuracyOptions): Promise<AccuracyResult> {
  const passes = opts.passes ?? DEFAULT_PASSES
  if (!Number.isInteger(passes) || passes < 1) throw new Error(`passes must be an integer ≥ 1, got ${passes}`)
  const now = opts.now ?? (() => new Date().toISOString())
  const spec = accuracySpec()
  if (opts.only) spec.models = spec.models.filter((m) => opts.only!.includes(m.name))
  const progress = (line: string): void => opts.log(`accuracy: ${line}`)
  const synth = await synthesize(spec, join(opts.workDir, 'models'), opts.binDir, progress)
  const models: BenchModel[] = []
  for (const m of synth.models) models.push({ ref: m.ref, path: m.path, profile: (await profileFile(m.path)).profile })

  const observed = new Map<string, ModelRun[]>()
  // The pairs: each model's nearest probe model and its runs, made right after the model's in every pass.
  const pairs = new Map<string, { model: BenchModel; runs: ModelRun[] }>()
  const paired = opts.paired ?? true
  const runOne = (m: BenchModel, pass: number, workload: Workload, sub: string): Promise<ModelRun> =>
    runModel(m.path, DEFAULT_SCENARIOS, workload, {
      binDir: opts.binDir,
      logsDir: join(opts.workDir, 'logs', `pass-${pass}`, sub),
      runTimeoutSec: DEFAULT_RUN_TIMEOUT_SEC,
      vocabSize: m.profile.vocab_size,
      log: progress
    })
  // The scenarios and the probe run with the same thread count.
  const workload = defaultWorkload()
  const probeOpts = { binDir: opts.binDir, cacheDir: join(opts.workDir, 'hardware'), threads: workload.threads, log: progress, now, quick: Boolean(opts.quickProbe) }
  let probed: BenchModel[] | null = null
  const runPass = async (pass: number, workload: Workload, listed: Record<string, string>): Promise<void> => {
    if (paired && probed === null) {
      probed = await probeModels(listed)
      for (const m of models) {
        const p = nearestProbeModel(m.profile, probed)
        if (p) pairs.set(m.ref, { model: p, runs: [] })
        progress(`${m.ref}: paired with ${p ? p.ref : 'no probe model (none of its type)'}`)
      }
    }
    for (const m of models) {
      progress(`pass ${pass}/${passes}: ${m.ref}: running ${SCENARIO_IDS.join(', ')}`)
      const run = await runOne(m, pass, workload, 'models')
      observed.set(m.ref, [...(observed.get(m.ref) ?? []), run])
      progress(observedLine(m.ref, run))
      const pair = pairs.get(m.ref)
      if (pair) {
        progress(`pass ${pass}/${passes}: ${m.ref}: its pair ${pair.model.ref}, right after it`)
        const prun = await runOne(pair.model, pass, workload, `pairs/${m.ref.replace(/[^A-Za-z0-9._-]+/g, '_')}`)
        pair.runs.push(prun)
        progress(observedLine(pair.model.ref, prun))
      }
    }
  }
  let hardware: HardwareProfile
  if (opts.cachedProbe) {
    hardware = await probeHardware({ ...probeOpts, refresh: Boolean(opts.refreshHardware) })
    const listed = (await readProbeRecord(cachedProfilePath(probeOpts.cacheDir, hardware.fingerprint, probeOpts.quick)))?.probe_models ?? {}
    for (let pass = 1; pass <= passes; pass++) await runPass(pass, workload, listed)
  } else {
    hardware = await probeHardware({ ...probeOpts, refresh: true, interleave: { passes, between: (pass, listed) => runPass(pass, workload, listed) } })
  }
  const rows: AccuracyRow[] = models.map((m) => {
    const pair = pairs.get(m.ref)
    return accuracyRow(
      m.ref,
      m.profile.file_bytes,
      predict(m.profile, hardware, workload),
      observed.get(m.ref) ?? [],
      pair ? { ref: pair.model.ref, prediction: predict(pair.model.profile, hardware, workload), passes: pair.runs } : null
    )
  })
  const summary = summarizeAccuracy(rows)
  const memory = summarizeMemory(rows)
  opts.log(renderAccuracy(rows, summary, memory))
  const resultsPath = join(opts.workDir, 'accuracy.json')
  await writeFileAtomic(resultsPath, stableStringify({ generated_at: now(), hardware_fingerprint: hardware.fingerprint, workload, passes, rows, summary, memory }))
  opts.log(`accuracy: results → ${resultsPath}`)
  return { rows, summary, memory, resultsPath }
}
