// Hub resolution and downloads against a local Hub (test/helpers/hub-server.ts) serving real synthetic GGUFs.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { mkdtemp, readFile, readdir, readlink, lstat, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { writeSyntheticGguf } from '../../src/gguf/writer.js'
import { parseManifest, parseModelArg } from '../../src/models/manifest.js'
import { resolveModels, type ResolveOptions } from '../../src/models/resolve.js'
import { InputError } from '../../src/util/errors.js'
import { startHubServer, type HubServer } from '../helpers/hub-server.js'

const TOKEN = 'hf_testtoken0123456789'
const FAST_RETRY = { maxRetries: 3, baseDelayMs: 5, maxDelayMs: 20 }
const SPEC = { architecture: 'llama' as const, layers: 1, embeddingLength: 64, feedForwardLength: 128, heads: 4, kvHeads: 2, vocabSize: 512, contextLength: 256 }
const DROP_AFTER_BYTES = 100_000

let dir: string
let hub: HubServer
let files: Record<string, Buffer>

async function allFiles(root: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(root, { withFileTypes: true, recursive: true })) out.push(join(e.parentPath, e.name))
  return out
}

/** A URL nothing listens on: a port we bound and released. */
async function closedPortUrl(): Promise<string> {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  await new Promise((r) => server.close(r))
  return `http://127.0.0.1:${port}`
}

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex')
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mfg-hub-'))
  const src = join(dir, 'src')
  files = {}
  for (const [name, seed] of [['tiny-Q4_K_M.gguf', 1], ['tiny-Q8_0.gguf', 2], ['mmproj-tiny-F16.gguf', 3], ['big-Q2_K-00001-of-00002.gguf', 4], ['big-Q2_K-00002-of-00002.gguf', 5]] as const) {
    await writeSyntheticGguf({ ...SPEC, seed }, join(src, name))
    files[name] = await readFile(join(src, name))
  }
  const lfs = (path: string, name = path) => ({ path, localPath: join(src, name) })
  hub = await startHubServer({
    token: TOKEN,
    repos: [
      {
        repo: 'test-org/Tiny-GGUF',
        files: [
          { path: 'README.md', content: Buffer.from('# tiny\n'), git: true },
          lfs('mmproj-tiny-F16.gguf'),
          lfs('tiny-Q4_K_M.gguf'),
          lfs('tiny-Q8_0.gguf'),
          lfs('Q2_K/big-Q2_K-00001-of-00002.gguf', 'big-Q2_K-00001-of-00002.gguf'),
          lfs('Q2_K/big-Q2_K-00002-of-00002.gguf', 'big-Q2_K-00002-of-00002.gguf')
        ]
      },
      { repo: 'test-org/Private-GGUF', private: true, files: [lfs('tiny-Q8_0.gguf')] },
      { repo: 'test-org/Liar-GGUF', files: [{ ...lfs('tiny-Q8_0.gguf'), sha256: 'ab'.repeat(32) }] },
      { repo: 'test-org/Flaky-GGUF', files: [lfs('tiny-Q8_0.gguf')] }
    ]
  })
})

afterAll(async () => {
  await hub.close()
  await rm(dir, { recursive: true, force: true })
})

let cacheDir: string
let logs: string[]
beforeEach(async () => {
  cacheDir = await mkdtemp(join(dir, 'cache-'))
  logs = []
  hub.faults.drop = undefined
  hub.faults.corrupt = undefined
})

function opts(extra: Partial<ResolveOptions> = {}): ResolveOptions {
  return { cacheDir, endpoint: hub.url, log: (l) => logs.push(l), retry: FAST_RETRY, ...extra }
}

const manifest = (text: string) => parseManifest(text, 'corpus.txt', dir)

describe('resolveModels with Hub refs', () => {
  it('downloads the quant llama -hf would pick into the shared cache layout, then reuses it without a GET', async () => {
    const [model] = await resolveModels(manifest('test-org/Tiny-GGUF:q8_0'), opts())
    const commit = hub.commitOf('test-org/Tiny-GGUF')
    const repoDir = join(cacheDir, 'models--test-org--Tiny-GGUF')
    const blobId = sha256(files['tiny-Q8_0.gguf'] as Buffer)
    expect(model).toEqual({ ref: 'test-org/Tiny-GGUF:q8_0', paths: [join(repoDir, 'snapshots', commit, 'tiny-Q8_0.gguf')] })
    const link = (model as { paths: string[] }).paths[0] as string
    expect((await lstat(link)).isSymbolicLink()).toBe(true)
    expect(await readlink(link)).toBe(`../../blobs/${blobId}`)
    expect((await readFile(link)).equals(files['tiny-Q8_0.gguf'] as Buffer)).toBe(true)
    expect((await readFile(join(repoDir, 'refs', 'main'), 'utf8')).trim()).toBe(commit)
    expect((await allFiles(repoDir)).filter((p) => /\.incomplete$|\.lock$|\.tmp$/.test(p))).toEqual([])
    // The download lock sat beside huggingface_hub's (.locks/<repo folder>/) and is gone.
    expect(await readdir(join(cacheDir, '.locks', 'models--test-org--Tiny-GGUF'))).toEqual([])

    const getsBefore = hub.fileGets().length
    expect(getsBefore).toBeGreaterThan(0)
    const again = await resolveModels(manifest('test-org/Tiny-GGUF:Q8_0'), opts())
    expect(again[0]?.paths).toEqual(model?.paths)
    expect(hub.fileGets().length).toBe(getsBefore)
    expect(logs.some((l) => l.includes('tiny-Q8_0.gguf: cached'))).toBe(true)
  })

  it('picks Q4_K_M without a tag and collects every shard of a split model from its folder', async () => {
    const [plain, split] = await resolveModels(manifest('test-org/Tiny-GGUF\ntest-org/Tiny-GGUF:Q2_K'), opts())
    expect(plain?.paths.map((p) => p.split('/').pop())).toEqual(['tiny-Q4_K_M.gguf'])
    expect(split?.paths.map((p) => p.split('/snapshots/')[1]?.slice(41))).toEqual([
      'Q2_K/big-Q2_K-00001-of-00002.gguf',
      'Q2_K/big-Q2_K-00002-of-00002.gguf'
    ])
    expect((await readFile(split?.paths[1] as string)).equals(files['big-Q2_K-00002-of-00002.gguf'] as Buffer)).toBe(true)
    expect(hub.fileGets('mmproj-tiny-F16.gguf')).toEqual([])
  })

  it('resumes a dropped connection with a Range request from the bytes already written', async () => {
    hub.faults.drop = { path: 'tiny-Q8_0.gguf', afterBytes: DROP_AFTER_BYTES, times: 1 }
    const before = hub.requests.length
    const [model] = await resolveModels(manifest('test-org/Flaky-GGUF:Q8_0'), opts())
    expect((await readFile(model?.paths[0] as string)).equals(files['tiny-Q8_0.gguf'] as Buffer)).toBe(true)
    const cdnGets = hub.requests.slice(before).filter((r) => r.method === 'GET' && r.path.startsWith('/cdn/'))
    expect(cdnGets).toHaveLength(2)
    expect(cdnGets[0]?.range).toBeNull()
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(cdnGets[1]?.range ?? '')?.[1])
    expect(resumedAt).toBeGreaterThan(0)
    expect(resumedAt).toBeLessThanOrEqual(DROP_AFTER_BYTES)
    expect(cdnGets[1]?.status).toBe(206)
    expect(logs.some((l) => l.includes('connection lost'))).toBe(true)
  })

  it('downloads a corrupted transfer again, and verifies the sha256 before anything reaches the cache', async () => {
    hub.faults.corrupt = { path: 'tiny-Q8_0.gguf', times: 1 }
    const [model] = await resolveModels(manifest('test-org/Flaky-GGUF:Q8_0'), opts())
    expect((await readFile(model?.paths[0] as string)).equals(files['tiny-Q8_0.gguf'] as Buffer)).toBe(true)
    expect(logs.some((l) => l.includes('does not match the expected'))).toBe(true)
  })

  it('fails on a checksum that never matches and leaves no blob, partial or link behind', async () => {
    await expect(resolveModels(manifest('test-org/Liar-GGUF:Q8_0'), opts())).rejects.toThrow(/sha256 [0-9a-f]{64} does not match the expected abab/)
    const left = await allFiles(join(cacheDir, 'models--test-org--Liar-GGUF'))
    expect(left.filter((p) => p.includes('/blobs/') || p.includes('/snapshots/'))).toEqual([])
  })

  it('says a token is needed for a private repo, naming the manifest line, and works with one', async () => {
    const refs = manifest('# private\ntest-org/Private-GGUF:Q8_0')
    const err = await resolveModels(refs, opts()).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InputError)
    expect((err as InputError).source).toBe('corpus.txt')
    expect((err as InputError).where).toBe('line 2')
    expect((err as InputError).message).toMatch(/HTTP 401.*hf-token or HF_TOKEN/)

    await expect(resolveModels(refs, opts({ token: 'ghp_notahubtoken' }))).rejects.toThrow(/^hf-token: a Hugging Face token starts with "hf_"$/)
    const [model] = await resolveModels(refs, opts({ token: TOKEN }))
    expect((await readFile(model?.paths[0] as string)).length).toBe(files['tiny-Q8_0.gguf']?.length)
    // The token is sent, but never written anywhere: not in the log, not in any cache file but the model bytes.
    expect(hub.requests.some((r) => r.authorized)).toBe(true)
    expect(logs.join('\n')).not.toContain(TOKEN)
    for (const p of await allFiles(cacheDir)) {
      if ((await lstat(p)).isFile()) expect((await readFile(p)).includes(TOKEN)).toBe(false)
    }
  })

  it('lists the tags a repo has when the asked one is missing', async () => {
    await expect(resolveModels(manifest('\n\ntest-org/Tiny-GGUF:IQ1_S'), opts())).rejects.toThrow(
      /corpus\.txt: line 3: .*has no GGUF with the tag "IQ1_S"; tags it has: Q2_K, Q4_K_M, Q8_0/
    )
  })

  it('lets concurrent resolutions of one model share a single download', async () => {
    const before = hub.fileGets('tiny-Q8_0.gguf').length
    const [a, b] = await Promise.all([
      resolveModels(manifest('test-org/Tiny-GGUF:Q8_0'), opts()),
      resolveModels(manifest('test-org/Tiny-GGUF:Q8_0'), opts())
    ])
    expect(a[0]?.paths).toEqual(b[0]?.paths)
    expect((await readFile(a[0]?.paths[0] as string)).equals(files['tiny-Q8_0.gguf'] as Buffer)).toBe(true)
    // Each GET of the bytes is a resolve/ hop plus a CDN hop.
    expect(hub.fileGets('tiny-Q8_0.gguf').length - before).toBe(2)
  })

  it('uses the cached snapshot when the Hub is unreachable, and asks nothing for a cached commit', async () => {
    const [online] = await resolveModels(manifest('test-org/Tiny-GGUF:Q8_0'), opts())
    const offline = await resolveModels(manifest('test-org/Tiny-GGUF:Q8_0'), opts({ endpoint: await closedPortUrl() }))
    expect(offline[0]?.paths).toEqual(online?.paths)
    expect(logs.some((l) => l.includes('unreachable'))).toBe(true)

    const commit = hub.commitOf('test-org/Tiny-GGUF')
    const before = hub.requests.length
    const pinned = await resolveModels(manifest(`test-org/Tiny-GGUF:Q8_0@${commit}`), opts())
    expect(pinned[0]?.paths).toEqual(online?.paths)
    expect(hub.requests.length).toBe(before)
  })

  it('downloads Hub file URLs into the Hub cache and other URLs once into url-downloads/', async () => {
    const hubUrl = parseModelArg(`${hub.url}/test-org/Tiny-GGUF/resolve/main/tiny-Q4_K_M.gguf`, dir)
    const plain = parseModelArg(`${hub.url}/static/test-org--Tiny-GGUF/tiny-Q8_0.gguf`, dir)
    const [h, p] = await resolveModels([hubUrl, plain], opts())
    expect(h?.paths[0]).toBe(join(cacheDir, 'models--test-org--Tiny-GGUF', 'snapshots', hub.commitOf('test-org/Tiny-GGUF'), 'tiny-Q4_K_M.gguf'))
    expect(p?.paths[0]).toMatch(new RegExp(`^${cacheDir}/url-downloads/[0-9a-f]{16}/tiny-Q8_0.gguf$`))
    expect((await readFile(p?.paths[0] as string)).equals(files['tiny-Q8_0.gguf'] as Buffer)).toBe(true)
    const gets = hub.fileGets().length
    await resolveModels([plain], opts())
    expect(hub.fileGets().length).toBe(gets)
  })
})

describe('resolveModels with local refs', () => {
  it('checks the files exist (all shards of a split model) and names the manifest line when one does not', async () => {
    const local = join(dir, 'local')
    await writeFile(join(dir, 'm-00001-of-00002.gguf'), 'x')
    await writeFile(join(dir, 'm-00002-of-00002.gguf'), 'x')
    const [split] = await resolveModels(manifest('ref=split,path=m-00001-of-00002.gguf'), opts())
    expect(split).toEqual({ ref: 'split', paths: [join(dir, 'm-00001-of-00002.gguf'), join(dir, 'm-00002-of-00002.gguf')] })
    await expect(resolveModels(manifest(`# a\n${local}/missing.gguf`), opts())).rejects.toThrow(`corpus.txt: line 2: model file not found: ${local}/missing.gguf`)
  })
})
