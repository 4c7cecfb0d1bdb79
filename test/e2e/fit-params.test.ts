// llama.cpp's own memory projection (llama-fit-params --fit-print on) against our memory estimate, and from the
// header alone: a sparse file that holds only the real header at the real size costs no disk and projects the same.
// llama.cpp prints whole MiB rounded down, so the estimate must land in [printed, printed + 1) MiB.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { mkdtemp, open, rm, stat, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { projectMemory } from '../../src/bench/fit-params.js'
import { defaultWorkload } from '../../src/bench/workload.js'
import type { HardwareProfile } from '../../src/contracts/hardware.js'
import { memoryFit } from '../../src/fit/memory.js'
import { profileFile, readGgufHeader } from '../../src/gguf/index.js'
import { fileSource } from '../../src/gguf/source.js'
import { writeSyntheticGguf } from '../../src/gguf/writer.js'
import { parseSynthSpec, writerSpec } from '../../src/synth/spec.js'
import { llamaBinDir } from '../helpers/llama.js'

const CORPUS = 'corpora/architectures.yml'
const MiB = 1024 * 1024
const CPU = { system: { gpus: [], ram_available_bytes: 64 * 1024 ** 3 }, llama: { backend: 'CPU' } } as unknown as HardwareProfile
const models = parseSynthSpec(readFileSync(CORPUS, 'utf8'), CORPUS).models.filter((m) => ['gemma3', 'deepseek2', 'granitehybrid'].includes(m.architecture))

let dir = ''
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mfg-fit-params-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** The model's header bytes at the start of an otherwise empty (sparse) file of the model's size. */
async function headerOnlyCopy(path: string, out: string): Promise<void> {
  const src = fileSource(path)
  const header = await readGgufHeader(src).finally(() => src.close())
  const fd = await open(path, 'r')
  const bytes = Buffer.alloc(header.dataOffset)
  await fd.read(bytes, 0, bytes.length, 0)
  await fd.close()
  await writeFile(out, bytes)
  await truncate(out, header.fileSize)
}

describe("llama.cpp's memory projection", () => {
  for (const m of models) {
    test(`${m.name}: our estimate lands in the projection's MiB, and a header-only file projects the same`, async () => {
      const path = join(dir, `${m.name}.gguf`)
      await writeSyntheticGguf(writerSpec(m), path)
      const { profile } = await profileFile(path)
      const w = { ...defaultWorkload(), context_tokens: 8 * (profile.layer_plan.sliding_window || 512) }
      const host = (await projectMemory(llamaBinDir(), path, w, dir, m.name)).find((d) => d.device === 'Host')!
      const fit = memoryFit(profile, CPU, w)
      const within = (est: number, [lo, hi]: [number, number]) => est >= lo && est < hi
      expect({ model: m.name, weights: within(fit.weights_bytes, host.weights_bytes) }).toEqual({ model: m.name, weights: true })
      // The log refines the context to 0.01 MiB: our KV and state land in it.
      expect(host.context_bytes[1] - host.context_bytes[0]).toBeLessThan(MiB / 10)
      expect({ model: m.name, context: within(fit.kv_cache_bytes + fit.recurrent_state_bytes, host.context_bytes) }).toEqual({ model: m.name, context: true })
      // The compute buffer is our fitted formula: within 10 %, as against the loaded server's log.
      expect(Math.abs(fit.compute_bytes / ((host.compute_bytes[0] + host.compute_bytes[1]) / 2) - 1)).toBeLessThan(0.1)

      const sparse = join(dir, `${m.name}-header-only.gguf`)
      await headerOnlyCopy(path, sparse)
      const onDisk = (await stat(sparse)).blocks * 512
      expect(onDisk).toBeLessThan((await stat(path)).size / 20)
      expect(await projectMemory(llamaBinDir(), sparse, w, dir, `${m.name}-header-only`)).toEqual(await projectMemory(llamaBinDir(), path, w, dir, `${m.name}-again`))
    }, 120_000)
  }
})
