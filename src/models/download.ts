import { createHash, type Hash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, open, rename, rm, truncate } from 'node:fs/promises'
import { dirname } from 'node:path'
import lockfile from 'proper-lockfile'
import { INCOMPLETE_SUFFIX, fileSize } from './cache.js'
import {
  DEFAULT_RETRY,
  boundedFetch,
  HttpStatusError,
  StalledError,
  authHeaders,
  backoffMs,
  isNetworkError,
  redactUrl,
  sleep,
  type Fetch,
  type RetryPolicy
} from './http.js'
import { ProgressReporter } from './progress.js'

/** A connection that delivers nothing for this long is dropped and resumed. */
export const STALL_TIMEOUT_MS = 60_000
/** Full downloads tried when the bytes do not hash to the expected sha256 (a corrupted transfer is retried once). */
export const CHECKSUM_PASSES = 2
/** The blob lock counts as abandoned when its holder has not refreshed it for this long (the holder died). */
export const LOCK_STALE_MS = 30_000
/** How long a second process waits for the one downloading the same blob: polls from 250 ms up to every 5 s, ~1 h. */
const LOCK_RETRIES = { retries: 750, factor: 1.25, minTimeout: 250, maxTimeout: 5_000 }

export interface DownloadRequest {
  url: string
  /** Final path (a blob); the bytes go to `<dest>.incomplete` until they are verified. */
  dest: string
  /** Name for log lines and errors (the repo file name). */
  label: string
  expectedSize: number | null
  /** Lower-case hex sha256 (the LFS oid), or null when the source does not publish one. */
  expectedSha256: string | null
  /** Lock (a directory proper-lockfile creates) guarding `dest`; default `<dest>.lock`. Its folder is created. */
  lockPath?: string
  token?: string
  fetch?: Fetch
  log: (line: string) => void
  retry?: RetryPolicy
  now?: () => number
  stallTimeoutMs?: number
}

export interface DownloadResult {
  path: string
  bytes: number
  /** false when the file was already there (this process or another one fetched it). */
  downloaded: boolean
}

/** The bytes did not hash to what the Hub says they should. */
export class ChecksumError extends Error {
  constructor(label: string, expected: string, actual: string) {
    super(`${label}: sha256 ${actual} does not match the expected ${expected}`)
    this.name = 'ChecksumError'
  }
}

/**
 * Downloads `url` to `dest`, resuming with Range requests after a dropped connection and retrying with
 * exponential backoff; size and sha256 are verified before the file is renamed into place, so `dest` is either
 * absent or complete. A lock on `dest` makes concurrent processes wait for one download instead of racing.
 */
export async function downloadVerified(req: DownloadRequest): Promise<DownloadResult> {
  await mkdir(dirname(req.dest), { recursive: true })
  const existing = await fileSize(req.dest)
  if (existing !== null && (req.expectedSize === null || existing === req.expectedSize)) {
    return { path: req.dest, bytes: existing, downloaded: false }
  }
  let compromised: Error | null = null
  const lockOptions = { realpath: false, stale: LOCK_STALE_MS, lockfilePath: req.lockPath ?? `${req.dest}.lock` }
  await mkdir(dirname(lockOptions.lockfilePath), { recursive: true })
  if (await lockfile.check(req.dest, lockOptions)) {
    req.log(`${req.label}: another process is downloading it, waiting`)
  }
  const release = await lockfile.lock(req.dest, {
    ...lockOptions,
    retries: LOCK_RETRIES,
    onCompromised: (err) => {
      compromised = err
    }
  })
  try {
    const after = await fileSize(req.dest)
    if (after !== null && (req.expectedSize === null || after === req.expectedSize)) {
      return { path: req.dest, bytes: after, downloaded: false }
    }
    const partial = req.dest + INCOMPLETE_SUFFIX
    for (let pass = 1; ; pass++) {
      const { bytes, sha256 } = await fetchToPartial(req, partial, () => compromised)
      if (req.expectedSha256 === null || sha256 === req.expectedSha256) {
        await rename(partial, req.dest)
        return { path: req.dest, bytes, downloaded: true }
      }
      await rm(partial, { force: true })
      const err = new ChecksumError(req.label, req.expectedSha256, sha256)
      if (pass >= CHECKSUM_PASSES) throw err
      req.log(`${err.message}; downloading it again`)
    }
  } finally {
    await release().catch(() => undefined)
  }
}

async function hashFile(path: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
}

/** Fills `partial` up to the full size (resuming what is there) and returns its size and sha256. */
async function fetchToPartial(
  req: DownloadRequest,
  partial: string,
  lockLost: () => Error | null
): Promise<{ bytes: number; sha256: string }> {
  const doFetch = req.fetch ?? boundedFetch()
  const retry = req.retry ?? DEFAULT_RETRY
  const stallMs = req.stallTimeoutMs ?? STALL_TIMEOUT_MS
  const tokenOrigin = new URL(req.url).origin
  let hash = createHash('sha256')
  let offset = (await fileSize(partial)) ?? 0
  if (req.expectedSize !== null && offset > req.expectedSize) {
    await truncate(partial, 0)
    offset = 0
  }
  if (offset > 0) {
    // A partial file from an earlier run or process: its bytes count towards the hash before we append.
    await hashFile(partial, hash)
    req.log(`${req.label}: resuming at ${offset} bytes`)
  }
  const progress = new ProgressReporter(req.label, req.log, req.now ?? Date.now, offset)
  let total = req.expectedSize
  let failures = 0
  const fh = await open(partial, 'a')
  try {
    while (total === null || offset < total) {
      const lost = lockLost()
      if (lost) throw new Error(`${req.label}: lost the cache lock (${lost.message})`)
      const before = offset
      const controller = new AbortController()
      let timer: NodeJS.Timeout | undefined
      const arm = (): void => {
        clearTimeout(timer)
        timer = setTimeout(() => controller.abort(new StalledError(req.url, stallMs)), stallMs)
      }
      try {
        arm()
        const headers: Record<string, string> = { ...authHeaders(req.url, req.token, tokenOrigin) }
        if (offset > 0) headers.range = `bytes=${offset}-`
        const res = await doFetch(req.url, { headers, signal: controller.signal })
        if (!res.ok) {
          await res.body?.cancel()
          if (res.status === 416 && offset > 0) {
            // The partial is as long as (or longer than) the file: start over rather than guess.
            await fh.truncate(0)
            offset = 0
            hash = createHash('sha256')
            continue
          }
          throw new HttpStatusError(req.url, res.status, `cannot download ${req.label}`)
        }
        if (offset > 0 && res.status !== 206) {
          // The server ignored Range and sends the whole file: drop what we had.
          await fh.truncate(0)
          offset = 0
          hash = createHash('sha256')
        }
        if (total === null) total = responseTotal(res, offset)
        if (!res.body) throw new Error(`${req.label}: empty response from ${redactUrl(req.url)}`)
        for await (const chunk of res.body) {
          arm()
          await fh.write(chunk)
          hash.update(chunk)
          offset += chunk.length
          progress.update(offset, total)
        }
        if (total === null) break
        if (offset < total) throw new StalledError(req.url, 0)
        if (offset > total) throw new Error(`${req.label}: received ${offset} bytes, expected ${total}`)
      } catch (err) {
        const reason = controller.signal.aborted ? (controller.signal.reason as Error) : err
        if (!isNetworkError(reason)) throw reason
        // Only attempts that made no progress count towards giving up: a flaky link that moves is fine.
        failures = offset > before ? 1 : failures + 1
        if (failures > retry.maxRetries) {
          throw new Error(`${req.label}: download failed after ${retry.maxRetries} retries: ${(reason as Error).message}`, { cause: err })
        }
        const delay = backoffMs(retry, failures)
        req.log(`${req.label}: connection lost at ${offset} bytes (${(reason as Error).message}); retrying in ${delay} ms`)
        await sleep(delay)
      } finally {
        clearTimeout(timer)
      }
    }
  } catch (err) {
    await fh.close()
    // Bytes already fetched stay for the next run to resume from; an empty partial is just clutter.
    if (offset === 0) await rm(partial, { force: true })
    throw err
  }
  await fh.close()
  if (req.expectedSize !== null && offset !== req.expectedSize) {
    throw new Error(`${req.label}: received ${offset} bytes, expected ${req.expectedSize}`)
  }
  progress.done(offset)
  return { bytes: offset, sha256: hash.digest('hex') }
}

/** Full file size from Content-Range (`bytes a-b/N`) or, for a 200, Content-Length; null when unknown. */
function responseTotal(res: Response, offset: number): number | null {
  const range = /\/(\d+)\s*$/.exec(res.headers.get('content-range') ?? '')
  if (range) return Number(range[1])
  const length = res.headers.get('content-length')
  return length === null ? null : Number(length) + (res.status === 206 ? offset : 0)
}
