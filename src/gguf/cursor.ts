// A forward-only reader over a ByteSource that fetches the header in growing chunks (1 MiB, doubling to 4 MiB)
// and never holds or fetches more than MAX_HEADER_BYTES: a remote header costs what it is plus one chunk,
// whatever the file size. Reads are synchronous once `need()` has made the bytes available, so tight loops over
// 150k tokenizer strings only await when the window runs dry.

import { GgufError } from '../util/errors.js'
import type { ByteSource } from '../contracts/edges.js'

/** First fetch; later fetches double up to MAX_READ_CHUNK_BYTES. */
export const MIN_READ_CHUNK_BYTES = 1 << 20
export const MAX_READ_CHUNK_BYTES = 4 << 20
/** A GGUF header (metadata + tensor infos) larger than this is refused. Real ones are < 20 MiB (262k vocab). */
export const MAX_HEADER_BYTES = 256 << 20

const EMPTY = new Uint8Array(0)

export class HeaderCursor {
  private buf: Uint8Array = EMPTY
  private view = new DataView(EMPTY.buffer)
  /** Absolute file offset of buf[0]. */
  private bufStart = 0
  /** Index of the next unread byte in buf. */
  private off = 0
  private chunk = MIN_READ_CHUNK_BYTES
  private readonly decoder = new TextDecoder('utf-8')

  constructor(
    private readonly src: ByteSource,
    readonly fileSize: number
  ) {}

  get position(): number {
    return this.bufStart + this.off
  }

  /** Bytes left in the file after the current position. */
  get remainingInFile(): number {
    return this.fileSize - this.position
  }

  has(n: number): boolean {
    return this.off + n <= this.buf.length
  }

  /** Makes n bytes available at the current position, or throws an InputError naming `where`. */
  async need(n: number, where: string): Promise<void> {
    if (this.has(n)) return
    const end = this.position + n
    if (end > this.fileSize) {
      throw new GgufError(this.src.name, where, `file is truncated: needs ${end} bytes, has ${this.fileSize}`)
    }
    if (end > MAX_HEADER_BYTES) {
      throw new GgufError(this.src.name, where, `header is larger than MAX_HEADER_BYTES (${MAX_HEADER_BYTES})`)
    }
    const have = this.buf.length - this.off
    const fetchFrom = this.bufStart + this.buf.length
    const limit = Math.min(this.fileSize, MAX_HEADER_BYTES)
    const fetchLen = Math.min(Math.max(n - have, this.chunk), limit - fetchFrom)
    this.chunk = Math.min(this.chunk * 2, MAX_READ_CHUNK_BYTES)
    const got = await this.src.read(fetchFrom, fetchLen)
    if (have + got.length < n) {
      throw new GgufError(this.src.name, where, `file is truncated: read ${got.length} of ${fetchLen} bytes at ${fetchFrom}`)
    }
    const next = new Uint8Array(have + got.length)
    next.set(this.buf.subarray(this.off))
    next.set(got, have)
    this.bufStart = this.position
    this.buf = next
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength)
    this.off = 0
  }

  /** Moves past n bytes without keeping them (bytes already fetched are dropped, later ones fetched as needed). */
  async skip(n: number, where: string): Promise<void> {
    while (n > 0) {
      const step = Math.min(n, MAX_READ_CHUNK_BYTES)
      await this.need(step, where)
      this.off += step
      n -= step
    }
  }

  u8(): number {
    return this.view.getUint8(this.off++)
  }
  i8(): number {
    return this.view.getInt8(this.off++)
  }
  /** Reads a little-endian value of `n` bytes at the cursor and moves past it. */
  private take<T>(n: number, get: (offset: number) => T): T {
    const v = get(this.off)
    this.off += n
    return v
  }
  readonly u16 = (): number => this.take(2, (o) => this.view.getUint16(o, true))
  readonly i16 = (): number => this.take(2, (o) => this.view.getInt16(o, true))
  readonly u32 = (): number => this.take(4, (o) => this.view.getUint32(o, true))
  readonly i32 = (): number => this.take(4, (o) => this.view.getInt32(o, true))
  readonly f32 = (): number => this.take(4, (o) => this.view.getFloat32(o, true))
  readonly f64 = (): number => this.take(8, (o) => this.view.getFloat64(o, true))
  readonly u64 = (): bigint => this.take(8, (o) => this.view.getBigUint64(o, true))
  readonly i64 = (): bigint => this.take(8, (o) => this.view.getBigInt64(o, true))
  /** Decodes n bytes (already made available) as UTF-8; invalid sequences become U+FFFD, as in llama.cpp logs. */
  utf8(n: number): string {
    const s = this.decoder.decode(this.buf.subarray(this.off, this.off + n))
    this.off += n
    return s
  }
  /** Advances over n bytes already made available. */
  advance(n: number): void {
    this.off += n
  }
}
