import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { beforeAll, describe, expect, it } from '@jest/globals'
import { llamaBinDir } from '../helpers/llama.js'
import { makeHardware } from '../helpers/report-fixture.js'
import { aggregateReports } from '../../src/gate/aggregate.js'
import { validateReport } from '../../src/report/index.js'
import { serializeHardwareProfile } from '../../src/hardware/index.js'
import type { Report } from '../../src/contracts/report.js'

// Matrix shards and an external estimator, on the synthetic demo corpus with real llama.cpp (steady_decode only, to
// keep CI short). The hardware file is a fixed one: these tests are about splitting and gating, not the estimate.
const CACHE = process.env.MODEL_FIT_GATE_CACHE ?? join(tmpdir(), 'mfg-e2e-cache')
const TIMEOUT_MS = 20 * 60_000

let work: string
let hardware: string

function cli(args: string[]) {
  return execa('node', ['dist/cli.js', ...args], {
    reject: false,
    timeout: TIMEOUT_MS,
    env: { ...process.env, MODEL_FIT_GATE_CACHE: CACHE, MODEL_FIT_GATE_LLAMA_BIN: llamaBinDir() }
  })
}

function readReportFile(path: string): Report {
  return validateReport(JSON.parse(readFileSync(path, 'utf8')), path) as Report
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'mfg-variants-'))
  hardware = join(work, 'hardware.json')
  writeFileSync(hardware, serializeHardwareProfile(makeHardware('test CPU')))
})

describe('two shards of the demo corpus', () => {
  const reports: Report[] = []
  const codes: (number | undefined)[] = []

  beforeAll(async () => {
    for (const k of [1, 2]) {
      const out = join(work, `shard-${k}`, 'report.json')
      const r = await cli(['validate', '--corpus', 'synthetic', '--shard', `${k}/2`, '--scenarios', 'steady_decode', '--hardware', hardware, '--out', out])
      codes.push(r.exitCode)
      reports.push(readReportFile(out))
    }
  }, TIMEOUT_MS)

  it('are disjoint and together cover the corpus', () => {
    const [a, b] = reports.map((r) => r.models.map((m) => m.ref))
    expect(a!.length).toBeGreaterThan(0)
    expect(b!.length).toBeGreaterThan(0)
    expect(a!.filter((ref) => b!.includes(ref))).toEqual([])
    const all = [...a!, ...b!].sort()
    const manifest = readFileSync(join(CACHE, 'synthetic', 'manifest.txt'), 'utf8')
    const corpus = [...manifest.matchAll(/^ref=([^,]+),/gm)].map((m) => m[1]).sort()
    expect(all).toEqual(corpus)
    expect(reports.map((r) => r.provenance.shard)).toEqual(['1/2', '2/2'])
  })

  it('gate as one: check over both reports judges every model and agrees with its exit code', async () => {
    const md = join(work, 'aggregate.md')
    const r = await cli(['check', join(work, 'shard-1', 'report.json'), join(work, 'shard-2', 'report.json'), '--markdown-out', md])
    expect([0, 1]).toContain(r.exitCode)
    for (const c of codes) expect([0, 1]).toContain(c)
    const summary = readFileSync(md, 'utf8')
    for (const ref of reports.flatMap((x) => x.models.map((m) => m.ref))) expect(summary).toContain(ref.replace(/_/g, '\\_'))
    expect(summary).toMatch(/1\/2/)
    expect(summary).toMatch(/2\/2/)
    expect(String(r.stdout)).toMatch(r.exitCode === 0 ? /gate: passed/ : /gate: FAILED/)
    // The exit code is the merged gate's verdict, recomputed here from the shards themselves.
    expect(r.exitCode).toBe(aggregateReports(reports).gate.passed ? 0 : 1)
  })
})

describe('an external estimator', () => {
  it('that is far off fails the gate, and a prediction it leaves out makes that row skipped', async () => {
    // Claims a million tok/s for steady decode and says nothing about prefill.
    const estimator = join(work, 'wrong-estimator.mjs')
    writeFileSync(
      estimator,
      `let text = ''
process.stdin.on('data', (c) => (text += c))
process.stdin.on('end', () => {
  const input = JSON.parse(text)
  const predictions = input.models.map((m) => ({ ref: m.ref, scenario: 'steady_decode', predicted: 1e6 }))
  process.stdout.write(JSON.stringify({ predictions }))
})
`
    )
    const out = join(work, 'external', 'report.json')
    const r = await cli([
      'validate', '--corpus', 'synthetic', '--shard', '1/3', '--scenarios', 'steady_decode,prefill',
      '--hardware', hardware, '--estimator-command', `node ${estimator}`, '--out', out
    ])
    expect(r.exitCode).toBe(1)
    const report = readReportFile(out)
    expect(report.estimator).toEqual({ name: 'external', command: `node ${estimator}` })
    for (const m of report.models) {
      const decode = m.scenarios.find((s) => s.scenario === 'steady_decode')
      // A shared runner may make a row noisy; either way the estimate is judged ~100 % off.
      expect(['slower-than-fit', 'inconclusive-noisy']).toContain(decode?.verdict)
      expect(decode).toMatchObject({ predicted: 1e6, abs_error_pct: expect.any(Number) })
      expect(decode!.abs_error_pct!).toBeGreaterThan(99)
      expect(m.scenarios.find((s) => s.scenario === 'prefill')).toMatchObject({
        verdict: 'skipped',
        detail: { reason: 'the external estimator gave no prediction' }
      })
    }
    expect(report.gate.failures.some((f) => f.scenario === 'steady_decode')).toBe(true)
  }, TIMEOUT_MS)

  it('whose output breaks the schema is refused with exit 2 naming the JSON path, before any benchmark', async () => {
    const estimator = join(work, 'broken-estimator.mjs')
    writeFileSync(estimator, `process.stdin.resume(); process.stdin.on('end', () => process.stdout.write(JSON.stringify({ predictions: [{ ref: 'x', scenario: 'prefill', predicted: 'fast' }] })))\n`)
    const r = await cli([
      'validate', '--corpus', 'synthetic', '--scenarios', 'prefill', '--hardware', hardware,
      '--estimator-command', `node ${estimator}`, '--out', join(work, 'broken', 'report.json')
    ])
    expect(r.exitCode).toBe(2)
    expect(String(r.stderr)).toContain('$.predictions[0].predicted: must be number')
    expect(String(r.stderr)).not.toMatch(/prefill: run 1/)
  }, TIMEOUT_MS)
})
