// llama.cpp's memory projection read (bench/fit-params.ts, hardware/runtime-memory.ts), the estimate judged against
// it (compare/memory-projection.ts), and the memory gate (gate/memory.ts). The log excerpts are the pinned build's
// own lines (llama-fit-params --fit-print on -v, de3ff81 CPU).
import { describe, expect, test } from '@jest/globals'
import { breakdownRows, logComplete, parseFitPrint, projectionIntervals } from '../../src/bench/fit-params.js'
import { parseListDevices, repackedMiB } from '../../src/hardware/runtime-memory.js'
import { fitAgrees, memoryCheck, projectionErrors } from '../../src/compare/memory-projection.js'
import { gate } from '../../src/gate/gate.js'
import { DEFAULT_THRESHOLDS } from '../../src/gate/defaults.js'
import { limitLine } from '../../src/gate/thresholds.js'
import { memorySettingsFrom } from '../../src/gate/memory.js'
import { parseScenarioList } from '../../src/pipeline/config.js'
import type { ProjectedDevice } from '../../src/contracts/verdict.js'
import type { EstimatedMemory } from '../../src/contracts/prediction.js'
import type { ModelReport } from '../../src/contracts/report.js'
import { readFileSync } from 'node:fs'

const MiB = 1024 * 1024
const GiB = 1024 * MiB

const Q4K_LOG = `0.00.018.658 D load_tensors:          CPU model buffer size =     0.00 MiB
0.00.018.658 D load_tensors:   CPU_REPACK model buffer size =     0.00 MiB
0.00.018.927 D llama_kv_cache: size =   64.00 MiB (  4096 cells,   8 layers,  1/1 seqs), K (f16):   32.00 MiB, V (f16):   32.00 MiB
0.00.020.918 D sched_reserve:        CPU compute buffer size =    79.01 MiB
0.00.020.994 I common_memory_breakdown_print: | memory breakdown [MiB] | total   free    self   model   context   compute    unaccounted |
0.00.019.624 I common_memory_breakdown_print: |   - Host               |                  151 =     8 +      64 +      79                |
0.00.019.624 I common_memory_breakdown_print: |   - CPU_REPACK         |                   12 =    12 +       0 +       0                |
`

describe("llama.cpp's projection, read", () => {
  test('refined from the verbose log: repacked weights added to the host, compute and context to 0.01 MiB', () => {
    const [host] = projectionIntervals(parseFitPrint('Host 8 64 79 \n'), Q4K_LOG)
    // 8 MiB mapped + 12 MiB repacked, each floored: [20, 22) MiB; the file's 21.22 MiB tensors land inside.
    expect(host!.weights_bytes).toEqual([20 * MiB, 22 * MiB])
    expect(host!.context_bytes).toEqual([64 * MiB - MiB / 200, 64 * MiB + MiB / 200])
    expect(host!.compute_bytes).toEqual([79.01 * MiB - MiB / 200, 79.01 * MiB + MiB / 200])
  })

  test('hybrid context: the KV cache and the recurrent state add up; a log that disagrees with the print is ignored', () => {
    const log = `D llama_kv_cache: size =    4.00 MiB (  4096 cells,   2 layers,  1/1 seqs)
D llama_memory_recurrent: size =    2.06 MiB (     1 cells,   6 layers,  1 seqs  0 rs_seq)
D sched_reserve:        CPU compute buffer size =    300.00 MiB`
    const [host] = projectionIntervals(parseFitPrint('Host 37 6 77\n'), log)
    expect(host!.context_bytes[0]).toBeCloseTo(6.06 * MiB - MiB / 100, -1)
    // 300 MiB is not in [77, 78): the print stands.
    expect(host!.compute_bytes).toEqual([77 * MiB, 78 * MiB])
  })

  test('a GPU and the host: compute lines go to their device by name, CUDA_Host to the host', () => {
    const log = `D sched_reserve:      CUDA0 compute buffer size =   258.50 MiB
D sched_reserve:  CUDA_Host compute buffer size =    16.01 MiB`
    const [gpu, host] = projectionIntervals(parseFitPrint('CUDA0 4437 512 258\nHost 281 0 16\n'), log)
    expect(gpu!.compute_bytes[0]).toBeCloseTo(258.5 * MiB - MiB / 200)
    expect(host!.compute_bytes[0]).toBeCloseTo(16.01 * MiB - MiB / 200)
    expect(gpu!.weights_bytes).toEqual([4437 * MiB, 4438 * MiB])
  })

  test('the repack check reads the CPU_REPACK row of the breakdown; a log cut off before it says nothing', () => {
    expect(repackedMiB(Q4K_LOG)).toBe(12)
    expect(repackedMiB(Q4K_LOG.replace(/.*CPU_REPACK.*\n/g, ''))).toBe(0)
    expect(repackedMiB(Q4K_LOG.replace(/.*common_memory_breakdown_print.*\n/g, ''))).toBeNull()
  })

  test("the JSON log's last record is the breakdown: read from it, and a log without it is not complete", () => {
    const jsonl = [
      '{"type":"log","time":8,"level":"debug","msg":"sched_reserve:        CPU compute buffer size =    79.01 MiB\\n"}',
      '{"type":"log","time":9,"level":"info","msg":"common_memory_breakdown_print: |   - Host               |                  151 =     8 +      64 +      79                |\\n"}',
      '{"type":"fit_memory_breakdown","data":{"unit":"MiB","rows":[{"kind":"host","name":"Host","self":151,"model":8,"context":64,"compute":79},{"kind":"buffer_type","name":"CPU_REPACK","self":12,"model":12,"context":0,"compute":0}]}}',
      'Host 8 64 79 '
    ].join('\n')
    expect(breakdownRows(jsonl)).toEqual([{ name: 'Host', model: 8, context: 64, compute: 79 }, { name: 'CPU_REPACK', model: 12, context: 0, compute: 0 }])
    const [host] = projectionIntervals(parseFitPrint(jsonl), jsonl)
    expect(host!.weights_bytes).toEqual([20 * MiB, 22 * MiB])
    expect(host!.compute_bytes[0]).toBeCloseTo(79.01 * MiB - MiB / 200)
    // Cut off after the table's first row: without the record the rows seen are not the whole table.
    expect(logComplete(jsonl.split('\n').slice(0, 2).join('\n'))).toBe(false)
    expect(logComplete(jsonl)).toBe(true)
  })

  test("llama.cpp's device list: names, totals and free memory; a CPU build lists none", () => {
    expect(parseListDevices('Available devices:\n  CUDA0: NVIDIA H200 (143771 MiB, 143000 MiB free)\n  CUDA1: NVIDIA H200 (143771 MiB, 120 MiB free)\n')).toEqual([
      { name: 'CUDA0', description: 'NVIDIA H200', total_bytes: 143771 * MiB, free_bytes: 143000 * MiB },
      { name: 'CUDA1', description: 'NVIDIA H200', total_bytes: 143771 * MiB, free_bytes: 120 * MiB }
    ])
    expect(parseListDevices('Available devices:\n  (none)\n')).toEqual([])
    expect(parseListDevices('error: unknown argument')).toBeNull()
  })
})

const proj = (device: string, w: [number, number], c: [number, number], k: [number, number], free: number | null): ProjectedDevice => ({
  device, weights_bytes: w, context_bytes: c, compute_bytes: k, free_bytes: free
})
const est = (status: EstimatedMemory['status'], w: number, c: number, k: number, devices?: EstimatedMemory['devices']): EstimatedMemory => ({
  status, weights_bytes: w, context_bytes: c, compute_bytes: k, ...(devices ? { devices } : {})
})

describe('the estimate against the projection', () => {
  const host = proj('Host', [100 * MiB, 101 * MiB], [64 * MiB, 65 * MiB], [79 * MiB, 80 * MiB], 16 * GiB)

  test('inside the interval is no error; outside, the distance to its nearer end, signed', () => {
    expect(projectionErrors(est('fits', 100.5 * MiB, 64 * MiB, 79.9 * MiB), [host])).toEqual({ weights: 0, context: 0, compute: 0 })
    // 20 % off in the KV: 64.5 × 1.2 = 77.4 MiB, 12.4 MiB above 65 → +19.2 % of the 64.5 MiB midpoint.
    expect(projectionErrors(est('fits', 100.5 * MiB, 77.4 * MiB, 79.5 * MiB), [host]).context).toBeCloseTo(19.2, 1)
    expect(projectionErrors(est('fits', 90 * MiB, 64.5 * MiB, 79.5 * MiB), [host]).weights).toBeCloseTo(-9.95, 0)
  })

  test('memory on the wrong device is error even when the totals agree', () => {
    const gpu = proj('CUDA0', [900 * MiB, 901 * MiB], [64 * MiB, 65 * MiB], [300 * MiB, 301 * MiB], 24 * GiB)
    const cpu = proj('Host', [100 * MiB, 101 * MiB], [0, MiB], [16 * MiB, 17 * MiB], 64 * GiB)
    const d = (device: string, w: number, c: number, k: number) => ({ device, weights_bytes: w, context_bytes: c, compute_bytes: k, budget_bytes: null })
    const right = est('fits', 1000.5 * MiB, 64.5 * MiB, 316.5 * MiB, [d('CUDA0', 900.5 * MiB, 64.5 * MiB, 300.5 * MiB), d('Host', 100.5 * MiB, 0, 16.5 * MiB)])
    expect(projectionErrors(right, [gpu, cpu]).weights).toBe(0)
    // 100 MiB of weights put on the host instead of the GPU: the totals agree, 200 MiB are misplaced (+ sign: the sum).
    const wrong = est('fits', 1000.5 * MiB, 64.5 * MiB, 316.5 * MiB, [d('CUDA0', 800.5 * MiB, 64.5 * MiB, 300.5 * MiB), d('Host', 200.5 * MiB, 0, 16.5 * MiB)])
    expect(Math.abs(projectionErrors(wrong, [gpu, cpu]).weights!)).toBeCloseTo((100 * (99.5 + 99.5)) / 1001, 0)
  })

  test('the fit verdict: wrong when llama.cpp fits with room to spare, or does not fit at all; the zone between stands', () => {
    const tight = (free: number) => [proj('Host', [8 * GiB, 8 * GiB], [GiB, GiB], [GiB, GiB], free)]
    expect(fitAgrees('does-not-fit', tight(20 * GiB), 0.1)).toBe(false)
    expect(fitAgrees('fits', tight(20 * GiB), 0.1)).toBe(true)
    expect(fitAgrees('fits', tight(9 * GiB), 0.1)).toBe(false)
    expect(fitAgrees('does-not-fit', tight(9 * GiB), 0.1)).toBe(true)
    // 12 GiB free: 10 GiB fits within the 10 % margin (10.8 GiB) but not with the 1 GiB llama.cpp's own --fit keeps
    // free besides: both answers stand, as at 10.5 GiB.
    for (const free of [10.5, 12]) {
      expect(fitAgrees('does-not-fit', tight(free * GiB), 0.1)).toBe(true)
      expect(fitAgrees('fits-with-warning', tight(free * GiB), 0.1)).toBe(true)
    }
    expect(fitAgrees('does-not-fit', tight(12.3 * GiB), 0.1)).toBe(false)
    expect(fitAgrees('fits', [proj('Host', [GiB, GiB], [0, 0], [0, 0], null)], 0.1)).toBeNull()
  })
})

function modelWith(ref: string, e: EstimatedMemory | null, projected: ProjectedDevice[]): ModelReport {
  return { ref, path: '', profile: null, fit: null, error: null, scenarios: [], memory: memoryCheck(e, projected, 'header', memorySettingsFrom(DEFAULT_THRESHOLDS)) }
}

describe('the memory gate', () => {
  const host = proj('Host', [100 * MiB, 101 * MiB], [64 * MiB, 65 * MiB], [79 * MiB, 80 * MiB], 16 * GiB)
  const good = (ref: string) => modelWith(ref, est('fits', 100.5 * MiB, 64.5 * MiB, 79.5 * MiB), [host])

  test('an estimator 20 % off in KV fails on every model, naming the buffer, the model and the limit', () => {
    const off = ['a', 'b', 'c'].map((ref) => modelWith(ref, est('fits', 100.5 * MiB, 64.5 * 1.2 * MiB, 79.5 * MiB), [host]))
    expect(off.map((m) => m.memory!.verdict)).toEqual(['off', 'off', 'off'])
    const { result, memorySummary } = gate(off, DEFAULT_THRESHOLDS)
    expect(result.passed).toBe(false)
    expect(result.failures.map((f) => [f.scenario, f.model, f.limit])).toEqual([
      ['memory', null, 'context.max_median_abs_error_pct'],
      ['memory', 'a', 'context.max_abs_error_pct'],
      ['memory', 'b', 'context.max_abs_error_pct'],
      ['memory', 'c', 'context.max_abs_error_pct']
    ])
    expect(result.failures[1]!.message).toMatch(/^memory context: a \+19\.\d % against llama\.cpp's projection > 5 % limit$/)
    expect(memorySummary!.buffers.context.median_abs_error_pct).toBeCloseTo(19.2, 1)
    expect(gate([good('a'), good('b')], DEFAULT_THRESHOLDS).result.passed).toBe(true)
  })

  test('a wrong fit verdict fails its model; a failed projection is a runtime error; a model without an estimate is skipped', () => {
    const wrong = modelWith('big', est('does-not-fit', 100.5 * MiB, 64.5 * MiB, 79.5 * MiB), [host])
    expect(wrong.memory!.verdict).toBe('wrong-fit')
    const broken: ModelReport = { ...good('broken'), memory: { ...good('x').memory!, verdict: 'runtime-error', reason: 'llama-fit-params: failed to load model' } }
    const none = modelWith('none', null, [host])
    expect(none.memory!.verdict).toBe('skipped')
    const { result, memorySummary } = gate([good('a'), wrong, broken, none], DEFAULT_THRESHOLDS)
    expect(result.failures.map((f) => f.limit)).toEqual(['max_runtime_errors', 'check_fit'])
    expect(result.failures[0]!.message).toContain('broken memory: llama-fit-params: failed to load model')
    expect(memorySummary).toMatchObject({ samples: 4, gated: 2, runtime_errors: 1, wrong_fit: 1 })
  })

  test('without a memory section memory is reported, not gated, and does not count toward min_models', () => {
    const { memory: _m, ...noMemory } = DEFAULT_THRESHOLDS
    const off = modelWith('a', est('fits', 100.5 * MiB, 64.5 * 1.2 * MiB, 79.5 * MiB), [host])
    const { result } = gate([off], noMemory)
    expect(result.failures.map((f) => f.limit)).toEqual(['min_models'])
  })

  test("a memory failure's annotation points at its limit's line in thresholds.yml", () => {
    const text = readFileSync('thresholds.yml', 'utf8')
    const line = limitLine(text, { scenario: 'memory', limit: 'context.max_abs_error_pct' })
    expect(text.split('\n')[line! - 1]).toMatch(/^\s+max_abs_error_pct: 5$/)
    expect(text.split('\n')[limitLine(text, { scenario: 'memory', limit: 'check_fit' })! - 1]).toMatch(/check_fit: true/)
  })

  test('`memory` alone is the memory-only run; mixed with scenarios it is refused', () => {
    expect(parseScenarioList('memory', '--scenarios')).toEqual([])
    expect(() => parseScenarioList('prefill,memory', '--scenarios')).toThrow(/--scenarios: memory: memory runs alone/)
  })
})
