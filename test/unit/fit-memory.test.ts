import { describe, expect, test } from '@jest/globals'
import { readGgufHeader } from '../../src/gguf/reader.js'
import { buildProfile } from '../../src/gguf/profile.js'
import type { SyntheticModelSpec } from '../../src/gguf/writer.js'
import { parseLlamaBufferSizes } from '../../src/bench/llama-log.js'
import { llamaMemoryCheck, memoryEstimateErrors } from '../../src/compare/memory-check.js'
import { computeBufferBytes, modelGeometry } from '../../src/fit/index.js'
import { syntheticHeaderSource } from '../helpers/synthetic.js'

const MiB = 1024 * 1024

async function geometry(spec: SyntheticModelSpec) {
  const h = await readGgufHeader(syntheticHeaderSource(spec))
  return modelGeometry(buildProfile([h], h.fileSize, 'test.gguf'))
}

const llama = (layers: number, embd: number, ff: number, heads: number, kvHeads: number, vocab: number, headDim: number): SyntheticModelSpec => ({
  architecture: 'llama', layers, embeddingLength: embd, feedForwardLength: ff, heads, kvHeads, headDim, vocabSize: vocab, contextLength: 8192, seed: 1
})

// llama-server -c CTX -ub 512 -fa off|on -np 1 on the pinned build (de3ff81, CPU), "CPU compute buffer size" in MiB.
const SERVER_LOGGED: [SyntheticModelSpec, number, boolean, number][] = [
  [llama(2, 256, 768, 4, 2, 2048, 64), 1024, false, 13.01],
  [llama(2, 256, 768, 4, 2, 2048, 64), 4096, true, 10.51],
  [llama(2, 256, 768, 4, 2, 131072, 64), 4096, false, 43.01],
  [llama(2, 1024, 2816, 16, 4, 2048, 64), 1024, true, 25.51],
  [llama(2, 1024, 2816, 16, 4, 2048, 64), 4096, false, 147.01],
  [llama(2, 1024, 8192, 8, 8, 2048, 128), 1024, false, 60.01],
  [llama(2, 1024, 8192, 8, 8, 2048, 128), 4096, true, 60.01],
  [llama(2, 2048, 5632, 16, 8, 8192, 128), 4096, false, 160.01],
  [llama(2, 2048, 5632, 16, 8, 8192, 128), 1024, true, 50.01],
  [llama(2, 512, 1408, 32, 4, 4096, 64), 4096, false, 276.01],
  [llama(2, 512, 1408, 32, 4, 4096, 64), 4096, true, 16.51]
]

describe("llama.cpp's compute buffer", () => {
  test.each(SERVER_LOGGED.map(([spec, ctx, fa, mib], i) => [i, spec, ctx, fa, mib] as const))(
    'server case %i is within 5 % of the logged size',
    async (_i, spec, ctx, fa, mib) => {
      const g = await geometry(spec)
      const est = computeBufferBytes(g, { contextTokens: ctx, ubatch: 512, flashAttention: fa, outputRows: 1 })
      expect(Math.abs(est / (mib * MiB) - 1)).toBeLessThan(0.05)
    }
  )

  // llama-fit-params -c CTX -ub 512 -b 2048 -fa on|off (the projection: a whole ubatch of logits), long contexts.
  // At 4k with flash attention the output phase (16 MiB of logits) decides, and llama.cpp holds 1 MiB more there than
  // the rule counts (−5.6 %): not explained yet, so its bound says so.
  test.each([
    [4096, true, 18.0, 0.06],
    [8192, true, 21.01, 0.05],
    [16896, true, 29.51, 0.05],
    [16896, false, 304.01, 0.05]
  ] as const)('long context: %i cells, flash attention %s, near the projected %f MiB', async (ctx, fa, mib, within) => {
    const g = await geometry({ ...llama(8, 512, 1536, 8, 8, 8192, 64), contextLength: 32768 })
    const est = computeBufferBytes(g, { contextTokens: ctx, ubatch: 512, flashAttention: fa, outputRows: 512 })
    expect(Math.abs(est / (mib * MiB) - 1)).toBeLessThan(within)
  })

  test('llama-bench reserves a whole ubatch of logits: a large vocabulary dominates (logged 257.50 MiB)', async () => {
    const g = await geometry(llama(1, 256, 768, 4, 2, 131072, 64))
    const est = computeBufferBytes(g, { contextTokens: 512, ubatch: 512, flashAttention: false, outputRows: 512 })
    expect(Math.abs(est / (257.5 * MiB) - 1)).toBeLessThan(0.02)
  })
})

describe('parseLlamaBufferSizes', () => {
  const server = [
    '0.00.055.236 I load_tensors:   CPU_Mapped model buffer size =   102.04 MiB',
    '0.00.055.300 I load_tensors:   CPU_REPACK model buffer size =    10.00 MiB',
    '0.00.055.888 I llama_context:        CPU  output buffer size =     0.02 MiB',
    '0.00.055.951 I llama_kv_cache:        CPU KV buffer size =    16.00 MiB',
    '0.00.074.405 I sched_reserve:        CPU compute buffer size =   147.01 MiB'
  ].join('\n')

  test('sums devices per kind, keeps repacked copies of weights apart, and ignores the teardown line', () => {
    const s = parseLlamaBufferSizes(server + '\n~llama_context:        CPU compute buffer size is 147.0100 MiB, matches expectation of 147.0100 MiB\n')
    // The mapped buffer spans every tensor; CPU_REPACK is a second layout of some of them.
    expect(s.model_bytes).toBe(Math.round(102.04 * MiB))
    expect(s.repacked_model_bytes).toBe(10 * MiB)
    expect(s.rs_bytes).toBeNull()
    expect(s.kv_bytes).toBe(16 * MiB)
    expect(s.compute_bytes).toBe(Math.round(147.01 * MiB))
    expect(s.output_bytes).toBe(Math.round(0.02 * MiB))
    expect(s.buffers).toHaveLength(5)
  })

  test('keeps only the last load of a log and reports nulls for missing lines', () => {
    const s = parseLlamaBufferSizes(`${server}\n${server.replace('102.04', '50.00')}`)
    expect(s.model_bytes).toBe(50 * MiB)
    const empty = parseLlamaBufferSizes('nothing here')
    expect(empty).toEqual({ model_bytes: null, repacked_model_bytes: null, kv_bytes: null, rs_bytes: null, compute_bytes: null, output_bytes: null, buffers: [] })
  })

  test("reads a recurrent model's RS buffer, device buffers summed with the host's, and AMX copies apart", () => {
    const log = [
      'load_tensors:        CUDA0 model buffer size =   900.00 MiB',
      'load_tensors:   CPU_Mapped model buffer size =    50.00 MiB',
      'load_tensors:          AMX model buffer size =    30.00 MiB',
      'llama_memory_recurrent:      CUDA0 RS buffer size =     1.50 MiB',
      'llama_kv_cache:      CUDA0 KV buffer size =     8.00 MiB',
      'sched_reserve:      CUDA0 compute buffer size =    20.00 MiB'
    ].join('\n')
    const s = parseLlamaBufferSizes(log)
    expect(s.model_bytes).toBe(950 * MiB)
    expect(s.repacked_model_bytes).toBe(30 * MiB)
    expect(s.rs_bytes).toBe(1.5 * MiB)
    expect(s.kv_bytes).toBe(8 * MiB)
    expect(s.buffers.map((b) => b.kind)).toEqual(['model', 'model', 'repacked_model', 'rs', 'kv', 'compute'])
  })

  test('memory estimate errors against the logged numbers', () => {
    const logged = parseLlamaBufferSizes(server)
    const fit = { status: 'fits', weights_bytes: 102.04 * MiB, kv_cache_bytes: 16 * MiB, recurrent_state_bytes: 0, compute_bytes: 150 * MiB, overhead_bytes: 0, total_bytes: 0, usable_bytes: 0, gpu_layers_that_fit: null, machines_for_split: 1, reason: '' } as const
    const e = memoryEstimateErrors(fit, logged)
    expect(e.kvPct).toBeCloseTo(0, 6)
    expect(e.computePct).toBeCloseTo((100 * (150 - 147.01)) / 147.01, 1)
    // The log has a CPU_REPACK buffer: the weights are not compared.
    expect(e.weightsPct).toBeNull()
    expect(e.statePct).toBeNull()
    expect(memoryEstimateErrors(fit, parseLlamaBufferSizes('')).weightsPct).toBeNull()
    // A state estimated where llama.cpp logged none is wrong, not unknown.
    expect(memoryEstimateErrors({ ...fit, recurrent_state_bytes: MiB }, logged).statePct).toBe(100)
  })

  test("the report's check: estimate beside logged bytes, errors signed and rounded, a missing buffer null", () => {
    const logged = parseLlamaBufferSizes(server.split('\n').filter((l) => !l.includes('compute')).join('\n'))
    const fit = { status: 'fits', weights_bytes: 100 * MiB, kv_cache_bytes: 17 * MiB, recurrent_state_bytes: 0, compute_bytes: 150 * MiB, overhead_bytes: 0, total_bytes: 0, usable_bytes: 0, gpu_layers_that_fit: null, machines_for_split: 1, reason: '' } as const
    const check = llamaMemoryCheck(fit, logged)
    expect(check.logged).toEqual({ model_bytes: Math.round(102.04 * MiB), kv_bytes: 16 * MiB, rs_bytes: null, compute_bytes: null, repacked_model_bytes: 10 * MiB })
    expect(check.estimated).toEqual({ model_bytes: 100 * MiB, kv_bytes: 17 * MiB, rs_bytes: 0, compute_bytes: 150 * MiB })
    // With repacked copies no logged figure is the file's weights: shown, not compared.
    expect(check.error_pct).toEqual({ model: null, kv: 6.3, state: null, compute: null })
    const plain = parseLlamaBufferSizes(server.split('\n').filter((l) => !l.includes('CPU_REPACK')).join('\n'))
    expect(llamaMemoryCheck(fit, plain).error_pct.model).toBe(-2)
  })
})
