import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, rename, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { execa } from 'execa'
import { writeSyntheticGguf, syntheticLayout, type SyntheticModelSpec } from '../../src/gguf/writer.js'
import type { SyntheticTensor } from '../../src/gguf/synthetic-layout.js'
import { encodeGgufHeader } from '../../src/gguf/encode.js'
import { InputError } from '../../src/util/errors.js'
import type { GgufKv } from '../../src/gguf/format.js'
import type { ByteSource } from '../../src/contracts/edges.js'
import { stableStringify } from '../../src/util/json.js'
import { llamaBinDir } from './llama.js'

/** Bump when the writer's output changes, so cached models from an older writer are not reused. */
const CACHE_FORMAT = 1
const QUANTIZE_TIMEOUT_MS = 300_000

export function syntheticCacheDir(): string {
  return join(tmpdir(), 'mfg-test-models')
}

/** Where syntheticModel(spec, type) keeps its file (whether or not it exists yet). */
export function syntheticModelPath(spec: SyntheticModelSpec, type = 'F16'): string {
  const quantType = type.toUpperCase()
  const binDir = quantType === 'F16' ? null : llamaBinDir()
  const key = stableStringify({ format: CACHE_FORMAT, spec, type: quantType, binDir })
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 16)
  return join(syntheticCacheDir(), `${hash}.gguf`)
}

/**
 * A synthetic model file shared by all tests and jest workers: written once per (spec, type) into
 * os.tmpdir()/mfg-test-models, F16 directly, other types through llama-quantize from the F16 twin. Every file
 * appears by rename, so two workers asking at once both end up with a complete file (the last rename wins).
 */
export async function syntheticModel(spec: SyntheticModelSpec, type = 'F16'): Promise<string> {
  const quantType = type.toUpperCase()
  const path = syntheticModelPath(spec, quantType)
  const dir = syntheticCacheDir()
  if (existsSync(path)) return path
  await mkdir(dir, { recursive: true })
  if (quantType === 'F16') {
    await writeSyntheticGguf(spec, path)
    return path
  }
  const f16 = await syntheticModel(spec, 'F16')
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`)
  try {
    await execa(join(llamaBinDir(), 'llama-quantize'), [f16, tmp, quantType, '2'], { timeout: QUANTIZE_TIMEOUT_MS })
    await rename(tmp, path)
  } finally {
    await rm(tmp, { force: true })
  }
  return path
}

export interface HeaderFixtureOptions {
  /** Tensor type by tensor (default: as the writer writes it, F16 / F32 norms). */
  retype?: (t: SyntheticTensor) => number
  /** Replace or add metadata entries (same key replaces). */
  kvs?: GgufKv[]
  /** Drop metadata keys. */
  dropKeys?: string[]
  name?: string
}

/**
 * A ByteSource holding a synthetic model's real header and a data section of zeros (never materialised), so
 * unit tests can read and profile headers of any geometry or quantization without writing gigabytes.
 */
export function syntheticHeaderSource(spec: SyntheticModelSpec, opts: HeaderFixtureOptions = {}): ByteSource {
  const layout = syntheticLayout(spec)
  const tensors = layout.tensors.map((t) => ({ ...t, type: opts.retype ? opts.retype(t) : t.type }))
  const replaced = new Map((opts.kvs ?? []).map((kv) => [kv.key, kv]))
  const dropped = new Set(opts.dropKeys ?? [])
  const metadata = layout.metadata.filter((kv) => !dropped.has(kv.key) && !replaced.has(kv.key))
  metadata.push(...replaced.values())
  const enc = encodeGgufHeader(metadata, tensors, layout.alignment)
  return zeroTailSource(opts.name ?? 'synthetic.gguf', enc.bytes, enc.bytes.length + enc.dataBytes)
}

/** `head` followed by zeros up to `size` bytes, read lazily, with byte accounting. */
export function zeroTailSource(name: string, head: Uint8Array, size: number): ByteSource {
  let fetched = 0
  return {
    name,
    size: async () => size,
    async read(offset, length) {
      const end = Math.min(offset + length, size)
      const out = new Uint8Array(Math.max(0, end - offset))
      if (offset < head.length) out.set(head.subarray(offset, Math.min(end, head.length)))
      fetched += out.length
      return out
    },
    bytesRead: () => fetched
  }
}

/** The field a spec error names (InputError.where), or null when syntheticLayout accepts the spec. */
export function specErrorField(spec: SyntheticModelSpec): string | null {
  try {
    syntheticLayout(spec)
  } catch (err) {
    if (err instanceof InputError) return err.where
    throw err
  }
  return null
}
