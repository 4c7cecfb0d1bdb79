import type { ByteSource } from '../contracts/edges.js'
import * as http from './http.js'

/** Reads are rounded out to blocks of this size, so a header parsed field by field costs a few requests. */
export const RANGE_BLOCK_BYTES = 512 * 1024
/** Blocks kept in memory (least recently used go first): the reader walks forward, so a few suffice. */
export const MAX_CACHED_BLOCKS = 16

export interface HttpByteSourceOptions {
  fetch?: http.Fetch
  /** Sent only to the URL's own origin, never to a CDN it redirects to. */
  token?: string
  blockBytes?: number
  retry?: http.RetryPolicy
}

/**
 * Random access to a remote file through HTTP Range requests (a Hub `resolve/` URL, which redirects to a
 * CDN, or any server that honours Range). Only the blocks asked for are fetched; bytesRead() counts them.
 */
export class HttpByteSource implements ByteSource {
  readonly name: string
  private readonly url: string
  private readonly fetchFn: http.Fetch
  private readonly token: string | undefined
  private readonly tokenOrigin: string
  private readonly blockBytes: number
  private readonly retry: http.RetryPolicy
  private readonly blocks = new Map<number, Uint8Array>()
  private knownSize: number | null = null
  private fetched = 0
  /** Where the last redirect led (a signed CDN URL): reused so each read does not pay for the redirect again. */
  private readUrl: string

  constructor(url: string, opts: HttpByteSourceOptions = {}) {
    this.url = url
    this.readUrl = url
    this.name = http.redactUrl(url)
    this.fetchFn = opts.fetch ?? http.boundedFetch()
    this.token = opts.token
    this.tokenOrigin = new URL(url).origin
    this.blockBytes = opts.blockBytes ?? RANGE_BLOCK_BYTES
    this.retry = opts.retry ?? http.DEFAULT_RETRY
  }

  bytesRead(): number {
    return this.fetched
  }

  /** The file size from a HEAD request (redirects followed), unless a ranged read already told us. */
  async size(): Promise<number> {
    if (this.knownSize !== null) return this.knownSize
    const res = await this.withRetry(async () => {
      const r = await this.fetchFn(this.url, { method: 'HEAD', headers: http.authHeaders(this.url, this.token, this.tokenOrigin) })
      if (!r.ok) throw new http.HttpStatusError(this.url, r.status, `cannot read the size of ${this.name}`)
      return r
    })
    // The Hub's first hop carries X-Linked-Size; the CDN answer a plain Content-Length.
    const size = Number(res.headers.get('x-linked-size') ?? res.headers.get('content-length') ?? NaN)
    if (!Number.isSafeInteger(size) || size < 0) throw new Error(`${this.name}: the server did not say how large the file is`)
    this.knownSize = size
    return size
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new RangeError(`${this.name}: invalid read of ${length} bytes at ${offset}`)
    }
    if (length === 0) return new Uint8Array(0)
    this.checkBounds(offset, length)
    const first = Math.floor(offset / this.blockBytes)
    const last = Math.floor((offset + length - 1) / this.blockBytes)
    await this.ensureBlocks(first, last)
    // The first ranged answer told us the size if we did not know it.
    this.checkBounds(offset, length)
    const out = new Uint8Array(length)
    for (let b = first; b <= last; b++) {
      const block = this.blocks.get(b)
      if (!block) throw new RangeError(`${this.name}: read of ${length} bytes at ${offset} runs past the end`)
      // Touch the block so the LRU order follows use.
      this.blocks.delete(b)
      this.blocks.set(b, block)
      const blockStart = b * this.blockBytes
      const from = Math.max(offset, blockStart)
      const to = Math.min(offset + length, blockStart + block.length)
      out.set(block.subarray(from - blockStart, to - blockStart), from - offset)
    }
    this.evict(last - first + 1)
    return out
  }

  private checkBounds(offset: number, length: number): void {
    if (this.knownSize !== null && offset + length > this.knownSize) {
      throw new RangeError(`${this.name}: read of ${length} bytes at ${offset} runs past the end (${this.knownSize} bytes)`)
    }
  }

  /** Fetches every missing block in [first, last], one request per run of consecutive missing blocks. */
  private async ensureBlocks(first: number, last: number): Promise<void> {
    let b = first
    while (b <= last) {
      if (this.blocks.has(b)) {
        b++
        continue
      }
      let end = b
      while (end + 1 <= last && !this.blocks.has(end + 1)) end++
      const start = b * this.blockBytes
      const stop = (end + 1) * this.blockBytes
      const bytes = await this.withRetry(() => this.fetchRange(start, stop))
      for (let k = b; k <= end; k++) {
        const s = (k - b) * this.blockBytes
        if (s >= bytes.length) break
        this.blocks.set(k, bytes.subarray(s, Math.min(bytes.length, s + this.blockBytes)))
      }
      b = end + 1
    }
  }

  /**
   * Bytes [start, stop) of the file, fewer at its end. Learns the file size from the answer. Copes with a
   * server that ignores Range by reading only up to `stop` and dropping the connection.
   */
  private async fetchRange(start: number, stop: number): Promise<Uint8Array> {
    let res = await this.get(this.readUrl, start, stop)
    if (!res.ok && this.readUrl !== this.url) {
      // A signed CDN URL expired: go back through the Hub for a fresh one.
      await res.body?.cancel()
      this.readUrl = this.url
      res = await this.get(this.url, start, stop)
    }
    if (!res.ok) {
      await res.body?.cancel()
      if (res.status === 416) this.learnSize(res.headers.get('content-range'))
      throw new http.HttpStatusError(this.readUrl, res.status, `cannot read ${this.name}`)
    }
    if (res.redirected) this.readUrl = res.url
    if (res.status === 206) this.learnSize(res.headers.get('content-range'))
    else if (this.knownSize === null && res.headers.get('content-length') !== null) this.knownSize = Number(res.headers.get('content-length'))
    const skip = res.status === 206 ? 0 : start
    const want = Math.max(0, (this.knownSize === null ? stop : Math.min(stop, this.knownSize)) - start)
    const out = new Uint8Array(want)
    let got = 0
    let seen = 0
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    try {
      while (got < want) {
        const { done, value } = await reader.read()
        if (done) break
        this.fetched += value.length
        const from = Math.max(0, skip - seen)
        seen += value.length
        if (from >= value.length) continue
        const part = value.subarray(from, Math.min(value.length, from + want - got))
        out.set(part, got)
        got += part.length
      }
    } finally {
      // Never let a server that ignored Range stream the rest of a multi-GB file.
      await reader.cancel().catch(() => undefined)
    }
    if (this.knownSize === null) return out.subarray(0, got)
    if (got < want) throw new Error(`${this.name}: the server sent ${got} of ${want} bytes at ${start}`)
    return out
  }

  private get(url: string, start: number, stop: number): Promise<Response> {
    return this.fetchFn(url, {
      headers: { ...http.authHeaders(url, this.token, this.tokenOrigin), range: `bytes=${start}-${stop - 1}` }
    })
  }

  private learnSize(contentRange: string | null): void {
    const total = /\/(\d+)\s*$/.exec(contentRange ?? '')
    if (total && this.knownSize === null) this.knownSize = Number(total[1])
  }

  private evict(keepAtLeast: number): void {
    const limit = Math.max(MAX_CACHED_BLOCKS, keepAtLeast)
    for (const key of this.blocks.keys()) {
      if (this.blocks.size <= limit) break
      this.blocks.delete(key)
    }
  }

  private async withRetry<T>(op: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await op()
      } catch (err) {
        if (!http.isNetworkError(err) || attempt > this.retry.maxRetries) throw err
        await http.sleep(http.backoffMs(this.retry, attempt))
      }
    }
  }
}
