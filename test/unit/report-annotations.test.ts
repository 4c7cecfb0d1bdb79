import { describe, expect, test } from '@jest/globals'
import { annotationsFor, MAX_ANNOTATIONS } from '../../src/report/annotations.js'
import { makeReport, showcaseReport, type ModelSpec } from '../helpers/report-fixture.js'

describe('annotationsFor', () => {
  test('one per model worth a look: failing models are errors, runtime errors first, then by |error|', () => {
    const a = annotationsFor(showcaseReport())
    expect(a.map((x) => [x.level, x.title])).toEqual([
      ['error', 'model-fit-gate: local/<script>alert("x")</script>|pipe'],
      ['error', 'model-fit-gate: unsloth/Qwen3-0.6B-GGUF:Q4_K_M']
    ])
    expect(a[0]?.message).toContain('kv_warm_reuse runtime-error: llama-server exited with code 1')
    expect(a[1]?.message).toContain('steady_decode slower-than-fit: observed 44.8 vs predicted 64.0 tok/s, |error| 30.0 %')
    expect(a[1]?.message).toContain('kv_warm_reuse inconclusive-noisy')
  })

  test('a model off the estimate that the gate tolerates is a warning', () => {
    const models: ModelSpec[] = [
      { ref: 'a', rows: [{ scenario: 'steady_decode', predicted: 100, observed: 88 }] },
      { ref: 'b', rows: [{ scenario: 'steady_decode', predicted: 100, observed: 100 }] }
    ]
    expect(annotationsFor(makeReport(models))).toEqual([
      {
        level: 'warning',
        title: 'model-fit-gate: a',
        message: 'steady_decode slower-than-fit: observed 88.0 vs predicted 100 tok/s, |error| 12.0 %'
      }
    ])
  })

  test('at most ten, the most severe kept', () => {
    const models: ModelSpec[] = Array.from({ length: 15 }, (_, i) => ({
      ref: `m${String(i).padStart(2, '0')}`,
      rows: [{ scenario: 'steady_decode', predicted: 100, observed: 50 + i }]
    }))
    models.push({ ref: 'crash', rows: [{ scenario: 'prefill', predicted: 100, observed: null, error: 'segfault' }] })
    const a = annotationsFor(makeReport(models))
    expect(a).toHaveLength(MAX_ANNOTATIONS)
    expect(a[0]?.title).toBe('model-fit-gate: crash')
    expect(a.slice(1).map((x) => x.title.replace('model-fit-gate: ', ''))).toEqual(['m00', 'm01', 'm02', 'm03', 'm04', 'm05', 'm06', 'm07', 'm08'])
  })

  test('a clean run has none', () => {
    expect(annotationsFor(makeReport([{ ref: 'a', rows: [{ scenario: 'prefill', predicted: 10, observed: 10 }] }]))).toEqual([])
  })
})
