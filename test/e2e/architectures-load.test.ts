// Every family of corpora/architectures.yml loads and decodes in the pinned llama-server: the writer's keys and
// tensors are exactly what each loader requires (a missing or extra tensor fails the load), and the memory llama.cpp
// sets up has the family's shape (two KV caches with SWA, a recurrent-state buffer for Mamba-2 layers).
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeSyntheticGguf } from '../../src/gguf/writer.js'
import { parseSynthSpec, writerSpec, type SynthModelEntry } from '../../src/synth/spec.js'
import { withLlamaServer } from '../helpers/llama-server.js'

const CORPUS = 'corpora/architectures.yml'
const CONTEXT = 8192
const N_PREDICT = 8
const COMPLETION_TIMEOUT_MS = 60_000
const TEST_TIMEOUT_MS = 90_000

/** KV cache buffers (one per cache: SWA models have a full and a windowed one) and whether an RS buffer exists. */
const MEMORY: Record<string, { kvBuffers: number; recurrent: boolean }> = {
  gemma3: { kvBuffers: 2, recurrent: false },
  'gpt-oss': { kvBuffers: 2, recurrent: false },
  deepseek2: { kvBuffers: 1, recurrent: false },
  qwen2moe: { kvBuffers: 1, recurrent: false },
  qwen2: { kvBuffers: 1, recurrent: false },
  mamba2: { kvBuffers: 0, recurrent: true },
  granitehybrid: { kvBuffers: 1, recurrent: true }
}

const models: SynthModelEntry[] = parseSynthSpec(readFileSync(CORPUS, 'utf8'), CORPUS).models.filter((m) => m.types.includes('F16'))

describe('every architecture of corpora/architectures.yml loads and decodes in llama-server', () => {
  let dir = ''
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mfg-architectures-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  test('the corpus has a model of each family the writer added', () => {
    expect(new Set(models.map((m) => m.architecture))).toEqual(new Set(Object.keys(MEMORY)))
  })

  for (const m of models) {
    test(
      `${m.name} (${m.architecture})`,
      async () => {
        const modelPath = join(dir, `${m.name}.gguf`)
        await writeSyntheticGguf(writerSpec(m), modelPath)
        const logPath = join(dir, `${m.name}.log`)
        const args = (port: number): string[] => ['-m', modelPath, '-c', String(CONTEXT), '-np', '1', '-fa', 'off', '-t', '2', '--host', '127.0.0.1', '--port', String(port), '-lv', '4', '--no-webui']
        await withLlamaServer(args, logPath, async ({ base }) => {
          const res = await fetch(`${base}/completion`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ prompt: 'The quick brown fox jumps over the lazy dog', n_predict: N_PREDICT, ignore_eos: true, seed: 1 }),
            signal: AbortSignal.timeout(COMPLETION_TIMEOUT_MS)
          })
          expect(res.status).toBe(200)
          const body = (await res.json()) as { tokens_predicted: number; content: string }
          expect(body.tokens_predicted).toBe(N_PREDICT)
        })
        const log = await readFile(logPath, 'utf8')
        expect(log).toContain(`arch                  = ${m.architecture}`)
        expect(log).toMatch(/model buffer size =/)
        const want = MEMORY[m.architecture]!
        expect(log.match(/KV buffer size =/g) ?? []).toHaveLength(want.kvBuffers)
        expect(/RS buffer size =/.test(log)).toBe(want.recurrent)
      },
      TEST_TIMEOUT_MS
    )
  }
})
