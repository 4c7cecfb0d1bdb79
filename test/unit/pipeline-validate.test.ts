// The pipeline itself, without llama.cpp: `validate` with a scenario runner that replays a recorded run (real
// observations of three synthetic models on a 2-core EPYC, with the hardware profile measured there).
import { describe, expect, test } from '@jest/globals'
import { compareScenario } from '../../src/compare/index.js'
import { DEFAULT_THRESHOLDS, compareSettingsFrom } from '../../src/gate/index.js'
import { ModelSkip, validate } from '../../src/pipeline/validate.js'
import { validateReport } from '../../src/report/index.js'
import { type HardwareProfile } from '../../src/contracts/hardware.js'
import { DEFAULT_SCENARIOS as SCENARIO_IDS } from '../../src/contracts/scenarios.js'
import { stableStringify } from '../../src/util/json.js'
import { recorded, recordedParams, replay } from '../helpers/recorded-run.js'

const params = recordedParams

describe('validate, replaying a recorded run', () => {
  test('every model gets a row per scenario with the recorded observation, judged as compare/ judges it', async () => {
    const report = await validate(params())
    expect(() => validateReport(report, 'report.json')).not.toThrow()
    expect(report.models.map((m) => m.ref)).toEqual(recorded.models.map((m) => m.ref))
    const settings = compareSettingsFrom(DEFAULT_THRESHOLDS)
    for (const [i, m] of report.models.entries()) {
      expect(m.scenarios.map((s) => s.scenario)).toEqual([...SCENARIO_IDS])
      for (const row of m.scenarios) {
        const obs = recorded.models[i]!.run.observations.find((o) => o.scenario === row.scenario)!
        expect(row.observed).toBe(obs.observed)
        expect(row.samples).toEqual(obs.samples)
        // The estimator's own range and its fact noise (a row a noisy fact decides shows the widened range).
        const range = row.detail.estimator_range ?? row.predicted_range!
        const noise = row.detail.fact_noise ? { fact_noise: row.detail.fact_noise } : {}
        const again = compareScenario({ scenario: row.scenario, unit: row.unit, predicted: row.predicted!, predicted_range: range, breakdown: {}, ...noise }, obs, settings)
        expect(row.predicted_range).toEqual(again.predicted_range)
        expect(row.verdict).toBe(again.verdict)
      }
      // The memory estimate sits beside the buffers the recorded server logged.
      expect(m.llama_memory?.logged.kv_bytes).toBe(recorded.models[i]!.run.llama_memory!.kv_bytes)
    }
    // The gate's verdict follows from its failures, each naming a recorded model or a scenario limit.
    expect(report.gate.passed).toBe(report.gate.failures.length === 0)
    for (const f of report.gate.failures) if (f.model !== null) expect(recorded.models.map((m) => m.ref)).toContain(f.model)
  })

  test('is deterministic: the same inputs give byte-identical reports', async () => {
    expect(stableStringify(await validate(params()))).toBe(stableStringify(await validate(params())))
  })

  test('a runner that throws for one model costs that model its rows, never the run', async () => {
    const broken = recorded.models[1]!.ref
    const report = await validate(
      params({
        runScenarios: async (model, scenarios, workload) => {
          if (model.ref === broken) throw new Error('llama-server exited with code 139')
          return replay(model, scenarios, workload)
        }
      })
    )
    expect(() => validateReport(report, 'report.json')).not.toThrow()
    const rows = report.models.find((m) => m.ref === broken)!.scenarios
    expect(rows.map((r) => r.verdict)).toEqual(SCENARIO_IDS.map(() => 'runtime-error'))
    for (const m of report.models.filter((x) => x.ref !== broken)) expect(m.scenarios.every((r) => r.verdict !== 'runtime-error')).toBe(true)
    // max_runtime_errors defaults to 0: a crashed model fails the gate, naming it.
    expect(report.gate.passed).toBe(false)
    expect(report.gate.failures.some((f) => f.message.includes('runtime'))).toBe(true)
  })

  test('a model that does not fit is not run, and each of its rows says why', async () => {
    const small: HardwareProfile = { ...recorded.hardware, system: { ...recorded.hardware.system, ram_available_bytes: 1024 * 1024 } }
    const ran: string[] = []
    const report = await validate(params({ hardware: small, runScenarios: async (m, s, w) => (ran.push(m.ref), replay(m, s, w)) }))
    expect(ran).toEqual([])
    for (const m of report.models) {
      expect(m.scenarios.map((r) => r.verdict)).toEqual(SCENARIO_IDS.map(() => 'does-not-fit'))
      for (const r of m.scenarios) expect(r.detail.reason).toMatch(/exceeds .* GiB \(available RAM/)
    }
  })

  test('a time budget spent before a model starts skips its rows with the reason; the run still ends with a report', async () => {
    const ran: string[] = []
    const report = await validate(
      params({
        deadline: { at: new Date('2026-12-02T17:00:00.000Z'), budgetSec: 60 },
        runScenarios: async (m, s, w) => (ran.push(m.ref), replay(m, s, w))
      })
    )
    expect(ran).toEqual([])
    for (const m of report.models) for (const r of m.scenarios) expect(r).toMatchObject({ verdict: 'skipped', detail: { reason: "not started: the run's time budget of 60 s was spent" } })
  })

  test('a model that failed before profiling, or whose download fails, costs its own rows; a disk skip is not an error', async () => {
    const [a, b, c] = recorded.models
    const models = [
      { ref: 'org/missing:Q8_0', path: null, profile: null, failure: { stage: 'resolve' as const, reason: 'HTTP 404' } },
      { ref: a!.ref, path: null, profile: a!.profile },
      { ref: b!.ref, path: null, profile: b!.profile },
      { ref: c!.ref, path: c!.path, profile: c!.profile }
    ]
    const released: string[] = []
    const report = await validate(
      params({
        models,
        fetchModel: async (m) => {
          if (m.ref === a!.ref) throw new Error('connection reset, 3 retries')
          if (m.ref === b!.ref) throw new ModelSkip('its 9.00 GiB do not fit the disk budget of 1.00 GiB')
          return { path: m.path!, release: async () => void released.push(m.ref) }
        }
      })
    )
    const [missing, failedDownload, skipped, ran] = report.models
    expect(missing!.error).toBe('resolve: HTTP 404')
    expect(missing!.scenarios.every((r) => r.verdict === 'runtime-error' && r.detail.reason === 'resolve: HTTP 404')).toBe(true)
    expect(failedDownload!.scenarios.filter((r) => r.verdict === 'runtime-error').map((r) => r.detail.reason)).toContain('download: connection reset, 3 retries')
    expect(skipped!.scenarios.every((r) => r.verdict === 'skipped' || r.verdict === 'does-not-fit')).toBe(true)
    expect(skipped!.scenarios.some((r) => r.detail.reason === 'not run: its 9.00 GiB do not fit the disk budget of 1.00 GiB')).toBe(true)
    expect(ran!.scenarios.some((r) => r.observed !== null)).toBe(true)
    expect(released).toEqual([c!.ref])
    expect(report.gate.failures.some((f) => f.limit === 'max_runtime_errors')).toBe(true)
  })
})

