import { describe, expect, test } from '@jest/globals'
import { formatSplitName, parseSplitName, shardPaths, splitInfo } from '../../src/gguf/split.js'
import type { GgufHeader } from '../../src/gguf/format.js'
import { InputError } from '../../src/util/errors.js'

const header = (metadata: GgufHeader['metadata']): GgufHeader => ({ version: 3, metadata, tensors: [], alignment: 32, dataOffset: 0, fileSize: 0 })

describe('split GGUF shard names', () => {
  test('parse and format the names gguf-split writes', () => {
    expect(parseSplitName('/m/Qwen3-30B-A3B-Q4_K_M-00002-of-00003.gguf')).toEqual({ prefix: '/m/Qwen3-30B-A3B-Q4_K_M', index: 2, count: 3 })
    expect(formatSplitName('/m/model', 1, 3)).toBe('/m/model-00001-of-00003.gguf')
    expect(parseSplitName('/m/model.gguf')).toBeNull()
    expect(parseSplitName('/m/model-00004-of-00003.gguf')).toBeNull()
    expect(parseSplitName('/m/model-1-of-3.gguf')).toBeNull()
  })

  test('the first shard names all shards; a plain file is its own only shard', () => {
    expect(shardPaths('d/x-00001-of-00003.gguf')).toEqual(['d/x-00001-of-00003.gguf', 'd/x-00002-of-00003.gguf', 'd/x-00003-of-00003.gguf'])
    expect(shardPaths('d/x.gguf')).toEqual(['d/x.gguf'])
  })

  test('a later shard is refused: the user must point at the first one', () => {
    expect(() => shardPaths('d/x-00002-of-00003.gguf')).toThrow(InputError)
    expect(() => shardPaths('d/x-00002-of-00003.gguf')).toThrow(/pass the first shard/)
  })

  test('split.no / split.count keys are read and checked', () => {
    expect(splitInfo(header({}), 'a.gguf')).toEqual({ no: 0, count: 1 })
    expect(splitInfo(header({ 'split.no': 1, 'split.count': 3 }), 'a.gguf')).toEqual({ no: 1, count: 3 })
    expect(() => splitInfo(header({ 'split.no': 3, 'split.count': 3 }), 'a.gguf')).toThrow(/split.no: 3 is not below split.count 3/)
    expect(() => splitInfo(header({ 'split.no': 0 }), 'a.gguf')).toThrow(/split.count/)
  })
})
