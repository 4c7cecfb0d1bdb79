// ByteSource implementations for local files and in-memory buffers (the HTTP Range one lives in src/models/).
// Edge module: fileSource touches the filesystem, and only through positioned reads of the bytes asked for.

import { open } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import type { ByteSource } from '../contracts/edges.js'

export interface ClosableByteSource extends ByteSource {
  close(): Promise<void>
}

function checkRange(name: string, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new RangeError(`${name}: invalid read of ${length} bytes at ${offset}`)
  }
}

/**
 * A local file read with positioned reads. The handle opens on first use and stays open until close(); a read
 * past the end returns the bytes that exist (shorter than asked), like an HTTP Range read would.
 */
export function fileSource(path: string): ClosableByteSource {
  let handle: Promise<FileHandle> | null = null
  let fetched = 0
  let sizeCache: number | null = null
  const fh = (): Promise<FileHandle> => (handle ??= open(path, 'r'))
  return {
    name: path,
    async size() {
      sizeCache ??= (await (await fh()).stat()).size
      return sizeCache
    },
    async read(offset, length) {
      checkRange(path, offset, length)
      const f = await fh()
      const buf = new Uint8Array(length)
      let got = 0
      while (got < length) {
        const { bytesRead } = await f.read(buf, got, length - got, offset + got)
        if (bytesRead === 0) break
        got += bytesRead
      }
      fetched += got
      return got === length ? buf : buf.subarray(0, got)
    },
    bytesRead: () => fetched,
    async close() {
      if (handle) {
        const f = handle
        handle = null
        await (await f).close()
      }
    }
  }
}

/** Bytes already in memory (tests, generated fixtures). Reads return views, not copies. */
export function bufferSource(name: string, buf: Uint8Array): ClosableByteSource {
  let fetched = 0
  return {
    name,
    size: async () => buf.length,
    async read(offset, length) {
      checkRange(name, offset, length)
      const out = buf.subarray(Math.min(offset, buf.length), Math.min(offset + length, buf.length))
      fetched += out.length
      return out
    },
    bytesRead: () => fetched,
    close: async () => undefined
  }
}
