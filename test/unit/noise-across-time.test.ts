// Noise measured across time, not only within a burst: passes merged into one observation, the probe's fact noise
// carried to the verdict, the machine's drift since the probe, and a validate run in interleaved passes (the recorded
// run of three synthetic models replayed, with each pass's observations scaled as a drifting machine would give them).
import { describe, expect, test } from '@jest/globals'
import { mergePasses, passSpread } from '../../src/bench/passes.js'
import { compareScenario, verdictFor } from '../../src/compare/compare.js'
import { machineMovedReason, movedFacts, sentinelMoved } from '../../src/compare/drift.js'
import type { HardwareProfile } from '../../src/contracts/hardware.js'
import type { Observation } from '../../src/contracts/observation.js'
import type { DriftRecord } from '../../src/contracts/report.js'
import { SCENARIO_UNITS, type ScenarioId } from '../../src/contracts/scenarios.js'
import { factNoise, measuredFacts } from '../../src/fit/fact-noise.js'
import { predict } from '../../src/fit/predict.js'
import { DEFAULT_THRESHOLDS, applyGate, compareSettingsFrom } from '../../src/gate/index.js'
import { noisyFacts } from '../../src/hardware/probe.js'
import { validate, type ValidateParams } from '../../src/pipeline/validate.js'
import { validateReport } from '../../src/report/index.js'
import { recorded, recordedParams } from '../helpers/recorded-run.js'

const settings = { tolerance: 0.1, maxSpread: 0.1 }

function obs(scenario: ScenarioId, samples: number[], extra: Partial<Observation> = {}): Observation {
  const sorted = [...samples].sort((a, b) => a - b)
  return {
    scenario,
    unit: SCENARIO_UNITS[scenario],
    observed: sorted[Math.floor(sorted.length / 2)] as number,
    samples,
    dropped_samples: [],
    spread: samples.length > 1 ? (sorted.at(-1)! - sorted[0]!) / sorted[Math.floor(sorted.length / 2)]! : 0,
    breakdown: { ms: samples[0]! },
    error: null,
    logs: [`logs/${samples[0]}.log`],
    repeats: samples.length,
    ...extra
  }
}

describe('passes merged into one observation', () => {
  test('the median of the passes, a spread over every sample of every pass, each pass kept', () => {
    // Each burst is tight (2 %), the passes 14 % apart: the merged spread sees what neither burst could.
    const a = obs('steady_decode', [100, 101, 102])
    const b = obs('steady_decode', [114, 115, 116])
    const m = mergePasses([a, b])
    expect(m.observed).toBeCloseTo((101 + 115) / 2)
    expect(m.samples).toEqual([100, 101, 102, 114, 115, 116])
    expect(m.spread).toBeCloseTo((116 - 100) / 108)
    expect(m.passes?.map((p) => p.observed)).toEqual([101, 115])
    expect(m.repeats).toBe(6)
    expect(m.logs).toEqual(['logs/100.log', 'logs/114.log'])
    expect(passSpread(m.passes!)).toBeCloseTo(14 / 108)
    // Judged, the 2 % bursts would match; merged, the row cannot tell a 10 % miss from the drift.
    expect(verdictFor({ unit: 'tok/s', predicted: 101, predicted_range: null, observed: a.observed!, spread: a.spread }, settings).verdict).toBe('match')
    expect(verdictFor({ unit: 'tok/s', predicted: 101, predicted_range: null, observed: m.observed!, spread: m.spread }, settings).verdict).toBe('inconclusive-noisy')
  })

  test('passes that agree stay judged; one pass is returned as it is', () => {
    const m = mergePasses([obs('prefill', [200, 202, 204]), obs('prefill', [201, 203, 205])])
    expect(m.spread).toBeCloseTo(5 / 202.5)
    expect(verdictFor({ unit: 'tok/s', predicted: 200, predicted_range: null, observed: m.observed!, spread: m.spread }, settings).verdict).toBe('match')
    const one = obs('prefill', [1, 2, 3])
    expect(mergePasses([one])).toBe(one)
  })

  test('a pass that failed makes the row a runtime error naming the pass, its good passes kept on record', () => {
    const bad = { ...obs('first_token', [5]), observed: null, spread: null, error: { reason: 'llama-server exited with code 139', log_tail: ['segfault'] } }
    const m = mergePasses([obs('first_token', [40, 41, 42]), bad])
    expect(m.observed).toBeNull()
    expect(m.error?.reason).toBe('pass 2 of 2: llama-server exited with code 139')
    expect(m.error?.log_tail).toEqual(['segfault'])
    expect(m.passes?.[0]?.observed).toBe(41)
    expect(m.passes?.[1]?.error).toBe('llama-server exited with code 139')
    expect(compareScenario({ scenario: 'first_token', unit: 'ms', predicted: 40, predicted_range: [30, 50], breakdown: {} }, m, settings).verdict).toBe('runtime-error')
  })
})

describe("a fact's noise reaches the verdict", () => {
  const noise = [{ fact: 'measured.prefill_flops_by_type.Q5_K', spread: 1.68, effect: 0.62 }]

  test('an estimate a fact moves beyond the tolerance is inconclusive-noisy, the fact named, its range widened', () => {
    const r = compareScenario(
      { scenario: 'prefill', unit: 'tok/s', predicted: 100, predicted_range: [90, 111], breakdown: {}, fact_noise: noise },
      obs('prefill', [300, 301, 302]),
      settings
    )
    expect(r.verdict).toBe('inconclusive-noisy')
    expect(r.detail.reason).toContain('measured.prefill_flops_by_type.Q5_K')
    expect(r.detail.reason).toContain('168.0 %')
    expect(r.detail.reason).toContain('62.0 %')
    expect(r.detail.estimator_range).toEqual([90, 111])
    expect(r.predicted_range).toEqual([69, 131])
    expect(r.detail.fact_noise).toEqual(noise)
  })

  test('a fact that moves the estimate less than the tolerance leaves the verdict to the numbers', () => {
    const small = [{ fact: 'measured.decode_ns_per_row_by_type.Q4_0', spread: 2, effect: 0.03 }]
    const r = compareScenario({ scenario: 'prefill', unit: 'tok/s', predicted: 100, predicted_range: [90, 111], breakdown: {}, fact_noise: small }, obs('prefill', [130, 131, 132]), settings)
    expect(r.verdict).toBe('faster-than-fit')
    expect(r.predicted_range).toEqual([90, 111])
    expect(r.detail.estimator_range).toBeUndefined()
  })

  test('check --thresholds re-judges from the estimator range: a looser tolerance lets the row be judged again', () => {
    const row = compareScenario({ scenario: 'prefill', unit: 'tok/s', predicted: 100, predicted_range: [90, 111], breakdown: {}, fact_noise: noise }, obs('prefill', [104, 105, 106]), settings)
    const report = { models: [{ ref: 'm', path: '', profile: null, fit: null, error: null, scenarios: [row] }], summary: {}, gate: { passed: false, failures: [] } }
    const loose = { ...DEFAULT_THRESHOLDS, tolerance_pct: 70 }
    const again = applyGate(report as never, loose).models[0]!.scenarios[0]!
    expect(again.verdict).toBe('match')
    expect(again.predicted_range).toEqual([90, 111])
    expect(again.detail.estimator_range).toBeUndefined()
    const strict = applyGate(report as never, DEFAULT_THRESHOLDS).models[0]!.scenarios[0]!
    expect(strict.verdict).toBe('inconclusive-noisy')
    expect(strict.predicted_range).toEqual([69, 131])
  })
})

/** The recorded hardware with every measured fact's samples set to its value (a probe whose rounds agreed). */
function quietHardware(): HardwareProfile {
  const hw = structuredClone(recorded.hardware)
  for (const [, f] of measuredFacts(hw)) {
    f.samples = [f.value, f.value]
    f.spread = 0
  }
  return hw
}

describe('the estimate names the facts whose noise moves it', () => {
  test('a prefill rate whose rounds disagree moves prefill and first token, not steady decode', () => {
    const hw = quietHardware()
    // Every type's prefill rate noisy: the one named is the model's own type's.
    for (const f of Object.values(hw.measured!.prefill_flops_by_type)) {
      f.samples = [f.value * 0.5, f.value * 1.5]
      f.spread = 1
    }
    const model = recorded.models.find((m) => m.profile.model_class === 'causal-lm')!
    const p = predict(model.profile, hw, recorded.workload)
    const of = (s: ScenarioId) => p.scenarios.find((x) => x.scenario === s)!.fact_noise ?? []
    const named = of('prefill')[0]?.fact ?? ''
    expect(named).toMatch(/^measured\.prefill_flops_by_type\./)
    expect(of('prefill')[0]!.effect).toBeGreaterThan(0.1)
    expect(of('first_token').map((f) => f.fact)).toContain(named)
    expect(of('steady_decode').map((f) => f.fact)).not.toContain(named)
  })

  test('with every fact quiet nothing is listed, and the same inputs give the same list', () => {
    const hw = quietHardware()
    const model = recorded.models[0]!
    const p = predict(model.profile, hw, recorded.workload)
    expect(p.scenarios.every((s) => s.fact_noise === undefined)).toBe(true)
    const noisy = predict(model.profile, recorded.hardware, recorded.workload)
    expect(JSON.stringify(noisy)).toBe(JSON.stringify(predict(model.profile, recorded.hardware, recorded.workload)))
    const base = { ...noisy, scenarios: noisy.scenarios.map(({ fact_noise: _f, ...s }) => s) }
    const map = factNoise(base, recorded.hardware, (h) => ({ ...predict(model.profile, h, recorded.workload) }))
    for (const s of noisy.scenarios) expect(map.get(s.scenario) ?? []).toEqual(s.fact_noise ?? [])
  })

  test("hardware.json names the directly measured facts whose rounds disagree beyond the probe's target", () => {
    const hw = quietHardware()
    const q = hw.measured!.prefill_flops_by_type.F16!
    q.spread = 0.4
    const listed = noisyFacts(hw.measured!)
    expect(listed).toEqual([{ fact: 'measured.prefill_flops_by_type.F16', spread: 0.4, samples: 2 }])
    // A fitted small term may spread hundreds of percent on a quiet machine: not listed.
    const rows = hw.measured!.decode_ns_per_row_by_type ?? {}
    for (const f of Object.values(rows)) f.spread = 2
    expect(noisyFacts(hw.measured!)).toEqual(listed)
  })
})

const drift = (facts: Array<[string, number | null]>, series: number[] = []): DriftRecord => ({
  sentinel: { part: 'bw-Q8_0', test: 'bw-Q8_0 decode 32 tokens', unit: 'tok/s' },
  series: series.map((v, i) => ({ at: `2026-12-03T10:0${i}:00.000Z`, pass: i === 0 ? 0 : 1, after: i === 0 ? null : `m${i}`, value: v })),
  range: series.length > 1 ? (Math.max(...series) - Math.min(...series)) / [...series].sort((a, b) => a - b)[Math.floor(series.length / 2)]! : null,
  recheck: { probed_at: '2026-12-03T08:16:46.366Z', facts: facts.map(([fact, change]) => ({ fact, test: 't', unit: 'tok/s', probed: 100, now: change === null ? null : 100 * (1 + change), change })) },
  reason: null
})

describe('the machine since the probe, and during the run', () => {
  test('facts that moved beyond the tolerance are named; within it, nothing is said', () => {
    const d = drift([['measured.decode_bandwidth_by_type.Q8_0', -0.21], ['measured.prefill_flops_by_type.Q8_0', 0.04], ['x', null]])
    expect(movedFacts(d, 0.1).map((f) => f.fact)).toEqual(['measured.decode_bandwidth_by_type.Q8_0'])
    const why = machineMovedReason(d, 0.1)!
    expect(why).toContain('measured.decode_bandwidth_by_type.Q8_0 −21.0 %')
    expect(why).toContain('--refresh')
    expect(machineMovedReason(d, 0.25)).toBeNull()
    expect(machineMovedReason(null, 0.1)).toBeNull()
  })

  test('a judged row says the machine moved; rows that could not be judged keep their own reason', () => {
    const p = { scenario: 'steady_decode' as const, unit: 'tok/s' as const, predicted: 10, predicted_range: [9, 11] as [number, number], breakdown: {} }
    const why = machineMovedReason(drift([['measured.decode_bandwidth_by_type.Q8_0', -0.3]]), 0.1)
    const r = compareScenario(p, obs('steady_decode', [10, 10, 10]), settings, { machineMoved: why })
    expect(r.verdict).toBe('inconclusive-noisy')
    expect(r.detail.reason).toBe(why)
    const failed = compareScenario(p, { ...obs('steady_decode', [1]), observed: null, error: { reason: 'crash', log_tail: [] } }, settings, { machineMoved: why })
    expect(failed.verdict).toBe('runtime-error')
  })

  test("the sentinel's range beyond the tolerance is a move", () => {
    expect(sentinelMoved(drift([], [100, 104, 98]), 0.1)).toBe(false)
    expect(sentinelMoved(drift([], [100, 85, 99]), 0.1)).toBe(true)
  })
})

describe('validate in passes', () => {
  const replay = (scale: (pass: number) => number) => {
    const calls: string[] = []
    const seen = new Map<string, number>()
    const runner: ValidateParams['runScenarios'] = async (model, scenarios) => {
      const pass = (seen.get(model.ref) ?? 0) + 1
      seen.set(model.ref, pass)
      calls.push(`${model.ref}#${pass}`)
      const run = recorded.models.find((m) => m.ref === model.ref)!.run
      const k = scale(pass)
      return {
        ...run,
        observations: run.observations
          .filter((o) => scenarios.includes(o.scenario))
          .map((o) => (o.observed === null ? o : { ...o, observed: o.observed * k, samples: o.samples.map((v) => v * k) }))
      }
    }
    return { calls, runner }
  }
  const params = (over: Partial<ValidateParams>): ValidateParams => recordedParams({ now: () => new Date('2026-12-03T10:00:00.000Z'), hardware: quietHardware(), ...over })

  test('interleaved: every model once, then every model again; the sentinel after each; rows keep both passes', async () => {
    const { calls, runner } = replay(() => 1)
    const sentinel: string[] = []
    const report = await validate(params({ runScenarios: runner, passes: 2, sentinel: async (at) => void sentinel.push(`${at.after}#${at.pass}`) }))
    const refs = recorded.models.map((m) => m.ref)
    expect(calls).toEqual([...refs.map((r) => `${r}#1`), ...refs.map((r) => `${r}#2`)])
    expect(sentinel).toEqual(calls)
    expect(report.passes).toBe(2)
    expect(() => validateReport(report, 'report.json')).not.toThrow()
    for (const m of report.models) {
      for (const r of m.scenarios.filter((x) => x.observed !== null)) expect(r.detail.passes).toHaveLength(2)
    }
  })

  test('rows whose passes disagree beyond the limit are inconclusive-noisy, and no others', async () => {
    const agree = await validate(params({ runScenarios: replay(() => 1).runner, passes: 2 }))
    const drifted = await validate(params({ runScenarios: replay((pass) => (pass === 2 ? 1.3 : 1)).runner, passes: 2 }))
    const limit = compareSettingsFrom(DEFAULT_THRESHOLDS).maxSpread
    let noisy = 0
    for (const [i, m] of drifted.models.entries()) {
      for (const [j, r] of m.scenarios.entries()) {
        const before = agree.models[i]!.scenarios[j]!
        if (r.observed === null) continue
        // 30 % between passes: every judged row's combined spread is over the 10 % limit.
        expect(r.spread!).toBeGreaterThan(limit)
        expect(r.verdict).toBe('inconclusive-noisy')
        noisy++
        // The same passes agreeing: the verdict is the single burst's.
        expect(before.spread!).toBeCloseTo(recorded.models[i]!.run.observations.find((o) => o.scenario === r.scenario)!.spread!, 9)
      }
    }
    expect(noisy).toBeGreaterThan(0)
  })

  test('a drift record is carried into the report, and its moved facts mark the judged rows', async () => {
    const d = drift([['measured.decode_bandwidth_by_type.Q8_0', -0.3]], [100, 70])
    const report = await validate(params({ runScenarios: replay(() => 1).runner, drift: () => d }))
    expect(report.drift).toEqual(d)
    const judged = report.models.flatMap((m) => m.scenarios).filter((r) => r.observed !== null && r.predicted !== null)
    expect(judged.length).toBeGreaterThan(0)
    for (const r of judged) expect(r.detail.reason).toContain('the machine moved since the probe')
  })
})

describe('the summary says what moved', () => {
  // Imported here to keep the pure judging tests above free of the renderers.
  const load = async () => ({ ...(await import('../../src/report/markdown.js')), ...(await import('../helpers/report-fixture.js')), ...(await import('../../src/report/drift.js')) })

  test('a quiet run: the sentinel steady, the re-check within the tolerance, the passes named; no warning at the top', async () => {
    const { renderMarkdown, showcaseReport, driftLines } = await load()
    const report = { ...showcaseReport(), passes: 2, drift: drift([['measured.decode_bandwidth_by_type.Q8_0', 0.03]], [100, 101, 99, 100.5]) }
    const lines = driftLines(report)
    expect(lines.some((l) => l.startsWith('⚠️'))).toBe(false)
    expect(lines).toContain('Sentinel (bw-Q8_0 decode 32 tokens): 4 measurements over 3 min, 99.0–101 tok/s, range 2 %: steady within ±10 %.')
    const md = renderMarkdown(report)
    expect(md).toContain('### The machine over time')
    expect(md).toContain('Re-check against the probe of 2026-12-03T08:16:46.366Z: measured.decode\\_bandwidth\\_by\\_type.Q8\\_0 +3.0 %, within ±10 %.')
    expect(md).toContain('| 2026-12-03T10:01:00.000Z | 1 | m1 | 101 | +0.7 % |')
    expect(md.indexOf('⚠️ Sentinel')).toBe(-1)
  })

  test('a drifting run, a moved machine and a noisy probe: each a warning under the verdict', async () => {
    const { renderMarkdown, showcaseReport } = await load()
    const base = showcaseReport()
    const report = {
      ...base,
      hardware: { ...base.hardware, noisy_facts: [{ fact: 'measured.prefill_flops_by_type.Q5_K', spread: 1.678, samples: 2 }] },
      drift: drift([['measured.decode_bandwidth_by_type.Q8_0', -0.21]], [100, 80, 99])
    }
    const md = renderMarkdown(report)
    const top = md.slice(0, md.indexOf('### '))
    expect(top).toContain('⚠️ 1 probe fact disagreed across the rounds even after re-measuring')
    expect(top).toContain('prefill\\_flops\\_by\\_type.Q5\\_K ±167.8 %')
    expect(top).toContain('⚠️ The machine moved since the probe of 2026-12-03T08:16:46.366Z: measured.decode\\_bandwidth\\_by\\_type.Q8\\_0 −21.0 %')
    expect(top).toMatch(/⚠️ Sentinel \(bw-Q8\\_0 decode 32 tokens\): 3 measurements over 2 min, 80\.0–100 tok\/s, range 20\.2 %: the machine drifted/)
  })
})
