import { describe, expect, it } from '@jest/globals'
import { resolve } from 'node:path'
import { parseManifest, parseModelArg } from '../../src/models/manifest.js'
import { InputError } from '../../src/util/errors.js'

const BASE = '/work/manifests'

function errorOf(fn: () => unknown): InputError {
  try {
    fn()
  } catch (err) {
    if (err instanceof InputError) return err
    throw err
  }
  throw new Error('expected an InputError')
}

describe('parseManifest', () => {
  it('reads Hub refs with and without quant and revision, keeping file and line', () => {
    const text = [
      '# tiny models',
      '',
      'unsloth/Qwen3-0.6B-GGUF:Q4_K_M',
      'bartowski/SmolLM2-135M-Instruct-GGUF:Q8_0@main',
      '  ggml-org/gemma-3-1b-it-GGUF   ',
      'unsloth/Qwen3-30B-A3B-GGUF:UD-Q4_K_XL@0123456789abcdef0123456789abcdef01234567',
      'Qwen/Qwen3-8B-GGUF:q8_0@refs/pr/3'
    ].join('\n')
    expect(parseManifest(text, 'corpora/smoke.txt', BASE)).toEqual([
      { kind: 'hf', ref: 'unsloth/Qwen3-0.6B-GGUF:Q4_K_M', repo: 'unsloth/Qwen3-0.6B-GGUF', quant: 'Q4_K_M', file: 'corpora/smoke.txt', line: 3 },
      {
        kind: 'hf',
        ref: 'bartowski/SmolLM2-135M-Instruct-GGUF:Q8_0@main',
        repo: 'bartowski/SmolLM2-135M-Instruct-GGUF',
        quant: 'Q8_0',
        revision: 'main',
        file: 'corpora/smoke.txt',
        line: 4
      },
      { kind: 'hf', ref: 'ggml-org/gemma-3-1b-it-GGUF', repo: 'ggml-org/gemma-3-1b-it-GGUF', file: 'corpora/smoke.txt', line: 5 },
      {
        kind: 'hf',
        ref: 'unsloth/Qwen3-30B-A3B-GGUF:UD-Q4_K_XL@0123456789abcdef0123456789abcdef01234567',
        repo: 'unsloth/Qwen3-30B-A3B-GGUF',
        quant: 'UD-Q4_K_XL',
        revision: '0123456789abcdef0123456789abcdef01234567',
        file: 'corpora/smoke.txt',
        line: 6
      },
      { kind: 'hf', ref: 'Qwen/Qwen3-8B-GGUF:q8_0@refs/pr/3', repo: 'Qwen/Qwen3-8B-GGUF', quant: 'q8_0', revision: 'refs/pr/3', file: 'corpora/smoke.txt', line: 7 }
    ])
  })

  it('resolves local paths against the manifest folder and keeps absolute ones', () => {
    const refs = parseManifest('models/tiny.gguf\n/abs/m.GGUF\nref=tiny-f16,path=../x/tiny-F16.gguf\n', 'm.txt', BASE)
    expect(refs).toEqual([
      { kind: 'local', ref: 'models/tiny.gguf', path: resolve(BASE, 'models/tiny.gguf'), file: 'm.txt', line: 1 },
      { kind: 'local', ref: '/abs/m.GGUF', path: '/abs/m.GGUF', file: 'm.txt', line: 2 },
      { kind: 'local', ref: 'tiny-f16', path: resolve(BASE, '../x/tiny-F16.gguf'), file: 'm.txt', line: 3 }
    ])
  })

  it('accepts ref=/path= in either order and ignores trailing comments and CRLF', () => {
    const refs = parseManifest('path=a.gguf, ref=A   # the A model\r\nunsloth/Qwen3-0.6B-GGUF:Q4_K_M # tiny\r\n', 'm.txt', BASE)
    expect(refs.map((r) => r.ref)).toEqual(['A', 'unsloth/Qwen3-0.6B-GGUF:Q4_K_M'])
  })

  it('ignores blank and comment-only manifests', () => {
    expect(parseManifest('\n# only comments\n   \n#x', 'm.txt', BASE)).toEqual([])
  })

  it.each([
    ['not a model line', 'not a model line'],
    ['https://example.com/m.gguf', 'is a URL'],
    ['unsloth/Qwen3:Q4:K', 'is not a model'],
    ['owner/repo/extra', 'is not a model'],
    ['ref=x', 'expected both ref=NAME and path=PATH'],
    ['ref=x,path=y.bin', 'does not end in .gguf'],
    ['ref=x,path=a.gguf,quant=Q4', 'unknown key "quant"'],
    ['ref=,path=a.gguf', '"ref" is empty'],
    ['ref=a,ref=b,path=a.gguf', 'given twice']
  ])('rejects %j naming the file and line', (line, message) => {
    const err = errorOf(() => parseManifest(`# header\n\n${line}\n`, 'corpora/deep.txt', BASE))
    expect(err.source).toBe('corpora/deep.txt')
    expect(err.where).toBe('line 3')
    expect(err.message).toContain(message)
  })
})

describe('parseModelArg', () => {
  it('tells a local path, a Hub ref and a URL apart', () => {
    expect(parseModelArg('m/tiny.gguf', '/cwd')).toEqual({ kind: 'local', ref: 'm/tiny.gguf', path: '/cwd/m/tiny.gguf', file: '<input>', line: 1 })
    expect(parseModelArg('unsloth/Qwen3-0.6B-GGUF:Q4_K_M', '/cwd')).toMatchObject({ kind: 'hf', repo: 'unsloth/Qwen3-0.6B-GGUF', quant: 'Q4_K_M' })
    expect(parseModelArg('https://huggingface.co/o/r/resolve/main/m-Q8_0.gguf', '/cwd')).toEqual({
      kind: 'url',
      ref: 'https://huggingface.co/o/r/resolve/main/m-Q8_0.gguf',
      url: 'https://huggingface.co/o/r/resolve/main/m-Q8_0.gguf',
      file: '<input>',
      line: 1
    })
  })

  it('rejects URLs that do not name a .gguf and names the argument source', () => {
    const err = errorOf(() => parseModelArg('https://example.com/model.bin', '/cwd', '--models', 2))
    expect(err.source).toBe('--models')
    expect(err.where).toBe('line 2')
    expect(err.message).toContain('.gguf')
    expect(() => parseModelArg('just-a-name', '/cwd')).toThrow(InputError)
  })
})
