import { describe, expect, it } from '@jest/globals'
import { availableTags, expectedShardPaths, findBestModel, isModelGguf, splitFiles, splitInfo } from '../../src/models/select.js'

const f = (path: string) => ({ path })
const pick = (paths: string[], tag?: string) => findBestModel(paths.map(f), tag)?.path ?? null

// A listing shaped like unsloth's large repos: companions, several quants, a split quant in a folder.
const LISTING = [
  '.gitattributes',
  'BF16/Qwen3-30B-A3B-BF16-00001-of-00002.gguf',
  'BF16/Qwen3-30B-A3B-BF16-00002-of-00002.gguf',
  'Qwen3-30B-A3B-IQ4_XS.gguf',
  'Qwen3-30B-A3B-Q4_K_M.gguf',
  'Qwen3-30B-A3B-Q8_0.gguf',
  'Qwen3-30B-A3B-UD-Q4_K_XL.gguf',
  'README.md',
  'imatrix_unsloth.gguf',
  'mmproj-F16.gguf',
  'Q4_K_M/Qwen3-30B-A3B-Q4_K_M-00002-of-00003.gguf'
]

describe('llama.cpp -hf quant selection', () => {
  it('matches the tag case-insensitively when followed by "." or "-"', () => {
    expect(pick(LISTING, 'q8_0')).toBe('Qwen3-30B-A3B-Q8_0.gguf')
    expect(pick(LISTING, 'iq4_xs')).toBe('Qwen3-30B-A3B-IQ4_XS.gguf')
    expect(pick(LISTING, 'UD-Q4_K_XL')).toBe('Qwen3-30B-A3B-UD-Q4_K_XL.gguf')
  })

  it('does not take a longer quant name for a shorter tag', () => {
    expect(pick(['m-Q4_K_M.gguf', 'm-Q4_K_S.gguf'], 'Q4_K')).toBeNull()
    expect(pick(['m-Q4_K_M.gguf', 'm-Q4_K.gguf'], 'Q4_K')).toBe('m-Q4_K.gguf')
  })

  it('takes shard 1 of a split model, never a later shard, and finds it in folders', () => {
    expect(pick(LISTING, 'BF16')).toBe('BF16/Qwen3-30B-A3B-BF16-00001-of-00002.gguf')
    expect(pick(['x/m-Q2_K-00002-of-00002.gguf', 'x/m-Q2_K-00001-of-00002.gguf'], 'Q2_K')).toBe('x/m-Q2_K-00001-of-00002.gguf')
    expect(pick(['m-Q2_K-00002-of-00002.gguf'], 'Q2_K')).toBeNull()
  })

  it('leaves out projectors, importance matrices and draft heads', () => {
    expect(pick(['mmproj-F16.gguf', 'imatrix-F16.gguf', 'model-F16.gguf'], 'F16')).toBe('model-F16.gguf')
    expect(pick(['mmproj-F16.gguf', 'imatrix-F16.gguf'], 'F16')).toBeNull()
    expect(pick(['mmproj-model-Q8_0.gguf', 'model-Q8_0.gguf'], 'Q8_0')).toBe('model-Q8_0.gguf')
    expect(isModelGguf('sub/mtp-model-Q8_0.gguf')).toBe(false)
    expect(isModelGguf('imatrix.gguf')).toBe(false)
    expect(isModelGguf('README.md')).toBe(false)
  })

  it('without a tag prefers Q4_K_M, then Q8_0, then the first model GGUF', () => {
    expect(pick(LISTING)).toBe('Qwen3-30B-A3B-Q4_K_M.gguf')
    expect(pick(['a-F16.gguf', 'a-Q8_0.gguf'])).toBe('a-Q8_0.gguf')
    expect(pick(['mmproj-a.gguf', 'a-f32-00002-of-00002.gguf', 'a-F16.gguf'])).toBe('a-F16.gguf')
    expect(pick(['README.md'])).toBeNull()
  })

  it('matches the tag anywhere in the path, as llama.cpp does (F16 also finds a BF16 file)', () => {
    expect(pick(LISTING, 'F16')).toBe('BF16/Qwen3-30B-A3B-BF16-00001-of-00002.gguf')
  })

  it('does not fall back to another file when a tag was asked for', () => {
    expect(pick(['a-F16.gguf'], 'Q4_K_M')).toBeNull()
  })

  it('collects all shards of the chosen file in order, and only those', () => {
    const files = ['m-Q4_K_M-00003-of-00003.gguf', 'm-Q4_K_M-00001-of-00003.gguf', 'm-Q8_0-00001-of-00002.gguf', 'm-Q4_K_M-00002-of-00003.gguf'].map(f)
    expect(splitFiles(files, f('m-Q4_K_M-00001-of-00003.gguf')).map((x) => x.path)).toEqual([
      'm-Q4_K_M-00001-of-00003.gguf',
      'm-Q4_K_M-00002-of-00003.gguf',
      'm-Q4_K_M-00003-of-00003.gguf'
    ])
    const single = f('m-Q8_0.gguf')
    expect(splitFiles([single], single)).toEqual([single])
  })

  it('parses split names and tags like get_gguf_split_info', () => {
    expect(splitInfo('dir/Model-q4_k_m-00002-of-00010.gguf')).toEqual({ prefix: 'dir/Model-q4_k_m', tag: 'Q4_K_M', index: 2, count: 10 })
    expect(splitInfo('model.gguf')).toEqual({ prefix: 'model', tag: '', index: 1, count: 1 })
    expect(splitInfo('model.bin')).toBeNull()
    expect(expectedShardPaths('a/m-00001-of-00002.gguf')).toEqual(['a/m-00001-of-00002.gguf', 'a/m-00002-of-00002.gguf'])
    expect(availableTags(LISTING.map(f))).toEqual(['BF16', 'IQ4_XS', 'Q4_K_M', 'Q4_K_XL', 'Q8_0'])
  })
})
