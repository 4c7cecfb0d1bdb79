import { describe, expect, test } from '@jest/globals'
import { ByteBuilder } from '../../src/gguf/encode.js'
import { GGUF_MAGIC, GgufValueType } from '../../src/gguf/format.js'
import {
  readGgufHeader,
  MAX_ARRAY_LENGTH,
  MAX_DIMS,
  MAX_KV_COUNT,
  MAX_STRING_LENGTH,
  MAX_TENSOR_COUNT,
  MAX_TENSOR_NAME_LENGTH
} from '../../src/gguf/reader.js'
import { bufferSource } from '../../src/gguf/source.js'
import { InputError } from '../../src/util/errors.js'
import { syntheticHeaderSource, zeroTailSource } from '../helpers/synthetic.js'

/** Preamble + kvs written by `body`; tensors written by `tensors`. */
function gguf(opts: { version?: number; tensorCount?: number | bigint; kvCount?: number | bigint }, body: (b: ByteBuilder) => void = () => undefined): Uint8Array {
  const b = new ByteBuilder()
  b.u32(GGUF_MAGIC).u32(opts.version ?? 3).u64(opts.tensorCount ?? 0).u64(opts.kvCount ?? 0)
  body(b)
  return b.toBytes()
}

async function errorOf(bytes: Uint8Array, size?: number): Promise<{ err: InputError; bytesRead: number }> {
  const src = size === undefined ? bufferSource('bad.gguf', bytes) : zeroTailSource('bad.gguf', bytes, size)
  try {
    await readGgufHeader(src)
  } catch (err) {
    if (!(err instanceof InputError)) throw err
    return { err, bytesRead: src.bytesRead() }
  }
  throw new Error('expected an InputError')
}

/** One valid tensor info; `patch` may change its fields. */
function tensor(b: ByteBuilder, t: { name?: string; dims?: (number | bigint)[]; type?: number; offset?: number }): void {
  const dims = t.dims ?? [32, 2]
  b.str(t.name ?? 'blk.3.attn_q.weight').u32(dims.length)
  for (const d of dims) b.u64(d)
  b.u32(t.type ?? 1).u64(t.offset ?? 0)
}

describe('hostile or broken GGUF headers are refused with an InputError naming the field', () => {
  test('a huge tensor count is refused before anything is allocated', async () => {
    const { err, bytesRead } = await errorOf(gguf({ tensorCount: 2n ** 62n }))
    expect(err.source).toBe('bad.gguf')
    expect(err.where).toBe('header.tensor_count')
    expect(err.message).toContain('MAX_TENSOR_COUNT')
    expect(bytesRead).toBeLessThanOrEqual(24)
  })

  test('a tensor count within the limit but larger than the file can hold is refused up front', async () => {
    const { err } = await errorOf(gguf({ tensorCount: MAX_TENSOR_COUNT }), 1 << 20)
    expect(err.where).toBe('header.tensor_count')
    expect(err.message).toMatch(/cannot fit/)
  })

  test('a huge key count is refused', async () => {
    const { err } = await errorOf(gguf({ kvCount: MAX_KV_COUNT + 1 }))
    expect(err.where).toBe('header.kv_count')
  })

  test('a huge string length is refused without reading or allocating it', async () => {
    const bytes = gguf({ kvCount: 1 }, (b) => b.str('general.name').u32(GgufValueType.STRING).u64(2n ** 60n))
    const { err, bytesRead } = await errorOf(bytes, 10 * 2 ** 30)
    expect(err.where).toBe('key general.name')
    expect(err.message).toContain('MAX_STRING_LENGTH')
    expect(bytesRead).toBeLessThan(1 << 21)
  })

  test('a string longer than the file is reported as truncation', async () => {
    const bytes = gguf({ kvCount: 1 }, (b) => b.str('general.name').u32(GgufValueType.STRING).u64(MAX_STRING_LENGTH))
    const { err } = await errorOf(bytes)
    expect(err.where).toBe('key general.name')
    expect(err.message).toMatch(/truncated/)
  })

  test('a huge array length is refused, and so is one larger than the file', async () => {
    const huge = gguf({ kvCount: 1 }, (b) => b.str('tokenizer.ggml.tokens').u32(GgufValueType.ARRAY).u32(GgufValueType.STRING).u64(2n ** 40n))
    expect((await errorOf(huge)).err.message).toContain('MAX_ARRAY_LENGTH')
    const big = gguf({ kvCount: 1 }, (b) => b.str('tokenizer.ggml.scores').u32(GgufValueType.ARRAY).u32(GgufValueType.FLOAT32).u64(MAX_ARRAY_LENGTH))
    const { err } = await errorOf(big)
    expect(err.where).toBe('key tokenizer.ggml.scores')
    expect(err.message).toMatch(/truncated or corrupt/)
  })

  test('a file cut inside the metadata is reported as truncated, naming the key', async () => {
    const src = syntheticHeaderSource({ architecture: 'llama', layers: 1, embeddingLength: 64, feedForwardLength: 64, heads: 2, kvHeads: 2, vocabSize: 300, contextLength: 64, seed: 1 })
    const head = await src.read(0, 2000)
    const { err } = await errorOf(head.subarray(0, 1500))
    expect(err.where).toMatch(/^key tokenizer\.ggml\./)
    expect(err.message).toMatch(/truncated/)
  })

  test('a file shorter than the preamble is truncated at the header', async () => {
    const { err } = await errorOf(gguf({}).subarray(0, 10))
    expect(err.where).toBe('header')
    expect(err.message).toMatch(/truncated/)
  })

  test('not a GGUF file', async () => {
    const { err } = await errorOf(new TextEncoder().encode('PK\u0003\u0004 this is a zip file'))
    expect(err.where).toBe('header')
    expect(err.message).toMatch(/not a GGUF file/)
  })

  test('GGUF v1 is refused with a clear message', async () => {
    const { err } = await errorOf(gguf({ version: 1 }))
    expect(err.where).toBe('header.version')
    expect(err.message).toMatch(/v1 is not supported/)
  })

  test('GGUF v2 reads like v3', async () => {
    const h = await readGgufHeader(bufferSource('v2.gguf', gguf({ version: 2, kvCount: 1 }, (b) => b.str('general.architecture').u32(GgufValueType.STRING).str('llama'))))
    expect(h.version).toBe(2)
    expect(h.metadata['general.architecture']).toBe('llama')
  })

  test('a big-endian file is refused with a clear message', async () => {
    const b = new ByteBuilder()
    b.u32(GGUF_MAGIC)
    const be = new DataView(new ArrayBuffer(20))
    be.setUint32(0, 3, false)
    b.bytes(new Uint8Array(be.buffer))
    const { err } = await errorOf(b.toBytes())
    expect(err.where).toBe('header.version')
    expect(err.message).toMatch(/big-endian/)
  })

  test('an unknown metadata value type names the key', async () => {
    const { err } = await errorOf(gguf({ kvCount: 1 }, (b) => b.str('general.x').u32(99).u32(0)))
    expect(err.where).toBe('key general.x')
    expect(err.message).toMatch(/unknown value type 99/)
  })

  test('a duplicate key is refused', async () => {
    const { err } = await errorOf(
      gguf({ kvCount: 2 }, (b) => b.str('general.x').u32(GgufValueType.UINT32).u32(1).str('general.x').u32(GgufValueType.UINT32).u32(2))
    )
    expect(err.where).toBe('key general.x')
  })

  test('an alignment that is not a power of two, or not a uint32, is refused', async () => {
    const odd = gguf({ kvCount: 1 }, (b) => b.str('general.alignment').u32(GgufValueType.UINT32).u32(48))
    expect((await errorOf(odd)).err.where).toBe('key general.alignment')
    const typed = gguf({ kvCount: 1 }, (b) => b.str('general.alignment').u32(GgufValueType.UINT64).u64(32))
    expect((await errorOf(typed)).err.message).toMatch(/uint32/)
  })

  test('an unknown tensor type names the tensor', async () => {
    const { err } = await errorOf(gguf({ tensorCount: 1 }, (b) => tensor(b, { type: 31 })), 1 << 20)
    expect(err.where).toBe('tensor blk.3.attn_q.weight')
    expect(err.message).toMatch(/unknown GGML type 31/)
  })

  test('too many dimensions, overflowing dimensions and rows that are not whole blocks name the tensor', async () => {
    const dims = await errorOf(gguf({ tensorCount: 1 }, (b) => tensor(b, { dims: [32, 1, 1, 1, 1] })), 1 << 20)
    expect(dims.err.message).toContain(`MAX_DIMS (${MAX_DIMS})`)
    const overflow = await errorOf(gguf({ tensorCount: 1 }, (b) => tensor(b, { dims: [2 ** 30, 2 ** 30, 2 ** 30] })), 1 << 20)
    expect(overflow.err.where).toBe('tensor blk.3.attn_q.weight')
    expect(overflow.err.message).toMatch(/overflows/)
    const huge = await errorOf(gguf({ tensorCount: 1 }, (b) => tensor(b, { dims: [2n ** 63n] })), 1 << 20)
    expect(huge.err.message).toMatch(/larger than 2\^53/)
    const block = await errorOf(gguf({ tensorCount: 1 }, (b) => tensor(b, { dims: [100, 2], type: 12 })), 1 << 20)
    expect(block.err.message).toMatch(/not a multiple of the Q4_K block size 256/)
  })

  test('a tensor name longer than llama.cpp allows is refused', async () => {
    const { err } = await errorOf(gguf({ tensorCount: 1 }, (b) => tensor(b, { name: 'x'.repeat(MAX_TENSOR_NAME_LENGTH + 1) })), 1 << 20)
    expect(err.where).toBe('tensor #0')
    expect(err.message).toContain('MAX_TENSOR_NAME_LENGTH')
  })

  test('a misaligned offset and a tensor extending beyond the end of the file name the tensor', async () => {
    const mis = await errorOf(gguf({ tensorCount: 1 }, (b) => tensor(b, { offset: 8 })), 1 << 20)
    expect(mis.err.message).toMatch(/not a multiple of the alignment 32/)
    const beyond = await errorOf(gguf({ tensorCount: 1 }, (b) => tensor(b, { dims: [4096, 4096] })), 1 << 20)
    expect(beyond.err.where).toBe('tensor blk.3.attn_q.weight')
    expect(beyond.err.message).toMatch(/extends beyond the end of the file/)
  })

  test('duplicate tensor names are refused', async () => {
    const { err } = await errorOf(gguf({ tensorCount: 2 }, (b) => (tensor(b, {}), tensor(b, { offset: 128 }))), 1 << 20)
    expect(err.where).toBe('tensor blk.3.attn_q.weight')
    expect(err.message).toMatch(/duplicate/)
  })
})
