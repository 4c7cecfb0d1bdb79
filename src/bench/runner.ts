// The bench's entry: scenarios of one model → Observations. llama-bench scenarios run first, each sample a fresh
// process; then one single-slot llama-server per model serves first_token and kv_warm_reuse (restarted only if it
// died); then parallel_decode gets a server of its own with N slots. Each server is stopped before the next starts
// and before returning, whatever happens. Runtime failures become Observations with an error; only bugs throw.

import { readFile, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { hasBufferSizes, parseLlamaBufferSizes } from './llama-log.js'
import { type ModelRun, type Observation } from '../contracts/observation.js'
import { SCENARIO_IDS, SCENARIO_UNITS, type ScenarioId } from '../contracts/scenarios.js'
import { type Workload } from '../contracts/workload.js'
import { benchRunPaths, measureWithLlamaBench, type BenchScenario } from './bench-scenarios.js'
import { artifactRelative, modelLogDirName, scenarioLogPath } from './logs.js'
import { failedObservation, toObservation } from './observation.js'
import { checkRepeatPolicy, DEFAULT_REPEAT_POLICY, runRepeats, type Measurement, type RepeatOutcome, type RepeatPolicy, type RunId } from './repeats.js'
import { measureParallelDecode } from './parallel-decode.js'
import { measureFirstToken, measureWarmReuse, type ServerRunContext, type ServerScenario } from './server-scenarios.js'
import { ServerError, startServer, type LlamaServer } from './server.js'
import { parallelShape, validateParallel, validateWorkload } from './workload.js'

/** Per-run timeout when none is given (`--run-timeout`): generous, a big model on a slow disk loads for minutes. */
export const DEFAULT_RUN_TIMEOUT_SEC = 600

export interface RunScenarioOptions {
  binDir: string
  /** Logs go to `<logsDir>/<model>/<scenario>/…`. */
  logsDir: string
  /** Observation.logs are relative to this; default: the parent of logsDir. */
  artifactsDir?: string
  /** Timeout of each llama-bench process, of the server's start and of each request. */
  runTimeoutSec: number
  /** The model's vocabulary size: prompt token ids are drawn below it. */
  vocabSize: number
  /** Repeat rule; default DEFAULT_REPEAT_POLICY; `warmup` defaults to 1 discarded run. */
  repeat?: Omit<RepeatPolicy, 'warmup'> & { warmup?: number }
  log: (line: string) => void
  /** Clock for the repeat budget, in ms; injected by tests. Default: performance.now. */
  nowMs?: () => number
}

const BENCH_SCENARIOS: readonly ScenarioId[] = ['steady_decode', 'prefill']
/** The scenarios of the single-slot server. */
const SINGLE_SLOT_SCENARIOS: readonly ScenarioId[] = ['first_token', 'kv_warm_reuse']

/** Scenarios measured through a llama-server. */
type ServedScenario = ServerScenario | 'parallel_decode'

const MEASURE: Record<ServedScenario, (ctx: ServerRunContext, run: RunId) => Promise<Measurement>> = {
  first_token: measureFirstToken,
  kv_warm_reuse: measureWarmReuse,
  parallel_decode: measureParallelDecode
}

/** The server a group of scenarios shares: its slots (-np), and the folder of its log under the model's logs. */
interface ServerSetup {
  slots: number
  logFolder: string
}

function policyOf(opts: RunScenarioOptions): RepeatPolicy {
  const p = { ...DEFAULT_REPEAT_POLICY, ...opts.repeat }
  checkRepeatPolicy(p)
  return p
}

function formatValue(v: number, scenario: ScenarioId): string {
  return `${v.toFixed(v >= 100 ? 1 : 2)} ${SCENARIO_UNITS[scenario]}`
}

async function repeatScenario(
  scenario: ScenarioId,
  measure: (run: RunId) => Promise<Measurement>,
  logs: string[],
  opts: RunScenarioOptions
): Promise<Observation> {
  const policy = policyOf(opts)
  const outcome: RepeatOutcome = await runRepeats(
    async (run) => {
      const m = await measure(run)
      const tag = run.warmup ? `warm-up ${run.number}` : `run ${run.number}/${policy.max}`
      opts.log(`${scenario}: ${tag}: ${formatValue(m.value, scenario)}`)
      return m
    },
    policy,
    opts.nowMs ?? (() => performance.now())
  )
  const obs = toObservation(scenario, outcome, logs)
  if (obs.error) opts.log(`${scenario}: failed: ${obs.error.reason}`)
  else {
    const dropped = obs.dropped_samples.length > 0 ? `, dropped ${obs.dropped_samples.map((v) => v.toFixed(2)).join(', ')}` : ''
    opts.log(
      `${scenario}: ${formatValue(obs.observed as number, scenario)} (median of ${obs.samples.length}, spread ` +
        `${((obs.spread as number) * 100).toFixed(1)}%${dropped}; ${outcome.stopReason})`
    )
  }
  return obs
}

function runBenchScenario(modelPath: string, scenario: BenchScenario, w: Workload, opts: RunScenarioOptions): Promise<Observation> {
  const dir = join(opts.logsDir, modelLogDirName(modelPath), scenario)
  const artifactsDir = opts.artifactsDir ?? dirname(opts.logsDir)
  const logs: string[] = []
  return repeatScenario(
    scenario,
    (run) => {
      const paths = benchRunPaths(dir, run)
      logs.push(artifactRelative(artifactsDir, paths.stderrPath), artifactRelative(artifactsDir, paths.stdoutPath))
      return measureWithLlamaBench(opts.binDir, modelPath, scenario, w, paths, opts.runTimeoutSec)
    },
    logs,
    opts
  )
}

/** Runs server scenarios against one llama-server, (re)started when missing or dead; always stopped at the end. */
async function runServerScenarios(
  modelPath: string,
  scenarios: readonly ServedScenario[],
  w: Workload,
  opts: RunScenarioOptions,
  setup: ServerSetup
): Promise<ModelRun> {
  const logPath = scenarioLogPath(opts.logsDir, modelPath, setup.logFolder, 'llama-server.log')
  const logs = [artifactRelative(opts.artifactsDir ?? dirname(opts.logsDir), logPath)]
  // A fresh log per call; within it, a restarted server appends to the log of the one that died.
  await rm(logPath, { force: true })
  let server: LlamaServer | null = null
  const out: Observation[] = []
  try {
    for (const scenario of scenarios) {
      if (server && server.exited()) {
        opts.log(`llama-server had exited; starting a fresh one for ${scenario}`)
        server = null
      }
      if (!server) {
        try {
          opts.log(`starting llama-server (-np ${setup.slots}) for ${modelPath}`)
          server = await startServer({ binDir: opts.binDir, modelPath, workload: w, logPath, readyTimeoutSec: opts.runTimeoutSec, slots: setup.slots })
        } catch (err) {
          if (!(err instanceof ServerError)) throw err
          opts.log(`${scenario}: failed: ${err.message}`)
          out.push(failedObservation(scenario, err.message, err.logTail, logs))
          continue
        }
      }
      const ctx: ServerRunContext = { server, workload: w, vocabSize: opts.vocabSize, timeoutSec: opts.runTimeoutSec }
      const measure = MEASURE[scenario]
      out.push(await repeatScenario(scenario, (run) => measure(ctx, run), logs, opts))
    }
  } finally {
    if (server) await server.stop()
  }
  // The buffers the (last) server logged at load: the report sets them beside the memory estimate.
  const logged = parseLlamaBufferSizes(await readFile(logPath, 'utf8').catch(() => ''))
  return { observations: out, llama_memory: hasBufferSizes(logged) ? logged : null }
}

/**
 * Observations for `scenarios` of one model, in the order asked, and the buffer sizes its single-slot llama-server
 * logged (null when neither first_token nor kv_warm_reuse ran).
 * Throws only for bugs and bad arguments (an unknown or repeated scenario, an invalid workload or repeat policy).
 */
export async function runModel(modelPath: string, scenarios: readonly ScenarioId[], workload: Workload, opts: RunScenarioOptions): Promise<ModelRun> {
  for (const s of scenarios) {
    if (!(SCENARIO_IDS as readonly string[]).includes(s)) throw new Error(`unknown scenario "${s}"`)
  }
  if (new Set(scenarios).size !== scenarios.length) throw new Error(`scenarios repeated: ${scenarios.join(', ')}`)
  validateWorkload(workload)
  if (scenarios.includes('parallel_decode')) validateParallel(workload)
  policyOf(opts)
  if (!Number.isInteger(opts.vocabSize) || opts.vocabSize < 12) throw new Error(`vocabSize must be an integer ≥ 12, got ${opts.vocabSize}`)
  if (!(opts.runTimeoutSec > 0)) throw new Error(`runTimeoutSec must be > 0, got ${opts.runTimeoutSec}`)

  const byScenario = new Map<ScenarioId, Observation>()
  // llama-bench first: the server must not compete with it for the cores or the memory.
  for (const s of scenarios) {
    if (BENCH_SCENARIOS.includes(s)) byScenario.set(s, await runBenchScenario(modelPath, s as BenchScenario, workload, opts))
  }
  const singleSlot = scenarios.filter((s): s is ServerScenario => SINGLE_SLOT_SCENARIOS.includes(s))
  let llamaMemory: ModelRun['llama_memory'] = null
  if (singleSlot.length > 0) {
    const served = await runServerScenarios(modelPath, singleSlot, workload, opts, { slots: 1, logFolder: 'server' })
    served.observations.forEach((o) => byScenario.set(o.scenario, o))
    llamaMemory = served.llama_memory
  }
  // Last, on a server of its own: N slots would change the single-slot scenarios' cache and memory. Its buffers are
  // not reported: the memory estimate describes the workload's single-slot server, and N sequences size the output
  // and compute buffers differently.
  if (scenarios.includes('parallel_decode')) {
    const slots = parallelShape(workload).slots
    const served = await runServerScenarios(modelPath, ['parallel_decode'], workload, opts, { slots, logFolder: 'parallel' })
    served.observations.forEach((o) => byScenario.set(o.scenario, o))
  }
  return { observations: scenarios.map((s) => byScenario.get(s) as Observation), llama_memory: llamaMemory }
}

/** The observations of runModel alone, in the order asked. */
export async function runScenarios(
  modelPath: string,
  scenarios: readonly ScenarioId[],
  workload: Workload,
  opts: RunScenarioOptions
): Promise<Observation[]> {
  return (await runModel(modelPath, scenarios, workload, opts)).observations
}

/** One scenario of one model (a server scenario gets a server of its own). */
export async function runScenario(
  modelPath: string,
  scenario: ScenarioId,
  workload: Workload,
  opts: RunScenarioOptions
): Promise<Observation> {
  const [obs] = await runScenarios(modelPath, [scenario], workload, opts)
  return obs as Observation
}
