// Pure GGUF header encoding: metadata + tensor infos → bytes, with tensor offsets laid out the way llama.cpp
// expects (each tensor starts at the previous one's end padded to the alignment). The writer streams tensor
// data after these bytes; tests use ByteBuilder to craft hostile headers by hand.

import { tensorBytes } from './ggml-types.js'
import { alignUp, GGUF_MAGIC, GgufValueType, type GgufKv, type GgufScalar, type GgufTensorInfo } from './format.js'

const INITIAL_CAPACITY = 64 * 1024

const int64 = (v: GgufScalar): number | bigint => (typeof v === 'bigint' ? v : Number(v))

/** How each GGUF scalar type is written. */
const SCALAR_WRITERS: Partial<Record<GgufValueType, (b: ByteBuilder, v: GgufScalar) => void>> = {
  [GgufValueType.UINT8]: (b, v) => b.u8(Number(v)),
  [GgufValueType.INT8]: (b, v) => b.i8(Number(v)),
  [GgufValueType.UINT16]: (b, v) => b.u16(Number(v)),
  [GgufValueType.INT16]: (b, v) => b.i16(Number(v)),
  [GgufValueType.UINT32]: (b, v) => b.u32(Number(v)),
  [GgufValueType.INT32]: (b, v) => b.i32(Number(v)),
  [GgufValueType.FLOAT32]: (b, v) => b.f32(Number(v)),
  [GgufValueType.BOOL]: (b, v) => b.u8(v ? 1 : 0),
  [GgufValueType.STRING]: (b, v) => b.str(String(v)),
  [GgufValueType.UINT64]: (b, v) => b.u64(int64(v)),
  [GgufValueType.INT64]: (b, v) => b.i64(int64(v)),
  [GgufValueType.FLOAT64]: (b, v) => b.f64(Number(v))
}

/** A growable little-endian byte buffer. */
export class ByteBuilder {
  private buf = new Uint8Array(INITIAL_CAPACITY)
  private view = new DataView(this.buf.buffer)
  private len = 0
  private readonly encoder = new TextEncoder()

  get length(): number {
    return this.len
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return
    let cap = this.buf.length * 2
    while (cap < this.len + n) cap *= 2
    const next = new Uint8Array(cap)
    next.set(this.buf.subarray(0, this.len))
    this.buf = next
    this.view = new DataView(next.buffer)
  }

  u8(v: number): this {
    this.reserve(1)
    this.view.setUint8(this.len, v)
    this.len += 1
    return this
  }
  /** Writes a value of `n` bytes at the end (growing the buffer) and moves past it. */
  private put(n: number, set: (offset: number) => void): this {
    this.reserve(n)
    set(this.len)
    this.len += n
    return this
  }
  readonly i8 = (v: number): this => this.put(1, (o) => this.view.setInt8(o, v))
  readonly u16 = (v: number): this => this.put(2, (o) => this.view.setUint16(o, v, true))
  readonly i16 = (v: number): this => this.put(2, (o) => this.view.setInt16(o, v, true))
  readonly u32 = (v: number): this => this.put(4, (o) => this.view.setUint32(o, v, true))
  readonly i32 = (v: number): this => this.put(4, (o) => this.view.setInt32(o, v, true))
  readonly f32 = (v: number): this => this.put(4, (o) => this.view.setFloat32(o, v, true))
  readonly f64 = (v: number): this => this.put(8, (o) => this.view.setFloat64(o, v, true))
  u64(v: number | bigint): this {
    this.reserve(8)
    this.view.setBigUint64(this.len, BigInt(v), true)
    this.len += 8
    return this
  }
  i64(v: number | bigint): this {
    this.reserve(8)
    this.view.setBigInt64(this.len, BigInt(v), true)
    this.len += 8
    return this
  }
  bytes(b: Uint8Array): this {
    this.reserve(b.length)
    this.buf.set(b, this.len)
    this.len += b.length
    return this
  }
  /** GGUF string: u64 byte length + UTF-8 bytes, no terminator. */
  str(s: string): this {
    const b = this.encoder.encode(s)
    return this.u64(b.length).bytes(b)
  }
  padTo(alignment: number): this {
    const target = alignUp(this.len, alignment)
    this.reserve(target - this.len)
    this.buf.fill(0, this.len, target)
    this.len = target
    return this
  }
  scalar(type: GgufValueType, v: GgufScalar): this {
    const write = SCALAR_WRITERS[type]
    if (!write) throw new RangeError(`cannot encode a scalar of GGUF type ${type}`)
    write(this, v)
    return this
  }
  kv(entry: GgufKv): this {
    this.str(entry.key).u32(entry.type)
    if (entry.type === GgufValueType.ARRAY) {
      this.u32(entry.itemType).u64(entry.value.length)
      for (const item of entry.value) this.scalar(entry.itemType, item)
      return this
    }
    return this.scalar(entry.type, entry.value)
  }
  /** A copy of the bytes written so far. */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.len)
  }
}

export interface TensorSpec {
  name: string
  dims: number[]
  type: number
}

export interface EncodedHeader {
  /** Header bytes, padded to the alignment: tensor data starts right after. */
  bytes: Uint8Array
  tensors: GgufTensorInfo[]
  /** Bytes of the data section (each tensor padded to the alignment). */
  dataBytes: number
}

/** Lays out and encodes a GGUF v3 header. `alignment` must match any general.alignment in `metadata`. */
export function encodeGgufHeader(metadata: readonly GgufKv[], tensorSpecs: readonly TensorSpec[], alignment: number): EncodedHeader {
  const tensors: GgufTensorInfo[] = []
  let offset = 0
  for (const t of tensorSpecs) {
    tensors.push({ name: t.name, dims: [...t.dims], type: t.type, offset })
    offset = alignUp(offset + tensorBytes(t.type, t.dims), alignment)
  }
  const b = new ByteBuilder()
  b.u32(GGUF_MAGIC).u32(3).u64(tensors.length).u64(metadata.length)
  for (const kv of metadata) b.kv(kv)
  for (const t of tensors) {
    b.str(t.name).u32(t.dims.length)
    for (const d of t.dims) b.u64(d)
    b.u32(t.type).u64(t.offset)
  }
  b.padTo(alignment)
  return { bytes: b.toBytes(), tensors, dataBytes: offset }
}
