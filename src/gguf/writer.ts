// Writes synthetic GGUF models llama.cpp can load, bench and quantize. Edge module: it touches the filesystem.
// Speed matters (hundreds of MB per model in CI), so tensor data is streamed as slices of one pool of random
// F16 values generated once per seed, through a large staging buffer, into a temp file renamed at the end. The few
// small F32 tensors (biases, routers, conv kernels) are drawn value by value.

import { open, mkdir, rename, rm } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { dirname, basename, join } from 'node:path'
import { encodeGgufHeader } from './encode.js'
import { tensorBytes } from './ggml-types.js'
import { syntheticLayout, type SyntheticModelSpec, type SyntheticTensor } from './synthetic-layout.js'

export type { SyntheticModelSpec } from './synthetic-layout.js'
export { syntheticLayout, syntheticVocab } from './synthetic-layout.js'

/** Random F16 values in the pool (8 MiB): large enough that slices at random offsets do not look periodic. */
export const RANDOM_POOL_VALUES = 1 << 22
/** Bytes gathered before each write(2). */
export const WRITE_CHUNK_BYTES = 8 << 20
/** F16 exponent field range of the random values: 2^-10 … 2^-4 times 1.x, i.e. |v| < 0.125, never NaN/Inf. */
const F16_EXP_MIN = 5
const F16_EXP_SPAN = 7
/** Bound of the random F32 values, the same scale as the F16 ones. */
const F32_RANDOM_RANGE = 0.125

/** xorshift32: tiny, fast, deterministic across platforms. */
function prng(seed: number): () => number {
  // A zero state would stay zero; mix the seed so 0 is a valid seed.
  let x = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ 0x2545f491) >>> 0 || 1
  return () => {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    return x
  }
}

function randomF16Pool(next: () => number): Uint8Array {
  const pool = new Uint16Array(RANDOM_POOL_VALUES)
  for (let i = 0; i < pool.length; i++) {
    const r = next()
    const exp = F16_EXP_MIN + ((r >>> 16) % F16_EXP_SPAN)
    pool[i] = (r & 0x8000) | (exp << 10) | (r & 0x3ff)
  }
  // Uint16Array is host-endian; GGUF is little-endian. Every Node platform we run on is little-endian.
  return new Uint8Array(pool.buffer)
}

/** Gathers small writes into WRITE_CHUNK_BYTES blocks; large slices go straight to the file. */
class ChunkedWriter {
  private readonly stage = new Uint8Array(WRITE_CHUNK_BYTES)
  private used = 0
  written = 0
  constructor(private readonly fh: FileHandle) {}

  async write(bytes: Uint8Array): Promise<void> {
    this.written += bytes.length
    if (bytes.length >= this.stage.length) {
      await this.flush()
      await this.writeAll(bytes)
      return
    }
    if (this.used + bytes.length > this.stage.length) await this.flush()
    this.stage.set(bytes, this.used)
    this.used += bytes.length
  }

  async zeros(n: number): Promise<void> {
    if (n > 0) await this.write(new Uint8Array(n))
  }

  async flush(): Promise<void> {
    if (this.used === 0) return
    await this.writeAll(this.stage.subarray(0, this.used))
    this.used = 0
  }

  private async writeAll(bytes: Uint8Array): Promise<void> {
    let off = 0
    while (off < bytes.length) {
      const { bytesWritten } = await this.fh.write(bytes, off, bytes.length - off)
      off += bytesWritten
    }
  }
}

async function writeTensorData(out: ChunkedWriter, t: SyntheticTensor, pool: Uint8Array, next: () => number): Promise<void> {
  const n = tensorBytes(t.type, t.dims)
  if (t.fill === 'ones-f32' || t.fill === 'minus-ones-f32') {
    const ones = new Float32Array(n / 4).fill(t.fill === 'ones-f32' ? 1 : -1)
    await out.write(new Uint8Array(ones.buffer))
    return
  }
  if (t.fill === 'random-f32') {
    // Small F32 tensors (biases, routers, conv kernels): uniform in ±F32_RANDOM_RANGE, one draw per value.
    const values = new Float32Array(n / 4)
    for (let i = 0; i < values.length; i++) values[i] = (next() / 0x1_0000_0000 - 0.5) * 2 * F32_RANDOM_RANGE
    await out.write(new Uint8Array(values.buffer))
    return
  }
  // Start each tensor at a different (even) pool offset so tensors differ from one another.
  let pos = (next() % RANDOM_POOL_VALUES) * 2
  let remaining = n
  while (remaining > 0) {
    const take = Math.min(remaining, pool.length - pos)
    await out.write(pool.subarray(pos, pos + take))
    remaining -= take
    pos = 0
  }
}

/**
 * Writes a complete GGUF v3 model for `spec` (F16 weights, F32 norms and biases, byte-level BPE tokenizer) to `outPath`,
 * atomically: readers never see a half-written file. Same spec → byte-identical file.
 */
export async function writeSyntheticGguf(spec: SyntheticModelSpec, outPath: string): Promise<{ bytes: number }> {
  const layout = syntheticLayout(spec)
  const header = encodeGgufHeader(layout.metadata, layout.tensors, layout.alignment)
  const next = prng(spec.seed)
  const pool = randomF16Pool(next)

  await mkdir(dirname(outPath), { recursive: true })
  const tmp = join(dirname(outPath), `.${basename(outPath)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`)
  const fh = await open(tmp, 'w')
  try {
    const out = new ChunkedWriter(fh)
    await out.write(header.bytes)
    for (let i = 0; i < layout.tensors.length; i++) {
      const t = layout.tensors[i]!
      const info = header.tensors[i]!
      await out.zeros(header.bytes.length + info.offset - out.written)
      await writeTensorData(out, t, pool, next)
    }
    await out.zeros(header.bytes.length + header.dataBytes - out.written)
    await out.flush()
    await fh.close()
    await rename(tmp, outPath)
    return { bytes: out.written }
  } catch (err) {
    await fh.close().catch(() => undefined)
    await rm(tmp, { force: true })
    throw err
  }
}
