// The memory gate in the report: the summary per buffer with the limits, one row per model (failing first, marked),
// per-device lines in a split model's block, and the same in the HTML page; `check` re-judges a stored memory check
// with other limits.
import { describe, expect, test } from '@jest/globals'
import { makeReport } from '../helpers/report-fixture.js'
import { applyGate } from '../../src/gate/index.js'
import { DEFAULT_THRESHOLDS } from '../../src/gate/defaults.js'
import { memoryCheck } from '../../src/compare/memory-projection.js'
import { memorySettingsFrom } from '../../src/gate/memory.js'
import { renderHtml, renderMarkdown } from '../../src/report/index.js'
import type { Report } from '../../src/contracts/report.js'
import type { ProjectedDevice } from '../../src/contracts/verdict.js'
import type { DeviceMemory } from '../../src/contracts/prediction.js'

const MiB = 1024 * 1024
const GiB = 1024 * MiB
const iv = (mib: number): [number, number] => [mib * MiB, (mib + 1) * MiB]

function withMemory(): Report {
  const base = makeReport([
    { ref: 'org/split-GGUF:Q4_K_M', rows: [{ scenario: 'steady_decode', predicted: 50, observed: 49 }] },
    { ref: 'org/kv-off-GGUF:Q8_0', rows: [{ scenario: 'steady_decode', predicted: 80, observed: 79 }] }
  ])
  const projected: ProjectedDevice[] = [
    { device: 'CUDA0', weights_bytes: iv(4000), context_bytes: iv(448), compute_bytes: iv(258), free_bytes: 24 * GiB },
    { device: 'Host', weights_bytes: iv(300), context_bytes: iv(0), compute_bytes: iv(16), free_bytes: 64 * GiB }
  ]
  const d = (device: string, w: number, c: number, k: number): DeviceMemory => ({ device, weights_bytes: w * MiB, context_bytes: c * MiB, compute_bytes: k * MiB, budget_bytes: null })
  const settings = memorySettingsFrom(DEFAULT_THRESHOLDS)
  const split = memoryCheck({ status: 'fits', weights_bytes: 4300.5 * MiB, context_bytes: 448.5 * MiB, compute_bytes: 274.5 * MiB, devices: [d('CUDA0', 4000.5, 448.5, 258.5), d('Host', 300.5, 0, 16.5)] }, projected, 'header', settings)
  const off = memoryCheck({ status: 'fits', weights_bytes: 100.5 * MiB, context_bytes: 64.5 * 1.3 * MiB, compute_bytes: 79.5 * MiB }, [{ device: 'Host', weights_bytes: iv(100), context_bytes: iv(64), compute_bytes: iv(79), free_bytes: 16 * GiB }], 'file', settings)
  const models = base.models.map((m, i) => ({ ...m, memory: i === 0 ? split : off }))
  return applyGate({ ...base, models }, DEFAULT_THRESHOLDS)
}

describe('the memory gate in the report', () => {
  test('Markdown: per buffer with limits and the failed one marked, one row per model failing first, devices of a split model', () => {
    const report = withMemory()
    expect(report.gate.passed).toBe(false)
    const md = renderMarkdown(report)
    expect(md).toContain("### Memory against llama.cpp's projection\n\n2 of 2 models judged · 0 wrong fit verdicts (checked) · 0 projection errors")
    expect(md).toMatch(/\| context \| 14\.6 % ❌ \| 29\.2 % ❌ \| 1 % \/ 5 % \|/)
    const rows = md.split('\n').filter((l) => /^\| (❌|✅) \| org\//.test(l))
    expect(rows[0]).toBe('| ❌ | org/kv-off-GGUF:Q8\\_0 | 101 MiB / 100–101 MiB (±0.0 %) | 83.9 MiB / 64–65 MiB (+29.2 %) | 79.5 MiB / 79–80 MiB (±0.0 %) | fits / fits | off: context +29.2 % |')
    expect(rows[1]).toMatch(/^\| ✅ \| org\/split-GGUF:Q4\\_K\\_M \| 4\.20 GiB \/ 4\.20 GiB \(±0\.0 %\) \| /)
    expect(md).toContain('projection: CUDA0: weights 3.91 GiB / 3.91 GiB, context 449 MiB / 448–449 MiB, compute 259 MiB / 258–259 MiB of 24.0 GiB free; Host: weights 301 MiB')
  })

  test('HTML: the same section, the failing row marked', () => {
    const html = renderHtml(withMemory())
    expect(html).toContain("<h2>Memory against llama.cpp's projection</h2>")
    expect(html).toMatch(/<tr class="failing"><td><span class="mark bad">✗<\/span><\/td><td>org\/kv-off-GGUF:Q8_0<\/td>/)
  })

  test('`check --thresholds` re-judges stored memory checks with the limits it is given', () => {
    const loose = { ...DEFAULT_THRESHOLDS, memory: { ...DEFAULT_THRESHOLDS.memory!, context: { max_median_abs_error_pct: 40, max_abs_error_pct: 40 } } }
    const again = applyGate(withMemory(), loose)
    expect(again.models.map((m) => m.memory!.verdict)).toEqual(['match', 'match'])
    expect(again.gate.passed).toBe(true)
  })
})
