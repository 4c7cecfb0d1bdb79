// HTTP calls to llama-server's /completion: a plain request, and a streamed one timed from the client's side.

import { performance } from 'node:perf_hooks'
import { parseCompletionPayload, ServerResponseError, SseDecoder, type CompletionEvent, type ServerTimings } from './server-json.js'

/** Characters of an error body quoted in a message. */
const ERROR_BODY_CHARS = 300

function describeFetchError(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return `request timed out after ${timeoutMs / 1000} s`
  }
  if (err instanceof Error) {
    // fetch names the socket's fault only in its cause; that Error may come from another realm (a test runner's
    // context), where instanceof fails, so its fields are read as they are.
    const cause = (err as Error & { cause?: unknown }).cause
    const c = typeof cause === 'object' && cause !== null ? (cause as { message?: unknown; code?: unknown }) : null
    const code = typeof c?.code === 'string' ? ` (${c.code})` : ''
    const detail = typeof c?.message === 'string' ? `: ${c.message}${code}` : ''
    return `${err.message}${detail}`
  }
  return String(err)
}

/** A request that failed at the HTTP level (connection lost, timeout, non-200 status). */
export class RequestError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'RequestError'
  }
}

async function post(baseUrl: string, body: object, timeoutMs: number): Promise<Response> {
  let res: Response
  try {
    res = await fetch(`${baseUrl}/completion`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs)
    })
  } catch (err) {
    throw new RequestError(`POST /completion failed: ${describeFetchError(err, timeoutMs)}`)
  }
  if (res.status !== 200) {
    const text = await res.text().catch(() => '')
    throw new RequestError(`POST /completion answered HTTP ${res.status}: ${text.slice(0, ERROR_BODY_CHARS)}`)
  }
  return res
}

/** A non-streamed /completion; returns the final response's parsed fields. */
export async function postCompletion(baseUrl: string, body: object, timeoutMs: number): Promise<CompletionEvent> {
  const res = await post(baseUrl, { ...body, stream: false }, timeoutMs)
  let payload: unknown
  try {
    payload = await res.json()
  } catch (err) {
    throw new RequestError(`POST /completion: reading the response failed: ${describeFetchError(err, timeoutMs)}`)
  }
  return parseCompletionPayload(payload, 'POST /completion')
}

/** A stream event that carried tokens, as the client saw it arrive. */
export interface TokenEvent {
  /** performance.now() when the chunk holding the event arrived: one clock for every stream of this process, so
   *  concurrent streams can be laid on one time line. */
  atMs: number
  /** Tokens this event added (the rise in tokens_predicted): usually 1, more after a held-back incomplete UTF-8 token. */
  tokens: number
}

export interface StreamedCompletion {
  /** performance.now() just before the request was sent. */
  sentAtMs: number
  /** Every event that added tokens, in arrival order. */
  tokenEvents: TokenEvent[]
  /** Client-side ms from just before the request to the arrival of the first event carrying a token. */
  firstEventMs: number
  /** tokens_predicted of that first event: 1 unless the server held back a token (incomplete UTF-8). */
  firstEventTokens: number
  /** The timings of that first event (present when timings_per_token was requested). */
  firstEventTimings: ServerTimings | null
  /** Timings of the final event. */
  final: ServerTimings
}

/** A streamed /completion, timed from the client's side: the first token, and the arrival of every token event. */
export async function streamCompletion(baseUrl: string, body: object, timeoutMs: number): Promise<StreamedCompletion> {
  const t0 = performance.now()
  const res = await post(baseUrl, { ...body, stream: true }, timeoutMs)
  if (!res.body) throw new RequestError('POST /completion: streamed response without a body')
  const decoder = new TextDecoder()
  const sse = new SseDecoder()
  let first: { ms: number; tokens: number; timings: ServerTimings | null } | null = null
  let final: ServerTimings | null = null
  const tokenEvents: TokenEvent[] = []
  let predicted = 0
  try {
    for await (const chunk of res.body) {
      const arrivedAt = performance.now()
      const arrivedMs = arrivedAt - t0
      for (const payload of sse.push(decoder.decode(chunk as Uint8Array, { stream: true }))) {
        const ev = parseCompletionPayload(payload, 'POST /completion (stream)')
        if (first === null && ev.tokensPredicted >= 1) first = { ms: arrivedMs, tokens: ev.tokensPredicted, timings: ev.timings }
        if (ev.tokensPredicted > predicted) {
          tokenEvents.push({ atMs: arrivedAt, tokens: ev.tokensPredicted - predicted })
          predicted = ev.tokensPredicted
        }
        if (ev.stop) final = ev.timings
      }
    }
  } catch (err) {
    if (err instanceof ServerResponseError) throw err
    throw new RequestError(`POST /completion: the stream broke: ${describeFetchError(err, timeoutMs)}`)
  }
  if (first === null || final === null) {
    throw new RequestError(`POST /completion: the stream ended before ${first === null ? 'the first token' : 'the final event'}`)
  }
  return { sentAtMs: t0, tokenEvents, firstEventMs: first.ms, firstEventTokens: first.tokens, firstEventTimings: first.timings, final }
}
