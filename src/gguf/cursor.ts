// A forward-only reader over a ByteSource that fetches the header in growing chunks (1 MiB, doubling to 4 MiB)
// and never holds or fetches more than MAX_HEADER_BYTES: a remote header costs what it is plus one chunk,
// whatever the file size. Reads are synchronous once `need()` has made the bytes available, so tight loops over
// 150k tokenizer strings only await when the window runs dry.

import { InputError } from '../util/errors.js'
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
      throw new InputError(this.src.name, where, `file is truncated: needs ${end} bytes, has ${this.fileSize}`)
    }
    if (end > MAX_HEADER_BYTES) {
      throw new InputError(this.src.name, where, `header is larger than MAX_HEADER_BYTES (${MAX_HEADER_BYTES})`)
    }
    const have = this.buf.length - this.off
    const fetchFrom = this.bufStart + this.buf.length
    const limit = Math.min(this.fileSize, MAX_HEADER_BYTES)
    const fetchLen = Math.min(Math.max(n - have, this.chunk), limit - fetchFrom)
    this.chunk = Math.min(this.chunk * 2, MAX_READ_CHUNK_BYTES)
    const got = await this.src.read(fetchFrom, fetchLen)
    if (have + got.length < n) {
      throw new InputError(this.src.name, where, `file is truncated: read ${got.length} of ${fetchLen} bytes at ${fetchFrom}`)
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
  u16(): number {
    const v = this.view.getUint16(this.off, true)
    this.off += 2
    return v
  }
  i16(): number {
    const v = this.view.getInt16(this.off, true)
    this.off += 2
    return v
  }
  u32(): number {
    const v = this.view.getUint32(this.off, true)
    this.off += 4
    return v
  }
  i32(): number {
    const v = this.view.getInt32(this.off, true)
    this.off += 4
    return v
  }
  f32(): number {
    const v = this.view.getFloat32(this.off, true)
    this.off += 4
    return v
  }
  f64(): number {
    const v = this.view.getFloat64(this.off, true)
    this.off += 8
    return v
  }
  u64(): bigint {
    const v = this.view.getBigUint64(this.off, true)
    this.off += 8
    return v
  }
  i64(): bigint {
    const v = this.view.getBigInt64(this.off, true)
    this.off += 8
    return v
  }
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
