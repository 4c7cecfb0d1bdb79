import { resolve } from 'node:path'
import type { ScenarioId } from '../contracts/scenarios.js'
import { InputError } from '../util/errors.js'
import { parseByteSize, parseEstimatorEnv, parsePasses, parseScenarioList, parseSeconds, parseWorkloadNames, parseWorkloadSettings, WORKLOAD_SETTINGS, type CorpusName, DEFAULT_RUN_TIMEOUT_SEC } from '../pipeline/config.js'

/** Every action input, named once (action.yml declares the same names; a unit test keeps them in step). */
export const Inputs = {
  Models: 'models',
  ModelsFile: 'models-file',
  Corpus: 'corpus',
  Scenarios: 'scenarios',
  Thresholds: 'thresholds',
  LlamaCpp: 'llama-cpp',
  HardwareProfile: 'hardware-profile',
  HfToken: 'hf-token',
  CacheDir: 'cache-dir',
  UploadArtifacts: 'upload-artifacts',
  ArtifactName: 'artifact-name',
  PrComment: 'pr-comment',
  GithubToken: 'github-token',
  Shard: 'shard',
  Mode: 'mode',
  Reports: 'reports',
  EstimatorCommand: 'estimator-command',
  EstimatorEnv: 'estimator-env',
  EstimatorTimeout: 'estimator-timeout',
  Baseline: 'baseline',
  FailOnError: 'fail-on-error',
  RunTimeout: 'run-timeout',
  OutputDir: 'output-dir',
  DiskBudget: 'disk-budget',
  TimeBudget: 'time-budget',
  Resume: 'resume',
  Passes: 'passes',
  Workloads: 'workloads',
  // The workload settings (context, kv-type, …), one input each, named in pipeline/config.ts WORKLOAD_SETTINGS.
  ...(Object.fromEntries(WORKLOAD_SETTINGS.map((s) => [s.input, s.input])) as Record<(typeof WORKLOAD_SETTINGS)[number]['input'], string>)
} as const

export const Outputs = {
  Passed: 'passed',
  Report: 'report',
  Markdown: 'markdown',
  Html: 'html',
  Failures: 'failures'
} as const

export interface ActionConfig {
  mode: 'validate' | 'aggregate'
  models: string | null
  modelsFile: string | null
  corpus: CorpusName | null
  scenarios: ScenarioId[]
  thresholdsPath: string | null
  llamaCpp: string
  hardwarePath: string | null
  hfToken: string | null
  cacheDir: string | undefined
  uploadArtifacts: boolean
  /** The artifact-name input; null: defaultArtifactName(). */
  artifactName: string | null
  prComment: boolean
  githubToken: string | null
  shard: string | null
  reportsDir: string | null
  estimatorCommand: string | null
  estimatorEnv: string[]
  estimatorTimeoutSec: number | null
  baselinePath: string | null
  failOnError: boolean
  runTimeoutSec: number
  outputDir: string
  diskBudgetBytes: number | null
  timeBudgetSec: number | null
  resume: boolean
  /** Passes over the corpus; null: the default (pipeline/run.ts DEFAULT_PASSES). */
  passes: number | null
  /** The thresholds file's workloads to gate; null: all of them. */
  workloadNames: string[] | null
  /** Workload settings from inputs (context, kv-type, …: pipeline/config.ts WORKLOAD_SETTINGS), over every workload. */
  workload: Record<string, unknown>
  /** Whether `scenarios` was given: it then wins over each workload's own list. */
  scenariosGiven: boolean
}

function bool(get: (n: string) => string, name: string, dflt: boolean): boolean {
  const v = get(name).trim().toLowerCase()
  if (v === '') return dflt
  if (['true', 'yes', '1', 'on'].includes(v)) return true
  if (['false', 'no', '0', 'off'].includes(v)) return false
  throw new InputError(`input ${name}`, null, `expected true or false, got "${v}"`)
}

const opt = (get: (n: string) => string, name: string): string | null => get(name).trim() || null

/**
 * The artifact's name when the input is not set: unique per job, shard, runner and attempt, so two shards, two jobs
 * or a re-run of one workflow run never upload under one name (upload-artifact v4 refuses the second).
 */
export function defaultArtifactName(cfg: Pick<ActionConfig, 'shard'>, env: NodeJS.ProcessEnv): string {
  const parts = ['model-fit-gate', env.GITHUB_JOB, cfg.shard ? `shard-${cfg.shard.replace('/', '-of-')}` : null, env.RUNNER_NAME, env.GITHUB_RUN_ATTEMPT ? `attempt-${env.GITHUB_RUN_ATTEMPT}` : null]
  // GitHub refuses " : < > | * ? \ / and line breaks in artifact names.
  return parts
    .filter((p): p is string => Boolean(p))
    .map((p) => p.replace(/["':<>|*?\\/\r\n\s]+/g, '-'))
    .join('-')
}

/** Turns the raw inputs into one validated config; every error names the input. Pure: `get` reads an input. */
export function readActionConfig(get: (name: string) => string, workspace: string): ActionConfig {
  const mode = opt(get, Inputs.Mode) ?? 'validate'
  if (mode !== 'validate' && mode !== 'aggregate') throw new InputError(`input ${Inputs.Mode}`, null, `expected validate or aggregate, got "${mode}"`)
  const corpus = opt(get, Inputs.Corpus)
  if (corpus && !['smoke', 'deep', 'synthetic'].includes(corpus)) {
    throw new InputError(`input ${Inputs.Corpus}`, null, `expected smoke, deep or synthetic, got "${corpus}"`)
  }
  const timeout = opt(get, Inputs.RunTimeout)
  const runTimeoutSec = parseSeconds(timeout ?? undefined, `input ${Inputs.RunTimeout}`) ?? DEFAULT_RUN_TIMEOUT_SEC
  const cfg: ActionConfig = {
    mode,
    models: opt(get, Inputs.Models),
    modelsFile: opt(get, Inputs.ModelsFile),
    corpus: corpus as CorpusName | null,
    scenarios: parseScenarioList(get(Inputs.Scenarios), `input ${Inputs.Scenarios}`),
    thresholdsPath: opt(get, Inputs.Thresholds),
    llamaCpp: opt(get, Inputs.LlamaCpp) ?? 'auto',
    hardwarePath: opt(get, Inputs.HardwareProfile),
    hfToken: opt(get, Inputs.HfToken),
    cacheDir: opt(get, Inputs.CacheDir) ?? undefined,
    uploadArtifacts: bool(get, Inputs.UploadArtifacts, true),
    artifactName: opt(get, Inputs.ArtifactName),
    prComment: bool(get, Inputs.PrComment, false),
    githubToken: opt(get, Inputs.GithubToken),
    shard: opt(get, Inputs.Shard),
    reportsDir: opt(get, Inputs.Reports),
    estimatorCommand: opt(get, Inputs.EstimatorCommand),
    estimatorEnv: parseEstimatorEnv(get(Inputs.EstimatorEnv), `input ${Inputs.EstimatorEnv}`),
    estimatorTimeoutSec: parseSeconds(get(Inputs.EstimatorTimeout), `input ${Inputs.EstimatorTimeout}`),
    baselinePath: opt(get, Inputs.Baseline),
    failOnError: bool(get, Inputs.FailOnError, true),
    runTimeoutSec,
    outputDir: resolve(workspace, opt(get, Inputs.OutputDir) ?? 'model-fit-gate-report'),
    diskBudgetBytes: parseByteSize(get(Inputs.DiskBudget), `input ${Inputs.DiskBudget}`),
    timeBudgetSec: parseSeconds(get(Inputs.TimeBudget), `input ${Inputs.TimeBudget}`),
    resume: bool(get, Inputs.Resume, false),
    passes: parsePasses(get(Inputs.Passes), `input ${Inputs.Passes}`),
    workloadNames: parseWorkloadNames(get(Inputs.Workloads)),
    workload: parseWorkloadSettings(get, (name) => `input ${name}`, 'input'),
    scenariosGiven: (get(Inputs.Scenarios) ?? '').trim() !== ''
  }
  if (cfg.mode === 'aggregate' && !cfg.reportsDir) throw new InputError(`input ${Inputs.Reports}`, null, 'is required with mode: aggregate')
  if (cfg.mode === 'validate' && !cfg.models && !cfg.modelsFile && !cfg.corpus) {
    throw new InputError('inputs', null, `give ${Inputs.Models}, ${Inputs.ModelsFile} or ${Inputs.Corpus}`)
  }
  return cfg
}
