// The probe plan on the devices our users run: every model within llama.cpp's limits, every bandwidth model past
// the device's cache (CPU) or L2 (GPU), and the whole plan inside the probe's disk and time budget at that device's
// rates. The table holds each device's caches as its OS reports them and, where known, the knee a read sweep finds.
import { describe, expect, test } from '@jest/globals'
import { DECODE_TOKENS, PROBE_BENCH_REPS, PROBE_BUDGET_SEC, PROBE_ROUNDS } from '../../src/hardware/probe.js'
import {
  BW_CACHE_MULTIPLE,
  largestTensorBytes,
  LLAMA_MAX_LAYERS,
  modelBytes,
  planCost,
  PLAN_TIME_BUDGET_SEC,
  PROBE_MAX_LAYERS,
  PROBE_MAX_TENSOR_BYTES,
  PROBE_WEIGHT_TYPES,
  probePlan,
  type DeviceSize
} from '../../src/hardware/probe-models.js'

const MiB = 1024 ** 2
const GiB = 1024 ** 3
const GB = 1e9

interface Device extends DeviceSize {
  name: string
  cores: number
  /** What the bandwidth models stream at: memory (CPU) or VRAM (GPU), bytes/s (datasheets, or our sweeps). */
  streamBytesPerSec: number
}

// Host RAM and disk are those of typical machines of each kind; a GPU's free memory is its total less ~0.5 GB of
// driver, Metal's the recommended working set (~2/3 of unified memory up to 36 GB, ~3/4 above).
const DEVICES: Device[] = [
  { name: 'AMD EPYC VM, 32 MiB L3 (2 cores)', cacheBytes: 34 * MiB, cacheKneeBytes: 64 * MiB, gpuFreeBytes: null, ramAvailableBytes: 22 * GiB, diskFreeBytes: 80 * GB, cores: 2, streamBytesPerSec: 50 * GB },
  { name: 'Intel Xeon VM, 480 MiB L3 reported (2 cores)', cacheBytes: 128 * MiB, cacheKneeBytes: 128 * MiB, gpuFreeBytes: null, ramAvailableBytes: 22 * GiB, diskFreeBytes: 80 * GB, cores: 2, streamBytesPerSec: 24 * GB },
  { name: 'Intel Xeon VM, no sweep (480 MiB as reported)', cacheBytes: 482 * MiB, cacheKneeBytes: null, gpuFreeBytes: null, ramAvailableBytes: 22 * GiB, diskFreeBytes: 80 * GB, cores: 2, streamBytesPerSec: 24 * GB },
  { name: 'AMD Genoa-X, 1152 MiB L3 (96 cores)', cacheBytes: 1248 * MiB, cacheKneeBytes: null, gpuFreeBytes: null, ramAvailableBytes: 360 * GiB, diskFreeBytes: 500 * GB, cores: 96, streamBytesPerSec: 400 * GB },
  { name: 'a CPU whose caches pass 2 GiB (64 cores)', cacheBytes: 2 * GiB, cacheKneeBytes: null, gpuFreeBytes: null, ramAvailableBytes: 240 * GiB, diskFreeBytes: 200 * GB, cores: 64, streamBytesPerSec: 300 * GB },
  { name: 'unknown caches (2 cores)', cacheBytes: 0, gpuFreeBytes: null, ramAvailableBytes: 6 * GiB, diskFreeBytes: 20 * GB, cores: 2, streamBytesPerSec: 20 * GB },
  { name: 'GPU with 4 GB', cacheBytes: 16 * MiB, gpuFreeBytes: 3.5 * GB, ramAvailableBytes: 12 * GiB, diskFreeBytes: 40 * GB, cores: 4, streamBytesPerSec: 190 * GB },
  { name: 'RTX 3060, 12 GB', cacheBytes: 34 * MiB, gpuFreeBytes: 11.5 * GB, ramAvailableBytes: 28 * GiB, diskFreeBytes: 200 * GB, cores: 8, streamBytesPerSec: 360 * GB },
  { name: 'RTX 4090, 24 GB', cacheBytes: 66 * MiB, gpuFreeBytes: 23.5 * GB, ramAvailableBytes: 56 * GiB, diskFreeBytes: 500 * GB, cores: 16, streamBytesPerSec: 1008 * GB },
  { name: 'H100, 80 GB', cacheBytes: 100 * MiB, gpuFreeBytes: 79.5 * GB, ramAvailableBytes: 200 * GiB, diskFreeBytes: 500 * GB, cores: 16, streamBytesPerSec: 3350 * GB },
  { name: 'H200, 141 GB', cacheBytes: 100 * MiB, gpuFreeBytes: 140 * GB, ramAvailableBytes: 120 * GiB, diskFreeBytes: 60 * GB, cores: 16, streamBytesPerSec: 4800 * GB },
  { name: 'a 192 GB GPU', cacheBytes: 256 * MiB, gpuFreeBytes: 191 * GB, ramAvailableBytes: 1500 * GiB, diskFreeBytes: 2000 * GB, cores: 64, streamBytesPerSec: 8000 * GB },
  { name: 'M2 Pro, 32 GB unified (Metal)', cacheBytes: 36 * MiB, gpuFreeBytes: 21.3 * GB, ramAvailableBytes: 20 * GiB, diskFreeBytes: 100 * GB, cores: 10, streamBytesPerSec: 200 * GB },
  { name: 'M3 Max, 128 GB unified (Metal)', cacheBytes: 64 * MiB, gpuFreeBytes: 96 * GB, ramAvailableBytes: 100 * GiB, diskFreeBytes: 500 * GB, cores: 16, streamBytesPerSec: 400 * GB }
]


const schedule = { rounds: PROBE_ROUNDS, runsPerRound: PROBE_BENCH_REPS + 1, tokens: DECODE_TOKENS }
// On a CPU the probe knows its stream rate from the read sweep before it plans; on a GPU it does not.
const planFor = (d: Device) => probePlan({ ...d, streamBytesPerSec: d.gpuFreeBytes === null ? d.streamBytesPerSec : null }, { schedule })

describe.each(DEVICES)('the probe plan on $name', (d) => {
  const plan = planFor(d)

  test('no model passes llama.cpp\'s layer limit or our tensor limit', () => {
    for (const m of plan.models) {
      expect(m.source.layers).toBeLessThanOrEqual(PROBE_MAX_LAYERS)
      expect(m.source.layers).toBeLessThanOrEqual(LLAMA_MAX_LAYERS)
      const layers = m.pruneToLayers ?? m.source.layers
      expect(layers).toBeGreaterThanOrEqual(1)
      expect(layers).toBeLessThanOrEqual(m.source.layers)
      expect(largestTensorBytes(m.source)).toBeLessThanOrEqual(PROBE_MAX_TENSOR_BYTES)
      // K-quant rows are 256 wide.
      expect(m.source.embeddingLength % 256).toBe(0)
    }
  })

  test('every bandwidth model reaches the target, which is past the cache on a CPU', () => {
    const bandwidth = plan.models.filter((m) => /^bwn?-/.test(m.id))
    expect(bandwidth.length).toBe(2 * plan.bandwidthTypes.length)
    for (const m of bandwidth) expect(modelBytes(m)).toBeGreaterThanOrEqual(plan.bandwidthTargetBytes * 0.97)
    if (plan.targetReduced) {
      // Only a budget may cut the target, and the plan says which and from what.
      expect(plan.targetReduced.reason).toMatch(/budget|layer limit/)
      expect(plan.targetReduced.fromBytes).toBeGreaterThan(plan.bandwidthTargetBytes)
    } else if (d.gpuFreeBytes === null) {
      expect(plan.bandwidthTargetBytes).toBeGreaterThanOrEqual(BW_CACHE_MULTIPLE * Math.max(d.cacheBytes, d.cacheKneeBytes ?? 0))
    } else {
      // Several times any GPU's L2 (≤ 126 MB), and a small share of its memory.
      expect(plan.bandwidthTargetBytes).toBeGreaterThanOrEqual(256 * MiB)
      expect(plan.bandwidthTargetBytes).toBeLessThanOrEqual(Math.max(256 * MiB, d.gpuFreeBytes / 16))
    }
    // The wide model has a quarter of the narrow one's rows per byte.
    const wide = plan.models.find((m) => m.id === 'bw-F16')!
    const narrow = plan.models.find((m) => m.id === 'bwn-F16')!
    expect(wide.source.embeddingLength).toBe(4 * narrow.source.embeddingLength)
  })

  test('the plan fits the disk budget and the time budget at the device\'s rates', () => {
    const cost = planCost(plan, { cores: d.cores, streamBytesPerSec: d.streamBytesPerSec }, schedule)
    console.log(
      `${d.name}: target ${(plan.bandwidthTargetBytes / MiB).toFixed(0)} MiB, widths ${plan.models.find((m) => m.id === 'bw-F16')!.source.embeddingLength}/${plan.models.find((m) => m.id === 'bwn-F16')!.source.embeddingLength}, ` +
        `max layers ${Math.max(...plan.models.map((m) => m.source.layers))}, types ${plan.bandwidthTypes.length}, disk ${(cost.diskBytes / GiB).toFixed(1)} GiB, ` +
        `files ${cost.filesSec.toFixed(0)} s, bandwidth decode ${cost.bandwidthDecodeSec.toFixed(0)} s`
    )
    expect(cost.diskBytes).toBeLessThanOrEqual(plan.diskBudgetBytes)
    expect(cost.filesSec + cost.bandwidthDecodeSec).toBeLessThanOrEqual(PLAN_TIME_BUDGET_SEC)
    expect(PLAN_TIME_BUDGET_SEC).toBeLessThan(PROBE_BUDGET_SEC)
    // Every type is measured in every family but the bandwidth ones, where the disk decides; F16 and Q8_0 always.
    expect(plan.types).toEqual(PROBE_WEIGHT_TYPES)
    expect(plan.bandwidthTypes).toEqual(expect.arrayContaining(['F16', 'Q8_0']))
    expect(plan.omitted.map((o) => o.type).sort()).toEqual(PROBE_WEIGHT_TYPES.filter((t) => !plan.bandwidthTypes.includes(t)).sort())
  })
})

describe('the probe plan', () => {
  test('is deterministic and follows the measured cache, not the label', () => {
    const d = DEVICES[1]!
    expect(JSON.stringify(planFor(d))).toBe(JSON.stringify(planFor(d)))
    const labelled = planFor({ ...d, cacheBytes: 482 * MiB, cacheKneeBytes: null })
    expect(labelled.bandwidthTargetBytes).toBeGreaterThan(planFor(d).bandwidthTargetBytes)
    // Trusting the label costs types: the same 2-core machine cannot stream 8 types of ~1 GB models in the budget.
    expect(labelled.bandwidthTypes.length).toBeLessThan(planFor(d).bandwidthTypes.length)
    expect(labelled.targetReduced?.reason ?? labelled.omitted[0]!.reason).toMatch(/time budget/)
  })

  test('files made by an earlier probe cost no time: a cached plan keeps the types a first run had no time for', () => {
    const d = DEVICES[1]!
    const first = planFor(d)
    expect(first.bandwidthTypes.length).toBeLessThan(PROBE_WEIGHT_TYPES.length)
    const cached = probePlan({ ...d, streamBytesPerSec: d.streamBytesPerSec }, { schedule, made: () => true })
    expect(cached.bandwidthTypes).toEqual(PROBE_WEIGHT_TYPES)
    expect(planCost(cached, { cores: d.cores, streamBytesPerSec: d.streamBytesPerSec }, schedule, () => true).filesSec).toBe(0)
  })

  test('caches too large for the widest width cap the target at the layer limit, and the plan says so', () => {
    const plan = planFor({ ...DEVICES[4]!, cacheBytes: 8 * GiB, diskFreeBytes: 2000 * GB, ramAvailableBytes: 2000 * GiB })
    expect(plan.targetReduced?.reason).toMatch(/layer limit/)
    for (const m of plan.models) expect(m.source.layers).toBeLessThanOrEqual(PROBE_MAX_LAYERS)
  })

  test('a small disk leaves types out of the bandwidth families, in priority order, and says why', () => {
    const small = planFor({ ...DEVICES[1]!, diskFreeBytes: 6 * GB })
    expect(small.bandwidthTypes.length).toBeLessThan(PROBE_WEIGHT_TYPES.length)
    expect(small.bandwidthTypes.slice(0, 2)).toEqual(['F16', 'Q8_0'])
    expect(small.omitted[0]!.reason).toMatch(/disk budget/)
    expect(small.models.some((m) => m.id === `bw-${small.omitted[0]!.type}`)).toBe(false)
    // Prefill and the other families still cover every type.
    expect(small.models.filter((m) => m.id.startsWith('pf-')).length).toBe(PROBE_WEIGHT_TYPES.length)
  })
})
