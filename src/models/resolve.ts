import { createHash } from 'node:crypto'
import { basename, join } from 'node:path'
import type { ResolvedModel } from '../contracts/models.js'
import { InputError, errorMessage } from '../util/errors.js'
import { blobLockPath, blobPath, fileSize, isCommitHash, linkSnapshot, listSnapshot, readRef, repoCacheDir, snapshotPath, writeRef } from './cache.js'
import { downloadVerified } from './download.js'
import { hfToken, hubCacheDir, hubEndpoint } from './hub-env.js'
import { parseResolveUrl, resolveUrl, type RepoListing } from './hub-api.js'
import { HttpStatusError, isNetworkError, type Fetch, type RetryPolicy } from './http.js'
import { DEFAULT_REVISION, chooseFiles, hubRefError, listTarget, type HubTarget } from './locate.js'
import type { ModelArg } from './manifest.js'
import { expectedShardPaths, type HubFile } from './select.js'

export interface ResolveOptions {
  /** Hub cache root; default hubCacheDir() (HF_HUB_CACHE, HF_HOME/hub, ~/.cache/huggingface/hub). */
  cacheDir?: string
  /** From hfToken(input): never logged. */
  token?: string
  /** Default hubEndpoint() (HF_ENDPOINT or https://huggingface.co). */
  endpoint?: string
  log: (line: string) => void
  fetch?: Fetch
  retry?: RetryPolicy
  now?: () => number
  /** Told of every file this call downloaded (not of those it found cached): the caller may remove them later. */
  onDownloaded?: (file: { paths: string[]; bytes: number }) => void
}

/** Folder (inside the cache dir) for models given as plain URLs, which have no repo to file them under. */
export const URL_DOWNLOADS_DIR = 'url-downloads'
const URL_KEY_HEX_CHARS = 16

interface Context {
  cacheDir: string
  endpoint: string
  opts: ResolveOptions
}

/**
 * Makes every model available on disk: local files are checked, Hub refs are resolved like llama.cpp's `-hf`
 * and downloaded (all shards) into the shared Hub cache, URLs are downloaded once. Paths point into
 * snapshots/<commit>/, where split shards keep the names llama.cpp looks for.
 */
export async function resolveModels(refs: readonly ModelArg[], opts: ResolveOptions): Promise<ResolvedModel[]> {
  // Checked here too: a malformed token would otherwise surface as a TypeError from @huggingface/hub.
  const token = hfToken(opts.token, {})
  const ctx: Context = {
    cacheDir: opts.cacheDir ?? hubCacheDir(),
    endpoint: (opts.endpoint ?? hubEndpoint()).replace(/\/+$/, ''),
    opts: { ...opts, token }
  }
  const out: ResolvedModel[] = []
  for (const ref of refs) {
    if (ref.kind === 'local') out.push({ ref: ref.ref, paths: await checkLocal(ref.path, ref.file, ref.line) })
    else if (ref.kind === 'hf') {
      const target: HubTarget = { ...ref, revision: ref.revision ?? DEFAULT_REVISION, want: ref.quant ? { quant: ref.quant } : {} }
      out.push({ ref: ref.ref, paths: await resolveHub(target, ctx) })
    } else {
      const hub = parseResolveUrl(ref.url, ctx.endpoint)
      const paths = hub
        ? await resolveHub({ ...hub, want: { path: hub.path }, ref: ref.ref, file: ref.file, line: ref.line }, ctx)
        : await downloadPlainUrl(ref.url, ref.ref, ctx)
      out.push({ ref: ref.ref, paths })
    }
  }
  return out
}

/**
 * A Hub model's files from the cache alone, without asking the Hub (null when the cache lacks them): what a run on a
 * runner that cannot reach the Hub still has.
 */
export async function cachedModel(ref: Exclude<ModelArg, { kind: 'local' }>, opts: { cacheDir?: string; endpoint?: string } = {}): Promise<string[] | null> {
  const endpoint = (opts.endpoint ?? hubEndpoint()).replace(/\/+$/, '')
  const target: HubTarget | null =
    ref.kind === 'hf'
      ? { ...ref, revision: ref.revision ?? DEFAULT_REVISION, want: ref.quant ? { quant: ref.quant } : {} }
      : (() => {
          const hub = parseResolveUrl(ref.url, endpoint)
          return hub ? { ...hub, want: { path: hub.path }, ref: ref.ref, file: ref.file, line: ref.line } : null
        })()
  if (!target) return null
  const repoDir = repoCacheDir(opts.cacheDir ?? hubCacheDir(), target.repo)
  const commit = isCommitHash(target.revision) ? target.revision : await readRef(repoDir, target.revision)
  return commit ? cachedPaths(target, repoDir, commit) : null
}

async function checkLocal(path: string, file: string, line: number): Promise<string[]> {
  const paths = expectedShardPaths(path)
  for (const p of paths) {
    if ((await fileSize(p)) === null) throw new InputError(file, `line ${line}`, `model file not found: ${p}`)
  }
  return paths
}

async function resolveHub(target: HubTarget, ctx: Context): Promise<string[]> {
  const { opts } = ctx
  const repoDir = repoCacheDir(ctx.cacheDir, target.repo)
  // A commit hash cannot move: when its snapshot already holds the files, the Hub need not be asked at all.
  if (isCommitHash(target.revision)) {
    const cached = await cachedPaths(target, repoDir, target.revision)
    if (cached) return cached
  }
  let listing: RepoListing
  try {
    listing = await listTarget(target, { endpoint: ctx.endpoint, token: opts.token, fetch: opts.fetch })
  } catch (err) {
    // Offline runner, Hub outage: a snapshot cached for this revision is as good as a listing.
    const commit = isNetworkError(err) && !(err instanceof HttpStatusError) ? await readRef(repoDir, target.revision) : null
    const cached = commit ? await cachedPaths(target, repoDir, commit) : null
    if (!cached) throw err
    opts.log(`${target.ref}: the Hub is unreachable (${errorMessage(err)}); using the cached snapshot ${commit}`)
    return cached
  }
  const shards = chooseFiles(target, listing)
  const paths: string[] = []
  for (const file of shards) paths.push(await fetchShard(target, listing, file, repoDir, ctx))
  await writeRef(repoDir, target.revision, listing.commit)
  return paths
}

/** The snapshot path of one shard: reused when present with the right size, else downloaded and linked. */
async function fetchShard(target: HubTarget, listing: RepoListing, file: HubFile, repoDir: string, ctx: Context): Promise<string> {
  const { opts } = ctx
  const pointer = snapshotPath(repoDir, listing.commit, file.path)
  const label = `${target.repo}/${file.path}`
  if ((await fileSize(pointer)) === file.size) {
    opts.log(`${label}: cached (${listing.commit.slice(0, 12)})`)
    return pointer
  }
  try {
    const result = await downloadVerified({
      url: resolveUrl(ctx.endpoint, target.repo, listing.commit, file.path),
      dest: blobPath(repoDir, file.blobId),
      lockPath: blobLockPath(ctx.cacheDir, target.repo, file.blobId),
      label,
      expectedSize: file.size,
      expectedSha256: file.sha256,
      token: opts.token,
      fetch: opts.fetch,
      log: opts.log,
      retry: opts.retry,
      now: opts.now
    })
    if (!result.downloaded) opts.log(`${label}: blob already cached`)
    const link = await linkSnapshot(repoDir, listing.commit, file.path, file.blobId)
    if (result.downloaded) opts.onDownloaded?.({ paths: [link, result.path], bytes: result.bytes })
    return link
  } catch (err) {
    throw hubRefError(target, err, opts.token !== undefined)
  }
}

/** Paths from a cached snapshot when it holds every file the target selects; null otherwise. */
async function cachedPaths(target: HubTarget, repoDir: string, commit: string): Promise<string[] | null> {
  const files = await listSnapshot(repoDir, commit)
  if (files.length === 0) return null
  const listing: RepoListing = {
    repo: target.repo,
    revision: target.revision,
    commit,
    files: files.map((f) => ({ path: f.path, size: f.size, sha256: null, blobId: '' }))
  }
  try {
    return chooseFiles(target, listing).map((f) => snapshotPath(repoDir, commit, f.path))
  } catch {
    return null
  }
}

/** A plain URL (not a Hub file): downloaded once, with its split siblings, under url-downloads/<hash of URL>/. */
async function downloadPlainUrl(url: string, ref: string, ctx: Context): Promise<string[]> {
  const key = createHash('sha256').update(url).digest('hex').slice(0, URL_KEY_HEX_CHARS)
  const dir = join(ctx.cacheDir, URL_DOWNLOADS_DIR, key)
  const u = new URL(url)
  const paths: string[] = []
  for (const partPath of expectedShardPaths(u.pathname)) {
    const partUrl = new URL(url)
    partUrl.pathname = partPath
    const name = decodeURIComponent(basename(partPath))
    const result = await downloadVerified({
      url: partUrl.toString(),
      dest: join(dir, name),
      label: `${ref} (${name})`,
      expectedSize: null,
      expectedSha256: null,
      fetch: ctx.opts.fetch,
      log: ctx.opts.log,
      retry: ctx.opts.retry,
      now: ctx.opts.now
    })
    if (result.downloaded) ctx.opts.onDownloaded?.({ paths: [result.path], bytes: result.bytes })
    paths.push(result.path)
  }
  return paths
}
