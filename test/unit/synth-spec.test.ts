import { readFileSync } from 'node:fs'
import { describe, expect, it } from '@jest/globals'
import { parseSynthSpec } from '../../src/synth/spec.js'

describe('the synthetic corpus spec', () => {
  it('the bundled demo corpus has a quant ladder, a GQA model, a deep-narrow model and an MoE, ≥ 6 files', () => {
    const spec = parseSynthSpec(readFileSync('corpora/synthetic.yml', 'utf8'), 'corpora/synthetic.yml')
    const files = spec.models.flatMap((m) => m.types.map((t) => `${m.name}:${t}`))
    expect(files.length).toBeGreaterThanOrEqual(6)
    expect(spec.models.some((m) => ['F16', 'Q8_0', 'Q4_K_M'].every((t) => m.types.includes(t as never)))).toBe(true)
    expect(spec.models.some((m) => m.kv_heads < m.heads)).toBe(true)
    expect(spec.models.some((m) => m.architecture === 'qwen3moe')).toBe(true)
    expect(spec.models.some((m) => m.layers >= 16 && m.embedding_length <= 256)).toBe(true)
  })
  it('names the key and line of a wrong value', () => {
    const text = [
      'version: 1',
      'models:',
      '  - name: a',
      '    architecture: llama',
      '    layers: eight',
      '    embedding_length: 256',
      '    feed_forward_length: 512',
      '    heads: 4',
      '    kv_heads: 4',
      '    vocab_size: 1024',
      '    context_length: 512',
      '    types: [F16]'
    ].join('\n')
    expect(() => parseSynthSpec(text, 'spec.yml')).toThrow(/spec.yml: models.0.layers \(line 5\): must be integer/)
  })
  it('names an unknown key and a bad type list', () => {
    const base = 'version: 1\nmodels:\n  - {name: a, architecture: llama, layers: 2, embedding_length: 256, feed_forward_length: 512, heads: 4, kv_heads: 4, vocab_size: 1024, context_length: 512, types: [F16]'
    expect(() => parseSynthSpec(base + ', colour: red}', 's.yml')).toThrow(/models.0 \(line 3\): must NOT have additional properties "colour"/)
    expect(() => parseSynthSpec(base.replace('[F16]', '[Q3_X]') + '}', 's.yml')).toThrow(/models.0.types.0/)
  })
  it('refuses an MoE entry without its expert counts and heads that do not divide', () => {
    const moe = 'version: 1\nmodels:\n  - {name: m, architecture: qwen3moe, layers: 2, embedding_length: 256, feed_forward_length: 512, heads: 4, kv_heads: 4, vocab_size: 1024, context_length: 512, types: [F16]}'
    expect(() => parseSynthSpec(moe, 's.yml')).toThrow(/qwen3moe needs expert_count/)
    expect(() => parseSynthSpec(moe.replace('qwen3moe', 'llama').replace('kv_heads: 4', 'kv_heads: 3'), 's.yml')).toThrow(/heads must be a multiple of kv_heads/)
  })
})
