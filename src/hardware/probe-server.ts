// The server path's extra cost over llama-bench: for each server probe model, llama-bench measures decode at the
// positions the kv_warm_reuse request decodes at and the prefill of the first_token prompt, then llama-server runs
// the very requests src/bench's scenarios send. The differences are the server's overheads (probe-fit.ts).

import { join } from 'node:path'
import { measureFirstToken, measureWarmReuse } from '../bench/server-scenarios.js'
import { startServer } from '../bench/server.js'
import type { Workload } from '../contracts/workload.js'
import type { ServerObservation } from './probe-fit.js'
import { findTiming, runProbeBench } from './probe-bench.js'

/** Seconds a tiny probe model may take to load. */
const SERVER_READY_TIMEOUT_SEC = 60
const REQUEST_TIMEOUT_SEC = 60
/** Requests made and discarded first (page faults, first-use allocations, the HTTP connection). */
const SERVER_WARMUP_REQUESTS = 1

export async function observeServer(opts: {
  binDir: string
  modelPath: string
  vocab: number
  workload: Workload
  rounds: number
  benchReps: number
  logDir: string
  label: string
}): Promise<ServerObservation> {
  const w = opts.workload
  const reusePos = w.warm_prefix_tokens + w.warm_suffix_tokens
  const steps = Math.max(1, w.warm_decode_tokens - 1)
  const obs: ServerObservation = { vocab: opts.vocab, server_decode_ms: [], bench_decode_ms: [], server_prompt_ms: [], bench_prompt_ms: [], unattributed_ms: [] }
  for (let round = 0; round < opts.rounds; round++) {
    const bench = await runProbeBench(
      opts.binDir,
      opts.modelPath,
      { prompt: [w.first_token_prompt_tokens], gen: [steps], depth: [0, reusePos], reps: opts.benchReps },
      w,
      opts.logDir,
      `${opts.label}-bench-r${round}`
    )
    obs.bench_decode_ms.push(findTiming(bench.timings, { nGen: steps, nDepth: reusePos }).msPerToken)
    obs.bench_prompt_ms.push(findTiming(bench.timings, { nPrompt: w.first_token_prompt_tokens, nDepth: 0 }).msPerToken * w.first_token_prompt_tokens)
  }
  const server = await startServer({
    binDir: opts.binDir,
    modelPath: opts.modelPath,
    workload: w,
    logPath: join(opts.logDir, `${opts.label}-server.log`),
    readyTimeoutSec: SERVER_READY_TIMEOUT_SEC
  })
  try {
    const ctx = { server, workload: w, vocabSize: opts.vocab, timeoutSec: REQUEST_TIMEOUT_SEC }
    // Run indexes far from the scenarios' (which start at 0), so prompts never repeat a benchmark's.
    const base = 1_000_000
    for (let i = 0; i < SERVER_WARMUP_REQUESTS; i++) {
      await measureFirstToken(ctx, { index: base + i })
      await measureWarmReuse(ctx, { index: base + i })
    }
    for (let round = 0; round < opts.rounds; round++) {
      const idx = base + SERVER_WARMUP_REQUESTS + round
      const ft = await measureFirstToken(ctx, { index: idx })
      const prompt = ft.breakdown?.prefill_ms
      if (typeof prompt === 'number') {
        obs.server_prompt_ms.push(prompt)
        obs.unattributed_ms.push(ft.value - prompt)
      }
      const reuse = await measureWarmReuse(ctx, { index: idx })
      obs.server_decode_ms.push(1000 / reuse.value)
    }
  } finally {
    await server.stop()
  }
  return obs
}
