import type { Thresholds } from '../contracts/gate.js'
import type { HardwareProfile } from '../contracts/hardware.js'
import type { ModelRun, Observation } from '../contracts/observation.js'
import type { Prediction } from '../contracts/prediction.js'
import type { ModelProfile } from '../contracts/profile.js'
import type { ManifestLine, ModelReport, Provenance, Report } from '../contracts/report.js'
import type { ScenarioId } from '../contracts/scenarios.js'
import type { Workload } from '../contracts/workload.js'
import { failedObservation } from '../bench/observation.js'
import { compareModel } from '../compare/index.js'
import { formatDeltaPct } from '../util/format.js'
import { llamaMemoryCheck } from '../compare/memory-check.js'
import { applyGate, compareSettingsFrom } from '../gate/index.js'
import { errorMessage } from '../util/errors.js'
import type { Estimator } from './estimator.js'

export const TOOL_NAME = 'model-fit-gate'

export interface ProfiledModel {
  ref: string
  /** First shard; the one llama.cpp is given. */
  path: string
  profile: ModelProfile
  /** The manifest line it came from, for annotations. */
  source?: ManifestLine
}

/** Runs the scenarios of one model in fresh llama.cpp processes; faults come back as observations with an error. */
export type ScenarioRunner = (model: ProfiledModel, scenarios: ScenarioId[], workload: Workload) => Promise<ModelRun>

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
  runnerName: string | null
  /** A previous report: regressions beyond noise are gated when thresholds set max_regression_pct. */
  baseline: Report | null
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

async function validateModel(p: ValidateParams, model: ProfiledModel, prediction: Prediction | undefined): Promise<ModelReport> {
  const { run, notRun } = plan(prediction, p.scenarios)
  let observations: Observation[] = []
  let logged: ModelRun['llama_memory'] = null
  if (run.length > 0) {
    try {
      const done = await p.runScenarios(model, run, p.workload)
      observations = done.observations
      logged = done.llama_memory
    } catch (err) {
      // A runner bug must still cost only this model's rows.
      observations = run.map((s) => failedObservation(s, `scenario runner failed: ${errorMessage(err)}`, [], []))
    }
  }
  const settings = compareSettingsFrom(p.thresholds)
  // Rows not run keep the plan's reason (does not fit, not predicted) through the prediction's not_predicted.
  const reasons = prediction ? { ...prediction, not_predicted: { ...prediction.not_predicted, ...Object.fromEntries(notRun) } } : null
  const scenarios = compareModel(reasons, observations, settings, p.scenarios)
  for (const r of scenarios) {
    const err = r.abs_error_pct === null ? '' : ` |error| ${r.abs_error_pct.toFixed(1)} %`
    p.log(`${model.ref} ${r.scenario}: ${r.verdict}${err}${r.detail.reason ? ` (${r.detail.reason})` : ''}`)
  }
  const report: ModelReport = { ref: model.ref, path: model.path, ...(model.source ? { source: model.source } : {}), profile: model.profile, fit: prediction?.fit ?? null, error: null, scenarios }
  if (prediction && logged) {
    report.llama_memory = llamaMemoryCheck(prediction.fit, logged)
    const e = report.llama_memory.error_pct
    const f = (x: number | null): string => (x === null ? 'n/a' : formatDeltaPct(x))
    p.log(`${model.ref} memory vs llama.cpp's buffers: model ${f(e.model)}, KV ${f(e.kv)}, compute ${f(e.compute)}`)
  }
  return report
}

/** profile → prediction → observation → verdict → gate → report, for every model; one model's fault is its own row. */
export async function validate(p: ValidateParams): Promise<Report> {
  const started = p.now()
  const predictions = await p.estimator.predict(
    p.models.map((m) => ({ ref: m.ref, profile: m.profile })),
    p.hardware,
    p.workload,
    p.scenarios
  )
  const models: ModelReport[] = []
  for (const model of p.models) {
    models.push(await p.group(model.ref, () => validateModel(p, model, predictions.get(model.ref))))
  }
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
    runner_name: p.runnerName
  }
  const report: Report = {
    schema_version: 2,
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
  return applyGate(report, p.thresholds, { baseline: p.baseline })
}
