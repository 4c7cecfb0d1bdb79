// A local stand-in for the GitHub REST endpoints of issue comments, on 127.0.0.1:
//   GET   /repos/:owner/:repo/issues/:n/comments?per_page&page   a page, with Link rel="next"/"last" like GitHub
//   POST  /repos/:owner/:repo/issues/:n/comments                 create
//   PATCH /repos/:owner/:repo/issues/comments/:id                update
// `forbidden` answers every call with 403 as GitHub does for a fork pull request's read-only token.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface StoredComment {
  id: number
  issue: number
  body: string
}

export interface CommentsServer {
  baseUrl: string
  comments: StoredComment[]
  requests: string[]
  forbidden: boolean
  close(): Promise<void>
}

const DEFAULT_PER_PAGE = 30

export async function startCommentsServer(seed: Omit<StoredComment, 'id'>[] = []): Promise<CommentsServer> {
  let nextId = 1000
  const state: Omit<CommentsServer, 'baseUrl' | 'close'> = {
    comments: seed.map((c) => ({ ...c, id: nextId++ })),
    requests: [],
    forbidden: false
  }
  const server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => send(res, 500, { message: String(err) }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', baseUrl)
    state.requests.push(`${req.method} ${url.pathname}${url.search}`)
    const body = await readBody(req)
    if (state.forbidden) return send(res, 403, { message: 'Resource not accessible by integration', status: '403' })
    let m = /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/comments$/.exec(url.pathname)
    if (m && req.method === 'GET') {
      const issue = Number(m[1])
      const perPage = Number(url.searchParams.get('per_page') ?? DEFAULT_PER_PAGE)
      const page = Number(url.searchParams.get('page') ?? 1)
      const all = state.comments.filter((c) => c.issue === issue)
      const last = Math.max(1, Math.ceil(all.length / perPage))
      const links: string[] = []
      const pageUrl = (p: number): string => {
        const u = new URL(url.href)
        u.searchParams.set('page', String(p))
        u.searchParams.set('per_page', String(perPage))
        return u.href
      }
      if (page < last) links.push(`<${pageUrl(page + 1)}>; rel="next"`, `<${pageUrl(last)}>; rel="last"`)
      if (page > 1) links.push(`<${pageUrl(1)}>; rel="first"`, `<${pageUrl(page - 1)}>; rel="prev"`)
      const items = all.slice((page - 1) * perPage, page * perPage).map((c) => view(c))
      return send(res, 200, items, links.length ? { link: links.join(', ') } : {})
    }
    if (m && req.method === 'POST') {
      const comment = { id: nextId++, issue: Number(m[1]), body: String(JSON.parse(body).body) }
      state.comments.push(comment)
      return send(res, 201, view(comment))
    }
    m = /^\/repos\/[^/]+\/[^/]+\/issues\/comments\/(\d+)$/.exec(url.pathname)
    if (m && req.method === 'PATCH') {
      const comment = state.comments.find((c) => c.id === Number(m?.[1]))
      if (!comment) return send(res, 404, { message: 'Not Found' })
      comment.body = String(JSON.parse(body).body)
      return send(res, 200, view(comment))
    }
    send(res, 404, { message: 'Not Found' })
  }

  function view(c: StoredComment): Record<string, unknown> {
    return { id: c.id, body: c.body, html_url: `${baseUrl}/comments/${c.id}`, user: { login: 'github-actions[bot]' } }
  }

  return Object.assign(state, {
    baseUrl,
    close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())))
  })
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers })
  res.end(JSON.stringify(body))
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
