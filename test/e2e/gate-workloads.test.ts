// Two named workloads in one run, on a synthetic model with real llama.cpp: the built-in one, and a long context
// with flash attention, a q8_0 KV cache and four parallel streams. Each is gated with its own limits, every row
// names its workload, and the summary has a table per workload. A fixed hardware file keeps the probe out of it.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { beforeAll, describe, expect, it } from '@jest/globals'
import { llamaBinDir } from '../helpers/llama.js'
import { makeHardware } from '../helpers/report-fixture.js'
import { validateReport } from '../../src/report/index.js'
import { serializeHardwareProfile } from '../../src/hardware/index.js'
import type { Report } from '../../src/contracts/report.js'

const CACHE = process.env.MODEL_FIT_GATE_CACHE ?? join(tmpdir(), 'mfg-e2e-cache')
const TIMEOUT_MS = 20 * 60_000

const THRESHOLDS = `tolerance_pct: 10
max_spread_pct: 10
min_models: 1
max_runtime_errors: 0
scenarios:
  steady_decode:
    max_median_abs_error_pct: 10
    max_abs_error_pct: 20
    max_noisy: 1
workloads:
  default:
    scenarios: [steady_decode]
  long:
    context_tokens: 16384
    kv_type: q8_0
    flash_attention: true
    decode_depth: 2048
    parallel_slots: 4
    parallel_decode_tokens: 16
    gpu_layers: auto
    scenarios: [steady_decode, parallel_decode]
    thresholds:
      max_runtime_errors: 0
      scenarios:
        parallel_decode:
          max_median_abs_error_pct: 1000
          max_abs_error_pct: 1000
          max_noisy: 1
`

describe('a run of two named workloads', () => {
  let report: Report
  let markdown: string
  let exitCode: number | undefined

  beforeAll(async () => {
    const work = mkdtempSync(join(tmpdir(), 'mfg-workloads-'))
    const hardware = join(work, 'hardware.json')
    writeFileSync(hardware, serializeHardwareProfile(makeHardware('test CPU')))
    const thresholds = join(work, 'thresholds.yml')
    writeFileSync(thresholds, THRESHOLDS)
    const out = join(work, 'out', 'report.json')
    const r = await execa('node', ['dist/cli.js', 'validate', '--corpus', 'synthetic', '--shard', '1/6', '--passes', '1', '--thresholds', thresholds, '--hardware', hardware, '--out', out], {
      reject: false,
      timeout: TIMEOUT_MS,
      env: { ...process.env, MODEL_FIT_GATE_CACHE: CACHE, MODEL_FIT_GATE_LLAMA_BIN: llamaBinDir() }
    })
    exitCode = r.exitCode
    if (exitCode === 2) throw new Error(r.stderr)
    report = validateReport(JSON.parse(readFileSync(out, 'utf8')), out) as Report
    markdown = readFileSync(out.replace(/\.json$/, '.md'), 'utf8')
  }, TIMEOUT_MS)

  it('runs each workload over the model, every row naming its workload, with the workload it ran', () => {
    expect(report.workloads?.map((w) => w.name)).toEqual(['default', 'long'])
    expect(report.workloads?.[1]?.workload).toMatchObject({ context_tokens: 16384, kv_type: 'q8_0', flash_attention: true, parallel_slots: 4, gpu_layers: -1 })
    // gpu_layers auto on a machine without a GPU: nothing to offload, recorded per model.
    expect(report.models[1]!.gpu_layers).toBe(0)
    expect(report.models[0]!.gpu_layers).toBeUndefined()
    expect(report.models.map((m) => [m.workload, m.scenarios.map((r) => r.scenario)])).toEqual([
      ['default', ['steady_decode']],
      ['long', ['steady_decode', 'parallel_decode']]
    ])
  })

  it('measures and predicts parallel_decode with four streams, and gates each workload on its own', () => {
    const par = report.models[1]!.scenarios[1]!
    expect(par.verdict).not.toBe('runtime-error')
    expect(par.observed).toBeGreaterThan(0)
    expect(par.predicted).toBeGreaterThan(0)
    expect(par.detail.predicted_breakdown?.streams).toBe(4)
    expect(par.detail.observed_breakdown?.streams).toBe(4)
    // The long workload's limits for parallel_decode are its own (1000 %): no failure of it names that scenario.
    expect(report.gate.failures.filter((f) => f.scenario === 'parallel_decode')).toEqual([])
    for (const f of report.gate.failures) expect(f.workload === 'default' || f.workload === 'long').toBe(true)
    expect(Object.keys(report.workload_summaries ?? {})).toEqual(['default', 'long'])
    expect(exitCode).toBe(report.gate.passed ? 0 : 1)
  })

  it('summarises each workload in its own table', () => {
    expect(markdown).toContain('**Workload `default`**')
    expect(markdown).toContain('**Workload `long`**: context 16384, KV q8\\_0, flash attention on')
    expect(markdown).toMatch(/\| parallel_decode \| tok\/s \| 1 \|/)
  })
})
