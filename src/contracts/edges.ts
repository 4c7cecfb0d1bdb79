// The small interfaces the core is driven through at its edges (their implementations live in their folders).

/** Random-access bytes: a local file, an HTTP resource read with Range requests, or a buffer. */
export interface ByteSource {
  /** A human name for errors (path or URL). */
  readonly name: string
  size(): Promise<number>
  read(offset: number, length: number): Promise<Uint8Array>
  /** Bytes actually fetched so far (for header-only reads). */
  bytesRead(): number
}

export interface ArtifactSink {
  upload(name: string, files: string[], rootDir: string): Promise<{ uploaded: boolean; message: string }>
}

export interface SummarySink {
  write(markdown: string): Promise<void>
}
