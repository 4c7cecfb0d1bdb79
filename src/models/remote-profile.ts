import { basename } from 'node:path'
import { buildProfile } from '../gguf/profile.js'
import { splitInfo } from '../gguf/split.js'
import { readGgufHeader } from '../gguf/reader.js'
import type { GgufHeader } from '../gguf/reader.js'
import type { ModelProfile } from '../contracts/profile.js'
import { hfToken, hubEndpoint } from './hub-env.js'
import { parseResolveUrl, resolveUrl } from './hub-api.js'
import { HttpByteSource } from './http-source.js'
import type { Fetch } from './http.js'
import { DEFAULT_REVISION, chooseFiles, hubRefError, listTarget, type HubTarget } from './locate.js'
import type { ModelArg, UrlModelRef } from './manifest.js'
import { expectedShardPaths } from './select.js'

export interface ProfileRemoteOptions {
  endpoint?: string
  token?: string
  fetch?: Fetch
  log?: (line: string) => void
}

/** One shard's header bytes (everything before its tensor data) and its file's name and size. */
export interface RemoteHeader {
  /** The shard's file name (llama.cpp finds a split model's other shards by their names). */
  name: string
  header: Uint8Array
  fileBytes: number
}

export interface RemoteProfile {
  profile: ModelProfile
  /** Each shard's header, first shard first: enough for llama.cpp to project the model's memory (a sparse copy). */
  headers: RemoteHeader[]
  /** Bytes fetched over the network for the headers (all shards), whatever the model's size. */
  bytesRead: number
}

/**
 * Profiles a Hub ref (`owner/repo:QUANT`) or a URL to a .gguf from its header alone: each shard's header is read
 * with Range requests, nothing is downloaded. Costs the header size plus at most one read-ahead chunk per shard.
 */
export async function profileRemote(ref: Exclude<ModelArg, { kind: 'local' }>, opts: ProfileRemoteOptions = {}): Promise<RemoteProfile> {
  if ((ref as ModelArg).kind === 'local') throw new Error('profileRemote reads Hub refs and URLs; read local files with the GGUF reader')
  const endpoint = (opts.endpoint ?? hubEndpoint()).replace(/\/+$/, '')
  opts = { ...opts, token: hfToken(opts.token, {}) }
  const target = hubTargetOf(ref, endpoint)
  try {
    const urls = target ? await hubShardUrls(target, endpoint, opts) : plainShardUrls((ref as UrlModelRef).url)
    const sources = urls.map((u) => new HttpByteSource(u.url, { fetch: opts.fetch, token: u.withToken ? opts.token : undefined }))
    const headers: GgufHeader[] = []
    const raw: RemoteHeader[] = []
    let fileBytes = 0
    for (const [i, src] of sources.entries()) {
      const h = await readGgufHeader(src)
      headers.push(h)
      const size = await src.size()
      fileBytes += size
      // The header's bytes again: the source's blocks hold them (a header past its block cache is read once more).
      raw.push({ name: basename(new URL(urls[i]!.url).pathname), header: await src.read(0, h.dataOffset), fileBytes: size })
    }
    const bytesRead = sources.reduce((sum, s) => sum + s.bytesRead(), 0)
    const profile = buildProfile(headers, fileBytes, ref.ref)
    // The shards in split order (their headers' split.no), as llama.cpp is given the first.
    const order = headers.map((h, i) => ({ i, no: splitInfo(h, ref.ref).no })).sort((a, b) => a.no - b.no)
    return { profile, headers: order.map((o) => raw[o.i]!), bytesRead }
  } catch (err) {
    throw target ? hubRefError(target, err, opts.token !== undefined) : err
  }
}

/** The Hub model a ref names: `owner/repo:QUANT`, or a URL of a file under {endpoint}/owner/repo/resolve/. */
function hubTargetOf(ref: Exclude<ModelArg, { kind: 'local' }>, endpoint: string): HubTarget | null {
  if (ref.kind === 'hf') return { ...ref, revision: ref.revision ?? DEFAULT_REVISION, want: ref.quant ? { quant: ref.quant } : {} }
  const hub = parseResolveUrl(ref.url, endpoint)
  return hub ? { ...hub, want: { path: hub.path }, ref: ref.ref, file: ref.file, line: ref.line } : null
}

interface ShardUrl {
  url: string
  /** Hub URLs get the token; other hosts never see it. */
  withToken: boolean
}

async function hubShardUrls(target: HubTarget, endpoint: string, opts: ProfileRemoteOptions): Promise<ShardUrl[]> {
  const listing = await listTarget(target, { endpoint, token: opts.token, fetch: opts.fetch })
  const shards = chooseFiles(target, listing)
  opts.log?.(`${target.ref}: ${shards.map((s) => s.path).join(', ')} at ${listing.commit.slice(0, 12)}`)
  return shards.map((s) => ({ url: resolveUrl(endpoint, target.repo, listing.commit, s.path), withToken: true }))
}

/** Any other server: the sibling shards of a split file follow llama.cpp's naming, next to the first one. */
function plainShardUrls(url: string): ShardUrl[] {
  return expectedShardPaths(new URL(url).pathname).map((path) => {
    const u = new URL(url)
    u.pathname = path
    return { url: u.toString(), withToken: false }
  })
}
