import { describe, expect, test, beforeAll, afterAll } from '@jest/globals'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeSyntheticGguf, type SyntheticModelSpec } from '../../src/gguf/writer.js'
import { readGgufHeader, MAX_HEADER_BYTES } from '../../src/gguf/reader.js'
import { bufferSource, fileSource } from '../../src/gguf/source.js'
import { alignUp, isGgufArray } from '../../src/gguf/format.js'
import { tensorDataBytes } from '../../src/gguf/groups.js'
import { MAX_READ_CHUNK_BYTES } from '../../src/gguf/cursor.js'
import { syntheticHeaderSource } from '../helpers/synthetic.js'

const tiny: SyntheticModelSpec = {
  architecture: 'qwen3moe',
  layers: 2,
  embeddingLength: 64,
  feedForwardLength: 128,
  heads: 4,
  kvHeads: 2,
  headDim: 32,
  vocabSize: 5000,
  contextLength: 1024,
  expertCount: 4,
  expertUsedCount: 2,
  expertFeedForwardLength: 32,
  seed: 3
}

describe('GGUF reader on files the writer wrote', () => {
  let dir = ''
  let path = ''
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mfg-gguf-reader-'))
    path = join(dir, 'tiny.gguf')
    await writeSyntheticGguf(tiny, path)
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  test('reads back the metadata and tensors the writer put in', async () => {
    const src = fileSource(path)
    const h = await readGgufHeader(src)
    await src.close()
    expect(h.version).toBe(3)
    expect(h.alignment).toBe(32)
    expect(h.fileSize).toBe((await stat(path)).size)
    expect(h.dataOffset % 32).toBe(0)
    expect(h.metadata['general.architecture']).toBe('qwen3moe')
    expect(h.metadata['general.name']).toBe('synthetic')
    expect(h.metadata['qwen3moe.expert_count']).toBe(4)
    expect(h.metadata['qwen3moe.attention.layer_norm_rms_epsilon']).toBeCloseTo(1e-6, 10)
    const tokens = h.metadata['tokenizer.ggml.tokens']
    // 5000 tokens is past the retention limit: only the length is kept.
    expect(isGgufArray(tokens) && tokens.length).toBe(5000)
    expect(isGgufArray(tokens) && tokens.values).toBeNull()
    const q = h.tensors.find((t) => t.name === 'blk.1.attn_q.weight')
    expect(q).toMatchObject({ dims: [64, 128], type: 1 })
    const exps = h.tensors.find((t) => t.name === 'blk.0.ffn_down_exps.weight')
    expect(exps).toMatchObject({ dims: [32, 64, 4], type: 1 })
  })

  test('tensor bytes computed from dims and type match the gap to the next tensor, up to alignment padding', async () => {
    const h = await readGgufHeader(fileSource(path))
    const sorted = [...h.tensors].sort((a, b) => a.offset - b.offset)
    for (let i = 0; i < sorted.length; i++) {
      const t = sorted[i]!
      const nextStart = i + 1 < sorted.length ? sorted[i + 1]!.offset : h.fileSize - h.dataOffset
      expect(alignUp(tensorDataBytes(t), h.alignment)).toBe(nextStart - t.offset)
    }
  })

  test('the weights are finite F16 values and norms are ones', async () => {
    const h = await readGgufHeader(fileSource(path))
    const file = await readFile(path)
    const q = h.tensors.find((t) => t.name === 'blk.0.attn_k.weight')!
    const f16 = new Uint16Array(file.buffer.slice(file.byteOffset + h.dataOffset + q.offset, file.byteOffset + h.dataOffset + q.offset + tensorDataBytes(q)))
    const exponents = new Set([...f16].map((v) => (v >> 10) & 0x1f))
    expect([...exponents].every((e) => e > 0 && e < 0x1f)).toBe(true)
    expect(new Set(f16).size).toBeGreaterThan(f16.length / 2)
    const norm = h.tensors.find((t) => t.name === 'blk.0.attn_norm.weight')!
    const f32 = new Float32Array(file.buffer.slice(file.byteOffset + h.dataOffset + norm.offset, file.byteOffset + h.dataOffset + norm.offset + 64 * 4))
    expect([...f32].every((v) => v === 1)).toBe(true)
  })

  test('the same spec writes a byte-identical file; another seed writes different weights', async () => {
    const again = join(dir, 'again.gguf')
    const other = join(dir, 'other.gguf')
    await writeSyntheticGguf(tiny, again)
    await writeSyntheticGguf({ ...tiny, seed: 4 }, other)
    const [a, b, c] = await Promise.all([readFile(path), readFile(again), readFile(other)])
    expect(Buffer.compare(a, b)).toBe(0)
    expect(Buffer.compare(a, c)).not.toBe(0)
    expect(c.length).toBe(a.length)
  })

  test('a file and a buffer of the same bytes read identically', async () => {
    const bytes = new Uint8Array(await readFile(path))
    const fromFile = await readGgufHeader(fileSource(path))
    const fromBuf = await readGgufHeader(bufferSource('tiny.gguf', bytes))
    expect(fromBuf).toEqual(fromFile)
  })
})

describe('GGUF reader fetches only the header', () => {
  test('a 150k-token vocabulary header of a 2 GB model costs its own size plus at most one read chunk', async () => {
    const big: SyntheticModelSpec = {
      architecture: 'llama',
      layers: 24,
      embeddingLength: 2048,
      feedForwardLength: 8192,
      heads: 16,
      kvHeads: 4,
      vocabSize: 151_936,
      contextLength: 32768,
      seed: 1
    }
    const src = syntheticHeaderSource(big)
    const h = await readGgufHeader(src)
    expect(h.fileSize).toBeGreaterThan(2e9)
    expect(src.bytesRead()).toBeGreaterThanOrEqual(h.dataOffset - h.alignment)
    expect(src.bytesRead()).toBeLessThanOrEqual(h.dataOffset + MAX_READ_CHUNK_BYTES)
    expect(src.bytesRead()).toBeLessThan(MAX_HEADER_BYTES)
    const tokens = h.metadata['tokenizer.ggml.tokens']
    expect(isGgufArray(tokens) && tokens.length).toBe(151_936)
  })
})
