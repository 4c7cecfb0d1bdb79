// A corpus run's models, one at a time: every model is profiled first from its header (a local file's, or a Hub
// model's over HTTP ranges — nothing downloaded), so a fault there costs that model only; then, right before it runs,
// its file is fetched, and with a disk budget it is removed again after its run (only files this run downloaded:
// never a file that was in the cache before), so the disk holds one model at a time.

import { existsSync } from 'node:fs'
import { rm, statfs } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { dirname, isAbsolute, join, relative, sep } from 'node:path'
import type { ModelRef } from '../contracts/models.js'
import { profileFile } from '../gguf/index.js'
import { cachedModel, hubCacheDir, profileRemote, resolveModels, writeHeaderOnlyCopy } from '../models/index.js'
import { GgufError, errorMessage } from '../util/errors.js'
import { ModelSkip, type FetchedModel, type ModelStage, type ProfiledModel } from './validate.js'
import { formatBytes } from '../util/format.js'

/** Free space kept beside a download, so the run never fills the disk to its last byte. */
const FREE_DISK_MARGIN_BYTES = 1024 ** 3

export interface ModelFileOptions {
  token: string | undefined
  log: (line: string) => void
  /** Bytes the run may keep downloaded at once; null: no budget (downloads stay in the cache). */
  diskBudgetBytes: number | null
  /** Where a Hub model's header-only copy goes (its memory projected without a download); absent: none made. */
  headerDir?: string | null
}

/** Where a model came from, relative to the run's directory (annotations point at it); only for manifest files. */
function sourceOf(ref: ModelRef): ProfiledModel['source'] {
  return isAbsolute(ref.file) ? { file: relative(process.cwd(), ref.file).split(sep).join('/'), line: ref.line } : undefined
}

/**
 * Profiles one model without downloading it; never throws for the model's own faults (a missing file, a 404, a
 * gated repo, a GGUF that does not parse): those become its failure, named by stage.
 */
export async function profileRef(ref: ModelRef, opts: ModelFileOptions): Promise<ProfiledModel> {
  const source = sourceOf(ref)
  const base = { ref: ref.ref, ...(source ? { source } : {}) }
  const failed = (stage: ModelStage, err: unknown): ProfiledModel => ({ ...base, path: null, profile: null, failure: { stage, reason: errorMessage(err) } })
  if (ref.kind === 'local') {
    let path: string
    try {
      path = (await resolveModels([ref], { token: opts.token, log: opts.log }))[0]!.paths[0]!
    } catch (err) {
      return failed('resolve', err)
    }
    try {
      return { ...base, path, profile: (await profileFile(path)).profile }
    } catch (err) {
      return failed('profile', err)
    }
  }
  try {
    const { profile, headers } = await profileRemote(ref, { token: opts.token, log: opts.log })
    if (!opts.headerDir) return { ...base, path: null, profile }
    // The header-only copy is for the memory projection alone: its failure costs that check, not the model.
    const dir = join(opts.headerDir, createHash('sha256').update(ref.ref).digest('hex').slice(0, 16))
    const header = await writeHeaderOnlyCopy(dir, headers, opts.headerDir).then(
      (path) => ({ headerPath: path }),
      (err: unknown) => ({ headerError: errorMessage(err) })
    )
    return { ...base, path: null, profile, ...header }
  } catch (remoteErr) {
    if (remoteErr instanceof GgufError) return failed('profile', remoteErr)
    // The Hub unreachable but the model cached (an offline runner): its cached file is as good as its header.
    const cached = await cachedModel(ref).catch(() => null)
    if (!cached) return failed('resolve', remoteErr)
    opts.log(`${ref.ref}: the Hub did not answer (${errorMessage(remoteErr)}); profiling the cached file`)
    try {
      return { ...base, path: cached[0]!, profile: (await profileFile(cached[0]!)).profile }
    } catch (err) {
      return failed('profile', err)
    }
  }
}

/** Fetches each model right before it runs, within the disk budget; records the most it held at once. */
export function modelFetcher(refs: readonly ModelRef[], opts: ModelFileOptions): { fetch: (m: ProfiledModel) => Promise<FetchedModel>; highWaterBytes: () => number } {
  let held = 0
  let highWater = 0
  const byRef = new Map(refs.map((r) => [r.ref, r]))
  const fetch = async (m: ProfiledModel): Promise<FetchedModel> => {
    if (m.path !== null) return { path: m.path, release: async () => {} }
    const ref = byRef.get(m.ref)!
    const size = m.profile?.file_bytes ?? 0
    if (opts.diskBudgetBytes !== null && size > opts.diskBudgetBytes) {
      throw new ModelSkip(`its ${formatBytes(size)} do not fit the disk budget of ${formatBytes(opts.diskBudgetBytes)}`)
    }
    const cacheDir = hubCacheDir()
    const free = await statfs(existingDir(cacheDir)).then((s) => s.bavail * s.bsize, () => null)
    if (free !== null && free < size + FREE_DISK_MARGIN_BYTES) {
      throw new ModelSkip(`${formatBytes(free)} free in ${cacheDir}, and it needs ${formatBytes(size)} (plus ${formatBytes(FREE_DISK_MARGIN_BYTES)} kept free)`)
    }
    const downloaded: string[][] = []
    let bytes = 0
    const removeDownloads = async (): Promise<void> => {
      if (opts.diskBudgetBytes === null) return
      for (const paths of downloaded) for (const p of paths) await rm(p, { force: true })
    }
    const onDownloaded = (f: { paths: string[]; bytes: number }): void => {
      downloaded.push(f.paths)
      bytes += f.bytes
    }
    const [r] = await resolveModels([ref], { token: opts.token, log: opts.log, onDownloaded }).catch(async (err: unknown) => {
      // Shards fetched before the failure would hold the budget's disk for nothing.
      await removeDownloads()
      throw err
    })
    held += bytes
    highWater = Math.max(highWater, held)
    return {
      path: r!.paths[0]!,
      release: async () => {
        if (opts.diskBudgetBytes === null) return
        await removeDownloads()
        held -= bytes
        if (bytes > 0) opts.log(`${m.ref}: removed its ${formatBytes(bytes)} download (disk budget ${formatBytes(opts.diskBudgetBytes)})`)
      }
    }
  }
  return { fetch, highWaterBytes: () => highWater }
}


/** The nearest existing directory of a path (statfs needs one; the cache may not exist yet). */
function existingDir(path: string): string {
  let dir = path
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir)
  return dir
}
