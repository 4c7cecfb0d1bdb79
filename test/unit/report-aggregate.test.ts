import { describe, expect, test } from '@jest/globals'
import { aggregateReports } from '../../src/gate/aggregate.js'
import type { Thresholds } from '../../src/contracts/gate.js'
import type { Report } from '../../src/contracts/report.js'
import { DEFAULT_THRESHOLDS } from '../../src/gate/defaults.js'
import { makeReport, type ModelSpec } from '../helpers/report-fixture.js'

const model = (ref: string, observed: number): ModelSpec => ({ ref, rows: [{ scenario: 'steady_decode', predicted: 100, observed }] })

// Each shard alone has too few models for min_models; together they have enough.
const thresholds: Thresholds = {
  ...DEFAULT_THRESHOLDS,
  min_models: 4,
  scenarios: { steady_decode: { max_median_abs_error_pct: 10, max_abs_error_pct: 20, max_noisy: 0 } }
}
const shard1 = makeReport([model('a', 92), model('b', 95), model('c', 97)], { thresholds, shard: '1/2', runnerName: 'linux-1' })
const shard2 = makeReport([model('d', 96), model('e', 85)], {
  thresholds,
  shard: '2/2',
  runnerName: 'linux-2',
  generatedAt: '2026-10-01T12:05:00.000Z'
})

describe('aggregateReports', () => {
  test('two shards gate as one run, with a per-shard breakdown', () => {
    expect(shard1.gate.failures.map((f) => f.limit)).toEqual(['min_models'])
    expect(shard2.gate.failures.map((f) => f.limit)).toEqual(['min_models'])
    const merged = aggregateReports([shard2, shard1], { sources: ['s2.json', 's1.json'] })
    expect(merged.models.map((m) => m.ref)).toEqual(['a', 'b', 'c', 'd', 'e'])
    expect(merged.summary.steady_decode).toMatchObject({ samples: 5, gated: 5, median_abs_error_pct: expect.closeTo(5, 9) })
    expect(merged.gate).toEqual({ passed: true, failures: [] })
    expect(merged.shards?.map((s) => [s.shard, s.runner_name, s.models, s.passed, s.failures])).toEqual([
      ['1/2', 'linux-1', ['a', 'b', 'c'], false, 1],
      ['2/2', 'linux-2', ['d', 'e'], false, 1]
    ])
    expect(merged.provenance).toMatchObject({ shard: null, runner_name: 'linux-1, linux-2' })
    expect(merged.generated_at).toBe('2026-10-01T12:05:00.000Z')
    expect(merged.thresholds).toEqual(thresholds)
    // The file order does not matter.
    expect(aggregateReports([shard1, shard2])).toEqual(aggregateReports([shard2, shard1]))
  })

  test('a failure in one shard fails the whole; explicit thresholds win over the shards’ own', () => {
    const strict = { ...thresholds, scenarios: { steady_decode: { max_median_abs_error_pct: 10, max_abs_error_pct: 10, max_noisy: 0 } } }
    const merged = aggregateReports([shard1, shard2], { thresholds: strict })
    expect(merged.gate.failures.map((f) => f.message)).toEqual([
      'steady_decode: e |error| 15.0 % > 10 % limit (slower-than-fit: observed 85.0 tok/s, predicted 100 tok/s)'
    ])
  })

  test('the same model measured on two machines is two rows, each named with its runner', () => {
    const cuda = makeReport([model('a', 99)], { thresholds, runnerName: 'cuda-box', device: 'RTX 4090' })
    const mac = makeReport([model('a', 90)], { thresholds, runnerName: 'mac-mini', device: 'Apple M2' })
    const merged = aggregateReports([cuda, mac], { sources: ['cuda.json', 'mac.json'] })
    expect(merged.models.map((m) => m.ref).sort()).toEqual(['a @ cuda-box', 'a @ mac-mini'])
    expect(merged.summary.steady_decode).toMatchObject({ gated: 2 })
  })

  test('keeps every shard’s comparison with the baseline, so a regression in shard 2 still fails the whole', () => {
    const limited = { ...thresholds, min_models: 1, max_regression_pct: 10 }
    const before = makeReport([model('a', 95), model('d', 96)], { thresholds: limited })
    const s1 = makeReport([model('a', 95)], { thresholds: limited, shard: '1/2', runnerName: 'linux-1', baseline: before })
    const s2 = makeReport([model('d', 60)], { thresholds: limited, shard: '2/2', runnerName: 'linux-2', baseline: before })
    const merged = aggregateReports([s1, s2])
    expect(merged.baseline?.rows.map((r) => r.ref).sort()).toEqual(['a', 'd'])
    expect(merged.gate.failures.some((f) => f.message.includes('slower than the baseline') && f.message.includes('d'))).toBe(true)
    // The regression is pinned on shard 2's model, not on shard 1's (every message contains a "d" of "decode").
    const regressions = merged.gate.failures.filter((f) => f.limit === 'max_regression_pct')
    expect(regressions.map((f) => f.model)).toEqual(['d'])
  })

  test('refuses reports of different schema versions, overlapping shards, or different thresholds', () => {
    const future = { ...shard2, schema_version: 4 } as unknown as Report
    expect(() => aggregateReports([shard1, future], { sources: ['s1.json', 's2.json'] })).toThrow(
      'reports: schema_version: shard reports disagree: 3 (s1.json), 4 (s2.json); produce them with one model-fit-gate version'
    )
    expect(() => aggregateReports([shard1, shard1], { sources: ['x.json', 'y.json'] })).toThrow(
      'reports: models: model "a" is in more than one shard report of one machine (x.json, y.json); shards must be disjoint'
    )
    const other = makeReport([model('z', 100)], { thresholds: DEFAULT_THRESHOLDS, shard: '2/2' })
    expect(() => aggregateReports([shard1, other])).toThrow(/different thresholds/)
    expect(() => aggregateReports([])).toThrow('reports: no shard reports to aggregate')
  })

  test('a shard without a report fails the gate, named; shards of different corpora are refused', () => {
    const of3 = (k: number, refs: string[], digest = 'c0ffee0123456789'): Report => {
      const r = makeReport(refs.map((ref) => model(ref, 97)), { thresholds: { ...thresholds, min_models: 1 }, shard: `${k}/3`, runnerName: `linux-${k}` })
      return { ...r, provenance: { ...r.provenance, corpus_digest: digest } }
    }
    const complete = aggregateReports([of3(1, ['a']), of3(2, ['b']), of3(3, ['c'])])
    expect(complete.gate).toEqual({ passed: true, failures: [] })
    const missing = aggregateReports([of3(1, ['a']), of3(3, ['c'])], { sources: ['s1.json', 's3.json'] })
    expect(missing.gate.passed).toBe(false)
    expect(missing.gate.failures[0]).toMatchObject({ limit: 'complete_shards', value: 2, message: expect.stringMatching(/^shard 2\/3 has no report \(it crashed or was not uploaded\)/) })
    expect(() => aggregateReports([of3(1, ['a']), of3(2, ['b'], 'another0corpus00')], { sources: ['s1.json', 's2.json'] })).toThrow(
      /reports: corpus_digest: shard reports are of different corpora: c0ffee0123456789 \(s1.json\), another0corpus00 \(s2.json\)/
    )
  })

  test('a shard spec past its count inside a report is refused, naming the file', () => {
    const bad = makeReport([model('a', 97)], { thresholds, shard: '1/2' })
    const broken = { ...bad, provenance: { ...bad.provenance, shard: '3/2' } }
    expect(() => aggregateReports([broken, shard2], { sources: ['bad.json', 's2.json'] })).toThrow(/^bad\.json: provenance\.shard: shard index must be 1 to 2, got 3$/)
  })
})

