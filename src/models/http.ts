// Small HTTP helpers shared by the Hub listing, ranged reads and downloads.

export type Fetch = typeof globalThis.fetch

/**
 * How long a server may take to answer a request (its headers; a body's stalls are the downloader's to catch);
 * MODEL_FIT_GATE_HTTP_TIMEOUT_SEC overrides it (a slow mirror, or the tests' silent server).
 */
export const HTTP_ANSWER_TIMEOUT_MS = Number(process.env.MODEL_FIT_GATE_HTTP_TIMEOUT_SEC) > 0 ? Number(process.env.MODEL_FIT_GATE_HTTP_TIMEOUT_SEC) * 1000 : 60_000

/**
 * fetch with a bound on the wait for an answer, and errors that name the host: a Hub that accepts the connection and
 * never answers costs a minute, not the run, and "fetch failed" says where. The errors keep the names the retry logic
 * knows (TimeoutError, TypeError), so a retry still happens.
 */
export function boundedFetch(base: Fetch = globalThis.fetch, timeoutMs = HTTP_ANSWER_TIMEOUT_MS): Fetch {
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
    const host = (() => {
      try {
        return new URL(url).host
      } catch {
        return url
      }
    })()
    const answered = new AbortController()
    const timer = setTimeout(() => answered.abort(), timeoutMs)
    const signal = init?.signal ? AbortSignal.any([init.signal, answered.signal]) : answered.signal
    try {
      return await base(input, { ...init, signal })
    } catch (err) {
      if (answered.signal.aborted && !init?.signal?.aborted) {
        throw Object.assign(new Error(`no answer from ${host} within ${timeoutMs / 1000} s`), { name: 'TimeoutError' })
      }
      if (err instanceof TypeError) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause
        throw Object.assign(new TypeError(`cannot reach ${host}: ${cause?.code ?? cause?.message ?? err.message}`), { cause })
      }
      throw err
    } finally {
      clearTimeout(timer)
    }
  }
}

/** How often and how patiently a failed request is retried (exponential backoff, capped). */
export interface RetryPolicy {
  /** Retries in a row without progress before giving up (an attempt that moved bytes resets the count). */
  maxRetries: number
  baseDelayMs: number
  maxDelayMs: number
}

export const DEFAULT_RETRY: RetryPolicy = { maxRetries: 6, baseDelayMs: 1_000, maxDelayMs: 30_000 }

/** Delay before retry number `attempt` (1-based): base × 2^(attempt−1), at most maxDelayMs. */
export function backoffMs(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1))
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** An HTTP answer we cannot use. `retriable` is false for answers that will not change by asking again. */
export class HttpStatusError extends Error {
  readonly status: number
  readonly url: string
  readonly retriable: boolean

  constructor(url: string, status: number, what: string) {
    super(`${what}: HTTP ${status} from ${redactUrl(url)}`)
    this.name = 'HttpStatusError'
    this.status = status
    this.url = url
    this.retriable = status === 408 || status === 429 || status >= 500
  }
}

/** Statuses that mean "you may not": the message should say a token is needed or was refused. */
export function isAuthStatus(status: number): boolean {
  return status === 401 || status === 403
}

/**
 * The Authorization header, sent only to the origin the token is meant for: a signed CDN URL we were
 * redirected to must not receive it (fetch drops it on cross-origin redirects; we do the same for URLs we reuse).
 */
export function authHeaders(url: string, token: string | undefined, tokenOrigin: string): Record<string, string> {
  if (!token) return {}
  return new URL(url).origin === tokenOrigin ? { authorization: `Bearer ${token}` } : {}
}

/** A URL without its query string (signed CDN URLs carry credentials there) for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    return `${u.origin}${u.pathname}`
  } catch {
    return url
  }
}

const NETWORK_ERROR_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH'])

/** Network-level failures (connection refused/reset, socket dropped mid-body, stalled read): worth retrying. */
export function isNetworkError(err: unknown): boolean {
  if (err instanceof HttpStatusError) return err.retriable
  // Duck-typed: fetch's errors may come from another realm (test VMs), where `instanceof Error` is false.
  if (typeof err !== 'object' || err === null) return false
  const { name, code } = err as { name?: unknown; code?: unknown }
  // fetch reports every transport failure as a TypeError ("fetch failed", "terminated") with the cause inside.
  if (name === 'TypeError' || name === 'AbortError' || name === 'TimeoutError' || name === 'StalledError') return true
  return typeof code === 'string' && (NETWORK_ERROR_CODES.has(code) || code.startsWith('UND_ERR'))
}

/** No bytes arrived for too long: the connection is treated as dropped. */
export class StalledError extends Error {
  constructor(url: string, ms: number) {
    super(`no data from ${redactUrl(url)} for ${Math.round(ms / 1000)} s`)
    this.name = 'StalledError'
  }
}
