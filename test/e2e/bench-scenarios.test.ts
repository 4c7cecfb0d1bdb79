// All four scenarios against the real llama-bench and llama-server, on a tiny synthetic model.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readBuildInfo } from '../../src/bench/build-info.js'
import { parseLlamaBenchOutput } from '../../src/bench/llama-bench-json.js'
import { liveProcesses } from '../../src/bench/processes.js'
import { runModel, runScenarios, type RunScenarioOptions } from '../../src/bench/runner.js'
import { defaultWorkload } from '../../src/bench/workload.js'
import { kvCells } from '../../src/fit/geometry.js'
import { profileFile } from '../../src/gguf/index.js'
import { kvBytesPerToken } from '../../src/gguf/profile.js'
import type { SyntheticModelSpec } from '../../src/gguf/writer.js'
import type { ModelRun, Observation } from '../../src/contracts/observation.js'
import { median, spread } from '../../src/util/stats.js'
import { llamaBinDir } from '../helpers/llama.js'
import { syntheticModel } from '../helpers/synthetic.js'

const spec: SyntheticModelSpec = {
  architecture: 'llama',
  layers: 2,
  embeddingLength: 256,
  feedForwardLength: 512,
  heads: 4,
  kvHeads: 2,
  vocabSize: 1024,
  contextLength: 2048,
  seed: 11
}
// Small shapes and one thread: the machine is shared, and the point is the plumbing, not the speed.
const workload = defaultWorkload({
  context_tokens: 512,
  decode_tokens: 16,
  prefill_tokens: 64,
  first_token_prompt_tokens: 48,
  warm_prefix_tokens: 96,
  warm_suffix_tokens: 8,
  warm_decode_tokens: 8,
  ubatch: 64,
  batch: 256,
  threads: 1
})

let dir: string
let modelPath: string
let run: ModelRun
let observations: Observation[]
let opts: RunScenarioOptions
const logLines: string[] = []

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bench-e2e-'))
  modelPath = await syntheticModel(spec)
  opts = {
    binDir: llamaBinDir(),
    logsDir: join(dir, 'out', 'logs'),
    artifactsDir: join(dir, 'out'),
    runTimeoutSec: 120,
    vocabSize: spec.vocabSize,
    repeat: { min: 3, max: 4, targetSpread: 0.1, budgetSec: 60 },
    log: (l) => logLines.push(l)
  }
  run = await runModel(modelPath, ['kv_warm_reuse', 'steady_decode', 'first_token', 'prefill'], workload, opts)
  observations = run.observations
}, 600_000)

afterAll(async () => {
  // Kept for the record: the spread and repeats each scenario needed on this machine.
  console.log(logLines.filter((l) => /median of/.test(l)).join('\n'))
  await rm(dir, { recursive: true, force: true })
})

describe('runScenarios on a tiny model', () => {
  test('returns one observation per scenario, in the order asked', () => {
    expect(observations.map((o) => [o.scenario, o.unit])).toEqual([
      ['kv_warm_reuse', 'tok/s'],
      ['steady_decode', 'tok/s'],
      ['first_token', 'ms'],
      ['prefill', 'tok/s']
    ])
  })

  test.each(['steady_decode', 'prefill', 'first_token', 'kv_warm_reuse'])('%s: samples, median and spread agree', (id) => {
    const o = observations.find((x) => x.scenario === id) as Observation
    expect(o.error).toBeNull()
    expect(o.repeats).toBeGreaterThanOrEqual(3)
    expect(o.repeats).toBeLessThanOrEqual(4)
    expect(o.samples.length + o.dropped_samples.length).toBe(o.repeats)
    expect(o.dropped_samples.length).toBeLessThanOrEqual(1)
    for (const v of [...o.samples, ...o.dropped_samples]) expect(v).toBeGreaterThan(0)
    expect(o.observed).toBe(median(o.samples))
    expect(o.spread).toBeCloseTo(spread(o.samples), 12)
    expect(o.logs.length).toBeGreaterThan(0)
    for (const rel of o.logs) expect(existsSync(join(dir, 'out', rel))).toBe(true)
  })

  test('steady_decode and prefill record what llama-bench timed', () => {
    const sd = observations.find((o) => o.scenario === 'steady_decode') as Observation
    expect(sd.breakdown.ms_per_token).toBeGreaterThan(0)
    expect(sd.breakdown.depth_tokens).toBe(0)
    const pp = observations.find((o) => o.scenario === 'prefill') as Observation
    expect(pp.breakdown.prefill_ms).toBeGreaterThan(0)
    // The llama-bench JSON of each run is kept as a log and parses.
    const json = pp.logs.find((l) => l.endsWith('run-01.json')) as string
    const [t] = parseLlamaBenchOutput(readFileSync(join(dir, 'out', json), 'utf8'), json)
    expect(t).toMatchObject({ nPrompt: 64, nGen: 0, nThreads: 1, nUbatch: 64 })
  })

  test('prefill at depth (long context): llama-bench appends the prompt to the cached tokens and times it alone', async () => {
    const long = { ...workload, context_tokens: 1024, prefill_depth: 768, kv_type: 'q8_0', flash_attention: true }
    const [pp] = await runScenarios(modelPath, ['prefill'], long, { ...opts, logsDir: join(dir, 'depth', 'logs'), artifactsDir: join(dir, 'depth') })
    expect(pp!.error).toBeNull()
    expect(pp!.observed).toBeGreaterThan(0)
    expect(pp!.breakdown.depth_tokens).toBe(768)
    const json = pp!.logs.find((l) => l.endsWith('run-01.json')) as string
    const [t] = parseLlamaBenchOutput(readFileSync(join(dir, 'depth', json), 'utf8'), json)
    expect(t).toMatchObject({ nPrompt: 64, nGen: 0, nDepth: 768 })
  }, 300_000)

  test('first_token splits the client time into server prefill, and the rest', () => {
    const o = observations.find((x) => x.scenario === 'first_token') as Observation
    const b = o.breakdown
    expect(b.prompt_tokens).toBe(48)
    expect(b.prefill_ms).toBeGreaterThan(0)
    expect(b.first_decode_ms).toBeGreaterThan(0)
    // The server's prompt time lies inside the client's request time (1 ms for clock granularity).
    expect(b.unattributed_ms).toBeGreaterThan(-1)
  })

  test('kv_warm_reuse reused the cached prefix and evaluated only the suffix', () => {
    const o = observations.find((x) => x.scenario === 'kv_warm_reuse') as Observation
    expect(o.breakdown.cache_n).toBeGreaterThanOrEqual(95)
    expect(o.breakdown.suffix_tokens).toBeGreaterThanOrEqual(8)
    expect(o.breakdown.suffix_tokens).toBeLessThanOrEqual(9)
    expect(o.breakdown.suffix_prefill_ms).toBeGreaterThan(0)
    expect(o.breakdown.decode_tok_per_s).toBe(o.observed)
  })

  test("the model's run carries llama.cpp's logged buffers: weights as in the file, KV as the context needs", async () => {
    const { profile } = await profileFile(modelPath)
    const logged = run.llama_memory!
    expect(logged.buffers.map((b) => b.kind)).toEqual(expect.arrayContaining(['model', 'kv', 'compute']))
    // llama.cpp prints MiB with two decimals: 0.005 MiB of rounding.
    const tol = 0.006 * 1024 ** 2
    expect(Math.abs(logged.model_bytes! - profile.tensor_bytes)).toBeLessThan(tol)
    expect(Math.abs(logged.kv_bytes! - kvBytesPerToken(profile, workload.kv_type) * kvCells(workload.context_tokens))).toBeLessThan(tol)
    expect(logged.compute_bytes).toBeGreaterThan(0)
    // A run of llama-bench scenarios alone reports none (llama-bench's context is not the workload's).
    const benchOnly = await runModel(modelPath, ['prefill'], workload, { ...opts, repeat: { min: 1, max: 1, targetSpread: 0.1, budgetSec: 60 } })
    expect(benchOnly.llama_memory).toBeNull()
  })

  test('a second run into the same logs dir starts its logs afresh', async () => {
    const again = await runScenarios(modelPath, ['prefill', 'first_token'], workload, { ...opts, repeat: { min: 1, max: 1, targetSpread: 0.1, budgetSec: 60 } })
    for (const o of again) expect(o.error).toBeNull()
    const serverLog = readFileSync(join(dir, 'out', again[1]?.logs[0] as string), 'utf8')
    expect(serverLog.match(/llama_server: model loaded/g)).toHaveLength(1)
  }, 120_000)

  test('leaves no llama.cpp process behind', () => {
    expect(liveProcesses()).toEqual([])
  })

  test('readBuildInfo names the build llama-bench reported in its JSON', async () => {
    const sd = observations.find((o) => o.scenario === 'steady_decode') as Observation
    const json = sd.logs.find((l) => l.endsWith('.json')) as string
    const [t] = parseLlamaBenchOutput(readFileSync(join(dir, 'out', json), 'utf8'), json)
    const info = await readBuildInfo(llamaBinDir())
    expect(info.commit).toBe(t?.buildCommit)
    expect(info.buildNumber).toBe(t?.buildNumber)
    expect(info.backend).toBe(t?.backends)
  })
})
