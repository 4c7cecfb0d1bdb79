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
import { showcaseReport } from '../helpers/report-fixture.js'

interface Recorder {
  deps: ActionDeps
  outputs: Record<string, string>
  failed: string[]
  secrets: string[]
  summaries: string[]
  uploads: { name: string; files: string[] }[]
  annotations: string[]
}

let workspace: string
beforeEach(async () => {
  workspace = await mkdtemp(join(tmpdir(), 'mfg-action-'))
})
afterEach(async () => {
  await rm(workspace, { recursive: true, force: true })
})

function recorder(inputs: Record<string, string>, produce: ActionDeps['produce']): Recorder {
  const r: Recorder = { outputs: {}, failed: [], secrets: [], summaries: [], uploads: [], annotations: [] } as unknown as Recorder
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
      warning: (m: string | Error) => {
        r.annotations.push(`warning: ${String(m)}`)
      },
      error: (m: string | Error) => {
        r.annotations.push(`error: ${String(m)}`)
      }
    } as ActionDeps['core'],
    summary: {
      available: true,
      write: async (md) => {
        r.summaries.push(md)
      }
    },
    artifacts: {
      upload: async (name, files) => {
        r.uploads.push({ name, files })
        return { uploaded: true, message: `uploaded ${name}` }
      }
    },
    produce,
    postComment: async () => {},
    env: { GITHUB_WORKSPACE: workspace, HF_TOKEN: 'hf_secret_from_env' }
  }
  return r
}

describe('the action entry', () => {
  test('a failed gate: summary, report artifacts, outputs and one failed step naming the failures', async () => {
    const report = showcaseReport()
    const r = recorder({ corpus: 'synthetic', 'hf-token': 'hf_input_token' }, (cfg) => writeOutputs(report, join(cfg.outputDir, 'report.json'), join(cfg.outputDir, 'logs')))
    await run(r.deps)
    expect(r.secrets).toEqual(['hf_input_token', 'hf_secret_from_env'])
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
})
