import { describe, expect, test } from '@jest/globals'
import { baselineComparison, baselineStatus } from '../../src/compare/baseline.js'
import { parseReport, serializeReport } from '../../src/report/schema.js'
import type { BaselineRow, Report } from '../../src/contracts/report.js'
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

/** The compared rows of this run against a baseline run. */
const compareBaseline = (report: Report, base: Report): BaselineRow[] => baselineComparison(report, base).rows

describe('baselineComparison', () => {
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

describe('the comparison stored in the report', () => {
  test('names the baseline run and validates against the report schema', () => {
    const old = makeReport([{ ref: 'a', rows: [{ scenario: 'steady_decode', predicted: 100, observed: 100 }] }], {
      generatedAt: '2026-09-01T08:00:00.000Z',
      llamaCommit: 'abc1234'
    })
    const compared = makeReport([{ ref: 'a', rows: [{ scenario: 'steady_decode', predicted: 100, observed: 80 }] }], { baseline: old })
    expect(compared.baseline).toMatchObject({
      generated_at: '2026-09-01T08:00:00.000Z',
      llama_cpp_commit: 'abc1234',
      backend: 'CPU',
      device: 'AMD EPYC 7B13',
      hardware_fingerprint: old.hardware.fingerprint,
      not_compared: []
    })
    expect(compared.baseline?.rows).toHaveLength(1)
    expect(() => serializeReport(compared)).not.toThrow()
    expect(parseReport(serializeReport(compared), 'report.json').baseline).toEqual(compared.baseline)
  })

  test('a row observed in only one run is listed as not compared, with why', () => {
    const old = makeReport([
      { ref: 'a', rows: [{ scenario: 'steady_decode', predicted: 100, observed: null, error: 'crashed' }, { scenario: 'prefill', predicted: 100, observed: 100 }] }
    ])
    const now = makeReport(
      [
        {
          ref: 'a',
          rows: [
            { scenario: 'steady_decode', predicted: 100, observed: 100 },
            { scenario: 'prefill', predicted: 100, observed: null, error: 'crashed' },
            { scenario: 'first_token', predicted: 100, observed: 100 }
          ]
        }
      ],
      { baseline: old }
    )
    expect(now.baseline?.rows).toEqual([])
    expect(now.baseline?.not_compared).toEqual([
      { ref: 'a', scenario: 'steady_decode', reason: 'no-baseline-observation' },
      { ref: 'a', scenario: 'prefill', reason: 'no-observation' },
      { ref: 'a', scenario: 'first_token', reason: 'not-in-baseline' }
    ])
  })

  test('with one sample in each run no change is claimed: its noise was never measured', () => {
    const one = (observed: number) => makeReport([{ ref: 'a', rows: [{ scenario: 'steady_decode', predicted: 100, observed, singleSample: true }] }])
    const row = compareBaseline(one(50), one(100))[0]
    expect(row).toMatchObject({ delta_pct: -50, noise_measured: false, regressed: false, improved: false })
    expect(baselineStatus(row as BaselineRow)).toBe('noise-unknown')
    // One side's measured spread stands for both: same machine, same model.
    const mixed = compareBaseline(one(50), makeReport([{ ref: 'a', rows: [{ scenario: 'steady_decode', predicted: 100, observed: 100, spread: 0.1 }] }]))[0]
    expect(mixed).toMatchObject({ noise_measured: true, noise_band_pct: expect.closeTo(10, 9), regressed: true })
  })

  test('a change exactly as large as its noise band is within noise, despite float rounding', () => {
    const run = (observed: number) => makeReport([{ ref: 'a', rows: [{ scenario: 'steady_decode', predicted: 100, observed, spread: 0.08 }] }])
    const [faster] = compareBaseline(run(108), run(100))
    const [slower] = compareBaseline(run(92), run(100))
    expect([faster?.improved, slower?.regressed]).toEqual([false, false])
    expect(baselineStatus(faster as BaselineRow)).toBe('within-noise')
  })

  test('check re-gates the stored comparison without the baseline file, under the limit it is given', () => {
    const gated = applyGate(current, { ...DEFAULT_THRESHOLDS, max_regression_pct: 10 }, { baseline })
    const regate = (limit: number) => applyGate(parseReport(serializeReport(gated), 'report.json'), { ...DEFAULT_THRESHOLDS, max_regression_pct: limit })
    expect(regate(10).gate.failures.filter((f) => f.limit === 'max_regression_pct').map((f) => f.model)).toEqual(['a'])
    expect(regate(30).gate.failures.filter((f) => f.limit === 'max_regression_pct')).toEqual([])
    expect(regate(30).baseline).toEqual(gated.baseline)
  })

  test('a stored comparison keeps only rows of models still in the report', () => {
    const gated = applyGate(current, DEFAULT_THRESHOLDS, { baseline })
    const onlyB = applyGate({ ...gated, models: gated.models.filter((m) => m.ref === 'b') }, DEFAULT_THRESHOLDS)
    expect(onlyB.baseline?.rows.map((r) => r.ref)).toEqual(['b'])
    expect(onlyB.baseline?.not_compared).toEqual([])
  })

  test('without a baseline the report has no baseline key and the same bytes as before', () => {
    const plain = applyGate(current, DEFAULT_THRESHOLDS)
    expect('baseline' in plain).toBe(false)
    expect(serializeReport(applyGate(current, DEFAULT_THRESHOLDS, { baseline: null }))).toBe(serializeReport(plain))
  })
})
