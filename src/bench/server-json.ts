// Pure parsing of llama-server `/completion` responses (tools/server/server-task.cpp, server-common.cpp).
//
// Fields read from a response or stream event (others are ignored):
//   tokens_predicted  integer  tokens generated so far (in a stream event: including this one)
//   stop              boolean  true on the final event / the non-streamed response
//   error             object   {code, message, type} when the server failed the request
//   timings           object   on the final event (on every event with timings_per_token):
//     cache_n  prompt tokens reused from the slot's KV cache
//     prompt_n prompt tokens evaluated; prompt_ms their time, ending when the first token is sampled
//     predicted_n tokens generated; predicted_ms the time after the first token (which comes from the prompt's
//       logits, so it covers predicted_n − 1 decode steps); predicted_per_second = (predicted_n − 1) / predicted_ms
// Streams are Server-Sent Events: `data: <json>` lines, events separated by a blank line, `:` comment lines as
// keep-alive pings.

export class ServerResponseError extends Error {
  constructor(where: string, message: string) {
    super(`${where}: ${message}`)
    this.name = 'ServerResponseError'
  }
}

export interface ServerTimings {
  cacheN: number
  promptN: number
  promptMs: number
  predictedN: number
  predictedMs: number
  predictedPerSecond: number
}

export interface CompletionEvent {
  tokensPredicted: number
  stop: boolean
  timings: ServerTimings | null
}

type Obj = Record<string, unknown>

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function numberAt(o: Obj, key: string, where: string): number {
  const v = o[key]
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ServerResponseError(where, `${key}: expected a number, got ${JSON.stringify(v)}`)
  }
  return v
}

export function parseTimings(v: unknown, where: string): ServerTimings {
  if (!isObj(v)) throw new ServerResponseError(where, 'timings: missing')
  const w = `${where}: timings`
  return {
    cacheN: numberAt(v, 'cache_n', w),
    promptN: numberAt(v, 'prompt_n', w),
    promptMs: numberAt(v, 'prompt_ms', w),
    predictedN: numberAt(v, 'predicted_n', w),
    predictedMs: numberAt(v, 'predicted_ms', w),
    predictedPerSecond: numberAt(v, 'predicted_per_second', w)
  }
}

/** The server's own error message, when the payload is an error. */
function serverError(o: Obj): string | null {
  if (!('error' in o)) return null
  const e = o.error
  if (isObj(e) && typeof e.message === 'string') return e.message
  return JSON.stringify(e)
}

/** One parsed `/completion` payload: a stream event or the whole non-streamed response. */
export function parseCompletionPayload(payload: unknown, where: string): CompletionEvent {
  if (!isObj(payload)) throw new ServerResponseError(where, 'expected a JSON object')
  const err = serverError(payload)
  if (err !== null) throw new ServerResponseError(where, `server error: ${err}`)
  const tokensPredicted = numberAt(payload, 'tokens_predicted', where)
  const stop = payload.stop === true
  const timings = 'timings' in payload ? parseTimings(payload.timings, where) : null
  if (stop && timings === null) throw new ServerResponseError(where, 'final response without timings')
  return { tokensPredicted, stop, timings }
}

/** Splits a byte stream of Server-Sent Events into the JSON payloads of its `data:` lines. */
export class SseDecoder {
  private buffer = ''

  /** Feeds decoded text; returns the payloads of the events it completed. `[DONE]` markers are skipped. */
  push(text: string): unknown[] {
    this.buffer += text.replace(/\r\n/g, '\n')
    const out: unknown[] = []
    let end: number
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end)
      this.buffer = this.buffer.slice(end + 2)
      const data = block
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).replace(/^ /, ''))
        .join('\n')
      if (data === '' || data === '[DONE]') continue
      try {
        out.push(JSON.parse(data))
      } catch {
        throw new ServerResponseError('stream', `event is not JSON: ${data.slice(0, 200)}`)
      }
    }
    return out
  }

  /** Text received after the last complete event (a cut-off stream leaves some). */
  rest(): string {
    return this.buffer
  }
}
