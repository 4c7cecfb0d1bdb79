// Header values past llama.cpp's limits or any physical sense are refused before anything is sized by them: a
// 300 KB file claiming 2³²−1 layers once exhausted the heap.
import { describe, expect, test } from '@jest/globals'
import { readHparams } from '../../src/gguf/hparams.js'
import { GgufError } from '../../src/util/errors.js'

const base = {
  'general.architecture': 'llama',
  'llama.block_count': 8,
  'llama.embedding_length': 512,
  'llama.feed_forward_length': 1536,
  'llama.attention.head_count': 8,
  'llama.context_length': 4096
}
const errorOf = (over: Record<string, number>): string => {
  try {
    readHparams({ ...base, ...over }, 'm.gguf')
  } catch (err) {
    expect(err).toBeInstanceOf(GgufError)
    return (err as Error).message
  }
  throw new Error('accepted')
}

describe('header values out of range', () => {
  test('a sound header is read', () => {
    expect(readHparams(base, 'm.gguf')).toMatchObject({ layers: 8, embeddingLength: 512, contextLength: 4096 })
  })

  test.each([
    [{ 'llama.block_count': 2 ** 32 - 1 }, /^m\.gguf: key llama\.block_count: 4294967295 is outside 1\.\.512 \(llama\.cpp's LLAMA_MAX_LAYERS\)$/],
    [{ 'llama.block_count': 0 }, /key llama\.block_count: 0 is outside 1\.\.512/],
    [{ 'llama.embedding_length': 2 ** 32 - 1 }, /key llama\.embedding_length: 4294967295 is outside 1\.\.1048576/],
    [{ 'llama.embedding_length': 0 }, /key llama\.embedding_length: 0 is outside/],
    [{ 'llama.context_length': 2 ** 40 }, /key llama\.context_length: .* is outside 1\.\.134217728/],
    [{ 'llama.context_length': 0 }, /key llama\.context_length: 0 is outside 1\.\.134217728/],
    [{ 'llama.expert_count': 4096 }, /key llama\.expert_count: 4096 is outside 0\.\.1024/],
    [{ 'llama.expert_count': 8, 'llama.expert_used_count': 9 }, /key llama\.expert_used_count: 9 is outside 0\.\.8 \(more used experts than experts\)/],
    [{ 'llama.attention.key_length': 2 ** 31 }, /key llama\.attention\.key_length: .* is outside/],
    [{ 'llama.attention.head_count': 0 }, /key llama\.attention\.head_count: is 0 \(or missing\) in a model without recurrent layers/]
  ])('%j is refused, naming the key', (over, message) => {
    expect(errorOf(over)).toMatch(message)
  })

  test('zero heads is a recurrent model, not an error, when the header has recurrent keys', () => {
    expect(readHparams({ ...base, 'general.architecture': 'mamba', 'mamba.block_count': 4, 'mamba.embedding_length': 256, 'mamba.ssm.state_size': 16 }, 'm.gguf').layers).toBe(4)
  })
})

