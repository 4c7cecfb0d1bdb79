import { describe, expect, test } from '@jest/globals'
import { detectGpus, parseNvidiaSmiCsv, parseRocmSmiJson, parseSystemProfilerJson } from '../../src/hardware/gpu.js'
import { parseCacheSize, parseCpuinfoModel, parseCpuList, parseLscpuCaches, parseMeminfo, parseSysctlCaches, parseVmStat, summarizeCaches, type CpuCache } from '../../src/hardware/system.js'
import { cacheKnee, effectiveCacheBytes, memreadBytes, parseCeilingOutput, stableKnee, sweepSizes, MEMREAD_CACHE_MULTIPLE, MEMREAD_MIN_BYTES } from '../../src/hardware/ceilings.js'
import { deviceFingerprint, type FingerprintInput } from '../../src/hardware/fingerprint.js'
import { bandwidthTargetBytes, BW_CACHE_MULTIPLE, BW_GPU_MAX_BYTES, probePlan } from '../../src/hardware/probe-models.js'
import { leastSquares, makeFact, nonNegativeLeastSquares } from '../../src/hardware/facts.js'

const MiB = 1024 * 1024

describe('GPU tool output', () => {
  test('nvidia-smi CSV: one GPU per line, MiB → bytes, [N/A] → null', () => {
    const text = 'NVIDIA GeForce RTX 5080, 16303, 15741, 575.51.02, 12.0\nTesla T4, 15360, 14930, 535.104.05, [N/A]\n'
    expect(parseNvidiaSmiCsv(text)).toEqual([
      { name: 'NVIDIA GeForce RTX 5080', memory_total_bytes: 16303 * MiB, memory_free_bytes: 15741 * MiB, driver: '575.51.02', compute_capability: '12.0' },
      { name: 'Tesla T4', memory_total_bytes: 15360 * MiB, memory_free_bytes: 14930 * MiB, driver: '535.104.05', compute_capability: null }
    ])
    expect(parseNvidiaSmiCsv('')).toEqual([])
  })

  test('rocm-smi JSON: cards, VRAM in bytes, the system driver', () => {
    const text = JSON.stringify({
      card0: { 'Card Series': 'AMD Instinct MI210', 'VRAM Total Memory (B)': '68702699520', 'VRAM Total Used Memory (B)': '10485760', 'GFX Version': 'gfx90a' },
      system: { 'Driver version': '6.7.0' }
    })
    expect(parseRocmSmiJson(text)).toEqual([
      { name: 'AMD Instinct MI210', memory_total_bytes: 68702699520, memory_free_bytes: 68702699520 - 10485760, driver: '6.7.0', compute_capability: 'gfx90a' }
    ])
    expect(parseRocmSmiJson('not json')).toEqual([])
  })

  test('system_profiler JSON: Apple silicon has no VRAM of its own', () => {
    const text = JSON.stringify({ SPDisplaysDataType: [{ _name: 'Apple M1 Ultra', sppci_model: 'Apple M1 Ultra', sppci_cores: '64', spdisplays_mtlgpufamilysupport: 'spdisplays_metal3' }] })
    expect(parseSystemProfilerJson(text)).toEqual([{ name: 'Apple M1 Ultra', memory_total_bytes: null, memory_free_bytes: null, driver: null, compute_capability: null }])
    const intel = JSON.stringify({ SPDisplaysDataType: [{ sppci_model: 'AMD Radeon Pro 5500M', spdisplays_vram: '8 GB' }] })
    expect(parseSystemProfilerJson(intel)[0]?.memory_total_bytes).toBe(8 * 1024 ** 3)
  })

  test('no vendor tool → no GPUs', async () => {
    expect(await detectGpus(async () => null, 'linux')).toEqual([])
    const calls: string[] = []
    await detectGpus(async (f) => (calls.push(f), null), 'darwin')
    expect(calls).toEqual(['nvidia-smi', 'rocm-smi', 'system_profiler'])
  })
})

describe('system facts', () => {
  test('meminfo, cpuinfo, sizes and CPU lists', () => {
    expect(parseMeminfo('MemTotal:       24684084 kB\nMemFree:        21498280 kB\nMemAvailable:   23823508 kB\n')).toEqual({
      totalBytes: 24684084 * 1024,
      availableBytes: 23823508 * 1024
    })
    expect(parseMeminfo('garbage')).toBeNull()
    expect(parseCpuinfoModel('processor\t: 0\nmodel name\t: AMD EPYC\n')).toBe('AMD EPYC')
    expect(parseCacheSize('32768K')).toBe(32 * MiB)
    expect(parseCacheSize('2M')).toBe(2 * MiB)
    expect(parseCacheSize('n/a')).toBeNull()
    expect(parseCpuList('0-3,8,10-11')).toEqual([0, 1, 2, 3, 8, 10, 11])
  })

  test('caches: shared instances count once, instruction caches not at all', () => {
    const perCpu = (cpu: number): CpuCache[] => [
      { level: 1, type: 'Data', sizeBytes: 32 * 1024, sharedCpuList: String(cpu) },
      { level: 1, type: 'Instruction', sizeBytes: 32 * 1024, sharedCpuList: String(cpu) },
      { level: 2, type: 'Unified', sizeBytes: 1024 * 1024, sharedCpuList: String(cpu) },
      { level: 3, type: 'Unified', sizeBytes: 32 * MiB, sharedCpuList: '0-1' }
    ]
    expect(summarizeCaches([...perCpu(0), ...perCpu(1)])).toEqual({ lastLevel: 3, lastLevelBytes: 32 * MiB, totalBytes: 32 * MiB + 2 * MiB + 64 * 1024 })
  })

  test('lscpu totals as a fallback', () => {
    const text = 'L1d cache:                               64 KiB (2 instances)\nL1i cache:                               64 KiB (2 instances)\nL2 cache:                                2 MiB (2 instances)\nL3 cache:                                32 MiB (1 instance)\n'
    expect(parseLscpuCaches(text)).toEqual({ lastLevel: 3, lastLevelBytes: 32 * MiB, totalBytes: 34 * MiB + 64 * 1024 })
  })
})

describe('macOS system facts (a Metal runner has no /proc, sysfs or lscpu)', () => {
  test('available memory is free + inactive + speculative pages, not os.freemem()\'s free pages alone', () => {
    const vmStat = [
      'Mach Virtual Memory Statistics: (page size of 16384 bytes)',
      'Pages free:                               12000.',
      'Pages active:                            600000.',
      'Pages inactive:                          500000.',
      'Pages speculative:                        20000.',
      'Pages throttled:                              0.',
      'Pages wired down:                        150000.',
      'Pages purgeable:                          30000.',
      '"Translation faults":                 123456789.',
      ''
    ].join('\n')
    expect(parseVmStat(vmStat)).toBe((12000 + 500000 + 20000) * 16384)
    expect(parseVmStat('Pages free: 12.')).toBeNull()
    expect(parseVmStat('garbage')).toBeNull()
  })

  test('Apple silicon caches: L1d per core and L2 per cluster, for every perflevel', () => {
    // An M2 Pro's sysctl hw (excerpt): 8 performance cores (two clusters of 4) and 4 efficiency cores (one cluster).
    const text = [
      'hw.nperflevels: 2',
      'hw.physicalcpu: 12',
      'hw.perflevel0.physicalcpu: 8',
      'hw.perflevel0.l1dcachesize: 131072',
      'hw.perflevel0.l2cachesize: 16777216',
      'hw.perflevel0.cpusperl2: 4',
      'hw.perflevel0.name: Performance',
      'hw.perflevel1.physicalcpu: 4',
      'hw.perflevel1.l1dcachesize: 65536',
      'hw.perflevel1.l2cachesize: 4194304',
      'hw.perflevel1.cpusperl2: 4',
      'hw.l2cachesize: 4194304'
    ].join('\n')
    expect(parseSysctlCaches(text)).toEqual({ lastLevel: 2, lastLevelBytes: 2 * 16 * MiB + 4 * MiB, totalBytes: 2 * 16 * MiB + 4 * MiB + 8 * 128 * 1024 + 4 * 64 * 1024 })
  })

  test('Intel Mac caches: L1d and L2 per core, one shared L3', () => {
    const text = 'hw.physicalcpu: 4\nhw.l1dcachesize: 32768\nhw.l2cachesize: 262144\nhw.l3cachesize: 8388608\n'
    expect(parseSysctlCaches(text)).toEqual({ lastLevel: 3, lastLevelBytes: 8 * MiB, totalBytes: 8 * MiB + 4 * 256 * 1024 + 4 * 32 * 1024 })
    expect(parseSysctlCaches('nothing here')).toEqual({ lastLevel: 0, lastLevelBytes: 0, totalBytes: 0 })
  })
})

describe('ceilings', () => {
  test('the C program output becomes rates: the fastest trial per swept size, every read pass, every FLOPS pass', () => {
    const r = parseCeilingOutput(
      'sweep 1048576 0.001 104857600\nsweep 1048576 0.002 104857600\nsweep 2097152 0.004 104857600\n' +
        'read 0.010000 400000000\nread 0.020000 400000000\nflops 0.5 1e11\njunk\n'
    )
    expect(r.sweep).toEqual([
      { bytes: 1048576, read_bytes_per_sec: 1.04858e11 }, // six significant digits, as every stored fact
      { bytes: 2097152, read_bytes_per_sec: 2.62144e10 }
    ])
    expect(r.readBytesPerSec).toEqual([4e10, 2e10])
    expect(r.flopsPerSec).toEqual([2e11])
  })

  test('the memory-rate buffer is several times the reported caches, within RAM; the sweep climbs to it by √2', () => {
    expect(memreadBytes(34 * MiB, 16 * 1024 ** 3)).toBe(Math.max(MEMREAD_MIN_BYTES, MEMREAD_CACHE_MULTIPLE * 34 * MiB))
    expect(memreadBytes(480 * MiB, 16 * 1024 ** 3)).toBe(MEMREAD_CACHE_MULTIPLE * 480 * MiB)
    expect(memreadBytes(34 * MiB, 512 * MiB)).toBe(128 * MiB)
    const sizes = sweepSizes(256 * MiB)
    expect(sizes[0]).toBe(512 * 1024)
    expect(sizes.at(-1)).toBe(256 * MiB)
    for (let i = 1; i < sizes.length - 1; i++) expect(sizes[i]! / sizes[i - 1]!).toBeCloseTo(Math.SQRT2, 2)
  })

  // Read rates (GB/s) by size (MiB) as the sweep measured them on the two machines our developers get.
  const sweepOf = (points: [number, number][]) => points.map(([mib, gbs]) => ({ bytes: mib * MiB, read_bytes_per_sec: gbs * 1e9 }))
  const epyc = sweepOf([[1, 248], [8, 187], [16, 178], [22.6, 131], [32, 97], [45.3, 71], [64, 62.8], [90.5, 56.6], [128, 54.3], [256, 51.8], [1024, 50.4]])
  const xeon = sweepOf([[1, 107], [16, 57], [32, 57], [64, 57], [90.5, 38], [128, 27], [256, 24], [512, 24], [1920, 24]])

  test('the knee is where the read rate reaches the memory rate, whatever the OS reports', () => {
    expect(cacheKnee(epyc).kneeBytes).toBe(64 * MiB)
    expect(cacheKnee(xeon).kneeBytes).toBe(128 * MiB)
    // The reported size bounds it from above; without a knee the report stands; without either, the default.
    expect(effectiveCacheBytes(64 * MiB, 34 * MiB, 32 * MiB)).toEqual({ bytes: 34 * MiB, source: 'measured' })
    expect(effectiveCacheBytes(128 * MiB, 482 * MiB, 32 * MiB)).toEqual({ bytes: 128 * MiB, source: 'measured' })
    expect(effectiveCacheBytes(null, 482 * MiB, 32 * MiB)).toEqual({ bytes: 482 * MiB, source: 'reported' })
    expect(effectiveCacheBytes(null, 0, 32 * MiB)).toEqual({ bytes: 32 * MiB, source: 'default' })
  })

  test('a refresh keeps the cached knee while the new one is within an octave of it (noise), not beyond', () => {
    // The EPYC's sweep put the knee at 64 MiB in one run and 90 MiB in the next.
    expect(stableKnee(90 * MiB, 64 * MiB)).toBe(64 * MiB)
    expect(stableKnee(128 * MiB, 64 * MiB)).toBe(64 * MiB)
    expect(stableKnee(256 * MiB, 64 * MiB)).toBe(256 * MiB)
    expect(stableKnee(64 * MiB, null)).toBe(64 * MiB)
    expect(stableKnee(null, 64 * MiB)).toBeNull()
  })

  test('a sweep still above the memory rate below its last size has no knee', () => {
    const rising = sweepOf([[1, 200], [64, 150], [256, 120], [512, 50]])
    expect(cacheKnee(rising).kneeBytes).toBeNull()
    expect(cacheKnee([]).kneeBytes).toBeNull()
    // A flat sweep (no cache effect at all): every size is at the memory rate.
    expect(cacheKnee(sweepOf([[1, 20], [4, 20], [16, 20]])).kneeBytes).toBe(1 * MiB)
  })
})

describe('fingerprint', () => {
  const base: FingerprintInput = { os: 'linux 6.1.0', arch: 'x64', cpuModel: 'AMD EPYC', cores: 2, ramTotalBytes: 24 * 1024 ** 3, gpus: [], llamaCommit: 'de3ff81', backend: 'CPU', threads: 2 }
  test('stable for the same device and build; changes with threads, build or GPUs; not with the kernel release', () => {
    const fp = deviceFingerprint(base)
    expect(fp).toMatch(/^[0-9a-f]{16}$/)
    expect(deviceFingerprint({ ...base, os: 'linux 6.2.0' })).toBe(fp)
    expect(deviceFingerprint({ ...base, ramTotalBytes: base.ramTotalBytes + 50 * MiB })).toBe(fp)
    expect(deviceFingerprint({ ...base, threads: 1 })).not.toBe(fp)
    expect(deviceFingerprint({ ...base, llamaCommit: 'abcdef0' })).not.toBe(fp)
    expect(deviceFingerprint({ ...base, gpus: [{ name: 'GPU', memory_total_bytes: 1, memory_free_bytes: 1, driver: null, compute_capability: null }] })).not.toBe(fp)
  })
})

describe('probe plan', () => {
  const cpu = { cacheBytes: 34 * MiB, gpuFreeBytes: null, ramAvailableBytes: 20 * 1024 ** 3 }
  test('sizes scale with the usable cache, and with VRAM on a GPU (bounded)', () => {
    const small = probePlan({ ...cpu, cacheBytes: 8 * MiB }).models.find((m) => m.id === 'bw-F16')!.source.layers
    const big = probePlan({ ...cpu, cacheBytes: 256 * MiB }).models.find((m) => m.id === 'bw-F16')!.source.layers
    expect(big).toBeGreaterThan(small)
    expect(bandwidthTargetBytes(cpu)).toBe(BW_CACHE_MULTIPLE * 34 * MiB)
    expect(bandwidthTargetBytes({ ...cpu, cacheKneeBytes: 64 * MiB })).toBe(BW_CACHE_MULTIPLE * 64 * MiB)
    expect(bandwidthTargetBytes({ ...cpu, gpuFreeBytes: 80 * 1024 ** 3 })).toBe(BW_GPU_MAX_BYTES)
    expect(bandwidthTargetBytes({ ...cpu, gpuFreeBytes: 12 * 1024 ** 3 })).toBe(384 * MiB)
  })
})

describe('fitting helpers', () => {
  test('least squares recovers exact coefficients; NNLS clamps a negative one', () => {
    const rows = [[1, 2], [2, 1], [3, 3]]
    expect(leastSquares(rows, [5, 4, 9])!.map((x) => Number(x.toFixed(9)))).toEqual([1, 2])
    expect(leastSquares([[1, 1], [2, 2]], [1, 2])).toBeNull()
    const nn = nonNegativeLeastSquares([[1, 0], [0, 1]], [3, -1])!
    expect(nn).toEqual([3, 0])
  })

  test('makeFact: median value and spread', () => {
    expect(makeFact([10, 12, 11], 'x')).toEqual({ value: 11, unit: 'x', samples: [10, 12, 11], spread: Number((2 / 11).toPrecision(6)) })
  })
})
