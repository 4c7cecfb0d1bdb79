// The memory estimate of every architecture of corpora/architectures.yml against the buffers the pinned llama-server
// logs when it loads the model with the bench's own flags (serverArgs): weights, KV caches and the recurrent state
// within 1 %, the compute buffer within 10 %, at two contexts where the architecture matters (the sliding window and
// 8× it; 512 and 4096 for models without a window), with and without flash attention. Memory has no noise: these
// numbers are llama.cpp's own allocations.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseLlamaBufferSizes } from '../../src/bench/llama-log.js'
import { serverArgs } from '../../src/bench/server.js'
import { defaultWorkload } from '../../src/bench/workload.js'
import { memoryEstimateErrors } from '../../src/compare/memory-check.js'
import type { HardwareProfile } from '../../src/contracts/hardware.js'
import { memoryFit } from '../../src/fit/memory.js'
import { profileFile } from '../../src/gguf/index.js'
import { writeSyntheticGguf } from '../../src/gguf/writer.js'
import { parseSynthSpec, writerSpec, type SynthModelEntry } from '../../src/synth/spec.js'
import { serverLog, withLlamaServer } from '../helpers/llama-server.js'

const CORPUS = 'corpora/architectures.yml'
/** Contexts for a model without a sliding window. */
const PLAIN_WINDOW = 512
const TEST_TIMEOUT_MS = 120_000
const MiB = 1024 * 1024

/** A CPU machine with room for any of these models: only the buffer sizes are compared, not the fit's verdict. */
const CPU = { system: { gpus: [], ram_available_bytes: 64 * 1024 ** 3 }, llama: { backend: 'CPU' } } as unknown as HardwareProfile

const models: SynthModelEntry[] = parseSynthSpec(readFileSync(CORPUS, 'utf8'), CORPUS).models.filter((m) => m.types.includes('F16'))
const table: string[] = []

describe("the memory estimate of every architecture against llama.cpp's logged buffers", () => {
  let dir = ''
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mfg-arch-memory-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
    // The table behind the closing note's figures: estimate / logged per buffer.
    console.log(['model · context · flash attention | weights | KV | state | compute (MiB, estimate / llama.cpp)', ...table].join('\n'))
  })

  for (const m of models) {
    test(
      `${m.name} (${m.architecture})`,
      async () => {
        const path = join(dir, `${m.name}.gguf`)
        await writeSyntheticGguf(writerSpec(m), path)
        const { profile } = await profileFile(path)
        const window = profile.layer_plan.sliding_window || PLAIN_WINDOW
        for (const context of [window, 8 * window]) {
          for (const flash of [false, true]) {
            // The bench's workload at this context; the scenarios' token counts do not change any buffer.
            const w = { ...defaultWorkload(), context_tokens: context, flash_attention: flash }
            const logPath = join(dir, `${m.name}-${context}-${flash}.log`)
            await withLlamaServer((port) => serverArgs(path, w, port), logPath, async () => undefined)
            const logged = parseLlamaBufferSizes(await serverLog(logPath))
            const fit = memoryFit(profile, CPU, w)
            const e = memoryEstimateErrors(fit, logged)
            const f = (est: number, got: number | null): string => `${(est / MiB).toFixed(2)} / ${got === null ? '–' : (got / MiB).toFixed(2)}`
            table.push(
              `${m.name} · ${context} · ${flash ? 'on' : 'off'} | ${f(fit.weights_bytes, logged.model_bytes)} | ${f(fit.kv_cache_bytes, logged.kv_bytes)} | ` +
                `${f(fit.recurrent_state_bytes, logged.rs_bytes)} | ${f(fit.server_compute_bytes!, logged.compute_bytes)}`
            )
            const where = `${m.name} at ${context} tokens, flash attention ${flash ? 'on' : 'off'}`
            expect({ where, weights: Math.abs(e.weightsPct ?? Infinity) <= 1 }).toEqual({ where, weights: true })
            // No KV cache (Mamba) or no state (attention only) logs no buffer: then the estimate must be 0 too.
            expect({ where, kv: logged.kv_bytes === null ? fit.kv_cache_bytes === 0 : Math.abs(e.kvPct!) <= 1 }).toEqual({ where, kv: true })
            expect({ where, state: logged.rs_bytes === null ? fit.recurrent_state_bytes === 0 : Math.abs(e.statePct!) <= 1 }).toEqual({ where, state: true })
            expect({ where, compute: Math.abs(e.computePct ?? Infinity) <= 10, pct: e.computePct }).toEqual({ where, compute: true, pct: e.computePct })
          }
        }
      },
      TEST_TIMEOUT_MS
    )
  }
})
