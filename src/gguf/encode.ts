// Pure GGUF header encoding: metadata + tensor infos → bytes, with tensor offsets laid out the way llama.cpp
// expects (each tensor starts at the previous one's end padded to the alignment). The writer streams tensor
// data after these bytes; tests use ByteBuilder to craft hostile headers by hand.

import { tensorBytes } from './ggml-types.js'
import { alignUp, GGUF_MAGIC, GgufValueType, type GgufKv, type GgufScalar, type GgufTensorInfo } from './format.js'

const INITIAL_CAPACITY = 64 * 1024

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
  i8(v: number): this {
    this.reserve(1)
    this.view.setInt8(this.len, v)
    this.len += 1
    return this
  }
  u16(v: number): this {
    this.reserve(2)
    this.view.setUint16(this.len, v, true)
    this.len += 2
    return this
  }
  i16(v: number): this {
    this.reserve(2)
    this.view.setInt16(this.len, v, true)
    this.len += 2
    return this
  }
  u32(v: number): this {
    this.reserve(4)
    this.view.setUint32(this.len, v, true)
    this.len += 4
    return this
  }
  i32(v: number): this {
    this.reserve(4)
    this.view.setInt32(this.len, v, true)
    this.len += 4
    return this
  }
  f32(v: number): this {
    this.reserve(4)
    this.view.setFloat32(this.len, v, true)
    this.len += 4
    return this
  }
  f64(v: number): this {
    this.reserve(8)
    this.view.setFloat64(this.len, v, true)
    this.len += 8
    return this
  }
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
    switch (type) {
      case GgufValueType.UINT8:
        return this.u8(Number(v))
      case GgufValueType.INT8:
        return this.i8(Number(v))
      case GgufValueType.UINT16:
        return this.u16(Number(v))
      case GgufValueType.INT16:
        return this.i16(Number(v))
      case GgufValueType.UINT32:
        return this.u32(Number(v))
      case GgufValueType.INT32:
        return this.i32(Number(v))
      case GgufValueType.FLOAT32:
        return this.f32(Number(v))
      case GgufValueType.BOOL:
        return this.u8(v ? 1 : 0)
      case GgufValueType.STRING:
        return this.str(String(v))
      case GgufValueType.UINT64:
        return this.u64(typeof v === 'bigint' ? v : Number(v))
      case GgufValueType.INT64:
        return this.i64(typeof v === 'bigint' ? v : Number(v))
      case GgufValueType.FLOAT64:
        return this.f64(Number(v))
      default:
        throw new RangeError(`cannot encode a scalar of GGUF type ${type}`)
    }
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
