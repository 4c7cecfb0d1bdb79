// The gguf folder's API. profileFile is the edge the CLI uses: it opens every shard of a local model.

import { stat } from 'node:fs/promises'
import type { ModelProfile } from '../contracts/profile.js'
import { InputError } from '../util/errors.js'
import type { GgufHeader } from './format.js'
import { buildProfile } from './profile.js'
import { readGgufHeader } from './reader.js'
import { fileSource } from './source.js'
import { shardPaths } from './split.js'

export * from './format.js'
export * from './ggml-types.js'
export * from './reader.js'
export * from './source.js'
export * from './split.js'
export * from './groups.js'
export * from './profile.js'
export { encodeGgufHeader, ByteBuilder, type TensorSpec, type EncodedHeader } from './encode.js'
export { writeSyntheticGguf, syntheticLayout, syntheticVocab, type SyntheticModelSpec } from './writer.js'

/** Reads the headers of all shards of `path` (a plain file or the first of a split set) through fileSource. */
export async function readShardHeaders(path: string): Promise<{ paths: string[]; headers: GgufHeader[]; fileBytes: number }> {
  const paths = shardPaths(path)
  const headers: GgufHeader[] = []
  let fileBytes = 0
  for (const p of paths) {
    let info: Awaited<ReturnType<typeof stat>>
    try {
      info = await stat(p)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error'
      throw new InputError(p, null, `cannot read the model file (${code})`)
    }
    // A FIFO or a device named *.gguf would block or never end; a directory is not a model.
    if (!info.isFile()) throw new InputError(p, null, `is not a regular file (${info.isDirectory() ? 'a directory' : 'a FIFO, socket or device'}); give a GGUF file`)
    fileBytes += info.size
    const src = fileSource(p)
    try {
      headers.push(await readGgufHeader(src))
    } finally {
      await src.close()
    }
  }
  return { paths, headers, fileBytes }
}

/** Header (of the first shard) and profile (over all shards) of a local GGUF model. */
export async function profileFile(path: string): Promise<{ header: GgufHeader; profile: ModelProfile }> {
  const { headers, fileBytes } = await readShardHeaders(path)
  return { header: headers[0]!, profile: buildProfile(headers, fileBytes, path) }
}
