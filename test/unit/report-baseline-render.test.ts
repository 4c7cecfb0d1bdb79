// What a user sees of `--baseline`: the Δ % of each model and scenario against the earlier run, in the Markdown
// summary and the HTML report, with only changes beyond the measured noise called regressions or improvements.
import { describe, expect, test } from '@jest/globals'
import { renderMarkdown } from '../../src/report/markdown.js'
import { renderHtml } from '../../src/report/html.js'
import { serializeReport } from '../../src/report/schema.js'
import { DEFAULT_THRESHOLDS } from '../../src/gate/defaults.js'
import type { Thresholds } from '../../src/contracts/gate.js'
import type { Report } from '../../src/contracts/report.js'
import { makeReport, type ModelSpec, type ReportOptions } from '../helpers/report-fixture.js'

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8')
const withLimit = (pct: number): Thresholds => ({ ...DEFAULT_THRESHOLDS, max_regression_pct: pct })

/**
 * The same model measured twice: 100 tok/s before, `observed` now, each run with its own sample spread. Each run's
 * prediction equals its observation, so the estimator's |error| limits stay quiet and only the baseline is judged.
 */
function pair(observed: number, spread: { before: number; now: number }, opts: ReportOptions = {}): Report {
  const before = makeReport([{ ref: 'org/m-GGUF:Q4_K_M', rows: [{ scenario: 'steady_decode', predicted: 100, observed: 100, spread: spread.before }] }], {
    generatedAt: '2026-09-01T08:00:00.000Z'
  })
  return makeReport([{ ref: 'org/m-GGUF:Q4_K_M', rows: [{ scenario: 'steady_decode', predicted: observed, observed, spread: spread.now }] }], {
    ...opts,
    baseline: before
  })
}

/** The Markdown section between its title and the next section. */
function section(md: string): string {
  const start = md.indexOf('### Against the baseline')
  return start < 0 ? '' : md.slice(start, md.indexOf('### Rows, failing first'))
}

/** The HTML table rows of the baseline section (the changes table and the collapsed one). */
function htmlRows(html: string): string[] {
  const start = html.indexOf('<h2>Against the baseline</h2>')
  const part = html.slice(start, html.indexOf('<h2>', start + 1))
  return part.match(/<tr class="bl-[^"]*">.*?<\/tr>/g) ?? []
}

describe('a baseline comparison in the rendered reports', () => {
  test('a 3 % slowdown with a 5 % noise band reads "within noise" and is not gated, even under a 2 % limit', () => {
    const report = pair(97, { before: 0.05, now: 0.03 }, { thresholds: withLimit(2) })
    expect(report.gate.failures.filter((f) => f.limit === 'max_regression_pct')).toEqual([])

    const md = section(renderMarkdown(report))
    expect(md).toContain('0 regressed · 0 improved · 1 within noise')
    expect(md).toContain('_No change beyond the noise band._')
    expect(md).toContain('| org/m-GGUF:Q4\\_K\\_M | steady_decode | 100 tok/s | 97.0 tok/s | −3.0 % | ±5.0 % | within noise |')
    expect(md).not.toMatch(/\| (regressed|improved)/)

    const rows = htmlRows(renderHtml(report))
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatch(/^<tr class="bl-within-noise">/)
    expect(rows[0]).toContain('<td class="num bl-status within-noise">−3.0 %</td><td class="num">±5.0 %</td>')
  })

  test('a 20 % slowdown with a 2 % noise band reads "regressed" in both reports and fails max_regression_pct', () => {
    const report = pair(80, { before: 0.02, now: 0.01 }, { thresholds: withLimit(10) })
    expect(report.gate.passed).toBe(false)
    expect(report.gate.failures.map((f) => f.limit)).toEqual(['max_regression_pct'])

    const full = renderMarkdown(report)
    expect(full.split('\n')[0]).toBe('## ❌ model-fit-gate failed: 1 failure')
    const md = section(full)
    expect(md).toContain('**1 regressed** · 0 improved · 0 within noise')
    expect(md).toContain('| ❌ | org/m-GGUF:Q4\\_K\\_M | steady_decode | 100 tok/s | 80.0 tok/s | −20.0 % | ±2.0 % | regressed, over the 10 % limit |')
    expect(md).toContain('more than max\\_regression\\_pct (10 %) fails the gate')

    const html = renderHtml(report)
    const rows = htmlRows(html)
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatch(/^<tr class="bl-regressed failing"><td><span class="mark bad">✗<\/span><\/td>/)
    expect(rows[0]).toContain('<td class="num bl-status regressed">−20.0 %</td><td class="num">±2.0 %</td>')
    // Regressions are red, improvements green.
    expect(html).toMatch(/tr\.bl-regressed td \{ background: #fdecec; \}/)
    expect(html).toMatch(/\.bl-status\.regressed \{ color: #c62828; \}/)
  })

  test('without max_regression_pct the same slowdown is shown as regressed but does not fail the gate', () => {
    const report = pair(80, { before: 0.02, now: 0.01 })
    expect(report.gate.passed).toBe(true)
    const md = section(renderMarkdown(report))
    expect(md).toContain('| 🔻 | org/m-GGUF:Q4\\_K\\_M | steady_decode | 100 tok/s | 80.0 tok/s | −20.0 % | ±2.0 % | regressed |')
    expect(md).toContain('max\\_regression\\_pct is not set: changes are shown, not gated.')
    expect(htmlRows(renderHtml(report))[0]).toMatch(/^<tr class="bl-regressed"><td><\/td>/)
  })

  test('a speed-up beyond noise reads "improved", in green', () => {
    const report = pair(125, { before: 0.02, now: 0.02 })
    expect(section(renderMarkdown(report))).toContain('| 🔺 | org/m-GGUF:Q4\\_K\\_M | steady_decode | 100 tok/s | 125 tok/s | +25.0 % | ±2.0 % | improved |')
    expect(htmlRows(renderHtml(report))[0]).toMatch(/^<tr class="bl-improved">.*<td class="num bl-status improved">\+25\.0 %<\/td>/)
  })

  test('first_token counts time: more ms than the baseline is a slowdown', () => {
    const before = makeReport([{ ref: 'm', rows: [{ scenario: 'first_token', predicted: 100, observed: 100 }] }])
    const report = makeReport([{ ref: 'm', rows: [{ scenario: 'first_token', predicted: 100, observed: 125 }] }], { baseline: before })
    expect(section(renderMarkdown(report))).toContain('| 🔻 | m | first_token | 100 ms | 125 ms | −20.0 % | ±2.0 % | regressed |')
  })

  test('changes beyond noise come first, the largest slowdown first; rows within noise are collapsed below', () => {
    const refs = ['within', 'slow-5', 'fast-10', 'slow-30']
    const observed: Record<string, number> = { within: 99, 'slow-5': 95, 'fast-10': 110, 'slow-30': 70 }
    const spec = (value: (ref: string) => number): ModelSpec[] =>
      refs.map((ref) => ({ ref, rows: [{ scenario: 'steady_decode', predicted: 100, observed: value(ref), spread: 0.02 }] }))
    const report = makeReport(spec((r) => observed[r] as number), { baseline: makeReport(spec(() => 100)) })
    const md = section(renderMarkdown(report))
    const order = [...md.matchAll(/^\| (?:🔻|🔺|❌) \| ([\w-]+) \|/gm)].map((m) => m[1])
    expect(order).toEqual(['slow-30', 'slow-5', 'fast-10'])
    expect(md.indexOf('<details><summary>〰️ 1 within noise</summary>')).toBeGreaterThan(md.indexOf('| 🔺 | fast-10'))
    expect(md).toMatch(/<details>[\s\S]*\| within \| steady_decode \|[\s\S]*<\/details>/)
    const html = renderHtml(report)
    expect(htmlRows(html).map((r) => /<td>([\w-]+)<\/td><td>steady_decode/.exec(r)?.[1])).toEqual(['slow-30', 'slow-5', 'fast-10', 'within'])
    expect(html).toMatch(/<details><summary>1 within noise<\/summary><table class="baseline">/)
  })

  test('the section sits after the per-scenario table and says which run it was compared with', () => {
    const before = makeReport([{ ref: 'm', rows: [{ scenario: 'prefill', predicted: 100, observed: 100 }] }], {
      generatedAt: '2026-09-01T08:00:00.000Z',
      llamaCommit: 'abc1234',
      device: 'Apple M2'
    })
    const report = makeReport([{ ref: 'm', rows: [{ scenario: 'prefill', predicted: 100, observed: 100 }] }], { baseline: before })
    const md = renderMarkdown(report)
    expect(md.indexOf('### Scenarios')).toBeLessThan(md.indexOf('### Against the baseline'))
    expect(md.indexOf('### Against the baseline')).toBeLessThan(md.indexOf('### Rows, failing first'))
    expect(md).toContain('Compared with the run of 2026-09-01T08:00:00.000Z (llama.cpp abc1234, CPU, Apple M2). llama.cpp changed since: abc1234 → de3ff81.')
    expect(md).toContain('⚠️ The baseline ran on Apple M2 (CPU), this run on AMD EPYC 7B13 (CPU): the changes include the machine.')
    expect(renderHtml(report)).toContain('<p class="warn">The baseline ran on Apple M2 (CPU), this run on AMD EPYC 7B13 (CPU)')
  })

  test('rows that could not be compared are named with why', () => {
    const before = makeReport([{ ref: 'm', rows: [{ scenario: 'prefill', predicted: 100, observed: 100 }] }])
    const report = makeReport(
      [
        { ref: 'm', rows: [{ scenario: 'prefill', predicted: 100, observed: null, error: 'crashed' }] },
        { ref: 'new', rows: [{ scenario: 'prefill', predicted: 100, observed: 100 }] }
      ],
      { baseline: before }
    )
    const md = section(renderMarkdown(report))
    expect(md).toContain('0 regressed · 0 improved · 0 within noise · 2 not compared')
    expect(md).toContain('Not compared: no observation in this run: m (prefill) · not in the baseline: new (prefill)')
    expect(renderHtml(report)).toContain('Not compared: no observation in this run: m (prefill) · not in the baseline: new (prefill)')
  })

  test('a ref with markup is text in both reports', () => {
    const ref = 'local/<script>alert("x")</script>|pipe'
    const spec = (observed: number): ModelSpec[] => [{ ref, rows: [{ scenario: 'prefill', predicted: 100, observed }] }]
    const report = makeReport(spec(50), { baseline: makeReport(spec(100)) })
    expect(section(renderMarkdown(report))).toContain('| 🔻 | local/&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;\\|pipe | prefill |')
    const html = renderHtml(report)
    expect(html).not.toContain('<script')
    expect(htmlRows(html)[0]).toContain('<td>local/&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;|pipe</td>')
  })

  test('under a small maxBytes the changes beyond noise stay; rows within noise go first, with a note', () => {
    const models = (value: (i: number) => number): ModelSpec[] =>
      Array.from({ length: 120 }, (_, i) => ({
        ref: `org/model-${String(i).padStart(3, '0')}-GGUF:Q4_K_M`,
        rows: [
          { scenario: 'steady_decode', predicted: 100, observed: value(i) },
          { scenario: 'prefill', predicted: 1000, observed: 1000 }
        ]
      }))
    const report = makeReport(models((i) => (i === 7 || i === 99 ? 60 : 100)), { baseline: makeReport(models(() => 100)) })
    const full = renderMarkdown(report)
    // Unlimited, every row within noise is listed in the collapsed table.
    expect(section(full).split('\n').filter((l) => l.startsWith('| org/model-')).length).toBe(238)
    const small = renderMarkdown(report, { maxBytes: 20_000 })
    expect(bytes(small)).toBeLessThanOrEqual(20_000)
    const md = section(small)
    expect(md).toContain('**2 regressed** · 0 improved · 238 within noise')
    expect(md).toContain('| 🔻 | org/model-007-GGUF:Q4\\_K\\_M | steady_decode |')
    expect(md).toContain('| 🔻 | org/model-099-GGUF:Q4\\_K\\_M | steady_decode |')
    expect(md).toMatch(/rows? (without a change beyond noise )?not shown \(size limit\)/)
    expect(md.split('\n').filter((l) => l.startsWith('| org/model-')).length).toBeLessThan(238)
    // The report's own rows still come before the collapsed ones in the budget.
    expect(small).toContain('### Rows, failing first')
  })

  test('no baseline: no section, and the same bytes as the report with its comparison removed', () => {
    const spec: ModelSpec[] = [{ ref: 'm', rows: [{ scenario: 'steady_decode', predicted: 100, observed: 80 }] }]
    const never = makeReport(spec)
    const compared = makeReport(spec, { baseline: makeReport([{ ref: 'm', rows: [{ scenario: 'steady_decode', predicted: 100, observed: 100 }] }]) })
    expect(compared.baseline?.rows[0]?.regressed).toBe(true)
    const { baseline: _dropped, ...stripped } = compared
    expect(serializeReport(stripped)).toBe(serializeReport(never))
    for (const maxBytes of [undefined, 4000]) {
      const md = renderMarkdown(never, { maxBytes })
      expect(md).not.toContain('baseline')
      expect(renderMarkdown(stripped, { maxBytes })).toBe(md)
    }
    const html = renderHtml(never)
    expect(html).not.toMatch(/baseline|bl-/)
    expect(renderHtml(stripped)).toBe(html)
  })
})
