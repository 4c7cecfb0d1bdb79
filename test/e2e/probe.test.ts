// The hardware probe on the real llama.cpp binaries: a quick probe (two weight types, small models, one round)
// measures every fact the estimator uses, writes a schema-valid profile, and a second call returns it from the cache.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { appendFile, mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { liveProcesses } from '../../src/bench/processes.js'
import { profileFile } from '../../src/gguf/index.js'
import { cachedProfilePath, observationsPath, parseHardwareProfile, probeHardware } from '../../src/hardware/index.js'
import { writeHardwareProfile } from '../../src/hardware/schema.js'
import { fitProbeFacts, type ProbeProfiles } from '../../src/hardware/probe-fit.js'
import type { HardwareProfile } from '../../src/contracts/hardware.js'
import { llamaBinDir } from '../helpers/llama.js'

const PROBE_TIMEOUT_MS = 600_000
/** A cached profile is read, not measured: seconds at most, even on a busy runner. */
const CACHED_CALL_MAX_MS = 15_000

let dir: string
let first: HardwareProfile
const lines: string[] = []

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'probe-e2e-'))
  first = await probeHardware({ binDir: llamaBinDir(), cacheDir: dir, refresh: true, quick: true, log: (l) => lines.push(l), now: () => '2026-01-02T03:04:05.000Z' })
}, PROBE_TIMEOUT_MS)

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('probeHardware on real llama.cpp', () => {
  test('measures the facts the estimator uses, all positive and finite', () => {
    const m = first.measured!
    for (const t of ['F16', 'Q8_0']) {
      expect(m.decode_bandwidth_by_type[t]!.value).toBeGreaterThan(1e8)
      expect(m.prefill_flops_by_type[t]!.value).toBeGreaterThan(1e8)
      expect(m.decode_cached_bandwidth_by_type![t]!.value).toBeGreaterThan(1e8)
    }
    // The fit keeps each overhead term ≥ 0, so one of them may be 0 on a quick probe; together they must be positive.
    expect(m.per_layer_decode_ms!.value).toBeGreaterThanOrEqual(0)
    expect(m.fixed_decode_ms!.value + m.per_layer_decode_ms!.value).toBeGreaterThan(0)
    expect(m.kv_depth_coefficients!.f16).toBeDefined()
    expect(m.prefill_attention_coefficients).not.toBeNull()
    expect(m.server_first_token_overhead_ms!.value).toBeGreaterThan(0)
    expect(first.llama.commit).toMatch(/^[0-9a-f]{7,}$/)
    expect(first.system.cores).toBeGreaterThanOrEqual(1)
    expect(first.probe_seconds.total).toBeGreaterThan(0)
    expect(Object.keys(first.probe_seconds)).toEqual(expect.arrayContaining(['models', 'decode', 'kv_depth', 'prefill', 'server']))
    expect(first.measured_at).toBe('2026-01-02T03:04:05.000Z')
    expect(liveProcesses()).toEqual([])
  })

  test('the decode bandwidth is of the order of a plain memory read', () => {
    const read = first.ceilings.memory_read_bytes_per_sec
    expect(read).not.toBeNull()
    const ratio = first.measured!.decode_bandwidth_bytes_per_sec.value / read!.value
    // Generous bounds: the quick probe's models are small and the runner may be busy.
    expect(ratio).toBeGreaterThan(0.1)
    expect(ratio).toBeLessThan(4)
  })

  test('the cached file is schema-valid and a second call returns it without measuring', async () => {
    const path = cachedProfilePath(dir, first.fingerprint, true)
    const text = await readFile(path, 'utf8')
    expect(parseHardwareProfile(text, path)).toEqual(first)
    const t0 = performance.now()
    const again = await probeHardware({ binDir: llamaBinDir(), cacheDir: dir, refresh: false, quick: true, log: () => {}, now: () => 'later' })
    expect(performance.now() - t0).toBeLessThan(CACHED_CALL_MAX_MS)
    expect(again).toEqual(first)
  })

  test('the raw observations are kept beside the profile, and fitting them again gives the same facts', async () => {
    const saved = JSON.parse(await readFile(observationsPath(cachedProfilePath(dir, first.fingerprint, true)), 'utf8'))
    const profiles: ProbeProfiles = {}
    for (const [id, path] of Object.entries(saved.probe_models as Record<string, string>)) profiles[id] = (await profileFile(path)).profile
    const refit = fitProbeFacts(saved.observations, profiles, { kvType: 'f16', flashAttention: false, cacheBytes: first.system.cache_bytes ?? 0 })
    expect(JSON.parse(JSON.stringify(refit))).toEqual(first.measured)
  })

  test('a probe model changed in the cache is made again before llama.cpp runs it', async () => {
    const modelDir = join(dir, 'probe-models-quick')
    const name = (await readdir(modelDir)).find((f) => /^q-[0-9a-f]{16}-Q8_0\.gguf$/.test(f))!
    const path = join(modelDir, name)
    const sha = async (): Promise<string> => createHash('sha256').update(await readFile(path)).digest('hex')
    const recorded = (await readFile(`${path}.sha256`, 'utf8')).trim()
    expect(await sha()).toBe(recorded)
    await appendFile(path, Buffer.alloc(4096, 1))
    const again: string[] = []
    await probeHardware({ binDir: llamaBinDir(), cacheDir: dir, refresh: true, quick: true, log: (l) => again.push(l), now: () => '2026-01-02T04:00:00.000Z' })
    expect(again.some((l) => /llama-quantize --pure Q8_0/.test(l))).toBe(true)
    expect(await sha()).toBe((await readFile(`${path}.sha256`, 'utf8')).trim())
    expect(liveProcesses()).toEqual([])
  }, PROBE_TIMEOUT_MS)

  test('a cached profile whose facts were noisy is not reused as sound: the next call measures again', async () => {
    const path = cachedProfilePath(dir, first.fingerprint, true)
    const cached = parseHardwareProfile(await readFile(path, 'utf8'), path)
    await writeHardwareProfile(path, { ...cached, noisy_facts: [{ fact: 'measured.prefill_flops_by_type.Q8_0', spread: 1.2, samples: 2 }] })
    const again: string[] = []
    const fresh = await probeHardware({ binDir: llamaBinDir(), cacheDir: dir, refresh: false, quick: true, log: (l) => again.push(l), now: () => '2026-01-02T05:00:00.000Z' })
    expect(again.some((l) => /was measured noisy \(measured\.prefill_flops_by_type\.Q8_0 ±120 %\): re-measuring/.test(l))).toBe(true)
    expect(fresh.measured_at).toBe('2026-01-02T05:00:00.000Z')
    // One round per part in a quick probe: nothing to disagree, nothing listed.
    expect(fresh.noisy_facts).toBeUndefined()
    expect(liveProcesses()).toEqual([])
  }, PROBE_TIMEOUT_MS)
})
