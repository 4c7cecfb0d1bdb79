// GGUF header reader: metadata, tensor infos, alignment and data offset — never tensor data.
//
// Why not @huggingface/gguf: we need every limit checked before anything is allocated (hostile headers from
// arbitrary URLs), exact tensor offsets with extent checks against the file size, reads through our ByteSource
// (local file / HTTP Range / buffer) with byte accounting so a remote header costs only its own size, split-shard
// handling, and our InputError naming the file and the key or tensor. It fits in a few hundred lines.

import { GgufError } from '../util/errors.js'
import type { ByteSource } from '../contracts/edges.js'
import { HeaderCursor } from './cursor.js'
import { ggmlType } from './ggml-types.js'
import {
  alignUp,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_FIXED_SIZE,
  GGUF_KEY_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_TYPE_NAMES,
  GgufValueType,
  type GgufHeader,
  type GgufScalar,
  type GgufTensorInfo,
  type GgufValue
} from './format.js'

export { MAX_HEADER_BYTES } from './cursor.js'
export type { GgufHeader, GgufTensorInfo, GgufValue, GgufArray, GgufScalar } from './format.js'

/** Real models have < 10k tensors (DeepSeek-V3 ~1.2k per shard set); beyond this the header is hostile. */
export const MAX_TENSOR_COUNT = 1_000_000
/** Real models have < 100 keys. */
export const MAX_KV_COUNT = 100_000
/** GGUF keys are at most 65535 bytes (docs/gguf.md). */
export const MAX_KEY_LENGTH = 65_535
/** Longest string value (chat templates reach ~100 KiB). */
export const MAX_STRING_LENGTH = 64 << 20
/** Most items in one array (merges of a 262k vocab are ~500k). */
export const MAX_ARRAY_LENGTH = 64 << 20
/** GGML_MAX_DIMS. */
export const MAX_DIMS = 4
/** GGML_MAX_NAME is 64 including the terminator. */
export const MAX_TENSOR_NAME_LENGTH = 63
/** A larger power-of-two alignment than this is not a real file. */
export const MAX_ALIGNMENT = 1 << 20
/** Arrays longer than this keep only their length (tokenizer tokens, merges, scores). */
export const MAX_RETAINED_ARRAY_ITEMS = 4096
/** Fixed header part: magic, version, tensor count, kv count. */
const PREAMBLE_BYTES = 4 + 4 + 8 + 8
/** Smallest possible key/value entry (empty key, u8 value) and tensor info (1-char name, 0 dims). */
const MIN_KV_BYTES = 8 + 4 + 1
const MIN_TENSOR_INFO_BYTES = 8 + 1 + 4 + 4 + 8

const MIN_VERSION = 2
const MAX_VERSION = 3

function toSafeNumber(v: bigint, fail: (msg: string) => never, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`${what} ${v} is larger than 2^53`)
  return Number(v)
}

/** A 64-bit integer as a number when it is exact, else as a bigint. */
const exactInteger = (v: bigint): number | bigint => (v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v)

/** How each fixed-size GGUF value type is read. */
const SCALAR_READERS: Partial<Record<number, (c: HeaderCursor) => GgufScalar>> = {
  [GgufValueType.UINT8]: (c) => c.u8(),
  [GgufValueType.INT8]: (c) => c.i8(),
  [GgufValueType.UINT16]: (c) => c.u16(),
  [GgufValueType.INT16]: (c) => c.i16(),
  [GgufValueType.UINT32]: (c) => c.u32(),
  [GgufValueType.INT32]: (c) => c.i32(),
  [GgufValueType.FLOAT32]: (c) => c.f32(),
  [GgufValueType.BOOL]: (c) => c.u8() !== 0,
  [GgufValueType.FLOAT64]: (c) => c.f64(),
  [GgufValueType.UINT64]: (c) => exactInteger(c.u64()),
  [GgufValueType.INT64]: (c) => exactInteger(c.i64())
}

class Parser {
  constructor(
    private readonly cur: HeaderCursor,
    private readonly name: string
  ) {}

  fail(where: string, msg: string): never {
    throw new GgufError(this.name, where, msg)
  }

  /** u64 length prefix, checked against a limit and against the bytes left in the file before any allocation. */
  private async length(where: string, limit: number, limitName: string): Promise<number> {
    await this.cur.need(8, where)
    const n = this.cur.u64()
    if (n > BigInt(limit)) this.fail(where, `length ${n} exceeds ${limitName} (${limit})`)
    return Number(n)
  }

  async string(where: string, limit = MAX_STRING_LENGTH, limitName = 'MAX_STRING_LENGTH'): Promise<string> {
    const n = await this.length(where, limit, limitName)
    await this.cur.need(n, where)
    return this.cur.utf8(n)
  }

  private scalar(type: number): GgufScalar {
    const read = SCALAR_READERS[type]
    if (!read) throw new RangeError(`not a fixed-size GGUF type: ${type}`)
    return read(this.cur)
  }

  async value(type: number, where: string): Promise<GgufValue> {
    if (type === GgufValueType.STRING) return this.string(where)
    if (type === GgufValueType.ARRAY) return this.array(where)
    const size = GGUF_FIXED_SIZE[type]
    if (size === undefined) this.fail(where, `unknown value type ${type}`)
    await this.cur.need(size, where)
    return this.scalar(type)
  }

  private async array(where: string): Promise<GgufValue> {
    await this.cur.need(4, where)
    const itemType = this.cur.u32()
    if (itemType === GgufValueType.ARRAY) this.fail(where, 'arrays of arrays are not supported')
    if (itemType !== GgufValueType.STRING && GGUF_FIXED_SIZE[itemType] === undefined) {
      this.fail(where, `unknown array item type ${itemType}`)
    }
    const length = await this.length(where, MAX_ARRAY_LENGTH, 'MAX_ARRAY_LENGTH')
    const retain = length <= MAX_RETAINED_ARRAY_ITEMS
    const values: GgufScalar[] | null = retain ? [] : null
    const typed = itemType as GgufValueType
    if (itemType === GgufValueType.STRING) {
      // Each string needs at least its 8-byte length: refuse counts the file cannot hold before looping.
      if (length * 8 > this.cur.remainingInFile) this.fail(where, `file is truncated or corrupt: ${length} strings cannot fit in the remaining ${this.cur.remainingInFile} bytes`)
      for (let i = 0; i < length; i++) {
        if (values) {
          values.push(await this.string(where))
          continue
        }
        if (!this.cur.has(8)) await this.cur.need(8, where)
        const n = this.cur.u64()
        if (n > BigInt(MAX_STRING_LENGTH)) this.fail(where, `item ${i}: length ${n} exceeds MAX_STRING_LENGTH (${MAX_STRING_LENGTH})`)
        const len = Number(n)
        if (!this.cur.has(len)) await this.cur.need(len, where)
        this.cur.advance(len)
      }
      return { itemType: typed, length, values }
    }
    const size = GGUF_FIXED_SIZE[itemType]!
    if (length * size > this.cur.remainingInFile) this.fail(where, `file is truncated or corrupt: ${length} ${GGUF_TYPE_NAMES[itemType]} values cannot fit in the remaining ${this.cur.remainingInFile} bytes`)
    if (!values) {
      await this.cur.skip(length * size, where)
      return { itemType: typed, length, values }
    }
    await this.cur.need(length * size, where)
    for (let i = 0; i < length; i++) values.push(this.scalar(itemType))
    return { itemType: typed, length, values }
  }
}

async function readPreamble(cur: HeaderCursor, p: Parser): Promise<{ version: number; tensorCount: number; kvCount: number }> {
  await cur.need(8, 'header')
  const magic = cur.u32()
  if (magic !== GGUF_MAGIC) p.fail('header', 'not a GGUF file (bad magic)')
  const version = cur.u32()
  // A big-endian file has the same magic bytes but a byte-swapped version (3 reads as 0x03000000).
  const swapped = ((version & 0xff) << 24) | ((version & 0xff00) << 8) | ((version >>> 8) & 0xff00) | (version >>> 24)
  if (version > 0xffff && swapped >= 1 && swapped <= MAX_VERSION) {
    p.fail('header.version', 'big-endian GGUF files are not supported')
  }
  if (version === 1) p.fail('header.version', 'GGUF v1 is not supported (re-convert the model with a current llama.cpp)')
  if (version < MIN_VERSION || version > MAX_VERSION) p.fail('header.version', `unsupported GGUF version ${version}`)
  await cur.need(PREAMBLE_BYTES - 8, 'header')
  const rawTensors = cur.u64()
  const rawKvs = cur.u64()
  if (rawTensors > BigInt(MAX_TENSOR_COUNT)) p.fail('header.tensor_count', `${rawTensors} exceeds MAX_TENSOR_COUNT (${MAX_TENSOR_COUNT})`)
  if (rawKvs > BigInt(MAX_KV_COUNT)) p.fail('header.kv_count', `${rawKvs} exceeds MAX_KV_COUNT (${MAX_KV_COUNT})`)
  const tensorCount = Number(rawTensors)
  const kvCount = Number(rawKvs)
  if (tensorCount * MIN_TENSOR_INFO_BYTES + kvCount * MIN_KV_BYTES > cur.remainingInFile) {
    p.fail('header.tensor_count', `${tensorCount} tensors and ${kvCount} keys cannot fit in a ${cur.fileSize}-byte file`)
  }
  return { version, tensorCount, kvCount }
}

function alignmentOf(name: string, metadata: Record<string, GgufValue>, types: Map<string, number>): number {
  const v = metadata[GGUF_KEY_ALIGNMENT]
  if (v === undefined) return GGUF_DEFAULT_ALIGNMENT
  const where = `key ${GGUF_KEY_ALIGNMENT}`
  if (types.get(GGUF_KEY_ALIGNMENT) !== GgufValueType.UINT32) throw new GgufError(name, where, 'must be a uint32')
  const a = v as number
  if (a === 0 || (a & (a - 1)) !== 0 || a > MAX_ALIGNMENT) {
    throw new GgufError(name, where, `alignment ${a} is not a power of two up to MAX_ALIGNMENT (${MAX_ALIGNMENT})`)
  }
  return a
}

async function readTensorInfo(cur: HeaderCursor, p: Parser, index: number, alignment: number): Promise<GgufTensorInfo> {
  const tensorName = await p.string(`tensor #${index}`, MAX_TENSOR_NAME_LENGTH, 'MAX_TENSOR_NAME_LENGTH')
  const where = `tensor ${tensorName}`
  const fail = (msg: string): never => p.fail(where, msg)
  await cur.need(4, where)
  const nDims = cur.u32()
  if (nDims > MAX_DIMS) fail(`${nDims} dimensions exceeds MAX_DIMS (${MAX_DIMS})`)
  await cur.need(nDims * 8 + 4 + 8, where)
  const dims: number[] = []
  let elements = 1
  for (let d = 0; d < nDims; d++) {
    const dim = toSafeNumber(cur.u64(), fail, `dimension ${d}`)
    elements *= dim
    if (!Number.isSafeInteger(elements)) fail(`element count overflows (dims so far ${[...dims, dim].join('×')})`)
    dims.push(dim)
  }
  const type = cur.u32()
  const info = ggmlType(type)
  if (!info) fail(`unknown GGML type ${type}`)
  const rowLen = dims[0] ?? 1
  if (rowLen % info!.blockSize !== 0) fail(`row of ${rowLen} elements is not a multiple of the ${info!.name} block size ${info!.blockSize}`)
  const offset = toSafeNumber(cur.u64(), fail, 'offset')
  if (offset % alignment !== 0) fail(`offset ${offset} is not a multiple of the alignment ${alignment}`)
  return { name: tensorName, dims, type, offset }
}

/**
 * Reads a GGUF (v2/v3, little-endian) header from `src`, fetching only header bytes. Every count and length is
 * checked against its named limit and against the file size before anything is allocated; every failure is an
 * InputError naming the source and the field ("header.version", "key general.alignment", "tensor blk.3.attn_q.weight").
 */
export async function readGgufHeader(src: ByteSource): Promise<GgufHeader> {
  const fileSize = await src.size()
  const cur = new HeaderCursor(src, fileSize)
  const p = new Parser(cur, src.name)
  const { version, tensorCount, kvCount } = await readPreamble(cur, p)

  const metadata: Record<string, GgufValue> = {}
  const types = new Map<string, number>()
  for (let i = 0; i < kvCount; i++) {
    const key = await p.string(`key #${i}`, MAX_KEY_LENGTH, 'MAX_KEY_LENGTH')
    const where = `key ${key}`
    if (types.has(key)) p.fail(where, 'duplicate key')
    await cur.need(4, where)
    const type = cur.u32()
    if (GGUF_TYPE_NAMES[type] === undefined) p.fail(where, `unknown value type ${type}`)
    metadata[key] = await p.value(type, where)
    types.set(key, type)
  }
  const alignment = alignmentOf(src.name, metadata, types)

  const tensors: GgufTensorInfo[] = []
  const names = new Set<string>()
  for (let i = 0; i < tensorCount; i++) {
    const t = await readTensorInfo(cur, p, i, alignment)
    if (names.has(t.name)) p.fail(`tensor ${t.name}`, 'duplicate tensor name')
    names.add(t.name)
    tensors.push(t)
  }
  const dataOffset = alignUp(cur.position, alignment)
  for (const t of tensors) {
    const info = ggmlType(t.type)!
    const rows = t.dims.slice(1).reduce((a, b) => a * b, 1)
    const bytes = ((t.dims[0] ?? 1) / info.blockSize) * info.typeSize * rows
    const end = dataOffset + t.offset + bytes
    if (!Number.isSafeInteger(end) || end > fileSize) {
      p.fail(`tensor ${t.name}`, `data (${bytes} bytes at ${dataOffset + t.offset}) extends beyond the end of the file (${fileSize} bytes)`)
    }
  }
  return { version, metadata, tensors, alignment, dataOffset, fileSize }
}
