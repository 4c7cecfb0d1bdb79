import { describe, expect, test } from '@jest/globals'
import { GGML_TYPES, ggmlTypeByName, llamaFileTypeName, rowBytes, tensorBytes } from '../../src/gguf/ggml-types.js'
import { tensorGroup } from '../../src/gguf/groups.js'

describe('GGML types', () => {
  test('block and type sizes match llama.cpp (ggml.c type_traits)', () => {
    const expected: Record<string, [number, number, number]> = {
      F32: [0, 1, 4], F16: [1, 1, 2], Q4_0: [2, 32, 18], Q4_1: [3, 32, 20], Q5_0: [6, 32, 22], Q5_1: [7, 32, 24],
      Q8_0: [8, 32, 34], Q8_1: [9, 32, 36], Q2_K: [10, 256, 84], Q3_K: [11, 256, 110], Q4_K: [12, 256, 144],
      Q5_K: [13, 256, 176], Q6_K: [14, 256, 210], Q8_K: [15, 256, 292], IQ2_XXS: [16, 256, 66], IQ2_XS: [17, 256, 74],
      IQ3_XXS: [18, 256, 98], IQ1_S: [19, 256, 50], IQ4_NL: [20, 32, 18], IQ3_S: [21, 256, 110], IQ2_S: [22, 256, 82],
      IQ4_XS: [23, 256, 136], I8: [24, 1, 1], I16: [25, 1, 2], I32: [26, 1, 4], I64: [27, 1, 8], F64: [28, 1, 8],
      IQ1_M: [29, 256, 56], BF16: [30, 1, 2], TQ1_0: [34, 256, 54], TQ2_0: [35, 256, 66], MXFP4: [39, 32, 17],
      NVFP4: [40, 64, 36], Q1_0: [41, 128, 18], Q2_0: [42, 64, 18]
    }
    for (const [name, [id, block, size]] of Object.entries(expected)) {
      expect(GGML_TYPES.get(id)).toEqual({ id, name, blockSize: block, typeSize: size })
    }
    expect(GGML_TYPES.size).toBe(Object.keys(expected).length)
    // Removed ids stay unknown so the reader refuses them.
    for (const removed of [4, 5, 31, 32, 33, 36, 37, 38, 43]) expect(GGML_TYPES.has(removed)).toBe(false)
  })

  test('row bytes = type size × n / block size; a partial block is an error', () => {
    expect(rowBytes(12, 4096)).toBe(16 * 144)
    expect(rowBytes(8, 64)).toBe(68)
    expect(tensorBytes(1, [256, 3, 2])).toBe(256 * 6 * 2)
    expect(() => rowBytes(12, 100)).toThrow(/block size 256/)
    expect(ggmlTypeByName('q8_0')?.id).toBe(8)
  })

  test('general.file_type names the quantization as users spell it', () => {
    expect(llamaFileTypeName(1)).toBe('F16')
    expect(llamaFileTypeName(7)).toBe('Q8_0')
    expect(llamaFileTypeName(15)).toBe('Q4_K_M')
    expect(llamaFileTypeName(18)).toBe('Q6_K')
    expect(llamaFileTypeName(38)).toBe('MXFP4_MOE')
    expect(llamaFileTypeName(999)).toBe('FTYPE_999')
  })
})

describe('tensor groups (first match wins)', () => {
  test.each([
    ['token_embd.weight', 'embedding'],
    ['token_embd_norm.weight', 'norm'],
    ['output.weight', 'output'],
    ['output_norm.weight', 'norm'],
    ['cls.output.weight', 'output'],
    ['blk.0.attn_q.weight', 'attention'],
    ['blk.0.attn_output.weight', 'attention'],
    ['blk.0.attn_q_norm.weight', 'norm'],
    ['blk.0.ffn_gate.weight', 'ffn_dense'],
    ['blk.0.ffn_gate_inp.weight', 'ffn_dense'],
    ['blk.0.ffn_up_exps.weight', 'ffn_expert'],
    ['blk.0.ffn_gate_up_exps.weight', 'ffn_expert'],
    ['blk.0.ffn_down_shexp.weight', 'ffn_shared_expert'],
    ['blk.0.ffn_gate_inp_shexp.weight', 'ffn_shared_expert'],
    ['blk.0.ssm_in.weight', 'ssm'],
    ['blk.0.time_mix_key.weight', 'ssm'],
    ['blk.0.shortconv.in_proj.weight', 'ssm'],
    ['blk.0.channel_mix_key.weight', 'ffn_dense'],
    ['rope_freqs.weight', 'other']
  ])('%s → %s', (name, group) => {
    expect(tensorGroup(name)).toBe(group)
  })
})
