import { describe, expect, test, beforeAll, afterAll } from '@jest/globals'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { writeSyntheticGguf, type SyntheticModelSpec } from '../../src/gguf/writer.js'
import { alignUp, profileFile, tensorDataBytes } from '../../src/gguf/index.js'
import { llamaBinDir } from '../helpers/llama.js'
import { syntheticModel, syntheticModelPath } from '../helpers/synthetic.js'

// Dims are multiples of 256 so llama-quantize can apply K-quants to every matrix.
const dense: SyntheticModelSpec = {
  architecture: 'llama',
  layers: 2,
  embeddingLength: 256,
  feedForwardLength: 512,
  heads: 4,
  kvHeads: 2,
  vocabSize: 1024,
  contextLength: 2048,
  seed: 11
}
const moe: SyntheticModelSpec = {
  architecture: 'qwen3moe',
  layers: 2,
  embeddingLength: 256,
  feedForwardLength: 512,
  heads: 4,
  kvHeads: 2,
  headDim: 64,
  vocabSize: 1024,
  contextLength: 2048,
  expertCount: 4,
  expertUsedCount: 2,
  expertFeedForwardLength: 256,
  tiedEmbeddings: true,
  seed: 12
}

const RUN_TIMEOUT_MS = 120_000

interface BenchRow {
  n_prompt: number
  n_gen: number
  avg_ts: number
  model_size: number
  model_type: string
}

async function bench(path: string): Promise<BenchRow[]> {
  const bin = join(llamaBinDir(), 'llama-bench')
  const { stdout } = await execa(bin, ['-m', path, '-p', '16', '-n', '4', '-r', '1', '-t', '1', '-o', 'json'], {
    timeout: RUN_TIMEOUT_MS
  })
  return JSON.parse(stdout) as BenchRow[]
}

async function quantize(src: string, dst: string, type: string): Promise<void> {
  await execa(join(llamaBinDir(), 'llama-quantize'), [src, dst, type, '1'], { timeout: RUN_TIMEOUT_MS })
}

describe('synthetic GGUF models run in real llama.cpp', () => {
  let dir = ''
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mfg-gguf-writer-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  for (const [label, spec] of [
    ['dense llama', dense],
    ['MoE qwen3moe', moe]
  ] as const) {
    test(
      `a ${label} model benches as F16 and as Q4_K_M, and the quantized file reads fewer bytes per token`,
      async () => {
        const f16 = join(dir, `${spec.architecture}-f16.gguf`)
        const { bytes } = await writeSyntheticGguf(spec, f16)
        expect((await stat(f16)).size).toBe(bytes)

        const rows = await bench(f16)
        expect(rows.map((r) => [r.n_prompt, r.n_gen])).toEqual([
          [16, 0],
          [0, 4]
        ])
        for (const r of rows) {
          expect(r.avg_ts).toBeGreaterThan(0)
          expect(r.model_type).toContain(`${spec.architecture} `)
          expect(r.model_type).toContain('F16')
        }

        const q4 = join(dir, `${spec.architecture}-q4_k_m.gguf`)
        await quantize(f16, q4, 'Q4_K_M')
        const qrows = await bench(q4)
        expect(qrows).toHaveLength(2)
        for (const r of qrows) {
          expect(r.avg_ts).toBeGreaterThan(0)
          expect(r.model_type).toContain('Q4_K - Medium')
        }

        // Our reader agrees with llama.cpp about what it loaded.
        const pf = await profileFile(f16)
        const pq = await profileFile(q4)
        expect(pf.profile.file_type).toBe('F16')
        expect(pq.profile.file_type).toBe('Q4_K_M')
        expect(pf.profile.tensor_bytes).toBe(rows[0]!.model_size)
        expect(pq.profile.tensor_bytes).toBe(qrows[0]!.model_size)
        expect(pq.profile.active_bytes_per_token).toBeLessThan(pf.profile.active_bytes_per_token)
        expect(pq.profile.param_count).toBe(pf.profile.param_count)
        expect(pq.profile.expert_count).toBe(spec.expertCount ?? 0)
        // Bytes computed from dims and type match llama-quantize's layout: the gap to the next tensor.
        const h = pq.header
        const sorted = [...h.tensors].sort((a, b) => a.offset - b.offset)
        sorted.forEach((t, i) => {
          const next = i + 1 < sorted.length ? sorted[i + 1]!.offset : h.fileSize - h.dataOffset
          expect(alignUp(tensorDataBytes(t), h.alignment)).toBe(next - t.offset)
        })
      },
      4 * RUN_TIMEOUT_MS
    )
  }
})

describe('the shared synthetic model cache (test/helpers/synthetic.ts)', () => {
  const spec: SyntheticModelSpec = { ...dense, layers: 1, seed: 4242 }

  test('two callers asking at once for a quantized model get one complete, loadable file', async () => {
    const path = syntheticModelPath(spec, 'Q8_0')
    await rm(path, { force: true })
    const [a, b] = await Promise.all([syntheticModel(spec, 'Q8_0'), syntheticModel(spec, 'q8_0')])
    expect(a).toBe(path)
    expect(b).toBe(path)
    const { profile } = await profileFile(path)
    expect(profile.file_type).toBe('Q8_0')
    expect(profile.layers).toBe(1)
    const rows = await bench(path)
    expect(rows[1]!.avg_ts).toBeGreaterThan(0)
    // A second call reuses the file instead of quantizing again.
    const before = (await stat(path)).mtimeMs
    expect(await syntheticModel(spec, 'Q8_0')).toBe(path)
    expect((await stat(path)).mtimeMs).toBe(before)
  }, RUN_TIMEOUT_MS * 2)
})
