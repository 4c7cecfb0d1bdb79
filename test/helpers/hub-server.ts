// A local stand-in for the Hugging Face Hub, started by the tests on 127.0.0.1. It speaks the endpoints
// @huggingface/hub and our downloader use, with the Hub's headers:
//   GET  /api/models/:owner/:name[/revision/:rev]        model info (sha = commit, siblings)
//   GET  /api/models/:owner/:name/refs                    branches → commits
//   GET  /api/models/:owner/:name/tree/:rev[/:path]       listing (?recursive=true), LFS files with lfs {oid,size}
//   HEAD/GET /:owner/:name/resolve/:rev/:path             302 to /cdn/… with x-repo-commit, x-linked-etag, x-linked-size
//   HEAD/GET /cdn/:repoKey/:sha256                        the bytes: Range → 206, Accept-Ranges, ETag
//   HEAD/GET /static/:repoKey/:path                       the same bytes by name (a plain file server)
// Faults: a connection dropped after N body bytes (once), corrupted bytes (once), slow bodies, private repos (401
// without a token).
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface HubFileSpec {
  /** Path inside the repo, e.g. `tiny-Q8_0.gguf` or `Q4_K_M/big-00001-of-00002.gguf`. */
  path: string
  /** Bytes on disk (may be a large sparse file) or in memory. */
  localPath?: string
  content?: Uint8Array
  /** Stored in git (no LFS): small text files. */
  git?: boolean
  /** sha256 to advertise instead of the real one (skips hashing a huge sparse file; or lies, for the checksum test). */
  sha256?: string
}

export interface HubRepoSpec {
  repo: string
  files: HubFileSpec[]
  /** 401 for every request without `Authorization: Bearer <token>`. */
  private?: boolean
  /** Extra branches/tags besides main → their commit (default: main only). */
  commit?: string
}

export interface HubRequest {
  method: string
  path: string
  range: string | null
  authorized: boolean
  status: number
}

export interface HubFaults {
  /** Destroy the socket after this many body bytes of the next GET of a file whose path ends with `path`. */
  drop?: { path: string; afterBytes: number; times: number }
  /** Flip one byte in the next full GET of `path`. */
  corrupt?: { path: string; times: number }
  /** Pause between body chunks of every GET of `path`, so a download lasts long enough for another to overlap it. */
  slow?: { path: string; chunkDelayMs: number }
}

export interface HubServer {
  url: string
  requests: HubRequest[]
  faults: HubFaults
  /** GETs of file bytes (resolve/ and cdn/), optionally for one repo file. */
  fileGets(pathSuffix?: string): HubRequest[]
  commitOf(repo: string): string
  close(): Promise<void>
}

interface ServedFile {
  spec: HubFileSpec
  size: number
  sha256: string
  gitOid: string
}

interface ServedRepo {
  spec: HubRepoSpec
  commit: string
  files: ServedFile[]
}

const LFS_POINTER_SIZE = 134

function sha1(data: string | Uint8Array): string {
  return createHash('sha1').update(data).digest('hex')
}

async function sha256Of(spec: HubFileSpec): Promise<string> {
  if (spec.sha256) return spec.sha256
  const h = createHash('sha256')
  if (spec.content) h.update(spec.content)
  else for await (const chunk of createReadStream(spec.localPath as string)) h.update(chunk as Buffer)
  return h.digest('hex')
}

async function prepare(spec: HubRepoSpec): Promise<ServedRepo> {
  const files: ServedFile[] = []
  for (const f of spec.files) {
    const size = f.content ? f.content.length : (await stat(f.localPath as string)).size
    const sha256 = await sha256Of(f)
    // Git's oid: of the content for git files, of the LFS pointer file for LFS files (as on the Hub).
    const pointer = `version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${size}\n`
    const gitOid = f.git && f.content ? sha1(Buffer.concat([Buffer.from(`blob ${size}\0`), f.content])) : sha1(`blob ${pointer.length}\0${pointer}`)
    files.push({ spec: f, size, sha256, gitOid })
  }
  return { spec, commit: spec.commit ?? sha1(`commit ${spec.repo}`), files }
}

export async function startHubServer(opts: { repos: HubRepoSpec[]; token?: string }): Promise<HubServer> {
  const repos = new Map<string, ServedRepo>()
  for (const r of opts.repos) repos.set(r.repo, await prepare(r))
  const requests: HubRequest[] = []
  const faults: HubFaults = {}

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const record: HubRequest = {
      method: req.method ?? 'GET',
      path: url.pathname + url.search,
      range: req.headers.range ?? null,
      authorized: req.headers.authorization === `Bearer ${opts.token}`,
      status: 0
    }
    requests.push(record)
    res.on('finish', () => (record.status = res.statusCode))
    res.on('close', () => (record.status ||= res.statusCode))
    handle(req, res, url, record).catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, { error: String(err) })
      else res.destroy()
    })
  })

  async function handle(req: IncomingMessage, res: ServerResponse, url: URL, record: HubRequest): Promise<void> {
    const parts = url.pathname.split('/').slice(1).map(decodeURIComponent)
    if (parts[0] === 'cdn' || parts[0] === 'static') return serveBytes(req, res, parts)
    const isApi = parts[0] === 'api' && parts[1] === 'models'
    const repoId = isApi ? `${parts[2]}/${parts[3]}` : `${parts[0]}/${parts[1]}`
    const repo = repos.get(repoId)
    if (!repo || (repo.spec.private && !record.authorized)) {
      // The Hub answers 401 for both "no such repo" and "private, no token", so as not to reveal which.
      res.setHeader('x-error-code', 'RepoNotFound')
      return json(res, 401, { error: 'Repository not found' })
    }
    if (isApi) return serveApi(res, url, repo, parts.slice(4))
    if (parts[2] === 'resolve') return serveResolve(res, repo, parts[3] as string, parts.slice(4).join('/'))
    json(res, 404, { error: 'not found' })
  }

  function revisionCommit(repo: ServedRepo, rev: string): string | null {
    return rev === 'main' || rev === 'HEAD' || rev === repo.commit ? repo.commit : null
  }

  function serveApi(res: ServerResponse, url: URL, repo: ServedRepo, rest: string[]): void {
    if (rest.length === 0 || rest[0] === 'revision') {
      const commit = revisionCommit(repo, rest[1] ?? 'main')
      if (!commit) return revisionNotFound(res, rest[1] as string)
      return json(res, 200, {
        _id: sha1(repo.spec.repo).slice(0, 24),
        id: repo.spec.repo,
        sha: commit,
        private: !!repo.spec.private,
        gated: false,
        downloads: 0,
        likes: 0,
        lastModified: '2026-01-01T00:00:00.000Z',
        siblings: repo.files.map((f) => ({ rfilename: f.spec.path }))
      })
    }
    if (rest[0] === 'refs') {
      return json(res, 200, { branches: [{ name: 'main', ref: 'refs/heads/main', targetCommit: repo.commit }], tags: [], converts: [] })
    }
    if (rest[0] === 'tree') {
      const commit = revisionCommit(repo, rest[1] ?? 'main')
      if (!commit) return revisionNotFound(res, rest[1] as string)
      const base = rest.slice(2).join('/')
      const recursive = url.searchParams.get('recursive') === 'true'
      return json(res, 200, treeEntries(repo, base, recursive))
    }
    json(res, 404, { error: 'not found' })
  }

  function treeEntries(repo: ServedRepo, base: string, recursive: boolean): unknown[] {
    const prefix = base ? `${base}/` : ''
    const dirs = new Set<string>()
    const entries: unknown[] = []
    for (const f of [...repo.files].sort((a, b) => a.spec.path.localeCompare(b.spec.path))) {
      if (!f.spec.path.startsWith(prefix)) continue
      const rel = f.spec.path.slice(prefix.length)
      const slash = rel.indexOf('/')
      if (slash >= 0) {
        const dir = prefix + rel.slice(0, slash)
        if (!dirs.has(dir)) entries.push({ type: 'directory', oid: sha1(dir), size: 0, path: dir })
        dirs.add(dir)
        if (!recursive) continue
      }
      entries.push({
        type: 'file',
        oid: f.gitOid,
        size: f.spec.git ? f.size : LFS_POINTER_SIZE,
        path: f.spec.path,
        ...(f.spec.git ? {} : { lfs: { oid: f.sha256, size: f.size, pointerSize: LFS_POINTER_SIZE } })
      })
    }
    return entries
  }

  function serveResolve(res: ServerResponse, repo: ServedRepo, rev: string, path: string): void {
    const commit = revisionCommit(repo, rev)
    const file = repo.files.find((f) => f.spec.path === path)
    if (!commit) return revisionNotFound(res, rev)
    if (!file) {
      res.setHeader('x-error-code', 'EntryNotFound')
      return json(res, 404, { error: 'Entry not found' })
    }
    res.setHeader('x-repo-commit', commit)
    res.setHeader('etag', `"${file.spec.git ? file.gitOid : file.sha256}"`)
    if (file.spec.git) {
      res.writeHead(200, { 'content-length': file.size })
      res.end(file.spec.content)
      return
    }
    res.setHeader('x-linked-etag', `"${file.sha256}"`)
    res.setHeader('x-linked-size', String(file.size))
    res.writeHead(302, { location: `/cdn/${repo.spec.repo.replace('/', '--')}/${file.sha256}?expires=4102444800`, 'content-length': 0 })
    res.end()
  }

  function serveBytes(req: IncomingMessage, res: ServerResponse, parts: string[]): void {
    // /cdn/<owner--name>/<sha256> is where resolve/ redirects; /static/<owner--name>/<path> is a plain file server.
    const repo = repos.get((parts[1] ?? '').replace('--', '/'))
    const key = parts.slice(2).join('/')
    const file = repo?.files.find((f) => (parts[0] === 'cdn' ? f.sha256 === key : f.spec.path === key))
    if (!repo || !file) return json(res, 404, { error: 'no such object' })
    let start = 0
    let end = file.size - 1
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '')
    if (range) {
      start = Number(range[1])
      end = range[2] ? Math.min(Number(range[2]), file.size - 1) : file.size - 1
      if (start >= file.size) {
        res.writeHead(416, { 'content-range': `bytes */${file.size}` })
        res.end()
        return
      }
    }
    const headers = {
      'accept-ranges': 'bytes',
      etag: `"${file.sha256}"`,
      'content-length': end - start + 1,
      'content-type': 'application/octet-stream',
      ...(range ? { 'content-range': `bytes ${start}-${end}/${file.size}` } : {})
    }
    res.writeHead(range ? 206 : 200, headers)
    if (req.method === 'HEAD') return void res.end()
    const drop = faults.drop && file.spec.path.endsWith(faults.drop.path) && faults.drop.times > 0 ? faults.drop : null
    if (drop) drop.times--
    const corrupt = faults.corrupt && file.spec.path.endsWith(faults.corrupt.path) && faults.corrupt.times > 0 && start === 0 ? faults.corrupt : null
    if (corrupt) corrupt.times--
    const slow = faults.slow && file.spec.path.endsWith(faults.slow.path) ? faults.slow : null
    let sent = 0
    const stream = file.spec.content
      ? [Buffer.from(file.spec.content.subarray(start, end + 1))]
      : createReadStream(file.spec.localPath as string, { start, end })
    void (async () => {
      for await (const c of stream) {
        let chunk = Buffer.from(c as Buffer)
        if (corrupt && sent === 0 && chunk.length > 0) {
          chunk = Buffer.from(chunk)
          chunk[chunk.length - 1] = (chunk[chunk.length - 1] as number) ^ 0xff
        }
        if (drop && sent + chunk.length > drop.afterBytes) {
          res.write(chunk.subarray(0, drop.afterBytes - sent))
          // Let the bytes leave before the connection dies, as a real mid-transfer drop would.
          await new Promise((r) => setTimeout(r, 20))
          res.socket?.destroy()
          return
        }
        if (!res.write(chunk)) await new Promise((r) => res.once('drain', r))
        sent += chunk.length
        if (slow) await new Promise((r) => setTimeout(r, slow.chunkDelayMs))
        if (res.destroyed) return
      }
      res.end()
    })().catch(() => res.destroy())
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    faults,
    fileGets(pathSuffix?: string) {
      return requests.filter((r) => {
        if (r.method !== 'GET' || !/^\/(cdn|static)\/|\/resolve\//.test(r.path)) return false
        if (!pathSuffix) return true
        if (!r.path.startsWith('/cdn/')) return r.path.split('?')[0]!.endsWith(pathSuffix)
        const sha = r.path.split('/')[3]?.split('?')[0]
        return [...repos.values()].some((repo) => repo.files.some((f) => f.sha256 === sha && f.spec.path.endsWith(pathSuffix)))
      })
    },
    commitOf(repo: string) {
      return (repos.get(repo) as ServedRepo).commit
    },
    close() {
      server.closeAllConnections()
      return new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())))
    }
  }
}

function revisionNotFound(res: ServerResponse, rev: string): void {
  res.setHeader('x-error-code', 'RevisionNotFound')
  json(res, 404, { error: `Invalid rev id: ${rev}` })
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}
