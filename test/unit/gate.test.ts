import { describe, expect, test } from '@jest/globals'
import { gate } from '../../src/gate/gate.js'
import { applyGate } from '../../src/gate/apply.js'
import { DEFAULT_THRESHOLDS } from '../../src/gate/defaults.js'
import type { Thresholds } from '../../src/contracts/gate.js'
import { makeReport, type ModelSpec } from '../helpers/report-fixture.js'

const STRICT: Thresholds = {
  tolerance_pct: 10,
  max_spread_pct: 10,
  min_models: 1,
  max_runtime_errors: 0,
  scenarios: {
    steady_decode: { max_median_abs_error_pct: 10, max_abs_error_pct: 20, max_noisy: 0 },
    prefill: { max_median_abs_error_pct: 10, max_abs_error_pct: 20, max_noisy: 1 }
  }
}

const good = (ref: string): ModelSpec => ({
  ref,
  rows: [
    { scenario: 'steady_decode', predicted: 100, observed: 103 },
    { scenario: 'prefill', predicted: 1000, observed: 950 }
  ]
})

describe('gate', () => {
  test('models within their limits pass, with per-scenario statistics', () => {
    const report = makeReport([good('org/a'), good('org/b')], { thresholds: STRICT })
    expect(report.gate).toEqual({ passed: true, failures: [] })
    expect(report.summary.steady_decode).toEqual({
      samples: 2,
      gated: 2,
      noisy: 0,
      runtime_errors: 0,
      median_abs_error_pct: expect.closeTo(3, 9),
      max_abs_error_pct: expect.closeTo(3, 9)
    })
  })

  test('a model 30 % slower than predicted fails max_abs_error_pct, naming the model', () => {
    const slow: ModelSpec = { ref: 'org/slow', rows: [{ scenario: 'steady_decode', predicted: 100, observed: 70 }] }
    const report = makeReport([good('org/a'), good('org/b'), slow], { thresholds: STRICT })
    expect(report.models[2]?.scenarios[0]?.verdict).toBe('slower-than-fit')
    expect(report.gate.passed).toBe(false)
    const failure = report.gate.failures.find((f) => f.limit === 'max_abs_error_pct')
    expect(failure).toMatchObject({ scenario: 'steady_decode', model: 'org/slow', value: expect.closeTo(30, 9) })
    expect(failure?.message).toBe(
      'steady_decode: org/slow |error| 30.0 % > 20 % limit (slower-than-fit: observed 70.0 tok/s, predicted 100 tok/s)'
    )
  })

  test('the median limit gives a plain message', () => {
    const off = (ref: string, observed: number): ModelSpec => ({ ref, rows: [{ scenario: 'prefill', predicted: 1000, observed }] })
    const report = makeReport([off('a', 858), off('b', 1142), off('c', 1010)], { thresholds: STRICT })
    expect(report.summary.prefill?.median_abs_error_pct).toBeCloseTo(14.2, 9)
    expect(report.gate.failures.map((f) => f.message)).toEqual(['prefill: median |error| 14.2 % > 10 % limit'])
  })

  test('a noisy row is inconclusive: out of the error statistics, counted against max_noisy', () => {
    const noisy: ModelSpec = { ref: 'org/noisy', rows: [{ scenario: 'steady_decode', predicted: 100, observed: 50, spread: 0.4 }] }
    const report = makeReport([good('org/a'), noisy], { thresholds: STRICT })
    expect(report.models[1]?.scenarios[0]?.verdict).toBe('inconclusive-noisy')
    expect(report.summary.steady_decode).toMatchObject({ samples: 2, gated: 1, noisy: 1, max_abs_error_pct: expect.closeTo(3, 9) })
    expect(report.gate.failures).toEqual([
      {
        scenario: 'steady_decode',
        model: null,
        limit: 'max_noisy',
        value: 1,
        message: 'steady_decode: 1 inconclusive-noisy rows > 0 allowed (org/noisy)'
      }
    ])
    // prefill allows one noisy row
    const noisyPrefill: ModelSpec = { ref: 'org/np', rows: [{ scenario: 'prefill', predicted: 100, observed: 50, spread: 0.4 }] }
    expect(makeReport([good('org/a'), noisyPrefill], { thresholds: STRICT }).gate.passed).toBe(true)
  })

  test('runtime errors count against max_runtime_errors, including a model that failed before running', () => {
    const broken: ModelSpec = {
      ref: 'org/broken',
      rows: [{ scenario: 'steady_decode', predicted: 100, observed: null, error: 'llama-bench exited with code 134' }]
    }
    const missing: ModelSpec = { ref: 'org/missing', rows: [], error: 'download failed: 404' }
    const report = makeReport([good('org/a'), broken, missing], { thresholds: STRICT })
    expect(report.gate.failures[0]).toEqual({
      scenario: null,
      model: null,
      limit: 'max_runtime_errors',
      value: 2,
      message: '2 runtime errors > 0 allowed (org/broken steady_decode: llama-bench exited with code 134; org/missing: download failed: 404)'
    })
    expect(report.summary.steady_decode?.runtime_errors).toBe(1)
  })

  test('a run where nothing could be compared fails min_models', () => {
    const skipped: ModelSpec = { ref: 'org/embed', rows: [{ scenario: 'steady_decode', predicted: null, observed: 10, notPredicted: 'embedding' }] }
    const report = makeReport([skipped], { thresholds: STRICT })
    expect(report.gate.failures.map((f) => f.limit)).toEqual(['min_models'])
    expect(report.gate.failures[0]?.message).toMatch(/^0 models with a gated row < 1 required/)
  })

  test('a scenario without limits is summarised but not gated; --scenario narrows the gate', () => {
    const model: ModelSpec = {
      ref: 'org/a',
      rows: [
        { scenario: 'steady_decode', predicted: 100, observed: 100 },
        { scenario: 'first_token', predicted: 100, observed: 300 }
      ]
    }
    const report = makeReport([model], { thresholds: STRICT })
    expect(report.gate.passed).toBe(true)
    expect(report.summary.first_token?.max_abs_error_pct).toBeCloseTo(200, 9)
    const onlyDecode = gate(report.models, DEFAULT_THRESHOLDS, { scenario: 'steady_decode' })
    expect(onlyDecode.result.passed).toBe(true)
    expect(Object.keys(onlyDecode.summary)).toEqual(['steady_decode'])
    expect(gate(report.models, DEFAULT_THRESHOLDS, { scenario: 'first_token' }).result.failures.map((f) => f.limit)).toEqual([
      'max_median_abs_error_pct',
      'max_abs_error_pct'
    ])
  })

  test('failures come in a fixed order and the same input gives the same output', () => {
    const models: ModelSpec[] = ['z', 'b', 'm'].map((ref, i) => ({
      ref,
      rows: [
        { scenario: 'prefill', predicted: 100, observed: 140 + i },
        { scenario: 'steady_decode', predicted: 100, observed: 60 }
      ]
    }))
    const a = makeReport(models, { thresholds: STRICT })
    const b = makeReport([...models].reverse(), { thresholds: STRICT })
    expect(a.gate.failures.map((f) => [f.scenario, f.limit, f.model])).toEqual([
      ['steady_decode', 'max_median_abs_error_pct', null],
      ['steady_decode', 'max_abs_error_pct', 'b'],
      ['steady_decode', 'max_abs_error_pct', 'm'],
      ['steady_decode', 'max_abs_error_pct', 'z'],
      ['prefill', 'max_median_abs_error_pct', null],
      ['prefill', 'max_abs_error_pct', 'm'],
      ['prefill', 'max_abs_error_pct', 'b'],
      ['prefill', 'max_abs_error_pct', 'z']
    ])
    expect(b.gate).toEqual(a.gate)
  })

  test('applyGate re-derives verdicts from the thresholds it is given', () => {
    const report = makeReport([{ ref: 'org/a', rows: [{ scenario: 'steady_decode', predicted: 100, observed: 85 }] }], {
      thresholds: STRICT
    })
    expect(report.models[0]?.scenarios[0]?.verdict).toBe('slower-than-fit')
    const loose = applyGate(report, { ...STRICT, tolerance_pct: 20 })
    expect(loose.models[0]?.scenarios[0]?.verdict).toBe('match')
    expect(loose.thresholds?.tolerance_pct).toBe(20)
    const noisyLimit = applyGate(report, { ...STRICT, max_spread_pct: 1 })
    expect(noisyLimit.models[0]?.scenarios[0]?.verdict).toBe('inconclusive-noisy')
    expect(noisyLimit.gate.failures.map((f) => f.limit)).toEqual(['min_models', 'max_noisy'])
  })
})
