import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { beforeAll, describe, expect, it } from '@jest/globals'
import { llamaBinDir } from '../helpers/llama.js'
import { validateReport } from '../../src/report/index.js'
import type { Report } from '../../src/contracts/report.js'

// The whole gate on the synthetic demo corpus with real llama.cpp, through the committed bundles exactly as users run
// them: the CLI (`node dist/cli.js`) and the action (`node dist/index.js` with INPUT_* variables).
const CACHE = process.env.MODEL_FIT_GATE_CACHE ?? join(tmpdir(), 'mfg-e2e-cache')
const RUN_TIMEOUT_MS = 40 * 60_000

function env(extra: Record<string, string> = {}): Record<string, string> {
  return { ...(process.env as Record<string, string>), MODEL_FIT_GATE_CACHE: CACHE, MODEL_FIT_GATE_LLAMA_BIN: llamaBinDir(), ...extra }
}

describe('the gate on the synthetic corpus', () => {
  let work: string
  let cli: { exitCode?: number; stdout: string; stderr: string }
  let reportPath: string

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'mfg-gate-'))
    reportPath = join(work, 'cli', 'report.json')
    const r = await execa('node', ['dist/cli.js', 'validate', '--corpus', 'synthetic', '--out', reportPath], {
      env: env(),
      reject: false,
      timeout: RUN_TIMEOUT_MS
    })
    cli = { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) }
  }, RUN_TIMEOUT_MS)

  it('validate writes a schema-valid report of every synthetic model, measured by real llama.cpp', () => {
    expect([0, 1]).toContain(cli.exitCode)
    expect(cli.stdout.trim().split('\n').pop()).toBe(reportPath)
    const report = validateReport(JSON.parse(readFileSync(reportPath, 'utf8')), reportPath) as Report
    expect(report.models.length).toBeGreaterThanOrEqual(6)
    expect(report.provenance.llama_cpp_commit).toMatch(/^[0-9a-f]{7,40}$/)
    for (const m of report.models) {
      expect(m.profile).not.toBeNull()
      for (const s of m.scenarios) {
        if (s.verdict === 'runtime-error' || s.verdict === 'skipped') continue
        // Every observed figure comes with the samples it is the median of.
        expect(s.samples.length).toBeGreaterThan(0)
        expect(s.observed).toBeGreaterThan(0)
        expect(s.predicted).toBeGreaterThan(0)
      }
    }
    expect(existsSync(reportPath.replace(/json$/, 'md'))).toBe(true)
    expect(existsSync(reportPath.replace(/json$/, 'html'))).toBe(true)
  })

  it('two interleaved passes by default: rows merge both, and a row is inconclusive-noisy exactly when its passes disagree beyond the limit (or its estimate rests on a noisy fact, or the machine moved since the probe)', () => {
    const report = validateReport(JSON.parse(readFileSync(reportPath, 'utf8')), reportPath) as Report
    expect(report.passes).toBe(2)
    const limit = report.thresholds!.max_spread_pct / 100
    let judged = 0
    for (const m of report.models) {
      for (const r of m.scenarios) {
        if (r.observed === null || r.predicted === null) continue
        judged++
        expect(r.detail.passes).toHaveLength(2)
        // The merged spread covers every sample of both passes.
        const all = r.detail.passes!.flatMap((p) => p.samples)
        expect(r.samples).toEqual(all)
        const disagree = r.spread! > limit + 1e-9
        if (disagree) expect(r.verdict).toBe('inconclusive-noisy')
        if (r.verdict === 'inconclusive-noisy' && !disagree) expect(r.detail.reason).toMatch(/rests on measured\.|the machine moved since the probe/)
      }
    }
    expect(judged).toBeGreaterThan(0)
    // The sentinel: at the start and after every model of both passes, with timestamps, charted in the HTML.
    const d = report.drift!
    expect(d.sentinel?.part).toMatch(/^bw-/)
    const ran = report.models.filter((m) => m.scenarios.some((s) => s.verdict !== 'skipped' && s.verdict !== 'does-not-fit')).length
    expect(ran).toBeGreaterThanOrEqual(6)
    expect(d.series.length).toBe(1 + 2 * ran)
    expect(d.series[0]!.after).toBeNull()
    expect(d.series.filter((p) => p.value !== null).length).toBe(d.series.length)
    expect(d.range).toBeGreaterThanOrEqual(0)
    const html = readFileSync(reportPath.replace(/json$/, 'html'), 'utf8')
    expect(html).toContain('class="drift-chart"')
    expect(readFileSync(reportPath.replace(/json$/, 'md'), 'utf8')).toMatch(/Sentinel \(bw-\S+ decode 32 tokens\): \d+ measurements/)
  })

  it("every model that ran on llama-server has its memory estimate beside llama.cpp's logged buffers", () => {
    const report = validateReport(JSON.parse(readFileSync(reportPath, 'utf8')), reportPath) as Report
    const served = report.models.filter((m) => m.scenarios.some((s) => s.scenario === 'first_token' && s.verdict !== 'runtime-error' && s.verdict !== 'skipped'))
    expect(served.length).toBeGreaterThan(0)
    for (const m of served) {
      const check = m.llama_memory!
      // KV and compute are sized exactly as llama.cpp sizes them (its log rounds to 0.01 MiB).
      expect(Math.abs(check.error_pct.kv!)).toBeLessThan(1)
      expect(Math.abs(check.error_pct.compute!)).toBeLessThan(1)
      expect(check.logged.model_bytes).toBeGreaterThan(0)
    }
    expect(readFileSync(reportPath.replace(/json$/, 'md'), 'utf8')).toContain('memory estimate / llama.cpp buffers: model')
  })

  it('check agrees with validate about the gate, and a stricter threshold file makes it fail with exit 1', async () => {
    const check = await execa('node', ['dist/cli.js', 'check', reportPath], { env: env(), reject: false })
    expect(check.exitCode).toBe(cli.exitCode)
    const strict = join(work, 'strict.yml')
    writeFileSync(
      strict,
      [
        'tolerance_pct: 10',
        'max_spread_pct: 10',
        'min_models: 1000',
        'max_runtime_errors: 0',
        'scenarios: {}'
      ].join('\n')
    )
    const failed = await execa('node', ['dist/cli.js', 'check', reportPath, '--thresholds', strict], { env: env(), reject: false })
    expect(failed.exitCode).toBe(1)
    expect(String(failed.stdout)).toMatch(/min_models|models/)
  })

  it('check refuses a broken thresholds file with exit 2 naming the file and key', async () => {
    const bad = join(work, 'bad.yml')
    writeFileSync(bad, readFileSync('thresholds.yml', 'utf8').replace(/^tolerance_pct: .*$/m, 'tolerance_pct: ten'))
    const r = await execa('node', ['dist/cli.js', 'check', reportPath, '--thresholds', bad], { env: env(), reject: false })
    expect(r.exitCode).toBe(2)
    expect(String(r.stderr)).toContain('bad.yml')
    expect(String(r.stderr)).toContain('tolerance_pct')
  })

  it('the action writes the job summary with its table, sets its outputs and fails the step exactly when the gate fails', async () => {
    const summary = join(work, 'summary.md')
    const outputs = join(work, 'outputs.txt')
    writeFileSync(summary, '')
    writeFileSync(outputs, '')
    const started = new Date().toISOString()
    const r = await execa('node', ['dist/index.js'], {
      env: env({
        GITHUB_WORKSPACE: work,
        GITHUB_STEP_SUMMARY: summary,
        GITHUB_OUTPUT: outputs,
        INPUT_CORPUS: 'synthetic',
        'INPUT_OUTPUT-DIR': 'action-report',
        'INPUT_LLAMA-CPP': 'auto',
        'INPUT_UPLOAD-ARTIFACTS': 'true',
        'INPUT_FAIL-ON-ERROR': 'true',
        'INPUT_PR-COMMENT': 'false',
        INPUT_PASSES: '1'
      }),
      reject: false,
      timeout: RUN_TIMEOUT_MS
    })
    const md = readFileSync(summary, 'utf8')
    expect(md).toMatch(/\| *scenario *\|/i)
    const out = readFileSync(outputs, 'utf8')
    const passed = /passed<<[^\n]+\n(true|false)/.exec(out)?.[1]
    expect(passed).toBeDefined()
    const reportFile = join(work, 'action-report', 'report.json')
    const report = validateReport(JSON.parse(readFileSync(reportFile, 'utf8')), reportFile) as Report
    expect(String(report.gate.passed)).toBe(passed)
    // ::error:: marks a failed step; it appears exactly when the gate failed.
    expect(r.exitCode).toBe(report.gate.passed ? 0 : 1)
    // Outside GitHub the artifact upload is skipped with a notice, never a failure.
    expect(String(r.stdout)).toMatch(/artifact upload skipped/)
    const check = await execa('node', ['dist/cli.js', 'check', reportFile], { env: env(), reject: false })
    expect(check.exitCode).toBe(report.gate.passed ? 0 : 1)
    // passes: 1 from the input; one pass keeps the rows as they were measured.
    expect(report.passes).toBeUndefined()
    // The probe cached by the CLI run above is re-checked at the start: its decode and prefill, measured again.
    const d = report.drift!
    if (report.hardware.measured_at < started) {
      expect(d.recheck!.probed_at).toBe(report.hardware.measured_at)
      expect(d.recheck!.facts.map((f) => f.fact.replace(/\.[^.]+$/, ''))).toEqual(['measured.decode_bandwidth_by_type', 'measured.prefill_flops_by_type'])
      for (const f of d.recheck!.facts) {
        expect(f.probed).toBeGreaterThan(0)
        expect(f.now).toBeGreaterThan(0)
        expect(f.change).toBeCloseTo(f.now! / f.probed - 1, 4)
      }
    } else {
      // A cached profile measured noisy is probed again (and then there is nothing to re-check).
      expect(d.recheck).toBeNull()
    }
  }, RUN_TIMEOUT_MS)
})
