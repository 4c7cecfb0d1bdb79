import { describe, expect, it } from '@jest/globals'
import { FIRST_PROMPT_TOKEN_ID, promptSeed, promptTokens } from '../../src/bench/prompts.js'
import { defaultWorkload, validateWorkload } from '../../src/bench/workload.js'
import { InputError } from '../../src/util/errors.js'

describe('promptTokens', () => {
  it('has exactly the length asked, with ids inside the vocabulary and past the control tokens', () => {
    for (const [len, vocab] of [
      [0, 32000],
      [1, 12],
      [512, 2048],
      [4096, 151936]
    ] as const) {
      const ids = promptTokens(len, vocab, 7)
      expect(ids).toHaveLength(len)
      for (const id of ids) {
        expect(Number.isInteger(id)).toBe(true)
        expect(id).toBeGreaterThanOrEqual(FIRST_PROMPT_TOKEN_ID)
        expect(id).toBeLessThan(vocab)
      }
    }
  })

  it('is the same for the same seed and different for another seed', () => {
    expect(promptTokens(256, 32000, 1)).toEqual(promptTokens(256, 32000, 1))
    const a = promptTokens(256, 32000, 1)
    const b = promptTokens(256, 32000, 2)
    expect(a.filter((id, i) => id === b[i]).length).toBeLessThan(5)
  })

  it('spreads the ids over the vocabulary', () => {
    const ids = promptTokens(4000, 1010, 3)
    expect(new Set(ids).size).toBeGreaterThan(900)
    expect(Math.min(...ids)).toBe(FIRST_PROMPT_TOKEN_ID)
    expect(Math.max(...ids)).toBe(1009)
  })

  it('rejects a vocabulary too small to hold ordinary tokens', () => {
    expect(() => promptTokens(4, 11, 1)).toThrow('vocabSize')
    expect(() => promptTokens(-1, 100, 1)).toThrow('prompt length')
  })

  it('gives every run and part its own seed', () => {
    const seeds = new Set<number>()
    for (const salt of [1, 2]) for (let i = 0; i < 50; i++) for (const part of [0, 1]) seeds.add(promptSeed(salt, i, part))
    expect(seeds.size).toBe(200)
  })
})

describe('defaultWorkload', () => {
  it('has the CPU-demo defaults and takes overrides', () => {
    const w = defaultWorkload({ threads: 2 })
    // The defaults the docs state: a 4k context with f16 KV, 64 decoded tokens at depth 0, one 512-token ubatch of prefill,
    // a 256-token first-token prompt, 512 + 64 tokens of warm reuse decoding 32, all layers on a GPU when there is one.
    const tokens = [w.context_tokens, w.decode_depth, w.decode_tokens, w.prefill_tokens, w.first_token_prompt_tokens, w.warm_prefix_tokens, w.warm_suffix_tokens, w.warm_decode_tokens]
    expect(tokens).toEqual([4096, 0, 64, 512, 256, 512, 64, 32])
    expect([w.kv_type, w.flash_attention, w.ubatch, w.batch, w.threads, w.gpu_layers]).toEqual(['f16', false, 512, 2048, 2, 99])
    expect(w.prefill_depth).toBe(0)
    expect(Object.keys(w)).toHaveLength(18)
    expect([w.parallel_slots, w.parallel_prompt_tokens, w.parallel_decode_tokens]).toEqual([4, 64, 64])
    expect(defaultWorkload({ decode_depth: 2048, kv_type: 'q8_0', flash_attention: true })).toMatchObject({ decode_depth: 2048, kv_type: 'q8_0' })
  })

  it('uses the cores Node may use by default', () => {
    expect(defaultWorkload().threads).toBeGreaterThanOrEqual(1)
  })

  it('rejects workloads the scenarios cannot run, naming the field', () => {
    const bad = (o: object) => () => defaultWorkload({ threads: 2, ...o })
    expect(bad({ decode_tokens: 0 })).toThrow(new InputError('workload', 'decode_tokens', 'must be an integer ≥ 1, got 0'))
    expect(bad({ kv_type: 'q3_k' })).toThrow(/workload: kv_type: unknown KV cache type "q3_k"/)
    expect(bad({ decode_depth: 4090 })).toThrow('workload: decode_depth: needs 4154 tokens of context, more than context_tokens 4096')
    expect(bad({ warm_prefix_tokens: 4000 })).toThrow('workload: warm_prefix_tokens: needs 4097 tokens')
    expect(bad({ ubatch: 4096 })).toThrow('workload: ubatch: 4096 exceeds batch 2048')
    expect(bad({ warm_decode_tokens: 1 })).toThrow('warm_decode_tokens: must be ≥ 2')
    expect(bad({ gpu_layers: -2 })).toThrow('gpu_layers')
    expect(bad({ gpu_layers: 2.5 })).toThrow('gpu_layers')
    // Long context: the prompt at depth must fit the context too.
    expect(bad({ context_tokens: 16384, prefill_depth: 16000 })).toThrow('workload: prefill_depth: needs 16512 tokens of context, more than context_tokens 16384')
    expect(bad({ prefill_depth: -1 })).toThrow('workload: prefill_depth: must be an integer ≥ 0, got -1')
    expect(defaultWorkload({ threads: 2, context_tokens: 16896, prefill_depth: 16384 }).prefill_depth).toBe(16384)
    // llama.cpp refuses a quantized V cache without flash attention: said before anything runs.
    expect(bad({ kv_type: 'q8_0' })).toThrow('workload: kv_type: a quantized KV cache (q8_0) needs flash attention on')
    expect(bad({ kv_type: 'bf16' })).not.toThrow()
  })

  it('names the source given to validateWorkload', () => {
    expect(() => validateWorkload({ ...defaultWorkload({ threads: 1 }), threads: 0 }, 'report.json workload')).toThrow(
      'report.json workload: threads: must be an integer ≥ 1, got 0'
    )
  })
})
