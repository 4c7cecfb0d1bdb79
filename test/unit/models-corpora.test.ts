// The bundled corpora are manifests of real Hub refs, grouped in commented buckets.
import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dirname } from 'node:path'
import { corpusPath } from '../../src/models/corpora.js'
import { parseManifest } from '../../src/models/manifest.js'
import type { ModelRef } from '../../src/contracts/models.js'

const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))))

function load(name: 'smoke' | 'deep'): { text: string; refs: ModelRef[] } {
  const path = corpusPath(name, ROOT) as string
  const text = readFileSync(path, 'utf8')
  return { text, refs: parseManifest(text, path, dirname(path)) }
}

/** Blocks of ref lines, each with the comment line right above it. */
function buckets(text: string): { comment: string; refs: string[] }[] {
  const out: { comment: string; refs: string[] }[] = []
  let comment = ''
  let current: { comment: string; refs: string[] } | null = null
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (line === '') current = null
    else if (line.startsWith('#')) comment = line
    else {
      if (!current) out.push((current = { comment, refs: [] }))
      current.refs.push(line)
      comment = ''
    }
  }
  return out
}

describe.each(['smoke', 'deep'] as const)('corpora/%s.txt', (name) => {
  it('lists only Hub refs, each once, each bucket under its own comment', () => {
    const { text, refs } = load(name)
    expect(refs.length).toBeGreaterThan(5)
    expect(refs.every((r) => r.kind === 'hf')).toBe(true)
    expect(new Set(refs.map((r) => r.ref)).size).toBe(refs.length)
    for (const b of buckets(text)) expect(b.comment).toMatch(/^# \S/)
  })

  it.each([
    ['tiny dense', /tiny dense/i],
    ['small dense', /small dense/i],
    ['local serving', /3-8B local serving/i],
    ['quant slope', /quant (slope|ladder)/i],
    ['MoE', /MoE/],
    ['embedding', /embedding/i],
    ['reranker', /reranker/i]
  ])('has the %s bucket', (_label, re) => {
    expect(buckets(load(name).text).some((b) => re.test(b.comment))).toBe(true)
  })
})

describe('corpus contents', () => {
  it('smoke holds the reference smoke corpus', () => {
    const refs = load('smoke').refs.map((r) => r.ref)
    for (const ref of [
      'bartowski/SmolLM2-135M-Instruct-GGUF:Q8_0',
      'unsloth/Qwen3-0.6B-GGUF:Q4_K_M',
      'LGAI-EXAONE/EXAONE-4.0-1.2B-GGUF:Q4_K_M',
      'bartowski/Llama-3.2-3B-Instruct-GGUF:Q4_K_M',
      'unsloth/gemma-3-4b-it-GGUF:Q4_K_M',
      'bartowski/Qwen2.5-Coder-7B-Instruct-GGUF:Q4_K_M',
      'unsloth/Qwen3-8B-GGUF:Q4_K_M',
      'unsloth/Qwen3-8B-GGUF:Q8_0',
      'unsloth/Qwen3-30B-A3B-GGUF:Q4_K_M'
    ]) {
      expect(refs).toContain(ref)
    }
  })

  it('deep covers smoke and adds a quant ladder of at least four steps', () => {
    const deep = load('deep').refs
    const deepRefs = new Set(deep.map((r) => r.ref))
    for (const r of load('smoke').refs) expect(deepRefs.has(r.ref)).toBe(true)
    const qwen8b = deep.filter((r) => r.kind === 'hf' && r.repo === 'unsloth/Qwen3-8B-GGUF')
    expect(qwen8b.map((r) => (r.kind === 'hf' ? r.quant : '')).sort()).toEqual(['Q4_K_M', 'Q5_K_M', 'Q6_K', 'Q8_0'])
  })
})
