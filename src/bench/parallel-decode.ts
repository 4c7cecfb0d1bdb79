// parallel_decode through a llama-server of N slots (-np N; continuous batching is on by default): N streams at
// once, each a fresh prompt in a slot of its own, decoding together. The sample is the aggregate decode rate the
// client saw (parallel-window.ts); the server's own per-stream rate goes beside it in the breakdown.

import { median } from '../util/stats.js'
import { concurrentDecodeWindow, NotConcurrentError, type ConcurrentWindow } from './parallel-window.js'
import { promptSeed, promptTokens } from './prompts.js'
import type { Measurement } from './repeats.js'
import { streamCompletion, type StreamedCompletion } from './server-client.js'
import { GREEDY, guarded, type ServerRunContext } from './server-scenarios.js'
import { parallelShape } from './workload.js'

/** Prompt seeds of parallel_decode, apart from first_token's and kv_warm_reuse's; the seed's part names the attempt
 *  and the stream. */
const PARALLEL_SEED_SALT = 0x5044
/**
 * Rounds one run may take to get streams that decode together. A request that reaches the server late (a busy
 * shared machine, a connection being set up) makes its round a sequence rather than a batch; that says nothing about
 * the server, so a fresh round is tried. A server that serializes every round still fails.
 */
export const PARALLEL_ROUND_ATTEMPTS = 3

/**
 * One stream's request: a fresh prompt (no cache, so every stream evaluates its whole prompt), `decodeTokens`
 * generated, pinned to slot `slot`. Pinned, the N streams are in N distinct slots by construction, whatever the
 * server's own choice (prompt similarity, least recently used) would make, so no stream of a round can queue behind
 * another, and each stream of every run decodes in the same slot.
 */
export function parallelRequest(prompt: number[], slot: number, decodeTokens: number): Record<string, unknown> {
  return { prompt, n_predict: decodeTokens, cache_prompt: false, id_slot: slot, ...GREEDY }
}

/**
 * parallel_decode: one round of N concurrent streamed requests; the sample is the aggregate tok/s of all streams
 * while all decode (client-side, from the arrival of every token). Breakdown: aggregate_tok_s (the sample),
 * per_stream_tok_s (median of the server's predicted_per_second over the streams: one stream's rate while sharing
 * the steps), per_stream_sum_tok_s (their sum, the server's view of the aggregate), streams, window_ms,
 * window_tokens, start_skew_ms (how far apart the first tokens came), prompt_ms and prompt_tokens (medians),
 * retried_rounds (rounds whose streams did not decode together, before this one). Every request runs to its end
 * before the next round or run, so no stream of one round overlaps another's.
 */
export async function measureParallelDecode(ctx: ServerRunContext, run: { index: number }): Promise<Measurement> {
  const shape = parallelShape(ctx.workload)
  for (let attempt = 0; ; attempt++) {
    const streams = await parallelRound(ctx, run.index, attempt)
    let window: ConcurrentWindow
    try {
      window = concurrentDecodeWindow(streams.map((s) => s.tokenEvents))
    } catch (err) {
      if (err instanceof NotConcurrentError && attempt + 1 < PARALLEL_ROUND_ATTEMPTS) continue
      if (err instanceof NotConcurrentError) throw new NotConcurrentError(`${err.message}; in each of ${PARALLEL_ROUND_ATTEMPTS} rounds`)
      throw err
    }
    const perStream = streams.map((s) => s.final.predictedPerSecond)
    return {
      value: window.aggregateTokPerSec,
      breakdown: {
        aggregate_tok_s: window.aggregateTokPerSec,
        per_stream_tok_s: median(perStream),
        per_stream_sum_tok_s: perStream.reduce((a, b) => a + b, 0),
        streams: shape.slots,
        window_ms: window.windowMs,
        window_tokens: window.tokens,
        start_skew_ms: window.startSkewMs,
        prompt_ms: median(streams.map((s) => s.final.promptMs)),
        prompt_tokens: median(streams.map((s) => s.final.promptN)),
        retried_rounds: attempt
      }
    }
  }
}

/** One round: every stream's request sent in the same tick, each with a prompt of its own. */
async function parallelRound(ctx: ServerRunContext, runIndex: number, attempt: number): Promise<StreamedCompletion[]> {
  const shape = parallelShape(ctx.workload)
  const timeoutMs = ctx.timeoutSec * 1000
  const requests = Array.from({ length: shape.slots }, (_, i) => {
    const seed = promptSeed(PARALLEL_SEED_SALT, runIndex, attempt * shape.slots + i)
    return parallelRequest(promptTokens(shape.promptTokens, ctx.vocabSize, seed), i, shape.decodeTokens)
  })
  return guarded(ctx, 'parallel_decode', async () => {
    // Settled together so a failed stream leaves none of its round still running when the next starts.
    const settled = await Promise.allSettled(requests.map((body) => streamCompletion(ctx.server.baseUrl, body, timeoutMs)))
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected')
    if (failed) throw failed.reason
    return settled.map((s) => (s as PromiseFulfilledResult<StreamedCompletion>).value)
  })
}
