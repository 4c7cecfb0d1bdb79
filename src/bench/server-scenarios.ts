// first_token and kv_warm_reuse through a running llama-server (parallel_decode, with its own server, in
// parallel-decode.ts).
//
// Every run gets fresh prompt token ids (seeded by scenario and run index), greedy sampling (top_k 1) and
// ignore_eos, so each request does exactly the work asked for.

import type { ScenarioId } from '../contracts/scenarios.js'
import type { Workload } from '../contracts/workload.js'
import { readLogTail } from './logs.js'
import { RunFailure } from './observation.js'
import { describeOutcome } from './processes.js'
import { promptSeed, promptTokens } from './prompts.js'
import type { Measurement } from './repeats.js'
import { postCompletion, RequestError, streamCompletion } from './server-client.js'
import { ServerResponseError } from './server-json.js'
import type { LlamaServer } from './server.js'
import { FIRST_TOKEN_PREDICT } from './workload.js'

export type ServerScenario = 'first_token' | 'kv_warm_reuse'

/** Sampler settings of every request: greedy, and the same seed, so runs are comparable. */
export const GREEDY = { samplers: ['top_k'], top_k: 1, seed: 42, ignore_eos: true } as const
/** Prompt seeds per scenario, so the two scenarios never share prompts. */
const SEED_SALT: Record<ServerScenario, number> = { first_token: 0x4654, kv_warm_reuse: 0x4b56 }
/** The reused request must find at least the prefix minus this many tokens in the slot (the server may re-evaluate
 *  the last prompt token to get fresh logits). */
export const REUSE_TOLERANCE_TOKENS = 1
/** How long to wait for a server that broke a request to be seen as exited. */
const EXIT_SETTLE_MS = 1000

export interface ServerRunContext {
  server: LlamaServer
  workload: Workload
  vocabSize: number
  /** Per-request timeout. */
  timeoutSec: number
}

/** The first_token request: a fresh prompt, no cache, one decode step after the first token. */
export function firstTokenRequest(prompt: number[]): Record<string, unknown> {
  return { prompt, n_predict: FIRST_TOKEN_PREDICT, cache_prompt: false, timings_per_token: true, ...GREEDY }
}

/** The priming request of kv_warm_reuse: evaluate the prefix into slot 0, generate nothing. */
export function primeRequest(prefix: number[]): Record<string, unknown> {
  return { prompt: prefix, n_predict: 0, cache_prompt: true, id_slot: 0, ...GREEDY }
}

/** The reused request of kv_warm_reuse: the same prefix plus a new suffix, in slot 0, decoding `decodeTokens`. */
export function reuseRequest(prefix: number[], suffix: number[], decodeTokens: number): Record<string, unknown> {
  return { prompt: [...prefix, ...suffix], n_predict: decodeTokens, cache_prompt: true, id_slot: 0, ...GREEDY }
}

/** Runs a request; a server that died, a broken connection or a server error becomes a RunFailure. */
export async function guarded<T>(ctx: ServerRunContext, scenario: ScenarioId, what: () => Promise<T>): Promise<T> {
  const before = ctx.server.exited()
  if (before) {
    throw new RunFailure(`${describeOutcome('llama-server', before)} before ${scenario}`, await readLogTail(ctx.server.logPath))
  }
  try {
    return await what()
  } catch (err) {
    if (!(err instanceof RequestError || err instanceof ServerResponseError)) throw err
    // A dying server breaks the connection a moment before its exit is seen.
    await Promise.race([ctx.server.process.done, new Promise((r) => setTimeout(r, EXIT_SETTLE_MS))])
    const ended = ctx.server.exited()
    const reason = ended ? `${describeOutcome('llama-server', ended)} during ${scenario}: ${err.message}` : err.message
    throw new RunFailure(reason, await readLogTail(ctx.server.logPath))
  }
}

/**
 * first_token: client-side ms from sending the request to the first streamed token. Breakdown from the server's
 * timings: prefill_ms (prompt_ms, which ends when the first token is sampled), first_decode_ms (the decode step
 * after it), unattributed_ms = client ms − prefill_ms (HTTP, tokenization, queueing; in this build the first token
 * comes from the prompt's logits, so no decode step is inside the client's time).
 */
export async function measureFirstToken(ctx: ServerRunContext, run: { index: number }): Promise<Measurement> {
  const prompt = promptTokens(ctx.workload.first_token_prompt_tokens, ctx.vocabSize, promptSeed(SEED_SALT.first_token, run.index))
  const r = await guarded(ctx, 'first_token', () =>
    streamCompletion(ctx.server.baseUrl, firstTokenRequest(prompt), ctx.timeoutSec * 1000)
  )
  // A token that ends in an incomplete UTF-8 sequence is held back and arrives with the next one; take away the
  // server's time between the two so the sample still ends at the first token.
  const heldMs = r.firstEventTokens > 1 ? (r.firstEventTimings?.predictedMs ?? 0) : 0
  const clientMs = r.firstEventMs - heldMs
  const breakdown: Record<string, number> = {
    prefill_ms: r.final.promptMs,
    unattributed_ms: clientMs - r.final.promptMs,
    prompt_tokens: r.final.promptN
  }
  if (r.final.predictedN >= 2) breakdown.first_decode_ms = r.final.predictedMs / (r.final.predictedN - 1)
  return { value: clientMs, breakdown }
}

/**
 * kv_warm_reuse: prime slot 0 with a prefix, then send prefix + suffix; the sample is the decode rate of that
 * reused request (predicted_per_second). Fails when the server did not reuse the prefix.
 */
export async function measureWarmReuse(ctx: ServerRunContext, run: { index: number }): Promise<Measurement> {
  const w = ctx.workload
  const prefix = promptTokens(w.warm_prefix_tokens, ctx.vocabSize, promptSeed(SEED_SALT.kv_warm_reuse, run.index, 0))
  const suffix = promptTokens(w.warm_suffix_tokens, ctx.vocabSize, promptSeed(SEED_SALT.kv_warm_reuse, run.index, 1))
  const timeoutMs = ctx.timeoutSec * 1000
  await guarded(ctx, 'kv_warm_reuse', () => postCompletion(ctx.server.baseUrl, primeRequest(prefix), timeoutMs))
  const res = await guarded(ctx, 'kv_warm_reuse', () =>
    postCompletion(ctx.server.baseUrl, reuseRequest(prefix, suffix, w.warm_decode_tokens), timeoutMs)
  )
  const t = res.timings
  if (!t) throw new RunFailure('kv_warm_reuse: the reused request returned no timings', [])
  const minCached = w.warm_prefix_tokens - REUSE_TOLERANCE_TOKENS
  if (t.cacheN < minCached) {
    throw new RunFailure(
      `prefix not reused: cache_n=${t.cacheN} (expected ≥ ${minCached} of the ${w.warm_prefix_tokens}-token prefix)`,
      await readLogTail(ctx.server.logPath)
    )
  }
  if (!(t.predictedPerSecond > 0)) {
    throw new RunFailure(`kv_warm_reuse: no decode rate (predicted_n=${t.predictedN}, predicted_ms=${t.predictedMs})`, [])
  }
  return {
    value: t.predictedPerSecond,
    breakdown: {
      suffix_prefill_ms: t.promptMs,
      suffix_tokens: t.promptN,
      cache_n: t.cacheN,
      decode_tok_per_s: t.predictedPerSecond
    }
  }
}
