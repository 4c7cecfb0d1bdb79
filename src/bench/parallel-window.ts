// parallel_decode's aggregate rate from the arrival times of streamed tokens. Pure: the events come in as data.
//
// The window is the stretch in which every stream decodes: from the latest first token over the streams (each
// stream's first token comes from its prompt's logits, so before it that stream was still in its prompt phase) to
// the earliest last token (after it, fewer streams share the steps). The rate is the tokens of every stream that
// arrived inside (start, end], over the window's length. A token arriving exactly at the start was made before the
// window; one at the end, inside it.
//
// Streams that decode in lockstep deliver each step's tokens a little apart (one HTTP connection each), so the last
// step may count for only some streams: at most N − 1 tokens too few, about (N − 1) / (N · steps) of the rate (1.2 %
// for 4 streams of 64 tokens). Short streams make that worse; the defaults keep it small.

import { RunFailure } from './failure.js'
import type { TokenEvent } from './server-client.js'

/** Streams that did not decode together: a fault of one round (a stream's request reached the server late), which a
 *  fresh round may not have. */
export class NotConcurrentError extends RunFailure {
  constructor(message: string) {
    super(message, [])
    this.name = 'NotConcurrentError'
  }
}

export interface ConcurrentWindow {
  /** performance.now() of the latest first token, and of the earliest last token. */
  startMs: number
  endMs: number
  windowMs: number
  /** Tokens of all streams inside the window, and per stream (in the order given). */
  tokens: number
  tokensPerStream: number[]
  /** Tokens per second of all streams together inside the window. */
  aggregateTokPerSec: number
  /** How far apart the streams' first tokens arrived: how staggered their prompts were. */
  startSkewMs: number
}

/**
 * The window in which all `streams` decoded together and the aggregate rate inside it. Fails (NotConcurrentError)
 * rather than falling back to another figure when the streams did not overlap: an empty window, or one without a
 * token of every stream, means the server did not decode them together (a request that came late, too few slots,
 * too few tokens per stream), and any rate reported then would not be the concurrent one asked for.
 */
export function concurrentDecodeWindow(streams: readonly (readonly TokenEvent[])[]): ConcurrentWindow {
  if (streams.length === 0) throw new RunFailure('parallel_decode: no streams to measure', [])
  const empty = streams.map((s, i) => (s.length === 0 ? i : -1)).filter((i) => i >= 0)
  if (empty.length > 0) throw new RunFailure(`parallel_decode: stream ${listStreams(empty)} delivered no token`, [])
  const firsts = streams.map((s) => (s[0] as TokenEvent).atMs)
  const lasts = streams.map((s) => (s[s.length - 1] as TokenEvent).atMs)
  const startMs = Math.max(...firsts)
  const endMs = Math.min(...lasts)
  const windowMs = endMs - startMs
  const tokensPerStream = streams.map((s) => s.reduce((n, e) => (e.atMs > startMs && e.atMs <= endMs ? n + e.tokens : n), 0))
  const missing = tokensPerStream.map((n, i) => (n === 0 ? i : -1)).filter((i) => i >= 0)
  if (!(windowMs > 0) || missing.length > 0) {
    const window = windowMs > 0 ? `${windowMs.toFixed(1)} ms long and holds no token of stream ${listStreams(missing)}` : 'empty'
    throw new NotConcurrentError(
      `parallel_decode: the ${streams.length} streams did not decode together: the window from the last stream's first token ` +
        `to the first stream's last token is ${window} (streams queued one after another, or too few decoded tokens per stream)`
    )
  }
  const tokens = tokensPerStream.reduce((a, b) => a + b, 0)
  return {
    startMs,
    endMs,
    windowMs,
    tokens,
    tokensPerStream,
    aggregateTokPerSec: tokens / (windowMs / 1000),
    startSkewMs: startMs - Math.min(...firsts)
  }
}

/** Streams named from 1, as a person counts them. */
function listStreams(indices: readonly number[]): string {
  return indices.map((i) => i + 1).join(', ')
}
