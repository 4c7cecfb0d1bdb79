import type { Thresholds } from '../contracts/gate.js'
import type { HardwareProfile } from '../contracts/hardware.js'
import type { ModelRun, Observation } from '../contracts/observation.js'
import type { Prediction } from '../contracts/prediction.js'
import type { ModelProfile } from '../contracts/profile.js'
import type { DriftRecord, ManifestLine, ModelReport, Provenance, Report } from '../contracts/report.js'
import type { ScenarioId } from '../contracts/scenarios.js'
import type { Workload } from '../contracts/workload.js'
import { failedObservation } from '../bench/observation.js'
import { AUTO_GPU_LAYERS, sizedWindows } from '../bench/workload.js'
import { mergePasses } from '../bench/passes.js'
import { machineMovedReason } from '../compare/drift.js'
import { compareModel } from '../compare/index.js'
import { formatDeltaPct } from '../util/format.js'
import { llamaMemoryCheck } from '../compare/memory-check.js'
import { failedMemoryCheck, memoryCheck } from '../compare/memory-projection.js'
import { memorySettingsFrom } from '../gate/memory.js'
import type { MemoryCheck, ProjectedDevice } from '../contracts/verdict.js'
import { applyGate, compareSettingsFrom } from '../gate/index.js'
import { errorMessage } from '../util/errors.js'
import type { Estimator } from './estimator.js'

export const TOOL_NAME = 'model-fit-gate'

/** Where a model failed before any scenario ran. */
export type ModelStage = 'resolve' | 'profile' | 'download' | 'offload'

export interface ProfiledModel {
  ref: string
  /** First shard, the one llama.cpp is given; null until fetched (a Hub model profiled from its header). */
  path: string | null
  /** null when the model failed before it was profiled (then `failure` says why). */
  profile: ModelProfile | null
  /** The manifest line it came from, for annotations. */
  source?: ManifestLine
  /** Set when the model could not be resolved or profiled: it gets rows naming the stage and the reason. */
  failure?: { stage: ModelStage; reason: string }
  /** A Hub model's header-only copy (its memory is projected from it, nothing downloaded). */
  headerPath?: string
  /** Why no header-only copy could be made. */
  headerError?: string
}

/** A model ready to run: its file on disk, and how to give the disk back afterwards. */
export interface FetchedModel {
  path: string
  release: () => Promise<void>
}

/** llama.cpp's memory projection of a model: its devices' buffers, or why there is none (`skip`). Throws when it fails. */
export type MemoryProjector = (model: ProfiledModel & { profile: ModelProfile }, workload: Workload) => Promise<{ projected: ProjectedDevice[]; source: 'file' | 'header' } | { skip: string }>

/** Runs the scenarios of one model in fresh llama.cpp processes; faults come back as observations with an error. */
export type ScenarioRunner = (model: ProfiledModel & { path: string }, scenarios: ScenarioId[], workload: Workload) => Promise<ModelRun>

export interface ValidateParams {
  models: ProfiledModel[]
  scenarios: ScenarioId[]
  workload: Workload
  thresholds: Thresholds
  hardware: HardwareProfile
  estimator: Estimator
  runScenarios: ScenarioRunner
  log: (line: string) => void
  /** Groups a model's log lines (core.group in the action, a header line in the CLI). */
  group: <T>(name: string, fn: () => Promise<T>) => Promise<T>
  /** Times come in as data: the caller's clock. */
  now: () => Date
  toolVersion: string
  runnerOs: string
  shard: string | null
  /** See Provenance.corpus_digest. */
  corpusDigest?: string
  runnerName: string | null
  /** A previous report: regressions beyond noise are gated when thresholds set max_regression_pct. */
  baseline: Report | null
  /** Brings a model's file right before it runs (a Hub download); absent: every model has its path. */
  fetchModel?: (model: ProfiledModel) => Promise<FetchedModel>
  /** No model starts after this time (the run's time budget); its rows are skipped with the reason. */
  deadline?: { at: Date; budgetSec: number } | null
  /** Rows of models an interrupted run already measured (same machine, build, workload, estimator): reused as they are. */
  resumed?: ReadonlyMap<string, ModelReport>
  /** llama.cpp's memory projection, judged against the estimator's memory; absent: memory is not checked. */
  projectMemory?: MemoryProjector
  /** Told of each model's rows as soon as they are final (the checkpoint of a resumable run). */
  onModelDone?: (report: ModelReport) => Promise<void>
  /**
   * Passes over the corpus (default 1): every model's scenarios are run once per pass, all models in each pass
   * before the next (interleaved, so the passes sample different minutes), and merged (bench/passes.ts).
   */
  passes?: number
  /** Measures the sentinel after a model's runs (the machine's drift); the run's start point is the caller's. */
  sentinel?: (at: { pass: number; after: string }) => Promise<void>
  /** The drift record the report carries (sentinel series, re-check); read when the report is assembled. */
  drift?: () => DriftRecord | null
  /**
   * Timed decode windows last at least this many seconds at the predicted rate (bench/workload.ts sizedWindows):
   * each model runs, and is predicted for, its own counts, recorded in its report (`windows`). 0 or absent: as given.
   */
  minWindowS?: number
  /**
   * gpu_layers auto: the layers llama.cpp's own fit offloads for a model (bench/fit-params.ts fittedGpuLayers). Each
   * model is predicted, projected and run with its count, recorded in its report (`gpu_layers`).
   */
  resolveGpuLayers?: (model: ProfiledModel & { profile: ModelProfile }) => Promise<number>
}

/** A model not run for a reason of the run (disk budget, free disk), not a fault of the model: its rows are skipped. */
export class ModelSkip extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ModelSkip'
  }
}

/** Which scenarios this model can be judged on, and why not for the rest. */
function plan(prediction: Prediction | undefined, scenarios: ScenarioId[]): { run: ScenarioId[]; notRun: Map<ScenarioId, string> } {
  const notRun = new Map<ScenarioId, string>()
  if (!prediction) {
    for (const s of scenarios) notRun.set(s, 'the estimator returned no prediction for this model')
    return { run: [], notRun }
  }
  if (prediction.fit.status === 'does-not-fit') {
    for (const s of scenarios) notRun.set(s, `does not fit: ${prediction.fit.reason}`)
    return { run: [], notRun }
  }
  const run: ScenarioId[] = []
  for (const s of scenarios) {
    const why = prediction.not_predicted[s]
    const predicted = prediction.scenarios.some((p) => p.scenario === s)
    // A scenario the estimator declines (an embedding model is not decoded) is not run either.
    if (why && !predicted) notRun.set(s, why)
    else run.push(s)
  }
  return { run, notRun }
}

/** The rows of a model that failed before it could be profiled: one runtime-error per scenario, naming the stage. */
function failedModel(p: ValidateParams, model: ProfiledModel, failure: NonNullable<ProfiledModel['failure']>): ModelReport {
  const reason = `${failure.stage}: ${failure.reason}`
  p.log(`${model.ref}: ${reason}`)
  const scenarios = compareModel(null, p.scenarios.map((s) => failedObservation(s, reason, [], [])), compareSettingsFrom(p.thresholds), p.scenarios)
  return { ref: model.ref, path: model.path ?? '', ...(model.source ? { source: model.source } : {}), profile: null, fit: null, error: reason, scenarios }
}

/** The model's memory check against llama.cpp's projection; a failed projection is this check's runtime error. */
async function checkMemory(p: ValidateParams, model: ProfiledModel, prediction: Prediction | undefined, workload: Workload): Promise<MemoryCheck | null> {
  if (!p.projectMemory || !model.profile) return null
  const settings = memorySettingsFrom(p.thresholds)
  let check: MemoryCheck
  try {
    const r = await p.projectMemory({ ...model, profile: model.profile }, workload)
    if ('skip' in r) check = { ...failedMemoryCheck(r.skip, null), verdict: 'skipped' }
    else check = memoryCheck(prediction?.memory ?? null, r.projected, r.source, settings)
  } catch (err) {
    check = failedMemoryCheck(`llama-fit-params: ${errorMessage(err)}`, model.path ? 'file' : 'header')
  }
  const e = check.error_pct
  const f = (x: number | null): string => (x === null ? 'n/a' : formatDeltaPct(x))
  const errors = check.verdict === 'match' || check.verdict === 'off' || check.verdict === 'wrong-fit' ? `: weights ${f(e.weights)}, context ${f(e.context)}, compute ${f(e.compute)}` : ''
  p.log(`${model.ref} memory vs llama.cpp's projection (${check.source ?? 'none'}): ${check.verdict}${errors}${check.reason ? ` (${check.reason})` : ''}`)
  return check
}

/** A model between passes: what its plan runs, and what each pass observed. */
interface ModelState {
  model: ProfiledModel
  prediction: Prediction | undefined
  memory: MemoryCheck | null
  run: ScenarioId[]
  notRun: Map<ScenarioId, string>
  /** Per pass, the observations (in `run` order). */
  passes: Observation[][]
  logged: ModelRun['llama_memory']
  path: string | null
  /** The workload this model runs: the run's, with its own counts (gpu_layers auto resolved, the sized `windows`). */
  workload: Workload
  windows: Partial<Workload>
}

/** What a model runs and was predicted for: the run's workload with its own counts (auto layers, sized windows). */
interface PlannedModel {
  prediction: Prediction | undefined
  /** The counts that differ from the run's workload (gpu_layers for auto, the sized windows). */
  overrides: Partial<Workload>
  windows: Partial<Workload>
}

async function prepareModel(p: ValidateParams, model: ProfiledModel, planned: PlannedModel | undefined): Promise<ModelState> {
  const prediction = planned?.prediction
  const workload = { ...p.workload, ...planned?.overrides }
  const memory = await checkMemory(p, model, prediction, workload)
  const { run, notRun } = plan(prediction, p.scenarios)
  return { model, prediction, memory, run, notRun, passes: [], logged: null, path: model.path, workload, windows: planned?.windows ?? {} }
}

type Profiled = ProfiledModel & { profile: ModelProfile }

/** Predictions of models that each run their own counts: one estimator call per distinct set of counts. */
async function predictGrouped(p: ValidateParams, models: Profiled[], overridesOf: (m: Profiled) => Partial<Workload>): Promise<Map<string, Prediction>> {
  const groups = new Map<string, { overrides: Partial<Workload>; models: Profiled[] }>()
  for (const m of models) {
    const overrides = overridesOf(m)
    const key = JSON.stringify(overrides)
    const g = groups.get(key) ?? { overrides, models: [] }
    g.models.push(m)
    groups.set(key, g)
  }
  const out = new Map<string, Prediction>()
  for (const g of groups.values()) {
    const got = await p.estimator.predict(g.models.map((m) => ({ ref: m.ref, profile: m.profile })), p.hardware, { ...p.workload, ...g.overrides }, p.scenarios)
    for (const [ref, pred] of got) out.set(ref, pred)
  }
  return out
}

/**
 * Each model's own counts and its prediction for them: gpu_layers auto resolved by llama.cpp's fit (a model whose
 * fit fails gets that as its failure), then the timed windows sized to its predicted rates (minWindowS) and the
 * prediction made again for the counts it will run.
 */
async function planModels(p: ValidateParams, profiled: Profiled[]): Promise<{ planned: Map<string, PlannedModel>; failed: Map<string, string> }> {
  const layers = new Map<string, Partial<Workload>>()
  const failed = new Map<string, string>()
  if (p.workload.gpu_layers === AUTO_GPU_LAYERS) {
    if (!p.resolveGpuLayers) throw new Error('gpu_layers auto needs resolveGpuLayers')
    for (const m of profiled) {
      try {
        const n = await p.resolveGpuLayers(m)
        layers.set(m.ref, { gpu_layers: n })
        p.log(`${m.ref}: gpu_layers auto → ${n} (llama.cpp's fit)`)
      } catch (err) {
        failed.set(m.ref, `gpu_layers auto: ${errorMessage(err)}`)
      }
    }
  }
  const models = profiled.filter((m) => !failed.has(m.ref))
  const first = await predictGrouped(p, models, (m) => layers.get(m.ref) ?? {})
  const windowsOf = new Map<string, Partial<Workload>>()
  for (const m of models) {
    const prediction = first.get(m.ref)
    const rate = (s: ScenarioId): number | undefined => prediction?.scenarios.find((x) => x.scenario === s && p.scenarios.includes(s))?.predicted
    const base = { ...p.workload, ...layers.get(m.ref) }
    const windows = prediction && (p.minWindowS ?? 0) > 0 ? sizedWindows(base, { steady_decode: rate('steady_decode'), kv_warm_reuse: rate('kv_warm_reuse'), parallel_decode: rate('parallel_decode') }, p.minWindowS ?? 0) : {}
    windowsOf.set(m.ref, windows)
    if (Object.keys(windows).length > 0) p.log(`${m.ref}: timed windows sized to ${p.minWindowS} s at the predicted rate: ${Object.entries(windows).map(([k, v]) => `${k} ${v}`).join(', ')}`)
  }
  const sized = models.filter((m) => Object.keys(windowsOf.get(m.ref) ?? {}).length > 0)
  const again = await predictGrouped(p, sized, (m) => ({ ...layers.get(m.ref), ...windowsOf.get(m.ref) }))
  const planned = new Map<string, PlannedModel>()
  for (const m of models) {
    const windows = windowsOf.get(m.ref) ?? {}
    planned.set(m.ref, { prediction: again.get(m.ref) ?? first.get(m.ref), overrides: { ...layers.get(m.ref), ...windows }, windows })
  }
  return { planned, failed }
}

/** One pass of a model's scenarios: fetched, run, released; a fault becomes that pass's failed observations. */
async function runPass(p: ValidateParams, st: ModelState, pass: number, passes: number): Promise<boolean> {
  const { model, run, notRun } = st
  if (run.length === 0) return false
  if (p.deadline && p.now().getTime() >= p.deadline.at.getTime()) {
    const why = `not started: the run's time budget of ${p.deadline.budgetSec} s was spent`
    // A model measured in an earlier pass keeps those passes; one never measured is skipped.
    if (st.passes.length === 0) for (const s of run.splice(0)) notRun.set(s, why)
    else p.log(`${model.ref}: pass ${pass} of ${passes} ${why}; its rows merge ${st.passes.length} pass(es)`)
    return false
  }
  let fetched: FetchedModel
  try {
    fetched = p.fetchModel ? await p.fetchModel(model) : { path: model.path as string, release: async () => {} }
    st.path = fetched.path
  } catch (err) {
    if (err instanceof ModelSkip && st.passes.length === 0) {
      for (const s of run.splice(0)) notRun.set(s, `not run: ${errorMessage(err)}`)
      return false
    }
    st.passes.push(run.map((s) => failedObservation(s, `download: ${errorMessage(err)}`, [], [])))
    return false
  }
  try {
    const done = await p.runScenarios({ ...model, path: fetched.path }, run, st.workload)
    st.passes.push(done.observations)
    st.logged ??= done.llama_memory
  } catch (err) {
    // A runner bug must still cost only this model's rows.
    st.passes.push(run.map((s) => failedObservation(s, `scenario runner failed: ${errorMessage(err)}`, [], [])))
  } finally {
    // Giving the disk back is housekeeping: its failure is logged, never the run's.
    await fetched.release().catch((err: unknown) => p.log(`${model.ref}: WARNING: could not remove its download: ${errorMessage(err)}`))
  }
  return true
}

function finishModel(p: ValidateParams, st: ModelState): ModelReport {
  const { model, prediction, memory, run, notRun } = st
  // Each scenario's observations of every pass, merged (median of the passes, spread over all their samples).
  const observations: Observation[] = st.passes.length === 0 ? [] : run.map((s) => mergePasses(st.passes.map((obs) => obs.find((o) => o.scenario === s) as Observation)))
  const settings = compareSettingsFrom(p.thresholds)
  // Rows not run keep the plan's reason (does not fit, not predicted) through the prediction's not_predicted.
  const reasons = prediction ? { ...prediction, not_predicted: { ...prediction.not_predicted, ...Object.fromEntries(notRun) } } : null
  const scenarios = compareModel(reasons, observations, settings, p.scenarios, machineMovedReason(p.drift?.(), settings.tolerance))
  for (const r of scenarios) {
    const err = r.abs_error_pct === null ? '' : ` |error| ${r.abs_error_pct.toFixed(1)} %`
    p.log(`${model.ref} ${r.scenario}: ${r.verdict}${err}${r.detail.reason ? ` (${r.detail.reason})` : ''}`)
  }
  const report: ModelReport = { ref: model.ref, path: st.path ?? '', ...(model.source ? { source: model.source } : {}), ...(Object.keys(st.windows).length > 0 ? { windows: st.windows } : {}), ...(p.workload.gpu_layers === AUTO_GPU_LAYERS ? { gpu_layers: st.workload.gpu_layers } : {}), profile: model.profile, fit: prediction?.fit ?? null, error: null, scenarios }
  if (memory) report.memory = memory
  if (prediction && st.logged) {
    report.llama_memory = llamaMemoryCheck(prediction.fit, st.logged)
    const e = report.llama_memory.error_pct
    const f = (x: number | null): string => (x === null ? 'n/a' : formatDeltaPct(x))
    p.log(`${model.ref} memory vs llama.cpp's buffers: model ${f(e.model)}, KV ${f(e.kv)}, state ${f(e.state)}, compute ${f(e.compute)}`)
  }
  return report
}

/** profile → prediction → observation → verdict → gate → report, for every model; one model's fault is its own row. */
export async function validate(p: ValidateParams): Promise<Report> {
  const started = p.now()
  const profiled = p.models.filter((m): m is ProfiledModel & { profile: ModelProfile } => m.profile !== null)
  const passes = p.passes ?? 1
  if (!Number.isInteger(passes) || passes < 1) throw new Error(`passes must be an integer ≥ 1, got ${passes}`)
  // A model whose rows come from the checkpoint runs nothing: no fit, no prediction for it.
  const { planned, failed } = await planModels(p, profiled.filter((m) => !p.resumed?.has(m.ref)))
  const done = new Map<string, ModelReport>()
  const states = new Map<string, ModelState>()
  const finish = async (ref: string, report: ModelReport): Promise<void> => {
    await p.onModelDone?.(report)?.catch((err: unknown) => p.log(`${ref}: WARNING: could not write its checkpoint: ${errorMessage(err)}`))
    done.set(ref, report)
  }
  for (let pass = 1; pass <= passes; pass++) {
    for (const model of p.models) {
      if (done.has(model.ref)) continue
      const resumed = p.resumed?.get(model.ref)
      if (resumed) {
        p.log(`${model.ref}: rows from the checkpoint of an earlier run`)
        done.set(model.ref, resumed)
        continue
      }
      const failure = model.failure ?? (failed.has(model.ref) ? { stage: 'offload' as const, reason: failed.get(model.ref) as string } : undefined)
      if (failure) {
        await finish(model.ref, failedModel(p, model, failure))
        continue
      }
      const label = passes > 1 ? `${model.ref} (pass ${pass} of ${passes})` : model.ref
      const ran = await p.group(label, async () => {
        let st = states.get(model.ref)
        if (!st) {
          st = await prepareModel(p, model, planned.get(model.ref))
          states.set(model.ref, st)
        }
        const ran = await runPass(p, st, pass, passes)
        // A model with nothing more to run is final now; the rest after their last pass.
        if (pass === passes || st.run.length === 0) await finish(model.ref, finishModel(p, st))
        return ran
      })
      if (ran && p.sentinel) await p.sentinel({ pass, after: model.ref })
    }
  }
  const models: ModelReport[] = p.models.map((m) => done.get(m.ref) as ModelReport)
  const finished = p.now()
  const gpu = p.hardware.system.gpus[0]
  const provenance: Provenance = {
    llama_cpp_commit: p.hardware.llama.commit,
    llama_cpp_build: p.hardware.llama.build_number,
    node_llama_cpp_version: p.hardware.llama.node_llama_cpp_version,
    backend: p.hardware.llama.backend,
    device: gpu ? gpu.name : p.hardware.system.cpu_model,
    driver: gpu ? gpu.driver : null,
    threads: p.workload.threads,
    runner_os: p.runnerOs,
    wall_time_s: Math.round((finished.getTime() - started.getTime()) / 100) / 10,
    shard: p.shard,
    runner_name: p.runnerName,
    ...(p.corpusDigest ? { corpus_digest: p.corpusDigest } : {})
  }
  const report: Report = {
    schema_version: 3,
    generated_at: finished.toISOString(),
    tool: { name: TOOL_NAME, version: p.toolVersion },
    provenance,
    hardware: p.hardware,
    workload: p.workload,
    estimator: { name: p.estimator.name, command: p.estimator.command },
    models,
    thresholds: p.thresholds,
    summary: {},
    gate: { passed: false, failures: [] }
  }
  // Passes are a property of measured rows: a memory-only run has none.
  if (passes > 1 && p.scenarios.length > 0) report.passes = passes
  const drift = p.drift?.()
  if (drift) report.drift = drift
  return applyGate(report, p.thresholds, { baseline: p.baseline })
}
