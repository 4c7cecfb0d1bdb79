// The downloader against small real servers that misbehave: stalls, server errors, refusals.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { downloadVerified, type DownloadRequest } from '../../src/models/download.js'

const BODY = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31) % 251))
const SHA = createHash('sha256').update(BODY).digest('hex')

let dir: string
let server: Server | null = null
let seen: { range: string | null; auth: string | null }[]

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mfg-dl-'))
  seen = []
})

afterEach(async () => {
  if (server) {
    server.closeAllConnections()
    await new Promise((r) => server?.close(r))
    server = null
  }
  await rm(dir, { recursive: true, force: true })
})

/** Serves BODY with Range support; `misbehave` may take over a request (return true when it answered). */
async function serve(misbehave: (n: number, req: IncomingMessage, res: ServerResponse) => boolean): Promise<string> {
  server = createServer((req, res) => {
    seen.push({ range: req.headers.range ?? null, auth: req.headers.authorization ?? null })
    if (misbehave(seen.length, req, res)) return
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '')
    const start = m ? Number(m[1]) : 0
    res.writeHead(m ? 206 : 200, {
      'content-length': BODY.length - start,
      ...(m ? { 'content-range': `bytes ${start}-${BODY.length - 1}/${BODY.length}` } : {})
    })
    res.end(BODY.subarray(start))
  })
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/m.gguf`
}

function request(url: string, logs: string[], extra: Partial<DownloadRequest> = {}): DownloadRequest {
  return {
    url,
    dest: join(dir, 'blobs', SHA),
    label: 'm.gguf',
    expectedSize: BODY.length,
    expectedSha256: SHA,
    log: (l) => logs.push(l),
    retry: { maxRetries: 2, baseDelayMs: 5, maxDelayMs: 10 },
    ...extra
  }
}

describe('downloadVerified', () => {
  it('drops a stalled connection and resumes where it stopped', async () => {
    const url = await serve((n, _req, res) => {
      if (n !== 1) return false
      res.writeHead(200, { 'content-length': BODY.length })
      res.write(BODY.subarray(0, 1000)) // then nothing more: a stall
      return true
    })
    const logs: string[] = []
    const out = await downloadVerified(request(url, logs, { stallTimeoutMs: 300 }))
    expect(out).toEqual({ path: join(dir, 'blobs', SHA), bytes: BODY.length, downloaded: true })
    expect((await readFile(out.path)).equals(BODY)).toBe(true)
    expect(seen.map((s) => s.range)).toEqual([null, 'bytes=1000-'])
    expect(logs.some((l) => /no data .* for 0 s|connection lost at 1000 bytes/.test(l))).toBe(true)
  })

  it('retries server errors with backoff, then gives up without leaving a file', async () => {
    const url = await serve((_n, _req, res) => {
      res.writeHead(503).end()
      return true
    })
    const logs: string[] = []
    await expect(downloadVerified(request(url, logs))).rejects.toThrow(/download failed after 2 retries: .*HTTP 503/)
    expect(seen).toHaveLength(3)
    expect(await readdir(join(dir, 'blobs'))).toEqual([])
  })

  it('does not retry a refusal, and sends the token only to its own origin', async () => {
    const url = await serve((_n, _req, res) => {
      res.writeHead(401).end()
      return true
    })
    await expect(downloadVerified(request(url, [], { token: 'hf_x' }))).rejects.toThrow(/HTTP 401/)
    expect(seen).toEqual([{ range: null, auth: 'Bearer hf_x' }])
  })

  it('resumes a partial file left by an earlier run and hashes it in', async () => {
    const url = await serve(() => false)
    const { mkdir, writeFile } = await import('node:fs/promises')
    await mkdir(join(dir, 'blobs'), { recursive: true })
    await writeFile(join(dir, 'blobs', `${SHA}.incomplete`), BODY.subarray(0, 123_456))
    const logs: string[] = []
    const out = await downloadVerified(request(url, logs))
    expect((await readFile(out.path)).equals(BODY)).toBe(true)
    expect(seen.map((s) => s.range)).toEqual(['bytes=123456-'])
    expect(logs[0]).toBe('m.gguf: resuming at 123456 bytes')
    expect(await readdir(join(dir, 'blobs'))).toEqual([SHA])
  })
})
