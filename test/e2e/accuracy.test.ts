// The accuracy benchmark end to end on its smallest geometry: synthesize, probe (quick) before each of two passes, run
// all four scenarios with real llama.cpp, predict, and produce a row with a predicted and an observed value for every
// scenario.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runAccuracyBenchmark, type AccuracyResult } from '../../src/accuracy/index.js'
import { liveProcesses } from '../../src/bench/processes.js'
import { DEFAULT_SCENARIOS as SCENARIO_IDS } from '../../src/contracts/scenarios.js'
import { llamaBinDir } from '../helpers/llama.js'
import { defaultWorkload } from '../../src/bench/workload.js'

const TIMEOUT_MS = 900_000
let dir: string
let result: AccuracyResult
const lines: string[] = []

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'accuracy-e2e-'))
  const workloads = [
    { name: 'default', workload: defaultWorkload(), scenarios: SCENARIO_IDS },
    // A second workload as users serve: flash attention, a q8_0 cache, a longer context and four parallel streams.
    { name: 'fa-q8', workload: defaultWorkload({ flash_attention: true, kv_type: 'q8_0', context_tokens: 8192, parallel_decode_tokens: 256 }), scenarios: ['steady_decode', 'parallel_decode'] as const }
  ]
  result = await runAccuracyBenchmark({ binDir: llamaBinDir(), workDir: dir, log: (l) => lines.push(l), only: ['acc-w256-l2'], quickProbe: true, passes: 2, now: () => '2026-01-02T03:04:05.000Z', workloads })
}, TIMEOUT_MS)

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('runAccuracyBenchmark', () => {
  test('every scenario of the model is predicted and observed, with an error', () => {
    expect(result.rows).toHaveLength(1)
    const row = result.rows[0]!
    for (const s of SCENARIO_IDS) {
      const c = row.cells[s]
      expect(c.predicted).toBeGreaterThan(0)
      expect(c.observed).toBeGreaterThan(0)
      expect(c.error_pct).toBeGreaterThanOrEqual(0)
      // Two passes, each observed; the pass-to-pass difference is reported.
      expect(c.passes).toHaveLength(2)
      for (const v of c.passes) expect(v).toBeGreaterThan(0)
      expect(c.pass_delta_pct).toBeGreaterThanOrEqual(0)
    }
    expect(result.summary.map((s) => s.scenario)).toEqual([...SCENARIO_IDS])
    expect(liveProcesses()).toEqual([])
  })

  test('the probe runs before every pass and the facts are fitted from the rounds of both', async () => {
    const order = lines.flatMap((l) => (/probe: decode took/.test(l) ? ['probe'] : /pass \d\/2: .*: running/.test(l) ? ['models'] : []))
    // Each pass runs the model in both workloads.
    expect(order).toEqual(['probe', 'models', 'models', 'probe', 'models', 'models'])
    const hwDir = join(dir, 'hardware')
    const name = (await readdir(hwDir)).find((f) => f.endsWith('.observations.json'))
    expect(name).toBeDefined()
    const saved = JSON.parse(await readFile(join(hwDir, name!), 'utf8')) as { observations: { bandwidth: Record<string, number[]> } }
    // The quick probe measures one round per pass.
    expect(saved.observations.bandwidth.F16).toHaveLength(2)
  })

  test('prints the rows and the per-scenario summary and writes the results file', async () => {
    const text = lines.join('\n')
    expect(text).toMatch(/acc-w256-l2/)
    expect(text).toMatch(/steady_decode +models +1 +median \|error\|.*pass to pass: median \d/)
    // The paired law error: the model measured back to back with the quick probe's F16 model nearest its size.
    expect(result.rows[0]!.pair).not.toBeNull()
    expect(lines.some((l) => l.includes(`paired with ${result.rows[0]!.pair}`))).toBe(true)
    for (const s of SCENARIO_IDS) expect(result.rows[0]!.cells[s].paired_error_pct).toBeGreaterThanOrEqual(0)
    expect(text).toMatch(/steady_decode +[\d.]+ \/ [\d.]+ % +[\d.]+ \/ [\d.]+ % +[\d.]+ \/ [\d.]+ %/)
    const saved = JSON.parse(await readFile(result.resultsPath, 'utf8')) as { rows: unknown[]; summary: unknown[] }
    expect(saved.rows).toHaveLength(1)
    expect(saved.summary).toHaveLength(SCENARIO_IDS.length)
  })

  test("reports each workload's errors: the second workload's rows, predicted and observed with its own settings", () => {
    expect(result.workloads.map((w) => [w.name, w.summary.map((s) => s.scenario)])).toEqual([
      ['default', [...SCENARIO_IDS]],
      ['fa-q8', ['steady_decode', 'parallel_decode']]
    ])
    const fa = result.workloads[1]!
    for (const s of ['steady_decode', 'parallel_decode'] as const) {
      const c = fa.rows[0]!.cells[s]
      expect(c.predicted).toBeGreaterThan(0)
      expect(c.observed).toBeGreaterThan(0)
      expect(c.error_pct).toBeGreaterThanOrEqual(0)
    }
    // The same model in the other workload is another measurement: f16 without flash attention decodes differently.
    expect(fa.rows[0]!.cells.steady_decode.observed).not.toBe(result.rows[0]!.cells.steady_decode.observed)
    expect(lines.join('\n')).toMatch(/workload fa-q8: .*"kv_type":"q8_0"/)
    expect(lines.join('\n')).toMatch(/parallel_decode +models +1 +median \|error\|/)
  })
})
