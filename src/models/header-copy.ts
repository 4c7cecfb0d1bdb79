// A model's header-only copy: each shard's real header at the start of a sparse file of the shard's real size.
// llama.cpp's memory projection (llama-fit-params, no_alloc) reads the header and checks that every tensor lies
// within the file, never the weights, so it projects a 200 GB model from a few MB of headers that take no more
// disk than themselves. Only on a filesystem that keeps holes: elsewhere the size would be written out in full,
// so that is checked first and refused.

import { mkdir, rm, stat, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { RemoteHeader } from './remote-profile.js'

/** The hole the sparse check leaves: large enough that a filesystem that fills it shows it. */
const PROBE_HOLE_BYTES = 64 * 1024 * 1024
const checked = new Map<string, Promise<boolean>>()

/** Whether files in `dir` keep holes (a 64 MiB hole takes < 1 MiB on disk). Cached per directory. */
export function keepsSparseFiles(dir: string): Promise<boolean> {
  let p = checked.get(dir)
  if (!p) {
    p = (async () => {
      await mkdir(dir, { recursive: true })
      const probe = join(dir, '.sparse-probe')
      try {
        await writeFile(probe, 'x')
        await truncate(probe, PROBE_HOLE_BYTES)
        return (await stat(probe)).blocks * 512 < 1024 * 1024
      } finally {
        await rm(probe, { force: true })
      }
    })()
    checked.set(dir, p)
  }
  return p
}

/**
 * Writes the header-only copy of a model's shards into `dir` (their own names); returns the first shard's path.
 * `checkDir`: where the sparse-file check runs (once per directory: the run's header directory, not each model's).
 */
export async function writeHeaderOnlyCopy(dir: string, headers: readonly RemoteHeader[], checkDir = dir): Promise<string> {
  if (headers.length === 0) throw new Error('no shard headers to copy')
  if (!(await keepsSparseFiles(checkDir))) {
    throw new Error(`the filesystem of ${checkDir} does not keep sparse files: a header-only copy would take the model's whole size on disk`)
  }
  await mkdir(dir, { recursive: true })
  const paths: string[] = []
  for (const h of headers) {
    // A shard name is the Hub's file name; anything that could leave the directory is not one.
    if (!/^[\w.+-]+$/.test(h.name)) throw new Error(`shard file name ${JSON.stringify(h.name)} is not a plain file name`)
    const path = join(dir, h.name)
    await writeFile(path, h.header)
    await truncate(path, h.fileBytes)
    paths.push(path)
  }
  return paths[0]!
}
