import { HubApiError, listFiles, modelInfo } from '@huggingface/hub'
import { HttpStatusError, boundedFetch, type Fetch } from './http.js'
import { EnvironmentError, clipQuoted } from '../util/errors.js'
import type { HubFile } from './select.js'

export interface HubClientOptions {
  endpoint: string
  token?: string
  fetch?: Fetch
}

/** A repo at one commit: what `-hf` resolution and the cache need. */
export interface RepoListing {
  repo: string
  /** What was asked for (branch, tag or commit). */
  revision: string
  commit: string
  files: HubFile[]
}

const SHA256_RE = /^[0-9a-f]{64}$/

/**
 * Lists a repo's files at the commit `revision` points to, through @huggingface/hub (model info for the commit,
 * then the recursive tree listing at that commit, so the files and the commit agree even if main moves meanwhile).
 * HTTP failures come back as HttpStatusError so callers can tell "needs a token" from "not found".
 */
export async function listRepo(repo: string, revision: string, opts: HubClientOptions): Promise<RepoListing> {
  const common = {
    hubUrl: opts.endpoint,
    fetch: opts.fetch ?? boundedFetch(),
    ...(opts.token ? { accessToken: opts.token } : {})
  }
  try {
    const info = await modelInfo({ ...common, name: repo, revision, additionalFields: ['sha'] })
    const commit = info.sha
    if (!commit) throw new Error(`${repo}@${revision}: the Hub did not return a commit`)
    const files: HubFile[] = []
    for await (const entry of listFiles({ ...common, repo: { type: 'model', name: repo }, revision: commit, recursive: true })) {
      if (entry.type !== 'file') continue
      const lfsOid = entry.lfs?.oid?.toLowerCase()
      const sha256 = lfsOid && SHA256_RE.test(lfsOid) ? lfsOid : null
      files.push({
        path: entry.path,
        size: entry.lfs?.size ?? entry.size,
        sha256,
        blobId: lfsOid ?? (entry.oid as string)
      })
    }
    return { repo, revision, commit, files }
  } catch (err) {
    if (err instanceof HubApiError) throw new HttpStatusError(err.url, err.statusCode, `${repo}@${revision}`)
    // A proxy's login page or a wrong HF_ENDPOINT answers 200 with HTML: the environment's to fix, named.
    if (err instanceof SyntaxError) {
      throw new EnvironmentError(`${repo}@${revision}: ${new URL(opts.endpoint).host} did not answer like a Hugging Face Hub (not JSON: ${clipQuoted(err.message)}); check HF_ENDPOINT and any proxy`)
    }
    throw err
  }
}

/** The download URL of a file at a commit (`/resolve/` redirects to the CDN). */
export function resolveUrl(endpoint: string, repo: string, commit: string, path: string): string {
  return `${endpoint}/${repo}/resolve/${encodeURIComponent(commit)}/${path.split('/').map(encodeURIComponent).join('/')}`
}

/** Hub file URLs (`{endpoint}/owner/name/resolve/{rev}/{path}`) taken apart; null for other URLs. */
export function parseResolveUrl(url: string, endpoint: string): { repo: string; revision: string; path: string } | null {
  const u = new URL(url)
  const base = new URL(endpoint)
  // Mirrors may serve the Hub under a path prefix (https://mirror.example/hf/owner/name/resolve/…).
  const prefix = base.pathname.replace(/\/+$/, '')
  if (u.origin !== base.origin || !u.pathname.startsWith(`${prefix}/`)) return null
  const m = /^\/([^/]+)\/([^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(u.pathname.slice(prefix.length))
  if (!m) return null
  const [, owner, name, rev, path] = m as unknown as [string, string, string, string, string]
  return {
    repo: `${decodeURIComponent(owner)}/${decodeURIComponent(name)}`,
    revision: decodeURIComponent(rev),
    path: path.split('/').map(decodeURIComponent).join('/')
  }
}
