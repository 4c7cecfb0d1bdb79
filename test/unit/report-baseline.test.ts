import { describe, expect, test } from '@jest/globals'
import { compareBaseline } from '../../src/report/baseline.js'
import { applyGate } from '../../src/gate/apply.js'
import { DEFAULT_THRESHOLDS } from '../../src/gate/defaults.js'
import { makeReport } from '../helpers/report-fixture.js'

// Same predictions; only the observed speeds (and their noise) differ between the two runs.
const baseline = makeReport([
  {
    ref: 'a',
    rows: [
      { scenario: 'steady_decode', predicted: 100, observed: 100, spread: 0.04 },
      { scenario: 'first_token', predicted: 100, observed: 100, spread: 0.02 }
    ]
  },
  { ref: 'b', rows: [{ scenario: 'steady_decode', predicted: 100, observed: 100, spread: 0.02 }] },
  { ref: 'gone', rows: [{ scenario: 'steady_decode', predicted: 100, observed: 100 }] }
])

const current = makeReport([
  {
    ref: 'a',
    rows: [
      { scenario: 'steady_decode', predicted: 100, observed: 97, spread: 0.05 }, // −3 %, inside the 5 % noise
      { scenario: 'first_token', predicted: 100, observed: 125, spread: 0.02 } // 25 % more time: slower
    ]
  },
  { ref: 'b', rows: [{ scenario: 'steady_decode', predicted: 100, observed: 108, spread: 0.03 }] }, // +8 %, beyond 3 %
  { ref: 'new', rows: [{ scenario: 'steady_decode', predicted: 100, observed: 100 }] }
])

describe('compareBaseline', () => {
  test('marks only changes beyond the measured noise, in the speed direction', () => {
    const rows = compareBaseline(current, baseline)
    expect(rows.map((r) => [r.ref, r.scenario, Number(r.delta_pct.toFixed(2)), Number(r.noise_band_pct.toFixed(2)), r.regressed, r.improved])).toEqual([
      ['a', 'steady_decode', -3, 5, false, false],
      ['a', 'first_token', -20, 2, true, false],
      ['b', 'steady_decode', 8, 3, false, true]
    ])
  })

  test('with max_regression_pct the gate fails a slowdown beyond noise and the limit, and only that', () => {
    const gated = applyGate(current, { ...DEFAULT_THRESHOLDS, max_regression_pct: 10 }, { baseline })
    const regressions = gated.gate.failures.filter((f) => f.limit === 'max_regression_pct')
    expect(regressions).toEqual([
      {
        scenario: 'first_token',
        model: 'a',
        limit: 'max_regression_pct',
        value: expect.closeTo(20, 9),
        message: 'first_token: a 20.0 % slower than the baseline > 10 % limit (125 vs 100 ms, noise band 2.0 %)'
      }
    ])
    const withoutLimit = applyGate(current, DEFAULT_THRESHOLDS, { baseline })
    expect(withoutLimit.gate.failures.filter((f) => f.limit === 'max_regression_pct')).toEqual([])
  })
})
