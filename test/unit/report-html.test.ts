import { describe, expect, test } from '@jest/globals'
import { renderHtml } from '../../src/report/html.js'
import { makeReport, showcaseReport } from '../helpers/report-fixture.js'

describe('renderHtml', () => {
  test('has one SVG chart per scenario, each with a y = x line, a tolerance band and a point per comparable row', () => {
    const report = showcaseReport()
    const html = renderHtml(report)
    const svgs = html.match(/<svg[\s\S]*?<\/svg>/g) ?? []
    expect(svgs.map((s) => /data-scenario="([a-z_]+)"/.exec(s)?.[1])).toEqual(['steady_decode', 'prefill', 'first_token', 'kv_warm_reuse'])
    for (const svg of svgs) {
      expect(svg.match(/<line class="identity"/g)).toHaveLength(1)
      expect(svg.match(/<polygon class="band"/g)).toHaveLength(1)
    }
    // steady_decode: 4 rows with both numbers (the embedding model is skipped)
    expect(svgs[0]?.match(/<circle class="point/g)).toHaveLength(4)
    // kv_warm_reuse: the runtime error has no observed value, so no point
    expect(svgs[3]?.match(/<circle class="point/g)).toHaveLength(3)
  })

  test('the y = x line is the diagonal of a square log plot', () => {
    const svg = renderHtml(showcaseReport()).match(/<svg[\s\S]*?<\/svg>/)?.[0] ?? ''
    const m = /<line class="identity"[^>]* x1="([\d.]+)" y1="([\d.]+)" x2="([\d.]+)" y2="([\d.]+)"/.exec(svg)
    const [x1, y1, x2, y2] = (m?.slice(1) ?? []).map(Number) as [number, number, number, number]
    const plot = /<rect class="plot" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/.exec(svg)?.slice(1).map(Number) as number[]
    expect([x1, y1, x2, y2]).toEqual([plot[0], (plot[1] as number) + (plot[3] as number), (plot[0] as number) + (plot[2] as number), plot[1]])
  })

  test('points are coloured by verdict and titled with their model', () => {
    const html = renderHtml(showcaseReport())
    expect(html).toMatch(
      /<circle class="point verdict-slower-than-fit" data-model="unsloth\/Qwen3-0\.6B-GGUF:Q4_K_M"[^>]*fill="#c62828"><title>unsloth\/Qwen3-0\.6B-GGUF:Q4_K_M — slower-than-fit: predicted 64\.0 tok\/s, observed 44\.8 tok\/s, \|error\| 30\.0 %<\/title>/
    )
  })

  test("shows the memory estimate beside llama.cpp's buffers in the model's block, only where a server logged them", () => {
    const report = showcaseReport()
    report.models[1]!.llama_memory = {
      logged: { model_bytes: 100 * 1024 ** 2, kv_bytes: 64 * 1024 ** 2, rs_bytes: null, compute_bytes: 300 * 1024 ** 2, repacked_model_bytes: null },
      estimated: { model_bytes: 100 * 1024 ** 2, kv_bytes: 64 * 1024 ** 2, rs_bytes: 0, compute_bytes: 330 * 1024 ** 2 },
      error_pct: { model: 0, kv: 0, state: null, compute: 10 }
    }
    const html = renderHtml(report)
    expect(html.match(/memory estimate \/ llama\.cpp buffers/g)).toHaveLength(1)
    expect(html).toContain('compute 330 MiB / 300 MiB (+10.0 %)')
  })

  test('escapes refs everywhere and loads nothing from outside', () => {
    const html = renderHtml(showcaseReport())
    expect(html).not.toContain('<script')
    expect(html).toContain('local/&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;|pipe')
    expect(html).not.toMatch(/\b(src|href)=/)
    expect(html).not.toMatch(/@import|url\(http/)
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`)
  })

  test('has the breakdowns, the failures and provenance, and is deterministic', () => {
    const html = renderHtml(showcaseReport())
    expect(html).toContain('predicted: fixed_ms 2.34 · weights_ms 13.3<br>observed: fixed_ms 3.35 · weights_ms 19.0')
    expect(html).toContain('<li>steady_decode: unsloth/Qwen3-0.6B-GGUF:Q4_K_M |error| 30.0 % &gt; 20 % limit')
    expect(html).toContain('<tr><th>llama.cpp</th><td>commit de3ff81, build 1</td></tr>')
    expect(renderHtml(showcaseReport())).toBe(html)
  })

  test('a scenario without comparable rows still gets its chart, saying so', () => {
    const report = makeReport([{ ref: 'a/b', rows: [{ scenario: 'prefill', predicted: 10, observed: null, error: 'crashed' }] }])
    const html = renderHtml(report)
    expect(html.match(/<svg /g)).toHaveLength(1)
    expect(html).toContain('no row with both a prediction and an observation')
  })
})
