// parallel_decode against the real llama-server on a tiny synthetic model: N concurrent streams on a server of N
// slots, beside the single-slot server of the other server scenarios.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { liveProcesses } from '../../src/bench/processes.js'
import { runModel, type RunScenarioOptions } from '../../src/bench/runner.js'
import { defaultWorkload } from '../../src/bench/workload.js'
import type { SyntheticModelSpec } from '../../src/gguf/writer.js'
import type { ModelRun, Observation } from '../../src/contracts/observation.js'
import { median } from '../../src/util/stats.js'
import { llamaBinDir } from '../helpers/llama.js'
import { syntheticModel } from '../helpers/synthetic.js'

// The smallest llama of corpus-memory.test.ts (shared through the synthetic model cache): big enough that a round of
// 4 streams lasts a few hundred ms on one thread, so the arrival jitter of the streams' requests (a busy 2-core
// machine: the server's HTTP threads and this process share one core) stays small beside it. bench-scenarios'
// model decodes 64 tokens in ~10 ms, shorter than that jitter.
const spec: SyntheticModelSpec = {
  architecture: 'llama',
  layers: 4,
  embeddingLength: 512,
  feedForwardLength: 1024,
  heads: 8,
  kvHeads: 4,
  vocabSize: 4096,
  contextLength: 8192,
  seed: 3
}
// One thread on a shared 2-core machine; 4 slots of 256 cells, each stream a 32-token prompt and 128 decoded tokens.
const workload = defaultWorkload({
  context_tokens: 1024,
  decode_tokens: 16,
  prefill_tokens: 64,
  first_token_prompt_tokens: 48,
  warm_prefix_tokens: 96,
  warm_suffix_tokens: 8,
  warm_decode_tokens: 8,
  ubatch: 64,
  batch: 256,
  threads: 1,
  parallel_slots: 4,
  parallel_prompt_tokens: 32,
  parallel_decode_tokens: 128
})

let dir: string
let modelPath: string
let run: ModelRun
let opts: RunScenarioOptions
const logLines: string[] = []

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bench-parallel-'))
  modelPath = await syntheticModel(spec)
  opts = {
    binDir: llamaBinDir(),
    logsDir: join(dir, 'out', 'logs'),
    artifactsDir: join(dir, 'out'),
    runTimeoutSec: 60,
    vocabSize: spec.vocabSize,
    repeat: { min: 3, max: 4, targetSpread: 0.1, budgetSec: 30 },
    log: (l) => logLines.push(l)
  }
  run = await runModel(modelPath, ['parallel_decode'], workload, opts)
}, 120_000)

afterAll(async () => {
  // Kept for the record: what 4 streams gave on this machine.
  console.log(logLines.filter((l) => /parallel_decode/.test(l)).join('\n'), '\n', JSON.stringify(run?.observations[0]?.breakdown))
  await rm(dir, { recursive: true, force: true })
})

describe('parallel_decode on a tiny model', () => {
  test('measures the aggregate rate of 4 concurrent streams', () => {
    const [o] = run.observations as [Observation]
    expect(o.scenario).toBe('parallel_decode')
    expect(o.unit).toBe('tok/s')
    expect(o.error).toBeNull()
    expect(o.observed).toBeGreaterThan(0)
    expect(o.observed).toBe(median(o.samples))
    expect(o.repeats).toBeGreaterThanOrEqual(3)
    const b = o.breakdown
    expect(b.streams).toBe(4)
    expect(b.prompt_tokens).toBe(32)
    expect(b.prompt_ms).toBeGreaterThan(0)
    expect(b.window_ms).toBeGreaterThan(0)
    // 4 streams × up to 127 decode steps inside the window (fewer when a stream's prompt came late).
    expect(b.window_tokens).toBeGreaterThan(4 * 80)
    expect(b.window_tokens).toBeLessThanOrEqual(4 * 127)
    // One stream shares each step with three others: its own rate is below what all four make together.
    expect(b.per_stream_tok_s).toBeGreaterThan(0)
    expect(b.per_stream_tok_s).toBeLessThanOrEqual(b.aggregate_tok_s as number)
  })

  test('runs its own llama-server with 4 slots, logged apart, and reports no buffers of it', () => {
    const [o] = run.observations as [Observation]
    expect(o.logs).toHaveLength(1)
    expect(o.logs[0]).toMatch(/\/parallel\/llama-server\.log$/)
    const log = readFileSync(join(dir, 'out', o.logs[0] as string), 'utf8')
    expect(log).toMatch(/n_slots = 4\b/)
    expect(run.llama_memory).toBeNull()
  })

  test('beside first_token: two servers, the buffers from the single-slot one', async () => {
    const both = await runModel(modelPath, ['parallel_decode', 'first_token'], workload, {
      ...opts,
      logsDir: join(dir, 'both', 'logs'),
      artifactsDir: join(dir, 'both'),
      repeat: { min: 1, max: 1, targetSpread: 0.1, budgetSec: 30, warmup: 0 }
    })
    expect(both.observations.map((o) => [o.scenario, o.error])).toEqual([
      ['parallel_decode', null],
      ['first_token', null]
    ])
    const [par, ft] = both.observations as [Observation, Observation]
    expect(readFileSync(join(dir, 'both', ft.logs[0] as string), 'utf8')).toMatch(/n_slots = 1\b/)
    expect(readFileSync(join(dir, 'both', par.logs[0] as string), 'utf8')).toMatch(/n_slots = 4\b/)
    expect(both.llama_memory?.kv_bytes).toBeGreaterThan(0)
  }, 60_000)

  test('a server that cannot load the model: a failed observation with its reason, no throw', async () => {
    const failed = await runModel(join(dir, 'missing.gguf'), ['parallel_decode'], workload, {
      ...opts,
      logsDir: join(dir, 'missing', 'logs'),
      artifactsDir: join(dir, 'missing'),
      repeat: { min: 1, max: 1, targetSpread: 0.1, budgetSec: 30, warmup: 0 }
    })
    const [o] = failed.observations as [Observation]
    expect(o.observed).toBeNull()
    expect(o.error?.reason).toMatch(/llama-server exited .* before it was ready/)
    expect(o.error?.log_tail.length).toBeGreaterThan(0)
  }, 60_000)

  test('leaves no llama.cpp process behind', () => {
    expect(liveProcesses()).toEqual([])
  })
})
