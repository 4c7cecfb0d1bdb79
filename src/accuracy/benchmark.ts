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
import type { ScenarioId } from '../contracts/scenarios.js'
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
  /**
   * The workloads to measure every model in (named workloads of a thresholds file), each with its scenarios; default:
   * the built-in workload and the four single-stream scenarios. The probe runs with the first one's threads.
   */
  workloads?: readonly AccuracyWorkload[]
}

export interface AccuracyWorkload {
  name: string
  workload: Workload
  scenarios: readonly ScenarioId[]
}

/** One workload's accuracy: every model's row, and the per-scenario and memory summaries. */
export interface WorkloadAccuracy {
  name: string
  workload: Workload
  scenarios: ScenarioId[]
  rows: AccuracyRow[]
  summary: ScenarioAccuracy[]
  memory: MemoryAccuracy[]
}

export interface AccuracyResult {
  /** The first workload's rows and summaries (the only one by default). */
  rows: AccuracyRow[]
  summary: ScenarioAccuracy[]
  memory: MemoryAccuracy[]
  /** Every workload's. */
  workloads: WorkloadAccuracy[]
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

  // Observations per workload and model; the pairs (each model's nearest probe model) per model, their runs per
  // workload, each made right after the model's in every pass.
  const workloads: readonly AccuracyWorkload[] = opts.workloads ?? [{ name: 'default', workload: defaultWorkload(), scenarios: DEFAULT_SCENARIOS }]
  const observed = new Map<string, ModelRun[]>()
  const pairs = new Map<string, BenchModel>()
  const pairRuns = new Map<string, ModelRun[]>()
  const key = (wl: AccuracyWorkload, ref: string): string => `${wl.name}\u0000${ref}`
  const paired = opts.paired ?? true
  const runOne = (m: BenchModel, pass: number, wl: AccuracyWorkload, sub: string): Promise<ModelRun> =>
    runModel(m.path, wl.scenarios, wl.workload, {
      binDir: opts.binDir,
      logsDir: join(opts.workDir, 'logs', `pass-${pass}`, ...(workloads.length > 1 ? [wl.name] : []), sub),
      runTimeoutSec: DEFAULT_RUN_TIMEOUT_SEC,
      vocabSize: m.profile.vocab_size,
      log: progress
    })
  // The scenarios and the probe run with the same thread count.
  const workload = (workloads[0] as AccuracyWorkload).workload
  const probeOpts = { binDir: opts.binDir, cacheDir: join(opts.workDir, 'hardware'), threads: workload.threads, log: progress, now, quick: Boolean(opts.quickProbe) }
  let probed: BenchModel[] | null = null
  const runPass = async (pass: number, listed: Record<string, string>): Promise<void> => {
    if (paired && probed === null) {
      probed = await probeModels(listed)
      for (const m of models) {
        const p = nearestProbeModel(m.profile, probed)
        if (p) pairs.set(m.ref, p)
        progress(`${m.ref}: paired with ${p ? p.ref : 'no probe model (none of its type)'}`)
      }
    }
    for (const m of models) {
      for (const wl of workloads) {
        const tag = workloads.length > 1 ? ` [${wl.name}]` : ''
        progress(`pass ${pass}/${passes}: ${m.ref}${tag}: running ${wl.scenarios.join(', ')}`)
        const run = await runOne(m, pass, wl, 'models')
        observed.set(key(wl, m.ref), [...(observed.get(key(wl, m.ref)) ?? []), run])
        progress(observedLine(m.ref + tag, run))
        const pair = pairs.get(m.ref)
        if (pair) {
          progress(`pass ${pass}/${passes}: ${m.ref}${tag}: its pair ${pair.ref}, right after it`)
          const prun = await runOne(pair, pass, wl, `pairs/${m.ref.replace(/[^A-Za-z0-9._-]+/g, '_')}`)
          pairRuns.set(key(wl, m.ref), [...(pairRuns.get(key(wl, m.ref)) ?? []), prun])
          progress(observedLine(pair.ref + tag, prun))
        }
      }
    }
  }
  let hardware: HardwareProfile
  if (opts.cachedProbe) {
    hardware = await probeHardware({ ...probeOpts, refresh: Boolean(opts.refreshHardware) })
    const listed = (await readProbeRecord(cachedProfilePath(probeOpts.cacheDir, hardware.fingerprint, probeOpts.quick)))?.probe_models ?? {}
    for (let pass = 1; pass <= passes; pass++) await runPass(pass, listed)
  } else {
    hardware = await probeHardware({ ...probeOpts, refresh: true, interleave: { passes, between: (pass, listed) => runPass(pass, listed) } })
  }
  const results: WorkloadAccuracy[] = workloads.map((wl) => {
    const rows: AccuracyRow[] = models.map((m) => {
      const pair = pairs.get(m.ref)
      return accuracyRow(
        m.ref,
        m.profile.file_bytes,
        predict(m.profile, hardware, wl.workload),
        observed.get(key(wl, m.ref)) ?? [],
        pair ? { ref: pair.ref, prediction: predict(pair.profile, hardware, wl.workload), passes: pairRuns.get(key(wl, m.ref)) ?? [] } : null
      )
    })
    const summary = summarizeAccuracy(rows, wl.scenarios)
    const memory = summarizeMemory(rows)
    if (workloads.length > 1) opts.log(`\nworkload ${wl.name}: ${JSON.stringify(wl.workload)}`)
    opts.log(renderAccuracy(rows, summary, memory))
    return { name: wl.name, workload: wl.workload, scenarios: [...wl.scenarios], rows, summary, memory }
  })
  const first = results[0] as WorkloadAccuracy
  const { rows, summary, memory } = first
  const resultsPath = join(opts.workDir, 'accuracy.json')
  await writeFileAtomic(resultsPath, stableStringify({ generated_at: now(), hardware_fingerprint: hardware.fingerprint, workload, passes, rows, summary, memory, workloads: results }))
  opts.log(`accuracy: results → ${resultsPath}`)
  return { rows, summary, memory, workloads: results, resultsPath }
}
