import { describe, expect, test } from '@jest/globals'
import { renderHtml } from '../../src/report/html.js'
import { renderMarkdown, JOB_SUMMARY_MAX_BYTES } from '../../src/report/markdown.js'
import { layerPlanText } from '../../src/report/view.js'
import { makeReport, showcaseReport, type ModelSpec } from '../helpers/report-fixture.js'

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8')

function manyModels(n: number): ModelSpec[] {
  return Array.from({ length: n }, (_, i) => ({
    ref: `org/model-${String(i).padStart(3, '0')}-GGUF:Q4_K_M`,
    rows: [
      { scenario: 'steady_decode', predicted: 100, observed: i === 57 ? 65 : 97 },
      { scenario: 'prefill', predicted: 1000, observed: 1020 },
      { scenario: 'first_token', predicted: 100, observed: 104 },
      { scenario: 'kv_warm_reuse', predicted: 100, observed: 96 }
    ]
  }))
}

describe('renderMarkdown', () => {
  test('opens with the verdict, the failure count and each failure message', () => {
    const md = renderMarkdown(showcaseReport())
    const lines = md.split('\n')
    expect(lines[0]).toBe('## ❌ model-fit-gate failed: 2 failures')
    expect(lines[2]).toMatch(/^- 1 runtime error &gt; 0 allowed/)
    expect(lines[3]).toBe(
      '- steady\\_decode: unsloth/Qwen3-0.6B-GGUF:Q4\\_K\\_M \\|error\\| 30.0 % &gt; 20 % limit (slower-than-fit: observed 44.8 tok/s, predicted 64.0 tok/s)'
    )
    expect(renderMarkdown(makeReport(manyModels(2))).split('\n')[0]).toBe('## ✅ model-fit-gate passed')
  })

  test('has a per-scenario table with counts, |error| statistics and limits, a failed limit marked', () => {
    const md = renderMarkdown(showcaseReport())
    expect(md).toContain('| steady_decode | tok/s | 5 | 4 | 0 | 0 | 5.1 % | 30.0 % ❌ | 10 % / 20 % / 1 |')
    expect(md).toContain('| kv_warm_reuse | tok/s | 4 | 2 | 1 | 1 |')
    expect(md.indexOf('### Scenarios')).toBeLessThan(md.indexOf('### Rows, failing first'))
  })

  test('lists failing rows first, before matches', () => {
    const md = renderMarkdown(showcaseReport())
    const rows = md
      .slice(md.indexOf('### Rows, failing first'), md.indexOf('### Models'))
      .split('\n')
      .filter((l) => l.startsWith('| ') && !l.startsWith('| |'))
    // The gate failed on both: the runtime error (max_runtime_errors) first, then the 30 % miss.
    expect(rows[0]).toMatch(/^\| ❌ \| local\/.* \| kv_warm_reuse \| 350 tok\/s \| — \| — \| — \| runtime-error \|$/)
    expect(rows[1]).toMatch(/^\| ❌ \| unsloth\/Qwen3-0\.6B-GGUF:Q4\\_K\\_M \| steady_decode \| 64\.0 tok\/s \| 44\.8 tok\/s \| 0\.70× \| 30\.0 % \| slower-than-fit \|$/)
    expect(rows[2]).not.toMatch(/^\| ❌/)
    const firstMatch = rows.findIndex((r) => r.endsWith('| match |'))
    const lastMiss = rows.map((r) => /(slower|faster)-than-fit \|$/.test(r)).lastIndexOf(true)
    expect(lastMiss).toBeLessThan(firstMatch)
  })

  test('has a collapsible block per model with its profile line and breakdowns, then provenance', () => {
    const md = renderMarkdown(showcaseReport())
    expect(md).toContain(
      '<details><summary>❌ unsloth/Qwen3-0.6B-GGUF:Q4_K_M — qwen3 · 596M params · Q4_K_M · 378 MiB · fit: fits</summary>'
    )
    expect(md).toMatch(/- \*\*steady_decode\*\*: predicted: fixed\\_ms 2\.34 · weights\\_ms 13\.3; observed: fixed\\_ms 3\.35 · weights\\_ms 19\.0/)
    expect(md).toMatch(/reason: llama-server exited with code 1; log: srv {2}load\\_model: failed/)
    expect(md.match(/<details>/g)).toHaveLength(5)
    expect(md.indexOf('### Provenance')).toBeGreaterThan(md.lastIndexOf('</details>'))
    expect(md).toContain('- **llama.cpp:** commit de3ff81, build 1')
  })

  test("sets the memory estimate beside the buffers llama.cpp logged, in the model's block", () => {
    const report = showcaseReport()
    report.models[0]!.llama_memory = {
      logged: { model_bytes: 138 * 1024 ** 2, kv_bytes: 90 * 1024 ** 2, rs_bytes: null, compute_bytes: null, repacked_model_bytes: null },
      estimated: { model_bytes: 138 * 1024 ** 2, kv_bytes: 96 * 1024 ** 2, rs_bytes: 0, compute_bytes: 300 * 1024 ** 2 },
      error_pct: { model: 0, kv: 6.7, state: null, compute: null }
    }
    const md = renderMarkdown(report)
    expect(md).toContain("memory estimate / llama.cpp buffers: model 138 MiB / 138 MiB (±0.0 %) · KV 96.0 MiB / 90.0 MiB (+6.7 %) · compute 300 MiB / not logged")
    expect(md.indexOf('llama.cpp buffers')).toBeLessThan(md.indexOf('</details>'))
  })

  test('escapes user text: a ref with markup cannot inject HTML or break a table', () => {
    const md = renderMarkdown(showcaseReport())
    expect(md).not.toContain('<script>')
    expect(md).toContain('local/&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;\\|pipe')
    const mention = renderMarkdown(makeReport([{ ref: 'x/y', rows: [{ scenario: 'prefill', predicted: 1, observed: null, error: 'ping @octocat' }] }]))
    expect(mention).not.toContain('@octocat')
    expect(mention).toContain('&#64;octocat')
  })

  test('stays under maxBytes by dropping model blocks, then rows, each with a note', () => {
    const report = makeReport(manyModels(200))
    const full = renderMarkdown(report)
    expect(bytes(full)).toBeLessThan(JOB_SUMMARY_MAX_BYTES)
    expect(full).not.toMatch(/not shown/)
    const mid = renderMarkdown(report, { maxBytes: 100_000 })
    expect(bytes(mid)).toBeLessThanOrEqual(100_000)
    expect(mid).toMatch(/_\d+ of 200 model blocks not shown \(size limit\); see the JSON or HTML report\._/)
    expect(mid).not.toMatch(/more rows not shown/)
    const small = renderMarkdown(report, { maxBytes: 20_000 })
    expect(bytes(small)).toBeLessThanOrEqual(20_000)
    expect(small).toMatch(/_\d+ more rows not shown \(size limit\)/)
    // The verdict and the failing row survive any cut.
    expect(small.split('\n')[0]).toBe('## ❌ model-fit-gate failed: 1 failure')
    expect(small).toMatch(/\| ❌ \| org\/model-057-GGUF:Q4\\_K\\_M \| steady_decode/)
    expect(small).toContain('### Provenance')
  })

  test('names every probe stand-in the estimate used, at the top and under provenance; says which cache it counted', () => {
    const report = showcaseReport()
    expect(renderMarkdown(report)).not.toContain('stand-in')
    report.hardware = {
      ...report.hardware,
      system: { ...report.hardware.system, cache_bytes: 128 * 1024 ** 2, cache_reported_bytes: 482 * 1024 ** 2, cache_source: 'measured' },
      ceilings: { ...report.hardware.ceilings, cache_knee_bytes: 128 * 1024 ** 2 },
      probe_failures: [
        {
          part: 'pf-Q8_0',
          stage: 'run',
          reason: 'llama-bench was killed by SIGSEGV\nmore log',
          facts: ['measured.prefill_flops_by_type.Q8_0'],
          stand_in: "Q4_0's measured prefill rate (the nearest measured type)"
        }
      ]
    }
    const md = renderMarkdown(report)
    expect(md.indexOf('⚠️ 1 probe part not measured on this machine')).toBeLessThan(md.indexOf('# Scenarios'))
    // Markdown-escaped: the reason's first line only, then what stands in.
    expect(md).toContain('- **probe stand-in:** pf-Q8\\_0 (run: llama-bench was killed by SIGSEGV) → Q4\\_0')
    expect(md).toContain('- **cache:** 128 MiB usable (measured, read-sweep knee 128 MiB, reported 482 MiB)')
    expect(renderHtml(report)).toContain('pf-Q8_0 (run: llama-bench was killed by SIGSEGV)')
  })

  test('is deterministic', () => {
    expect(renderMarkdown(showcaseReport())).toBe(renderMarkdown(showcaseReport()))
  })

  test('says how many models were resumed from a checkpoint, and nothing when none were', () => {
    const report = showcaseReport()
    expect(renderMarkdown(report)).not.toMatch(/resumed/)
    report.resumed = [report.models[0]!.ref, report.models[1]!.ref]
    expect(renderMarkdown(report)).toContain(" · 2 resumed from an interrupted run's checkpoint · ")
  })

  test("warns at the top when a model's architecture rules were assumed, and says what in its block (Markdown and HTML)", () => {
    const report = showcaseReport()
    expect(renderMarkdown(report)).not.toMatch(/assumed/)
    const profile = report.models[0]!.profile!
    profile.architecture = 'newarch'
    profile.layer_plan.assumptions = ['newarch: not an architecture the pinned llama.cpp loads; its layers costed as attention over the whole context']
    const md = renderMarkdown(report)
    expect(md).toContain('⚠️ 1 model rests on assumed architecture rules (newarch)')
    expect(md).toContain('⚠️ assumed: newarch: not an architecture the pinned llama.cpp loads')
    // Above the model's table, where a reader looks first.
    const block = md.slice(md.indexOf('⚠️ assumed'))
    expect(block.indexOf('⚠️ assumed')).toBeLessThan(block.indexOf('| scenario |'))
    const html = renderHtml(report)
    expect(html).toContain('<p class="warning">⚠️ 1 model rests on assumed architecture rules (newarch)')
    expect(html).toContain('<p class="warning">⚠️ assumed: newarch: not an architecture')
  })

  test("a model's profile line says how its layers attend when it is more than full attention everywhere", () => {
    const report = showcaseReport()
    const plan = report.models[0]!.profile!.layer_plan
    expect(layerPlanText(plan)).toBe('')
    expect(layerPlanText({ ...plan, full_attention_layers: 1, sliding_attention_layers: 5, sliding_window: 512 })).toBe('1 full + 5 sliding (512) layers')
    expect(layerPlanText({ ...plan, full_attention_layers: 2, recurrent_layers: 4 })).toBe('2 attention + 4 recurrent layers')
    expect(layerPlanText({ ...plan, full_attention_layers: 0, recurrent_layers: 4 })).toBe('4 recurrent layers')
    expect(layerPlanText({ ...plan, mla_kv_lora_rank: 512 })).toBe('MLA (latent 512)')
    report.models[0]!.profile!.layer_plan = { ...plan, full_attention_layers: 1, sliding_attention_layers: 5, sliding_window: 512 }
    expect(renderMarkdown(report)).toContain(' · 1 full + 5 sliding (512) layers · fit: ')
  })
})
