// The example workflows users copy: valid against GitHub's workflow schema (schemastore, as embedded in
// @action-validator/core), and every input they pass is one action.yml declares.
import { describe, expect, it } from '@jest/globals'
import actionValidator from '@action-validator/core'
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'

const read = (rel: string): string => readFileSync(new URL(`../../${rel}`, import.meta.url), 'utf8')

interface Step {
  uses?: string
  with?: Record<string, unknown>
}
interface Workflow {
  on: Record<string, Record<string, unknown>>
  permissions?: Record<string, string>
  jobs: Record<string, { 'runs-on': string; steps: Step[] }>
}

const ACTION_INPUTS = Object.keys((parse(read('action.yml')) as { inputs: Record<string, unknown> }).inputs)
const WORKFLOWS = ['workflows/pr-gate.yml', 'workflows/dispatch.yml', 'workflows/matrix.yml']

/** Runs the schema check; the validator warns (console.warn) that it skips glob syntax, which we accept and keep quiet. */
function validate(src: string): unknown[] {
  const warn = console.warn
  const warnings: string[] = []
  console.warn = (...args: unknown[]) => void warnings.push(args.join(' '))
  try {
    const { errors } = actionValidator.validateWorkflow(src)
    expect(warnings.filter((w) => !w.includes('Glob validation is not yet supported'))).toEqual([])
    return errors
  } finally {
    console.warn = warn
  }
}

function gateSteps(wf: Workflow): Step[] {
  return Object.values(wf.jobs).flatMap((j) => j.steps.filter((s) => s.uses?.startsWith('org/model-fit-gate@')))
}

describe('example workflows', () => {
  it.each(WORKFLOWS)('%s passes the workflow schema', (file) => {
    expect(validate(read(file))).toEqual([])
  })

  it('the schema check catches a broken workflow', () => {
    const broken = read('workflows/pr-gate.yml').replace('runs-on:', 'runs_on:')
    expect(validate(broken).length).toBeGreaterThan(0)
  })

  it.each(WORKFLOWS)('%s passes only inputs action.yml declares', (file) => {
    const steps = gateSteps(parse(read(file)) as Workflow)
    expect(steps.length).toBeGreaterThanOrEqual(1)
    for (const step of steps) {
      for (const key of Object.keys(step.with ?? {})) expect(ACTION_INPUTS).toContain(key)
    }
  })

  it('the matrix workflow runs disjoint shards and gates their reports as one', () => {
    const [shardStep, aggregateStep] = gateSteps(parse(read('workflows/matrix.yml')) as Workflow)
    expect(shardStep?.with).toMatchObject({ shard: '${{ matrix.shard }}', 'fail-on-error': 'false' })
    expect(aggregateStep?.with).toMatchObject({ mode: 'aggregate', reports: 'shard-reports' })
  })

  it('the PR gate runs the smoke corpus on the configured GPU runner and may comment on the PR', () => {
    const wf = parse(read('workflows/pr-gate.yml')) as Workflow
    expect(Object.keys(wf.on)).toEqual(['pull_request'])
    expect((wf.on.pull_request as { paths: string[] }).paths.length).toBeGreaterThan(0)
    expect(wf.permissions).toEqual({ contents: 'read', 'pull-requests': 'write' })
    expect(wf.jobs.gate?.['runs-on']).toBe(`\${{ fromJSON(vars.MODEL_FIT_GATE_RUNNER || '["self-hosted","gpu"]') }}`)
    expect(gateSteps(wf)[0]?.with).toMatchObject({ corpus: 'smoke', 'upload-artifacts': 'true', 'pr-comment': 'true' })
  })

  it('the dispatch workflow offers smoke|deep and takes runner labels as JSON', () => {
    const wf = parse(read('workflows/dispatch.yml')) as Workflow
    const inputs = (wf.on.workflow_dispatch as { inputs: Record<string, { type: string; options?: string[]; default: string }> }).inputs
    expect(inputs.corpus).toMatchObject({ type: 'choice', options: ['smoke', 'deep'], default: 'smoke' })
    expect(inputs.runner?.type).toBe('string')
    expect(JSON.parse(inputs.runner?.default as string)).toEqual(['self-hosted', 'gpu'])
    expect(wf.jobs.gate?.['runs-on']).toBe('${{ fromJSON(inputs.runner) }}')
    expect(gateSteps(wf)[0]?.with?.corpus).toBe('${{ inputs.corpus }}')
  })
})
