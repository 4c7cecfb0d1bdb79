// Header-only reads of remote GGUFs: the Range byte source and profileRemote against the local Hub,
// with multi-GB models that exist only as sparse files (the header is real, the weights are a hole).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import { mkdtemp, open, readFile, rm, stat } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeGgufHeader } from '../../src/gguf/encode.js'
import { GgufValueType, type GgufKv } from '../../src/gguf/format.js'
import { readGgufHeader } from '../../src/gguf/reader.js'
import { syntheticLayout, writeSyntheticGguf } from '../../src/gguf/writer.js'
import { HttpByteSource, RANGE_BLOCK_BYTES } from '../../src/models/http-source.js'
import { parseModelArg } from '../../src/models/manifest.js'
import { profileRemote } from '../../src/models/remote-profile.js'
import { InputError } from '../../src/util/errors.js'
import { startHubServer, type HubServer } from '../helpers/hub-server.js'

/** "A few MB at most, whatever the file size." */
const MAX_HEADER_READ_BYTES = 4 << 20
const TOKEN = 'hf_remote0123456789'
// Llama-3-8B-like geometry: 32 layers, 4096 wide, GQA 32/8, 32k vocab — about 15 GB at F16.
const BIG = { architecture: 'llama' as const, layers: 32, embeddingLength: 4096, feedForwardLength: 14336, heads: 32, kvHeads: 8, vocabSize: 32000, contextLength: 8192, seed: 7 }
/** Sparse files are not hashed (that would read 15 GB of zeros): each gets a stand-in oid of its own. */
const fakeSha = (name: string) => createHash('sha256').update(`sparse:${name}`).digest('hex')
const FAKE_SHA = fakeSha('big-F16.gguf')

let dir: string
let hub: HubServer
let smallPath: string

/** Writes the real header of a model and leaves its weights as a hole: a file of full size that costs no disk. */
async function writeSparseGguf(path: string, metadata: GgufKv[], tensors: ReturnType<typeof syntheticLayout>['tensors'], alignment: number): Promise<number> {
  const header = encodeGgufHeader(metadata, tensors, alignment)
  const fh = await open(path, 'w')
  try {
    await fh.write(header.bytes)
    await fh.truncate(header.bytes.length + header.dataBytes)
  } finally {
    await fh.close()
  }
  return header.bytes.length + header.dataBytes
}

function splitKeys(no: number, count: number, tensors: number): GgufKv[] {
  return [
    { key: 'split.no', type: GgufValueType.UINT16, value: no },
    { key: 'split.count', type: GgufValueType.UINT16, value: count },
    { key: 'split.tensors.count', type: GgufValueType.INT32, value: tensors }
  ]
}

let bigBytes = 0
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mfg-remote-'))
  const layout = syntheticLayout(BIG)
  bigBytes = await writeSparseGguf(join(dir, 'big-F16.gguf'), layout.metadata, layout.tensors, layout.alignment)
  // The same model as gguf-split would cut it: metadata in shard 1, split.* keys in both, tensors divided.
  const half = Math.ceil(layout.tensors.length / 2)
  const n = layout.tensors.length
  await writeSparseGguf(join(dir, 's1.gguf'), [...layout.metadata, ...splitKeys(0, 2, n)], layout.tensors.slice(0, half), layout.alignment)
  await writeSparseGguf(join(dir, 's2.gguf'), splitKeys(1, 2, n), layout.tensors.slice(half), layout.alignment)
  smallPath = join(dir, 'small.gguf')
  await writeSyntheticGguf({ ...BIG, layers: 2, embeddingLength: 256, feedForwardLength: 512, heads: 4, kvHeads: 2, vocabSize: 2000 }, smallPath)
  const sparse = (path: string, name: string) => ({ path, localPath: join(dir, name), sha256: fakeSha(name) })
  hub = await startHubServer({
    token: TOKEN,
    repos: [
      { repo: 'test-org/Big-GGUF', files: [sparse('big-F16.gguf', 'big-F16.gguf')] },
      {
        repo: 'test-org/Split-GGUF',
        files: [sparse('F16/big-F16-00001-of-00002.gguf', 's1.gguf'), sparse('F16/big-F16-00002-of-00002.gguf', 's2.gguf')]
      },
      { repo: 'test-org/Gated-GGUF', private: true, files: [sparse('big-F16.gguf', 'big-F16.gguf')] },
      { repo: 'test-org/Small-GGUF', files: [{ path: 'small.gguf', localPath: smallPath }] }
    ]
  })
})

afterAll(async () => {
  await hub.close()
  await rm(dir, { recursive: true, force: true })
})

describe('HttpByteSource', () => {
  it('returns the same bytes as the file, fetching whole blocks once', async () => {
    const bytes = await readFile(smallPath)
    const src = new HttpByteSource(`${hub.url}/static/test-org--Small-GGUF/small.gguf`)
    const before = hub.requests.length
    expect(Buffer.from(await src.read(10, 100)).equals(bytes.subarray(10, 110))).toBe(true)
    expect(Buffer.from(await src.read(200, 300)).equals(bytes.subarray(200, 500))).toBe(true)
    expect(hub.requests.length - before).toBe(1)
    expect(hub.requests.at(-1)?.range).toBe(`bytes=0-${RANGE_BLOCK_BYTES - 1}`)
    // The size came with the first ranged answer: no HEAD.
    expect(await src.size()).toBe(bytes.length)
    expect(hub.requests.length - before).toBe(1)
    const across = RANGE_BLOCK_BYTES - 50
    expect(Buffer.from(await src.read(across, 100)).equals(bytes.subarray(across, across + 100))).toBe(true)
    expect(src.bytesRead()).toBe(Math.min(bytes.length, 2 * RANGE_BLOCK_BYTES))
    await expect(src.read(bytes.length - 10, 11)).rejects.toThrow(/runs past the end/)
  })

  it('follows the Hub redirect for HEAD and reuses the CDN URL for later reads', async () => {
    const commit = hub.commitOf('test-org/Big-GGUF')
    const src = new HttpByteSource(`${hub.url}/test-org/Big-GGUF/resolve/${commit}/big-F16.gguf`)
    expect(await src.size()).toBe(bigBytes)
    const before = hub.requests.length
    await src.read(0, 16)
    await src.read(5 * RANGE_BLOCK_BYTES, 16)
    const paths = hub.requests.slice(before).map((r) => r.path.split('?')[0])
    expect(paths).toEqual([`/test-org/Big-GGUF/resolve/${commit}/big-F16.gguf`, `/cdn/test-org--Big-GGUF/${FAKE_SHA}`, `/cdn/test-org--Big-GGUF/${FAKE_SHA}`])
  })

  it('reads only what it needs from a server that ignores Range', async () => {
    const big = Buffer.alloc(8 << 20, 7)
    const server: Server = createServer((req, res) => {
      res.writeHead(200, { 'content-length': big.length })
      if (req.method === 'HEAD') return void res.end()
      res.end(big)
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    try {
      const src = new HttpByteSource(`http://127.0.0.1:${(server.address() as AddressInfo).port}/m.gguf`)
      expect(Buffer.from(await src.read(4, 4)).equals(big.subarray(4, 8))).toBe(true)
      expect(src.bytesRead()).toBeLessThan(2 * RANGE_BLOCK_BYTES)
    } finally {
      server.closeAllConnections()
      await new Promise((r) => server.close(r))
    }
  })
})

describe('profileRemote', () => {
  it('profiles a 15 GB Hub model from a few MB of its header', async () => {
    expect((await stat(join(dir, 'big-F16.gguf'))).size).toBeGreaterThan(10e9)
    const before = hub.requests.length
    const { profile, bytesRead } = await profileRemote(parseModelArg('test-org/Big-GGUF:F16', dir) as never, { endpoint: hub.url })
    expect(profile).toMatchObject({ architecture: 'llama', layers: 32, embedding_length: 4096, heads: 32, kv_heads: 8, vocab_size: 32000, shards: 1, file_bytes: bigBytes })
    expect(profile.param_count).toBeGreaterThan(7e9)
    expect(bytesRead).toBeLessThan(MAX_HEADER_READ_BYTES)
    // Every byte request was ranged: nothing streamed the file.
    const byteGets = hub.requests.slice(before).filter((r) => r.method === 'GET' && r.path.startsWith('/cdn/'))
    expect(byteGets.length).toBeGreaterThan(0)
    expect(byteGets.every((r) => r.range !== null)).toBe(true)
  })

  it('profiles every shard of a split model from their headers and agrees with the single file', async () => {
    const single = await profileRemote(parseModelArg('test-org/Big-GGUF:F16', dir) as never, { endpoint: hub.url })
    const split = await profileRemote(parseModelArg('test-org/Split-GGUF:F16', dir) as never, { endpoint: hub.url })
    expect(split.profile.shards).toBe(2)
    expect({ ...split.profile, shards: 1, file_bytes: 0 }).toEqual({ ...single.profile, file_bytes: 0 })
    expect(split.bytesRead).toBeLessThan(2 * MAX_HEADER_READ_BYTES)
  })

  it('profiles Hub file URLs and plain URLs the same way', async () => {
    const viaRef = await profileRemote(parseModelArg('test-org/Small-GGUF', dir) as never, { endpoint: hub.url })
    const viaHubUrl = await profileRemote(parseModelArg(`${hub.url}/test-org/Small-GGUF/resolve/main/small.gguf`, dir) as never, { endpoint: hub.url })
    const viaPlain = await profileRemote(parseModelArg(`${hub.url}/static/test-org--Small-GGUF/small.gguf`, dir) as never, { endpoint: hub.url })
    expect(viaHubUrl.profile).toEqual(viaRef.profile)
    expect(viaPlain.profile).toEqual(viaRef.profile)
    expect(viaRef.profile.layers).toBe(2)
  })

  it('asks for a token on a gated repo and reads it with one', async () => {
    const ref = parseModelArg('test-org/Gated-GGUF:F16', dir, '--model', 1) as never
    const err = await profileRemote(ref, { endpoint: hub.url }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InputError)
    expect((err as InputError).message).toMatch(/^--model: line 1: test-org\/Gated-GGUF:F16: .*HTTP 401/)
    const { profile } = await profileRemote(ref, { endpoint: hub.url, token: TOKEN })
    expect(profile.layers).toBe(32)
  })

  it('reads the header the GGUF reader sees through the byte source', async () => {
    const src = new HttpByteSource(`${hub.url}/static/test-org--Big-GGUF/big-F16.gguf`)
    const header = await readGgufHeader(src)
    expect(header.fileSize).toBe(bigBytes)
    expect(header.tensors.length).toBe(syntheticLayout(BIG).tensors.length)
    expect(src.bytesRead()).toBeLessThan(MAX_HEADER_READ_BYTES)
  })
})
