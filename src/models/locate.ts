// Which files of which commit a Hub ref means: the listing, llama.cpp's choice among its GGUFs, and errors
// that name the manifest line. Shared by downloads (resolve.ts) and header-only profiles (remote-profile.ts).
import { InputError } from '../util/errors.js'
import { listRepo, type HubClientOptions, type RepoListing } from './hub-api.js'
import { HttpStatusError, isAuthStatus } from './http.js'
import { availableTags, expectedShardPaths, findBestModel, splitFiles, type HubFile } from './select.js'

/** What to pick in a repo: a quant tag (llama.cpp rules, default order when absent) or an exact file path. */
export type HubWant = { quant?: string } | { path: string }

/** A Hub model as a manifest line or argument names it. */
export interface HubTarget {
  repo: string
  revision: string
  want: HubWant
  /** The ref as written, and where, for messages. */
  ref: string
  file: string
  line: number
}

export const DEFAULT_REVISION = 'main'

/** The files (all shards, shard 1 first) the target selects in a listing; InputError naming the line if none. */
export function chooseFiles(target: HubTarget, listing: RepoListing): HubFile[] {
  const where = `line ${target.line}`
  let primary: HubFile | null
  if ('path' in target.want) {
    const path = target.want.path
    primary = listing.files.find((f) => f.path === path) ?? null
    if (!primary) throw new InputError(target.file, where, `${target.ref}: ${target.repo} has no file "${path}"`)
  } else {
    primary = findBestModel(listing.files, target.want.quant)
    if (!primary) {
      const tags = availableTags(listing.files)
      const asked = target.want.quant ? `GGUF with the tag "${target.want.quant}"` : 'model GGUF'
      const offer = tags.length > 0 ? `; tags it has: ${tags.join(', ')}` : ''
      throw new InputError(target.file, where, `${target.ref}: ${target.repo}@${listing.revision} has no ${asked}${offer}`)
    }
  }
  const shards = splitFiles(listing.files, primary)
  const expected = expectedShardPaths(primary.path)
  const missing = expected.filter((p) => !shards.some((s) => s.path === p))
  if (missing.length > 0) {
    throw new InputError(target.file, where, `${target.ref}: split GGUF is missing shard(s) ${missing.join(', ')}`)
  }
  return shards
}

/** Lists the target's repo; HTTP refusals become InputErrors that say what to do (token, spelling). */
export async function listTarget(target: HubTarget, client: HubClientOptions): Promise<RepoListing> {
  try {
    return await listRepo(target.repo, target.revision, client)
  } catch (err) {
    throw hubRefError(target, err, client.token !== undefined)
  }
}

/** Maps a refusal from the Hub to an InputError naming the manifest line; other errors pass through. */
export function hubRefError(target: HubTarget, err: unknown, hadToken: boolean): unknown {
  if (!(err instanceof HttpStatusError)) return err
  const where = `line ${target.line}`
  const subject = `${target.ref}: ${target.repo}@${target.revision}`
  if (isAuthStatus(err.status)) {
    const hint = hadToken
      ? 'the token was refused: check that it can read this repo (and that its license was accepted)'
      : 'the repo does not exist, or it is private or gated and needs a token (action input hf-token or HF_TOKEN)'
    return new InputError(target.file, where, `${subject}: HTTP ${err.status}: ${hint}`)
  }
  if (err.status === 404) return new InputError(target.file, where, `${subject}: repo, revision or file not found (HTTP 404)`)
  return err
}
