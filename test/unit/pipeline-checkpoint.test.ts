// The checkpoint of a resumable run: what it keeps, under which identity, and that a damaged file only costs a re-run.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { defaultWorkload } from '../../src/bench/workload.js'
import { checkpointStore } from '../../src/pipeline/checkpoint.js'
import { builtinEstimator } from '../../src/pipeline/builtin-estimator.js'
import { makeHardware, makeReport } from '../helpers/report-fixture.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mfg-checkpoint-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const what = { hardware: makeHardware('CPU'), workload: defaultWorkload({ threads: 2 }), estimator: builtinEstimator(), scenarios: ['steady_decode' as const], toolVersion: '0.1.0' }
const [measured, cancelled] = makeReport([
  { ref: 'a', rows: [{ scenario: 'steady_decode', predicted: 100, observed: 95 }] },
  { ref: 'b', rows: [{ scenario: 'steady_decode', predicted: 100, observed: null, error: 'llama-bench was stopped: model-fit-gate received SIGTERM (the run was cancelled)' }] }
]).models

describe('the checkpoint', () => {
  test('keeps measured models, not a model the cancel interrupted; reuses them only under the same identity', async () => {
    const store = checkpointStore(join(dir, 'c1'), what)
    await store.save(measured!)
    await store.save(cancelled!)
    expect(await readdir(join(dir, 'c1'))).toHaveLength(1)
    expect([...(await store.load(['a', 'b'])).keys()]).toEqual(['a'])
    const newerTool = checkpointStore(join(dir, 'c1'), { ...what, toolVersion: '0.2.0' })
    expect((await newerTool.load(['a'])).size).toBe(0)
  })

  test('a damaged checkpoint file is measured again, not a crash', async () => {
    const store = checkpointStore(join(dir, 'c2'), what)
    await store.save(measured!)
    const [file] = await readdir(join(dir, 'c2'))
    await writeFile(join(dir, 'c2', file!), '{"identity": "x", "model": {"ref": "a", "scen')
    expect((await store.load(['a'])).size).toBe(0)
    await writeFile(join(dir, 'c2', file!), 'null')
    expect((await store.load(['a'])).size).toBe(0)
  })
})
