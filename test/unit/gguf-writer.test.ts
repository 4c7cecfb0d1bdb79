import { describe, expect, test } from '@jest/globals'
import { syntheticLayout, syntheticVocab, type SyntheticModelSpec } from '../../src/gguf/writer.js'
import { profileFile } from '../../src/gguf/index.js'
import { InputError } from '../../src/util/errors.js'
import { specErrorField } from '../helpers/synthetic.js'

const base: SyntheticModelSpec = {
  architecture: 'llama',
  layers: 2,
  embeddingLength: 128,
  feedForwardLength: 256,
  heads: 4,
  kvHeads: 2,
  vocabSize: 300,
  contextLength: 512,
  seed: 1
}

const fieldOf = specErrorField

describe('synthetic model specs', () => {
  test('impossible geometry is refused naming the field', () => {
    expect(fieldOf(base)).toBeNull()
    expect(fieldOf({ ...base, heads: 3 })).toBe('kvHeads')
    expect(fieldOf({ ...base, layers: 0 })).toBe('layers')
    expect(fieldOf({ ...base, vocabSize: 100 })).toBe('vocabSize')
    expect(fieldOf({ ...base, architecture: 'qwen3moe' })).toBe('expertCount')
    expect(fieldOf({ ...base, expertCount: 4, expertUsedCount: 5 })).toBe('expertUsedCount')
    expect(fieldOf({ ...base, expertFeedForwardLength: 64 })).toBe('expertFeedForwardLength')
    expect(fieldOf({ ...base, headDim: 7 })).toBe('headDim')
  })

  test('general.name gives no geometry away', () => {
    const names = syntheticLayout(base).metadata.filter((kv) => kv.key.startsWith('general.')).map((kv) => [kv.key, kv.value])
    expect(names).toContainEqual(['general.name', 'synthetic'])
    expect(names.map(([k]) => k).sort()).toEqual(['general.alignment', 'general.architecture', 'general.file_type', 'general.name'])
  })

  test('a qwen3moe layout has the tensors llama.cpp requires for it', () => {
    const layout = syntheticLayout({ ...base, architecture: 'qwen3moe', expertCount: 4, expertUsedCount: 2, expertFeedForwardLength: 64, tiedEmbeddings: true })
    const names = layout.tensors.map((t) => t.name)
    for (const n of ['attn_q_norm', 'attn_k_norm', 'ffn_gate_inp', 'ffn_gate_exps', 'ffn_up_exps', 'ffn_down_exps']) {
      expect(names).toContain(`blk.1.${n}.weight`)
    }
    expect(names).not.toContain('output.weight')
    expect(layout.tensors.find((t) => t.name === 'blk.0.ffn_down_exps.weight')?.dims).toEqual([64, 128, 4])
    expect(layout.metadata.find((kv) => kv.key === 'qwen3moe.expert_feed_forward_length')?.value).toBe(64)
  })
})

describe('synthetic byte-level BPE vocabulary', () => {
  test('has exactly vocabSize unique tokens, every byte, and a merge for every multi-character token', () => {
    for (const size of [257, 300, 70_000]) {
      const v = syntheticVocab(size)
      expect(v.tokens).toHaveLength(size)
      expect(new Set(v.tokens).size).toBe(size)
      expect(v.types).toHaveLength(size)
      expect(v.merges).toHaveLength(size - 257)
      const known = new Set(v.tokens)
      for (const m of v.merges) {
        const [a, b] = m.split(' ')
        expect(known.has(a!) && known.has(b!) && known.has(a! + b!)).toBe(true)
      }
    }
  })

  test('token ids 0..255 are the 256 byte tokens (GPT-2 byte-level), so any text can be tokenized', () => {
    const v = syntheticVocab(300)
    expect(v.tokens[72]).toBe('H')
    expect(v.tokens[32]).toBe('Ġ')
    expect(v.tokens[10]).toBe('Ċ')
    expect(v.tokens[v.eos]).toBe('<|endoftext|>')
  })
})

describe('profileFile on a missing path', () => {
  test('is an input error naming the file', async () => {
    await expect(profileFile('/nonexistent/model.gguf')).rejects.toThrow(new InputError('/nonexistent/model.gguf', null, 'cannot read the model file (ENOENT)'))
  })
})
