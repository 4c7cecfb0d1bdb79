// The action's entry, run() with its GitHub side and the pipeline injected (as actions/typescript-action tests its
// main): whatever the pipeline does, the summary is written, the artifacts are uploaded, the outputs are set, and the
// step fails exactly when the gate fails or an input is bad.
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { run, type ActionDeps } from '../../src/action/main.js'
import { writeOutputs } from '../../src/pipeline/run.js'
import { InputError } from '../../src/util/errors.js'
import { makeReport, showcaseReport, type ModelSpec } from '../helpers/report-fixture.js'
import { ArtifactNameTakenError } from '../../src/action/sinks.js'
import { writeFile } from 'node:fs/promises'
import { DEFAULT_THRESHOLDS } from '../../src/gate/index.js'

interface Recorder {
  deps: ActionDeps
  outputs: Record<string, string>
  failed: string[]
  secrets: string[]
  summaries: string[]
  uploads: { name: string; files: string[] }[]
  annotations: string[]
  /** Every annotation in order, with its position. */
  positions: { level: string; message: string; file?: string; startLine?: number; title?: string }[]
}

let workspace: string
beforeEach(async () => {
  workspace = await mkdtemp(join(tmpdir(), 'mfg-action-'))
})
afterEach(async () => {
  await rm(workspace, { recursive: true, force: true })
})

function recorder(inputs: Record<string, string>, produce: ActionDeps['produce']): Recorder {
  const r: Recorder = { outputs: {}, failed: [], secrets: [], summaries: [], uploads: [], annotations: [], positions: [] } as unknown as Recorder
  const note = (): void => {}
  r.deps = {
    core: {
      getInput: (name: string) => inputs[name] ?? '',
      setOutput: (name: string, value: unknown) => {
        r.outputs[name] = String(value)
      },
      setFailed: (message: string | Error) => {
        r.failed.push(String(message))
      },
      setSecret: (s: string) => {
        r.secrets.push(s)
      },
      info: note,
      notice: note,
      warning: (m: string | Error, props?: object) => {
        r.annotations.push(`warning: ${String(m)}`)
        r.positions.push({ level: 'warning', message: String(m), ...props })
      },
      error: (m: string | Error, props?: object) => {
        r.annotations.push(`error: ${String(m)}`)
        r.positions.push({ level: 'error', message: String(m), ...props })
      }
    } as ActionDeps['core'],
    fail: (m, props) => {
      r.failed.push(m)
      r.positions.push({ level: 'failed', message: m, ...props })
    },
    summary: {
      available: true,
      write: async (md) => {
        r.summaries.push(md)
      }
    },
    artifacts: {
      upload: async (name, files) => {
        if (r.uploads.some((u) => u.name === name)) throw new ArtifactNameTakenError('Failed to CreateArtifact: (409) Conflict: an artifact with this name already exists on the workflow run')
        r.uploads.push({ name, files })
        return { uploaded: true, message: `uploaded ${name}` }
      }
    },
    produce,
    postComment: async () => {},
    env: { GITHUB_WORKSPACE: workspace, HF_TOKEN: 'hf_secret_from_env', HUGGING_FACE_HUB_TOKEN: 'hf_legacy_env', GITHUB_JOB: 'gate', RUNNER_NAME: 'gpu 1', GITHUB_RUN_ATTEMPT: '2' }
  }
  return r
}

describe('the action entry', () => {
  test('a failed gate: summary, report artifacts, outputs and one failed step naming the failures', async () => {
    const report = showcaseReport()
    const r = recorder({ corpus: 'synthetic', 'hf-token': 'hf_input_token', 'github-token': 'ghs_input_token' }, (cfg) => writeOutputs(report, join(cfg.outputDir, 'report.json'), join(cfg.outputDir, 'logs')))
    await run(r.deps)
    expect(r.secrets).toEqual(['hf_input_token', 'ghs_input_token', 'hf_secret_from_env', 'hf_legacy_env'])
    expect(r.summaries).toHaveLength(1)
    expect(r.summaries[0]).toMatch(/^## ❌ model-fit-gate failed/)
    const outDir = join(workspace, 'model-fit-gate-report')
    expect(r.uploads).toHaveLength(1)
    expect(r.uploads[0]!.files.map((f) => f.slice(outDir.length + 1)).sort()).toEqual(expect.arrayContaining(['report.html', 'report.json', 'report.md']))
    expect(r.outputs.passed).toBe('false')
    expect(r.outputs.report).toBe(join(outDir, 'report.json'))
    expect(JSON.parse(r.outputs.failures!)).toEqual(report.gate.failures.map((f) => f.message))
    expect(r.failed).toHaveLength(1)
    expect(r.failed[0]).toMatch(/^gate failed: \d+ failure/)
    expect(r.annotations.some((a) => a.startsWith('error: '))).toBe(true)
  })

  test('fail-on-error: false keeps the step green on a failed gate, with the outputs still set', async () => {
    const r = recorder({ corpus: 'synthetic', 'fail-on-error': 'false' }, (cfg) => writeOutputs(showcaseReport(), join(cfg.outputDir, 'report.json'), join(cfg.outputDir, 'logs')))
    await run(r.deps)
    expect(r.failed).toEqual([])
    expect(r.outputs.passed).toBe('false')
  })

  test('bad input stops before the pipeline: exit as a failed step, a summary and error.md naming the input', async () => {
    let produced = false
    const r = recorder({ corpus: 'tiny' }, async () => {
      produced = true
      throw new Error('unreachable')
    })
    await run(r.deps)
    expect(produced).toBe(false)
    expect(r.failed).toEqual([expect.stringMatching(/^invalid input: input corpus: expected smoke, deep or synthetic, got "tiny"/)])
    expect(r.summaries[0]).toMatch(/could not run/)
    const errorMd = join(workspace, 'model-fit-gate-report', 'error.md')
    expect(existsSync(errorMd)).toBe(true)
    expect(await readFile(errorMd, 'utf8')).toContain('corpus')
    expect(JSON.parse(r.outputs.failures!)).toEqual([expect.stringContaining('corpus')])
    expect(r.uploads.map((u) => u.files.map((f) => f.split('/').pop()))).toEqual([['error.md']])
  })

  test('a pipeline that throws an input error is reported as one, with no report outputs', async () => {
    const r = recorder({ corpus: 'synthetic' }, async () => {
      throw new InputError('thresholds.yml', 'tolerance_pct', 'must be a number')
    })
    await run(r.deps)
    expect(r.failed[0]).toMatch(/^invalid input: .*tolerance_pct/)
    expect(r.outputs.report).toBe('')
    expect(r.outputs.passed).toBe('false')
  })

  test("the gate's failure is the first annotation, at the thresholds.yml line of its limit; then at most 9 models, at their manifest lines", async () => {
    const thresholds = ['tolerance_pct: 10', 'max_spread_pct: 25', 'min_models: 1', 'max_runtime_errors: 0', 'scenarios:', '  steady_decode:', '    max_median_abs_error_pct: 10', '    max_abs_error_pct: 20', '    max_noisy: 0', '']
    await writeFile(join(workspace, 'thresholds.yml'), thresholds.join('\n'))
    const specs: ModelSpec[] = Array.from({ length: 15 }, (_, i) => ({ ref: `org/m${i}`, rows: [{ scenario: 'steady_decode', predicted: 100, observed: 40 + i }] }))
    const report = makeReport(specs, { thresholds: { ...DEFAULT_THRESHOLDS, scenarios: { steady_decode: { max_median_abs_error_pct: 10, max_abs_error_pct: 20, max_noisy: 0 } } } })
    report.models.forEach((m, i) => (m.source = { file: 'models.txt', line: i + 3 }))
    const r = recorder({ 'models-file': 'models.txt', thresholds: 'thresholds.yml' }, (cfg) => writeOutputs(report, join(cfg.outputDir, 'report.json'), join(cfg.outputDir, 'logs')))
    await run(r.deps)
    const errors = r.positions.filter((p) => p.level !== 'warning')
    expect(errors[0]).toMatchObject({ level: 'failed', title: 'model-fit-gate: gate failed', file: 'thresholds.yml' })
    const limit = report.gate.failures[0]!.limit
    expect(thresholds[errors[0]!.startLine! - 1]).toContain(`${limit}:`)
    expect(errors.slice(1)).toHaveLength(9)
    // Largest |error| first: m0 is 60 % off.
    expect(errors[1]).toMatchObject({ level: 'error', title: 'model-fit-gate: org/m0', file: 'models.txt', startLine: 3 })
  })

  test('the artifact is named per job, shard, runner and attempt; a name already taken fails the step naming the input', async () => {
    const produce: ActionDeps['produce'] = (cfg) => writeOutputs(showcaseReport(), join(cfg.outputDir, 'report.json'), join(cfg.outputDir, 'logs'))
    const r = recorder({ corpus: 'synthetic', shard: '2/3', 'fail-on-error': 'false' }, produce)
    await run(r.deps)
    expect(r.uploads.map((u) => u.name)).toEqual(['model-fit-gate-gate-shard-2-of-3-gpu-1-attempt-2'])
    expect(r.failed).toEqual([])
    await run(r.deps)
    expect(r.failed).toEqual([expect.stringMatching(/^artifact "model-fit-gate-gate-shard-2-of-3-gpu-1-attempt-2" already exists .*: set artifact-name to a name unique/)])
  })
})
