// Named workloads: the thresholds file's workloads: section, checked with its lines; each workload built from the
// defaults, its keys and the run's flags; each gated on its own rows with its own limits; the report groups by it.
import { describe, expect, test } from '@jest/globals'
import { parseThresholds } from '../../src/gate/thresholds.js'
import { resolveWorkloads, thresholdsFor } from '../../src/gate/workloads.js'
import { applyGate } from '../../src/gate/apply.js'
import { DEFAULT_SCENARIOS } from '../../src/contracts/scenarios.js'
import { sizedWindows, defaultWorkload, MAX_WINDOW_SCALE, AUTO_GPU_LAYERS, llamaWorkloadFlags } from '../../src/bench/workload.js'
import { parseFittedLayers } from '../../src/bench/fit-params.js'
import { parseWorkloadSettings } from '../../src/pipeline/config.js'
import { makeReport } from '../helpers/report-fixture.js'
import { renderMarkdown, renderHtml } from '../../src/report/index.js'
import { validate } from '../../src/pipeline/validate.js'
import { recordedParams } from '../helpers/recorded-run.js'
import { rowLabel, type Report } from '../../src/contracts/report.js'
import { aggregateReports } from '../../src/gate/aggregate.js'

const BASE = `tolerance_pct: 10
max_spread_pct: 10
min_models: 1
max_runtime_errors: 0
scenarios:
  steady_decode:
    max_median_abs_error_pct: 10
    max_abs_error_pct: 20
    max_noisy: 1
`
const WORKLOADS = `${BASE}workloads:
  default: {}
  long:
    context_tokens: 16384
    kv_type: q8_0
    flash_attention: true
    decode_depth: 8192
    parallel_slots: 4
    scenarios: [steady_decode, parallel_decode]
    thresholds:
      tolerance_pct: 25
      scenarios:
        steady_decode:
          max_median_abs_error_pct: 40
          max_abs_error_pct: 50
          max_noisy: 2
`

const errorOf = (text: string): Error => {
  try {
    parseThresholds(text, 'thresholds.yml')
  } catch (err) {
    return err as Error
  }
  throw new Error('no error')
}

describe('the workloads: section of thresholds.yml', () => {
  test('builds each named workload from the defaults and its keys, the flags over both, in the file order', () => {
    const t = parseThresholds(WORKLOADS, 'thresholds.yml')
    const wl = resolveWorkloads(t, { threads: 3 }, { scenarios: [...DEFAULT_SCENARIOS], scenariosGiven: false, source: '--workload', base: { threads: 2 } })
    expect(wl.map((w) => w.name)).toEqual(['default', 'long'])
    expect(wl[0]!.workload).toEqual(defaultWorkload({ threads: 3 }))
    expect(wl[1]!.workload).toMatchObject({ context_tokens: 16384, kv_type: 'q8_0', flash_attention: true, decode_depth: 8192, threads: 3, decode_tokens: 64 })
    expect(wl[0]!.scenarios).toEqual([...DEFAULT_SCENARIOS])
    expect(wl[1]!.scenarios).toEqual(['steady_decode', 'parallel_decode'])
    // Given scenarios win over a workload's own list.
    expect(resolveWorkloads(t, {}, { scenarios: ['prefill'], scenariosGiven: true, source: 's' })[1]!.scenarios).toEqual(['prefill'])
    expect(resolveWorkloads(t, {}, { select: ['long'], scenarios: [], scenariosGiven: false, source: 's' }).map((w) => w.name)).toEqual(['long'])
  })

  test("a workload's limits replace the file's scenario by scenario; the others stay", () => {
    const t = parseThresholds(WORKLOADS, 'thresholds.yml')
    expect(thresholdsFor(t, 'long').tolerance_pct).toBe(25)
    expect(thresholdsFor(t, 'long').scenarios.steady_decode?.max_abs_error_pct).toBe(50)
    expect(thresholdsFor(t, 'default')).toBe(t)
    expect(thresholdsFor(t, 'long').max_spread_pct).toBe(10)
  })

  test('a workload llama.cpp cannot run is refused with its key and line', () => {
    expect(errorOf(WORKLOADS.replace('    flash_attention: true\n', '')).message).toBe(
      'thresholds.yml: workloads.long.kv_type (line 14): a quantized KV cache (q8_0) needs flash attention on (llama.cpp refuses it without)'
    )
    expect(errorOf(WORKLOADS.replace('decode_depth: 8192', 'decode_depth: 16380')).message).toMatch(/^thresholds.yml: workloads.long.decode_depth \(line 16\): needs 16444 tokens of context/)
  })

  test('an unknown key, a bad type or a bad name names the key and its line', () => {
    expect(errorOf(WORKLOADS.replace('    parallel_slots: 4', '    parallel: 4')).message).toMatch(/^thresholds.yml: workloads.long.parallel \(line 17\): unknown key "parallel"; valid keys here: context_tokens, /)
    expect(errorOf(WORKLOADS.replace('context_tokens: 16384', 'context_tokens: lots')).message).toBe('thresholds.yml: workloads.long.context_tokens (line 13): must be integer, got string "lots"')
    expect(errorOf(WORKLOADS.replace('  long:', '  "long one":')).message).toMatch(/^thresholds.yml: workloads\.("long one"|\["long one"\]|long one) \(line 12\): workload name "long one" must be/)
    expect(errorOf(WORKLOADS.replace('        steady_decode:\n          max_median', '        decode:\n          max_median')).message).toMatch(/unknown scenario "decode"/)
  })

  test('picking a workload the file does not have names the ones it has', () => {
    const t = parseThresholds(WORKLOADS, 'thresholds.yml')
    expect(() => resolveWorkloads(t, {}, { select: ['short'], scenarios: [], scenariosGiven: false, source: '--workload' })).toThrow('--workload: short: no workload "short" in the thresholds file (it has default, long)')
  })
})

/** A report of two workloads, the same model in both, 30 % off in steady decode. */
function twoWorkloads(): Report {
  const t = parseThresholds(WORKLOADS, 'thresholds.yml')
  const rows = (ref: string) => makeReport([{ ref, rows: [{ scenario: 'steady_decode', predicted: 100, observed: 70 }] }], { thresholds: t })
  const a = rows('m')
  const b = rows('m')
  const report: Report = {
    ...a,
    workloads: [
      { name: 'default', workload: defaultWorkload({ threads: 2 }), scenarios: ['steady_decode'] },
      { name: 'long', workload: defaultWorkload({ threads: 2, context_tokens: 16384, kv_type: 'q8_0', flash_attention: true }), scenarios: ['steady_decode'] }
    ],
    models: [...a.models.map((m) => ({ ...m, workload: 'default' })), ...b.models.map((m) => ({ ...m, workload: 'long' }))]
  }
  return applyGate(report, t)
}

describe('gating named workloads', () => {
  test('each workload is judged with its own limits; its failures name it; the rows are named by workload', () => {
    const r = twoWorkloads()
    const verdicts = r.models.map((m) => [m.workload, m.scenarios[0]!.verdict])
    // 30 % off: beyond both tolerances (10 %, 25 %), so both rows miss; only default's limits (median 10 %, single
    // row 20 %) fail, long's are 40 % / 50 %.
    expect(verdicts).toEqual([['default', 'slower-than-fit'], ['long', 'slower-than-fit']])
    expect(r.gate.failures.map((f) => [f.workload, f.limit, f.model])).toEqual([
      ['default', 'max_median_abs_error_pct', null],
      ['default', 'max_abs_error_pct', 'm · default']
    ])
    expect(r.gate.failures[1]!.message).toMatch(/^\[default\] steady_decode: m · default \|error\| 30.0 % > 20 % limit/)
    expect(r.workload_summaries?.long?.summary.steady_decode?.median_abs_error_pct).toBe(30)
    expect(r.gate.passed).toBe(false)
  })

  test('the summary and the HTML group by workload, each with its description and limits', () => {
    const r = twoWorkloads()
    const md = renderMarkdown(r)
    expect(md).toContain('**Workload `default`**: context 4096, KV f16, flash attention off')
    expect(md).toContain('**Workload `long`**: context 16384, KV q8\\_0, flash attention on')
    expect(md).toMatch(/\| steady_decode \| tok\/s \| 1 \| 1 \| 0 \| 0 \| 30.0 % ❌ \| 30.0 % ❌ \| 10 % \/ 20 % \/ 1 \|/)
    expect(md).toMatch(/\| steady_decode \| tok\/s \| 1 \| 1 \| 0 \| 0 \| 30.0 % \| 30.0 % \| 40 % \/ 50 % \/ 2 \|/)
    expect(md).toContain('m · long')
    const html = renderHtml(r)
    expect(html).toContain('<h3>Workload <code>long</code></h3>')
    expect(html).toContain('steady_decode · long')
    expect(html.match(/id="plot-steady_decode-long"/g)).toHaveLength(1)
  })
})

test('check over a report of named workloads gates each workload again, and aggregating it keeps a model once per workload', () => {
  const r = twoWorkloads()
  const t = parseThresholds(WORKLOADS.replace('max_abs_error_pct: 20', 'max_abs_error_pct: 35').replace('max_median_abs_error_pct: 10', 'max_median_abs_error_pct: 35'), 'thresholds.yml')
  expect(applyGate(r, t).gate.passed).toBe(true)
  const merged = aggregateReports([r])
  expect(merged.models.map((m) => rowLabel(m))).toEqual(['m · default', 'm · long'])
  expect(merged.gate.failures.map((f) => f.workload)).toEqual(['default', 'default'])
})

describe('timed windows sized to the device', () => {
  const w = defaultWorkload({ threads: 2 })
  test('decode windows grow to last the asked seconds at the predicted rate, never shrink, bounded by 8× and the context', () => {
    expect(sizedWindows(w, { steady_decode: 300, kv_warm_reuse: 40, parallel_decode: 400 }, 1)).toEqual({ decode_tokens: 300, warm_decode_tokens: 40, parallel_decode_tokens: 100 })
    expect(sizedWindows(w, { steady_decode: 5000 }, 1)).toEqual({ decode_tokens: 64 * MAX_WINDOW_SCALE })
    expect(sizedWindows({ ...w, decode_depth: 3900 }, { steady_decode: 5000 }, 1)).toEqual({ decode_tokens: 4096 - 3900 })
    expect(sizedWindows(w, { steady_decode: 5000 }, 0)).toEqual({})
  })

  test('validate runs and predicts each model with its own sized counts, and records them', async () => {
    const seen: number[] = []
    const p = recordedParams({ minWindowS: 1, scenarios: ['steady_decode'] })
    const runScenarios = p.runScenarios
    const report = await validate({ ...p, runScenarios: async (m, s, wl) => (seen.push(wl.decode_tokens), runScenarios(m, s, wl)) })
    expect(report.models.length).toBeGreaterThan(0)
    for (const [i, m] of report.models.entries()) {
      const row = m.scenarios[0]!
      const tokens = m.windows?.decode_tokens ?? 64
      expect(seen[i]).toBe(tokens)
      // The window lasts about a second at the rate predicted for the counts it runs (the depth it reaches moves the
      // rate a little), or the count hit its bound.
      const seconds = tokens / (row.predicted as number)
      expect(tokens === 64 * MAX_WINDOW_SCALE || (seconds > 0.9 && seconds < 1.1)).toBe(true)
      expect(row.detail.predicted_breakdown).toBeDefined()
    }
    // The report says what each model ran with.
    const sized = report.models.find((m) => m.windows?.decode_tokens)
    expect(sized).toBeDefined()
    expect(renderMarkdown(report)).toContain(`ran with decode\\_tokens ${sized!.windows!.decode_tokens} (timed windows sized to the predicted rate)`)
  })
})

describe('gpu_layers auto', () => {
  test('the file and the flags take auto; llama.cpp runs none of it unresolved', () => {
    const t = parseThresholds(WORKLOADS.replace('    parallel_slots: 4\n', '    parallel_slots: 4\n    gpu_layers: auto\n'), 'thresholds.yml')
    const wl = resolveWorkloads(t, {}, { scenarios: [...DEFAULT_SCENARIOS], scenariosGiven: false, source: 's' })
    expect(wl[1]!.workload.gpu_layers).toBe(AUTO_GPU_LAYERS)
    expect(parseWorkloadSettings((n) => (n === 'gpu-layers' ? 'auto' : undefined), (n) => `--${n}`, 'flag')).toEqual({ gpu_layers: AUTO_GPU_LAYERS })
    expect(() => parseWorkloadSettings((n) => (n === 'gpu-layers' ? 'most' : undefined), (n) => `--${n}`, 'flag')).toThrow('--gpu-layers: expected a whole number ≥ 0 or auto, got "most"')
    expect(() => llamaWorkloadFlags(wl[1]!.workload)).toThrow(/resolved per model/)
  })

  test("llama-fit-params' fitted arguments give the layer count; a fit that also moves tensors is refused", () => {
    expect(parseFittedLayers('-c 4096 -ngl 33\n')).toBe(33)
    expect(() => parseFittedLayers('-c 4096 -ngl 20 -ot "blk\\.1\\.ffn=CPU"\n')).toThrow(/also places tensors/)
    expect(() => parseFittedLayers('nothing\n')).toThrow(/no fitted arguments/)
  })

  test('each model is predicted, projected and run with the count its fit gave, recorded in its report; a failed fit costs that model only', async () => {
    const p = recordedParams({ scenarios: ['steady_decode'] })
    const seen = new Map<string, number>()
    const refs = p.models.map((m) => m.ref)
    const report = await validate({
      ...p,
      workload: { ...p.workload, gpu_layers: AUTO_GPU_LAYERS },
      resolveGpuLayers: async (m) => {
        if (m.ref === refs[1]) throw new Error('llama-fit-params exited with code 1')
        return 7
      },
      runScenarios: async (m, s, wl) => (seen.set(m.ref, wl.gpu_layers), p.runScenarios(m, s, wl))
    })
    expect(report.models[0]!.gpu_layers).toBe(7)
    expect(seen.get(refs[0]!)).toBe(7)
    expect(seen.has(refs[1]!)).toBe(false)
    expect(report.models[1]!.scenarios[0]!.verdict).toBe('runtime-error')
    expect(report.models[1]!.error).toBe('offload: gpu_layers auto: llama-fit-params exited with code 1')
  })
})
