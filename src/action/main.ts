import { readFile, readdir } from 'node:fs/promises'
import { isAbsolute, join, relative, resolve, sep } from 'node:path'
import * as core from '@actions/core'
import * as github from '@actions/github'
import { InputError, errorMessage } from '../util/errors.js'
import { writeFileAtomic } from '../util/fs.js'
import { runGate, writeOutputs, type GateRunResult } from '../pipeline/run.js'
import { gateReports } from '../pipeline/check.js'
import { defaultThresholdsPath } from '../pipeline/paths.js'
import { installSignalCleanup } from '../bench/index.js'
import { MAX_ANNOTATIONS, annotationsFor } from '../report/index.js'
import { limitLine } from '../gate/thresholds.js'
import { renderComment, upsertStickyComment } from './pr-comment.js'
import type { ArtifactSink, SummarySink } from '../contracts/edges.js'
import type { ManifestLine, Report } from '../contracts/report.js'
import { Inputs, Outputs, defaultArtifactName, readActionConfig, type ActionConfig } from './inputs.js'
import { ArtifactNameTakenError, actionsArtifactSink, actionsSummarySink, filesUnder } from './sinks.js'


async function findReports(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith('.json') && e.name.includes('report')) out.push(join(e.parentPath, e.name))
  }
  if (out.length === 0) throw new InputError(`input ${Inputs.Reports}`, null, `no report JSON files under ${dir}`)
  return out.sort()
}

async function produce(cfg: ActionConfig): Promise<GateRunResult> {
  const thresholdsPath = resolve(cfg.thresholdsPath ?? defaultThresholdsPath())
  if (cfg.mode === 'aggregate') {
    const { report } = await gateReports(await findReports(resolve(cfg.reportsDir as string)), { thresholdsPath, scenario: 'all' })
    return writeOutputs(report, join(cfg.outputDir, 'report.json'), join(cfg.outputDir, 'logs'))
  }
  return runGate(
    {
      modelArgs: [],
      modelsText: cfg.models,
      modelsFile: cfg.modelsFile,
      corpus: cfg.corpus,
      scenarios: cfg.scenarios,
      thresholdsPath,
      llamaBin: cfg.llamaCpp,
      hardwarePath: cfg.hardwarePath,
      refreshHardware: false,
      hfToken: cfg.hfToken,
      cacheDir: cfg.cacheDir,
      reportPath: join(cfg.outputDir, 'report.json'),
      runTimeoutSec: cfg.runTimeoutSec,
      shard: cfg.shard,
      estimatorCommand: cfg.estimatorCommand,
      estimatorEnv: cfg.estimatorEnv,
      estimatorTimeoutSec: cfg.estimatorTimeoutSec,
      diskBudgetBytes: cfg.diskBudgetBytes,
      timeBudgetSec: cfg.timeBudgetSec,
      resume: cfg.resume,
      ...(cfg.passes !== null ? { passes: cfg.passes } : {}),
      baselinePath: cfg.baselinePath,
      workload: cfg.workload,
      workloadNames: cfg.workloadNames,
      scenariosGiven: cfg.scenariosGiven,
      runnerName: process.env.RUNNER_NAME ?? null
    },
    { log: core.info, group: core.group, now: () => new Date() }
  )
}

async function postComment(cfg: ActionConfig, report: Report): Promise<void> {
  const pr = github.context.payload.pull_request
  if (!pr) return core.notice('pr-comment: not a pull_request event; no comment posted')
  const { owner, repo } = github.context.repo
  const headRepo = (pr.head as { repo?: { full_name?: string } } | undefined)?.repo?.full_name
  if (headRepo && headRepo !== `${owner}/${repo}`) return core.notice('pr-comment: fork pull request (read-only token); comment skipped')
  if (!cfg.githubToken) return core.notice(`pr-comment: no ${Inputs.GithubToken}; comment skipped`)
  const octokit = github.getOctokit(cfg.githubToken)
  const r = await upsertStickyComment(octokit, { owner, repo, issueNumber: pr.number, body: renderComment(report) })
  if (r.skipped) core.notice(`pr-comment: skipped (${r.reason})`)
}

/** What the action talks to: GitHub (inputs, outputs, log, summary, artifacts, PR comment) and the pipeline. */
export interface ActionDeps {
  core: Pick<typeof core, 'getInput' | 'setOutput' | 'setSecret' | 'info' | 'notice' | 'warning' | 'error'>
  /** Fails the step with one error annotation (core.setFailed, with a position). */
  fail: (message: string, props?: core.AnnotationProperties) => void
  summary: SummarySink & { available: boolean }
  artifacts: ArtifactSink
  /** Runs the gate (or the aggregate) for a config: the pipeline. */
  produce: (cfg: ActionConfig) => Promise<GateRunResult>
  postComment: (cfg: ActionConfig, report: Report) => Promise<void>
  env: NodeJS.ProcessEnv
}

/** The real ones, as the action's entry uses them. */
export function defaultActionDeps(env: NodeJS.ProcessEnv = process.env): ActionDeps {
  const fail = (message: string, props?: core.AnnotationProperties): void => {
    core.error(message, props)
    process.exitCode = core.ExitCode.Failure
  }
  return { core, fail, summary: actionsSummarySink(env), artifacts: actionsArtifactSink(env), produce, postComment, env }
}

/** The action: read inputs, run the gate, then always write the summary, upload artifacts and set outputs. */
export async function run(deps: ActionDeps = defaultActionDeps()): Promise<void> {
  installSignalCleanup()
  const { core, env } = deps
  let cfg: ActionConfig | null = null
  let result: GateRunResult | null = null
  let failure: string | null = null
  // Every token we may read is masked before anything can log it, also when the inputs then turn out invalid.
  for (const token of [core.getInput(Inputs.HfToken), core.getInput(Inputs.GithubToken), env.HF_TOKEN, env.HUGGING_FACE_HUB_TOKEN, env.GITHUB_TOKEN]) {
    if (token?.trim()) core.setSecret(token.trim())
  }
  try {
    cfg = readActionConfig((n) => core.getInput(n), env.GITHUB_WORKSPACE ?? process.cwd())
    result = await deps.produce(cfg)
  } catch (err) {
    failure = err instanceof InputError ? `invalid input: ${err.message}` : `model-fit-gate failed: ${errorMessage(err)}`
    // GitHub caps the summary and each output at 1 MiB: an error carrying a child's whole output must not pass it.
    if (failure.length > MAX_FAILURE_CHARS) failure = `${failure.slice(0, MAX_FAILURE_CHARS)}… (${failure.length} characters; cut)`
  }

  const summary = deps.summary
  const markdown = result ? result.markdown : `## ❌ model-fit-gate could not run\n\n\`\`\`\n${failure}\n\`\`\`\n`
  try {
    if (summary.available) await summary.write(markdown)
    else core.info('job summary skipped: GITHUB_STEP_SUMMARY is not set')
  } catch (err) {
    core.warning(`job summary not written: ${errorMessage(err)}`)
  }

  const outputDir = cfg?.outputDir ?? resolve(env.GITHUB_WORKSPACE ?? process.cwd(), 'model-fit-gate-report')
  if (!result) await writeFileAtomic(join(outputDir, 'error.md'), markdown).catch(() => undefined)

  // Annotations: GitHub keeps 10 errors per step and drops the rest silently, so the gate's own failure comes first
  // (at the thresholds.yml line of the limit it broke), then at most 9 models (at their manifest lines).
  const passed = Boolean(result?.report.gate.passed)
  const gateWhy = !result || passed ? null : `gate failed: ${result.report.gate.failures.length} failure(s) — ${result.report.gate.failures.map((f) => f.message).join('; ')}`
  const why = failure ?? (gateWhy && gateWhy.length > MAX_FAILURE_CHARS ? `${gateWhy.slice(0, MAX_FAILURE_CHARS)}… (all in the report)` : gateWhy)
  const workspace = env.GITHUB_WORKSPACE ?? process.cwd()
  let left = MAX_ANNOTATIONS
  if (why) {
    const props = result ? await limitAnnotation(result.report, cfg, workspace) : { title: 'model-fit-gate could not run' }
    if (cfg && !cfg.failOnError) core.warning(`${why} (not failing the step: ${Inputs.FailOnError} is false)`, props)
    else {
      deps.fail(why, props)
      left--
    }
  }
  // The artifact comes before the models' annotations: a name collision's error must not be the one GitHub drops.
  if (cfg?.uploadArtifacts ?? true) {
    const name = cfg?.artifactName ?? defaultArtifactName({ shard: cfg?.shard ?? null }, env)
    try {
      const files = await filesUnder(outputDir)
      const r = files.length ? await deps.artifacts.upload(name, files, outputDir) : { uploaded: false, message: 'artifact upload skipped: nothing was written' }
      if (r.uploaded) core.info(r.message)
      else core.notice(r.message)
    } catch (err) {
      // A name already used in this workflow run is the user's to fix; the report must not go missing in silence.
      if (err instanceof ArtifactNameTakenError) {
        left--
        deps.fail(`artifact "${name}" already exists in this workflow run (another job, shard or attempt uploaded it): set ${Inputs.ArtifactName} to a name unique to this job`, {
          title: 'model-fit-gate: artifact not uploaded'
        })
      } else core.warning(`artifact upload failed: ${errorMessage(err)}`)
    }
  } else core.notice(`artifact upload skipped (${Inputs.UploadArtifacts}: false)`)

  if (result) {
    for (const a of annotationsFor(result.report).slice(0, left)) {
      const props = { title: a.title, ...inWorkspace(a.source, workspace) }
      if (a.level === 'error') core.error(a.message, props)
      else core.warning(a.message, props)
    }
    if (cfg?.prComment) await deps.postComment(cfg, result.report).catch((err) => core.notice(`pr-comment: skipped (${errorMessage(err)})`))
  }

  core.setOutput(Outputs.Passed, String(passed))
  core.setOutput(Outputs.Report, result?.reportPath ?? '')
  core.setOutput(Outputs.Markdown, result?.markdownPath ?? '')
  core.setOutput(Outputs.Html, result?.htmlPath ?? '')
  core.setOutput(Outputs.Failures, failuresOutput(result ? result.report.gate.failures.map((f) => f.message) : [failure ?? '']))
}

/** Longest error text put in the summary, error.md and the failures output. */
const MAX_FAILURE_CHARS = 64 * 1024
/** The failures output stays well under GitHub's 1 MiB per output. */
const MAX_FAILURES_OUTPUT_CHARS = 512 * 1024

/** The `failures` output: a JSON list of the messages, as many whole ones as fit, then a count of the rest. */
export function failuresOutput(messages: readonly string[]): string {
  const kept: string[] = []
  let size = 2
  for (const [i, m] of messages.entries()) {
    const item = m.length > 1000 ? `${m.slice(0, 999)}…` : m
    if (size + JSON.stringify(item).length + 1 > MAX_FAILURES_OUTPUT_CHARS - 100) {
      kept.push(`+${messages.length - i} more failures in the report`)
      break
    }
    kept.push(item)
    size += JSON.stringify(item).length + 1
  }
  return JSON.stringify(kept)
}

/** A workspace file's annotation position; nothing for a file outside the workspace (GitHub could not show it). */
function inWorkspace(source: ManifestLine | undefined, workspace: string): { file?: string; startLine?: number } {
  if (!source) return {}
  const rel = isAbsolute(source.file) ? relative(workspace, source.file) : source.file
  if (rel.startsWith('..') || isAbsolute(rel)) return {}
  return { file: rel.split(sep).join('/'), startLine: source.line }
}

/** The gate failure's annotation: at the thresholds.yml line of the first limit it broke, when that file is the workspace's. */
async function limitAnnotation(report: Report, cfg: ActionConfig | null, workspace: string): Promise<core.AnnotationProperties> {
  const title = 'model-fit-gate: gate failed'
  const first = report.gate.failures[0]
  if (!first || !cfg?.thresholdsPath) return { title }
  const file = resolve(workspace, cfg.thresholdsPath)
  const line = await readFile(file, 'utf8').then((text) => limitLine(text, first), () => null)
  return { title, ...inWorkspace({ file, line: line ?? 1 }, workspace) }
}
