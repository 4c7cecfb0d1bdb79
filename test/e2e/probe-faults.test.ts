// A probe part that crashes costs its own facts, never the probe: a llama-bench that dies with SIGSEGV on Q8_0 prompt
// processing (what llama.cpp's AMX kernels did on AMX Xeons) leaves a complete profile whose Q8_0 prefill facts are
// named as missing, with the stand-in the estimator uses, and the estimate for a Q8_0 model still exists.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { liveProcesses } from '../../src/bench/processes.js'
import { resolveRates } from '../../src/fit/rates.js'
import { cachedProfilePath, parseHardwareProfile, probeHardware } from '../../src/hardware/index.js'
import type { HardwareProfile } from '../../src/contracts/hardware.js'
import { llamaBinDir } from '../helpers/llama.js'

const PROBE_TIMEOUT_MS = 600_000

let dir: string
let hw: HardwareProfile
const lines: string[] = []

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'probe-faults-'))
  const bin = join(dir, 'bin')
  const real = llamaBinDir()
  await mkdir(bin)
  for (const tool of ['llama-server', 'llama-quantize']) await symlink(join(real, tool), join(bin, tool))
  // Prefill-only runs (-n 0) of Q8_0 files crash; everything else is the real llama-bench.
  await writeFile(
    join(bin, 'llama-bench'),
    `#!/bin/sh\ncase "$*" in *Q8_0.gguf*"-n 0"*) kill -SEGV $$ ;; esac\nexec "${join(real, 'llama-bench')}" "$@"\n`
  )
  await chmod(join(bin, 'llama-bench'), 0o755)
  hw = await probeHardware({ binDir: bin, cacheDir: join(dir, 'cache'), refresh: true, quick: true, log: (l) => lines.push(l), now: () => '2026-01-02T03:04:05.000Z' })
}, PROBE_TIMEOUT_MS)

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('a probe whose Q8_0 prefill crashes', () => {
  test('still writes a schema-valid profile, with the crashed parts, their facts and stand-ins named', async () => {
    const text = await readFile(cachedProfilePath(join(dir, 'cache'), hw.fingerprint, true), 'utf8')
    const saved = parseHardwareProfile(text, 'hardware.json')
    const parts = (saved.probe_failures ?? []).map((f) => f.part).sort()
    // The dense prefill pair and the MoE model's prefill run Q8_0 prompts alone; decode runs are untouched.
    expect(parts).toEqual(['moe-Q8_0', 'pf-Q8_0', 'pfw-Q8_0'])
    const pf = saved.probe_failures!.find((f) => f.part === 'pf-Q8_0')!
    expect(pf.stage).toBe('run')
    expect(pf.reason).toMatch(/SIGSEGV/)
    expect(pf.facts).toContain('measured.prefill_flops_by_type.Q8_0')
    expect(pf.stand_in).toMatch(/^F16's measured prefill rate/)
    expect(lines.some((l) => /WARNING: pf-Q8_0 failed/.test(l))).toBe(true)
    expect(liveProcesses()).toEqual([])
  })

  test('the other facts are measured, and the estimator resolves Q8_0 prefill to the named stand-in', () => {
    expect(hw.measured!.prefill_flops_by_type.Q8_0).toBeUndefined()
    expect(hw.measured!.prefill_flops_by_type.F16!.value).toBeGreaterThan(1e8)
    expect(hw.measured!.decode_bandwidth_by_type.Q8_0!.value).toBeGreaterThan(1e8)
    expect(resolveRates(hw).prefillFlops('Q8_0').fact).toEqual(hw.measured!.prefill_flops_by_type.F16)
  })
})
