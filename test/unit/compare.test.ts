import { describe, expect, test } from '@jest/globals'
import { compareScenario, verdictFor } from '../../src/compare/compare.js'
import { compareModel } from '../../src/compare/model.js'
import type { Observation } from '../../src/contracts/observation.js'
import type { Prediction, ScenarioPrediction } from '../../src/contracts/prediction.js'
import type { ScenarioId } from '../../src/contracts/scenarios.js'
import type { CompareSettings } from '../../src/contracts/verdict.js'
import { SCENARIO_UNITS } from '../../src/contracts/scenarios.js'

const settings: CompareSettings = { tolerance: 0.1, maxSpread: 0.1 }

function predicted(scenario: ScenarioId, value: number, range?: [number, number]): ScenarioPrediction {
  return {
    scenario,
    unit: SCENARIO_UNITS[scenario],
    predicted: value,
    predicted_range: range ?? [value * 0.7, value * 1.4],
    breakdown: { bandwidth_ms: 10, fixed_ms: 1 }
  }
}

function observed(scenario: ScenarioId, samples: number[], extra: Partial<Observation> = {}): Observation {
  const sorted = [...samples].sort((a, b) => a - b)
  const median = sorted[Math.floor(sorted.length / 2)] as number
  return {
    scenario,
    unit: SCENARIO_UNITS[scenario],
    observed: median,
    samples,
    dropped_samples: [],
    spread: (Math.max(...samples) - Math.min(...samples)) / median,
    breakdown: { decode_ms: 14 },
    error: null,
    logs: ['logs/a.log'],
    repeats: samples.length,
    ...extra
  }
}

describe('compareScenario', () => {
  test('a model 30 % slower than predicted is slower-than-fit with |error| 30 %', () => {
    const r = compareScenario(predicted('steady_decode', 100), observed('steady_decode', [69.5, 70, 70.5]), settings)
    expect(r.verdict).toBe('slower-than-fit')
    expect(r.ratio).toBeCloseTo(0.7, 10)
    expect(r.abs_error_pct).toBeCloseTo(30, 10)
    expect(r.observed).toBe(70)
  })

  test('within 10 % and inside the predicted range is a match; just outside 10 % is not', () => {
    expect(compareScenario(predicted('prefill', 100), observed('prefill', [109, 109.5, 110]), settings).verdict).toBe('match')
    expect(compareScenario(predicted('prefill', 100), observed('prefill', [110.5, 111, 111.5]), settings).verdict).toBe(
      'faster-than-fit'
    )
  })

  test('a row exactly at the tolerance is a match despite floating point (110 / 100)', () => {
    expect(compareScenario(predicted('prefill', 100), observed('prefill', [110, 110, 110]), settings).verdict).toBe('match')
  })

  test('close to the estimate but outside the estimator’s own range is a miss, and the reason says why', () => {
    const r = compareScenario(predicted('steady_decode', 100, [98, 102]), observed('steady_decode', [95, 95, 95]), settings)
    expect(r.verdict).toBe('slower-than-fit')
    expect(r.detail.reason).toMatch(/within the 10 % tolerance but outside the predicted range \[98.0, 102\]/)
  })

  test('first_token is in ms: taking longer than predicted is slower (ratio < 1), shorter is faster (ratio > 1)', () => {
    const slow = compareScenario(predicted('first_token', 100), observed('first_token', [149, 150, 151]), settings)
    expect(slow.unit).toBe('ms')
    expect(slow.ratio).toBeCloseTo(100 / 150, 10)
    expect(slow.verdict).toBe('slower-than-fit')
    // |error| is the time error relative to the predicted time, not |ratio − 1|.
    expect(slow.abs_error_pct).toBeCloseTo(50, 10)
    const fast = compareScenario(predicted('first_token', 100), observed('first_token', [59, 60, 61]), settings)
    expect(fast.ratio).toBeCloseTo(100 / 60, 10)
    expect(fast.verdict).toBe('faster-than-fit')
    expect(fast.abs_error_pct).toBeCloseTo(40, 10)
  })

  test('a first token 11 % slower than predicted is not a match even though its speed ratio is within 10 %', () => {
    const r = compareScenario(predicted('first_token', 100), observed('first_token', [111, 111, 111]), settings)
    expect(Math.abs((r.ratio as number) - 1)).toBeLessThan(0.1)
    expect(r.verdict).toBe('slower-than-fit')
  })

  test('a noisy row is inconclusive even when its median is far off, and keeps its numbers', () => {
    const r = compareScenario(predicted('steady_decode', 100), observed('steady_decode', [60, 70, 80]), settings)
    expect(r.verdict).toBe('inconclusive-noisy')
    expect(r.spread).toBeCloseTo(20 / 70, 10)
    expect(r.abs_error_pct).toBeCloseTo(30, 10)
    expect(r.detail.reason).toMatch(/spread 28\.6 % > 10 % allowed/)
  })

  test('a failed run is a runtime-error carrying its reason and log tail', () => {
    const obs = observed('prefill', [1], {
      observed: null,
      samples: [],
      spread: null,
      error: { reason: 'llama-bench exited with code 1', log_tail: ['ggml_abort', 'out of memory'] }
    })
    const r = compareScenario(predicted('prefill', 100), obs, settings)
    expect(r.verdict).toBe('runtime-error')
    expect(r.detail.reason).toBe('llama-bench exited with code 1')
    expect(r.detail.log_tail).toEqual(['ggml_abort', 'out of memory'])
    expect(r.observed).toBeNull()
    expect(r.ratio).toBeNull()
  })

  test('no prediction is skipped with the caller’s reason, as a string or in the context', () => {
    const obs = observed('steady_decode', [10, 10, 10])
    expect(compareScenario(null, obs, settings, 'embedding model: no decode').detail.reason).toBe('embedding model: no decode')
    const r = compareScenario(null, obs, settings, { reason: 'embedding model: no decode' })
    expect(r.verdict).toBe('skipped')
    expect(r.observed).toBe(10)
  })

  test('a model the estimator says does not fit gets does-not-fit, and a note when it ran anyway', () => {
    const none = compareScenario(predicted('steady_decode', 5), null, settings, { doesNotFit: true, fitReason: 'needs 40 GiB, 7 GiB usable' })
    expect(none.verdict).toBe('does-not-fit')
    expect(none.detail.reason).toBe('needs 40 GiB, 7 GiB usable')
    const ran = compareScenario(predicted('steady_decode', 5), observed('steady_decode', [4, 4, 4]), settings, { doesNotFit: true })
    expect(ran.verdict).toBe('does-not-fit')
    expect(ran.detail.reason).toMatch(/yet it ran: observed 4\.00 tok\/s/)
  })

  test('both breakdowns, dropped samples, logs and repeats are kept in detail', () => {
    const obs = observed('steady_decode', [99, 100, 101], { dropped_samples: [150] })
    const r = compareScenario(predicted('steady_decode', 100), obs, settings)
    expect(r.detail).toEqual({
      predicted_breakdown: { bandwidth_ms: 10, fixed_ms: 1 },
      observed_breakdown: { decode_ms: 14 },
      dropped_samples: [150],
      logs: ['logs/a.log'],
      repeats: 3
    })
  })

  test('mismatched scenarios are a bug, not a verdict', () => {
    expect(() => compareScenario(predicted('prefill', 1), observed('steady_decode', [1]), settings)).toThrow(/prefill/)
  })

  test('verdictFor depends only on its inputs', () => {
    const row = { unit: 'tok/s' as const, predicted: 50, predicted_range: null, observed: 40, spread: 0.05 }
    expect(verdictFor(row, settings)).toEqual(verdictFor({ ...row }, { ...settings }))
    expect(verdictFor(row, { tolerance: 0.25, maxSpread: 0.1 }).verdict).toBe('match')
  })
})

describe('compareModel', () => {
  test('every requested scenario gets a row, in the fixed scenario order', () => {
    const prediction: Prediction = {
      fit: {
        status: 'fits',
        weights_bytes: 1,
        kv_cache_bytes: 1,
        recurrent_state_bytes: 0,
        compute_bytes: 1,
        overhead_bytes: 1,
        total_bytes: 4,
        usable_bytes: 10,
        gpu_layers_that_fit: null,
        machines_for_split: 1,
        reason: 'fits'
      },
      scenarios: [predicted('prefill', 200), predicted('steady_decode', 20)],
      not_predicted: { first_token: 'server path not modelled' }
    }
    const rows = compareModel(prediction, [observed('steady_decode', [20, 20, 20])], settings)
    expect(rows.map((r) => [r.scenario, r.verdict])).toEqual([
      ['steady_decode', 'match'],
      ['prefill', 'skipped'],
      ['first_token', 'skipped'],
      ['kv_warm_reuse', 'skipped']
    ])
    expect(rows[2]?.detail.reason).toBe('server path not modelled')
    expect(rows[2]?.unit).toBe('ms')
  })
})
