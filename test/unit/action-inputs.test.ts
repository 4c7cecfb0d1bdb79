import { readFileSync } from 'node:fs'
import { describe, expect, it } from '@jest/globals'
import { parse } from 'yaml'
import { Inputs, Outputs, readActionConfig } from '../../src/action/inputs.js'

const actionYml = parse(readFileSync('action.yml', 'utf8')) as {
  inputs: Record<string, { default?: string }>
  outputs: Record<string, unknown>
  runs: { using: string; main: string }
}
const README_INPUTS = [
  'models', 'models-file', 'corpus', 'scenarios', 'thresholds', 'llama-cpp', 'hardware-profile', 'hf-token', 'cache-dir',
  'upload-artifacts', 'artifact-name', 'pr-comment', 'shard', 'mode', 'reports', 'estimator-command', 'baseline', 'fail-on-error'
]

function inputs(values: Record<string, string>) {
  return (name: string) => values[name] ?? actionYml.inputs[name]?.default ?? ''
}

describe('action.yml', () => {
  it('runs on node24 from the committed bundle', () => {
    expect(actionYml.runs).toEqual({ using: 'node24', main: 'dist/index.js' })
  })
  it('declares every input the code reads and every input the README documents, and nothing else', () => {
    expect(Object.keys(actionYml.inputs).sort()).toEqual(Object.values(Inputs).sort())
    for (const name of README_INPUTS) expect(actionYml.inputs).toHaveProperty([name])
  })
  it('declares exactly the outputs the code sets', () => {
    expect(Object.keys(actionYml.outputs).sort()).toEqual(Object.values(Outputs).sort())
  })
})

describe('reading the action inputs', () => {
  it('takes the defaults of action.yml when only a corpus is given', () => {
    const cfg = readActionConfig(inputs({ corpus: 'synthetic' }), '/ws')
    expect(cfg).toMatchObject({
      mode: 'validate',
      corpus: 'synthetic',
      llamaCpp: 'auto',
      uploadArtifacts: true,
      prComment: false,
      failOnError: true,
      runTimeoutSec: 600,
      outputDir: '/ws/model-fit-gate-report'
    })
    expect(cfg.scenarios).toEqual(['steady_decode', 'prefill', 'first_token', 'kv_warm_reuse'])
  })
  it('narrows the scenarios and rejects an unknown id, naming the input', () => {
    expect(readActionConfig(inputs({ corpus: 'smoke', scenarios: 'prefill, steady_decode' }), '/ws').scenarios).toEqual(['prefill', 'steady_decode'])
    expect(() => readActionConfig(inputs({ corpus: 'smoke', scenarios: 'decode' }), '/ws')).toThrow(/input scenarios: decode: unknown scenario/)
  })
  it('refuses a run with no models, an unknown corpus, a non-boolean flag and aggregate without reports', () => {
    expect(() => readActionConfig(inputs({}), '/ws')).toThrow(/give models, models-file or corpus/)
    expect(() => readActionConfig(inputs({ corpus: 'huge' }), '/ws')).toThrow(/input corpus: expected smoke, deep or synthetic/)
    expect(() => readActionConfig(inputs({ corpus: 'smoke', 'upload-artifacts': 'maybe' }), '/ws')).toThrow(/input upload-artifacts/)
    expect(() => readActionConfig(inputs({ mode: 'aggregate' }), '/ws')).toThrow(/input reports: is required/)
    expect(() => readActionConfig(inputs({ corpus: 'smoke', 'run-timeout': '-3' }), '/ws')).toThrow(/input run-timeout/)
  })
})
