// Every workflow in workflows/ (the examples users copy) and .github/workflows/ (this repository's own): valid against
// GitHub's workflow schema (schemastore, as embedded in @action-validator/core), passing only inputs action.yml
// declares, gating what the pull request changed, and safe on a self-hosted runner.
import { describe, expect, it } from '@jest/globals'
import actionValidator from '@action-validator/core'
import { readFileSync, readdirSync } from 'node:fs'
import { parse } from 'yaml'

const read = (rel: string): string => readFileSync(new URL(`../../${rel}`, import.meta.url), 'utf8')

interface Step {
  uses?: string
  run?: string
  if?: string
  with?: Record<string, unknown>
}
interface Job {
  'runs-on': string
  if?: string
  steps: Step[]
}
interface Workflow {
  on: Record<string, Record<string, unknown> | null>
  permissions?: Record<string, string>
  jobs: Record<string, Job>
}

const ACTION_INPUTS = Object.keys((parse(read('action.yml')) as { inputs: Record<string, unknown> }).inputs)
const WORKFLOWS = ['workflows', '.github/workflows'].flatMap((dir) =>
  readdirSync(new URL(`../../${dir}`, import.meta.url))
    .filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'))
    .map((f) => `${dir}/${f}`)
)

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

/** Steps that run this action: released (`org/model-fit-gate@…`) or from the checkout (`./`). */
function gateSteps(wf: Workflow): Step[] {
  return Object.values(wf.jobs).flatMap((j) => j.steps.filter((s) => s.uses?.startsWith('org/model-fit-gate@') || s.uses === './'))
}

/** A job that may land on a self-hosted runner: anything but a GitHub-hosted image label. */
const selfHosted = (job: Job): boolean => !/^(ubuntu|macos|windows)-/.test(job['runs-on'])

describe('example workflows', () => {
  it.each(WORKFLOWS)('%s passes the workflow schema', (file) => {
    expect(validate(read(file))).toEqual([])
  })

  it('the schema check catches a broken workflow', () => {
    const broken = read('workflows/pr-gate.yml').replace('runs-on:', 'runs_on:')
    expect(validate(broken).length).toBeGreaterThan(0)
  })

  it('finds every workflow of both folders', () => {
    expect(WORKFLOWS).toEqual(expect.arrayContaining(['workflows/pr-gate.yml', '.github/workflows/self-test.yml', '.github/workflows/check-dist.yml', '.github/workflows/pr-gate.yml']))
  })

  it.each(WORKFLOWS.filter((f) => !f.endsWith('check-dist.yml')))('%s passes only inputs action.yml declares', (file) => {
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

  it.each(WORKFLOWS)('%s: a pull-request job on a self-hosted runner runs only for PRs of this repository (or a maintainer label)', (file) => {
    const wf = parse(read(file)) as Workflow
    expect(Object.keys(wf.on)).not.toContain('pull_request_target')
    expect(wf.permissions).toBeDefined()
    for (const [scope, level] of Object.entries(wf.permissions ?? {})) {
      if (level === 'write') expect(['pull-requests']).toContain(scope)
    }
    if (!('pull_request' in wf.on)) return
    for (const job of Object.values(wf.jobs).filter(selfHosted)) {
      expect(job.if).toContain('github.event.pull_request.head.repo.full_name == github.repository')
      expect(job.if).toContain("github.event.label.name == 'safe-to-gate'")
    }
  })

  it("this repository's self-test runs the action from the checkout on every PR, on a hosted CPU runner", () => {
    const wf = parse(read('.github/workflows/self-test.yml')) as Workflow
    expect(wf.on).toHaveProperty('pull_request')
    const job = Object.values(wf.jobs)[0]!
    expect(job['runs-on']).toBe('ubuntu-latest')
    expect(gateSteps(wf)).toEqual([expect.objectContaining({ uses: './', with: expect.objectContaining({ corpus: 'synthetic' }) })])
    // Its own GPU gate also runs the PR's code, not the released action.
    expect(gateSteps(parse(read('.github/workflows/pr-gate.yml')) as Workflow).map((s) => s.uses)).toEqual(['./'])
  })

  it('check-dist rebuilds dist/ and fails when it differs from the commit', () => {
    const steps = Object.values((parse(read('.github/workflows/check-dist.yml')) as Workflow).jobs)[0]!.steps
    expect(steps.map((s) => s.run ?? '')).toEqual(expect.arrayContaining(['npm run build', expect.stringContaining('git status --porcelain -- dist')]))
  })

  it("the user's PR gate gates their estimator, thresholds and manifest, against the base branch's last report", () => {
    const wf = parse(read('workflows/pr-gate.yml')) as Workflow
    expect(wf.on).toHaveProperty('pull_request')
    expect(wf.on).toHaveProperty('push') // the base branch's runs are the baselines
    expect(wf.permissions).toEqual({ contents: 'read', actions: 'read', 'pull-requests': 'write' })
    const steps = wf.jobs.gate!.steps
    const download = steps.find((s) => s.uses?.startsWith('actions/download-artifact@'))
    expect(download?.with).toMatchObject({ 'run-id': '${{ steps.base.outputs.run-id }}', pattern: 'model-fit-gate-*' })
    const gate = gateSteps(wf)[0]!
    expect(Object.keys(gate.with ?? {})).toEqual(expect.arrayContaining(['estimator-command', 'thresholds', 'models-file', 'baseline']))
    expect(gate.with?.baseline).toBe('${{ steps.baseline.outputs.path }}')
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
