// Secrets stay with us: llama-server (started as the bench starts it) and the external estimator run with a token in
// our environment, and neither can see it. Read from the live server's /proc/PID/environ (Linux), and from what the
// estimator script itself prints.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startServer } from '../../src/bench/server.js'
import { defaultWorkload } from '../../src/bench/workload.js'
import { externalEstimator } from '../../src/pipeline/external-estimator.js'
import { llamaBinDir } from '../helpers/llama.js'
import { syntheticModel } from '../helpers/synthetic.js'
import { makeHardware } from '../helpers/report-fixture.js'
import { profileFile } from '../../src/gguf/index.js'

const SECRETS: Record<string, string> = {
  'INPUT_GITHUB-TOKEN': 'ghs_fromtheinput',
  'INPUT_HF-TOKEN': 'hf_fromtheinput',
  ACTIONS_RUNTIME_TOKEN: 'runtime-secret',
  ACTIONS_ID_TOKEN_REQUEST_URL: 'https://token.example/',
  GITHUB_TOKEN: 'ghs_plain',
  HF_TOKEN: 'hf_plain',
  HUGGING_FACE_HUB_TOKEN: 'hf_legacy',
  MY_SERVICE_API_KEY: 'key-123',
  DB_PASSWORD: 'hunter2'
}
const workload = defaultWorkload({ context_tokens: 1024, ubatch: 32, batch: 64, threads: 1 })
const spec = { architecture: 'llama' as const, layers: 2, embeddingLength: 128, feedForwardLength: 256, heads: 4, kvHeads: 2, vocabSize: 512, contextLength: 512, seed: 1 }

let dir: string
const saved: Record<string, string | undefined> = {}
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mfg-child-env-'))
  for (const [k, v] of Object.entries({ ...SECRETS, ESTIMATOR_MODE: 'fast', CUDA_VISIBLE_DEVICES: '0' })) {
    saved[k] = process.env[k]
    process.env[k] = v
  }
})
afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
  await rm(dir, { recursive: true, force: true })
})

function leaked(env: Record<string, string>): string[] {
  return Object.entries(env)
    .filter(([k, v]) => k in SECRETS || Object.values(SECRETS).includes(v))
    .map(([k]) => k)
}

describe('child processes see no secret', () => {
  test('llama-server, started as the bench starts it', async () => {
    const modelPath = await syntheticModel(spec)
    const server = await startServer({ binDir: llamaBinDir(), modelPath, workload, logPath: join(dir, 'server.log'), readyTimeoutSec: 60 })
    try {
      const pid = server.process.pid!
      const env = Object.fromEntries(
        readFileSync(`/proc/${pid}/environ`, 'utf8')
          .split('\0')
          .filter(Boolean)
          .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])
      )
      expect(env.PATH).toBe(process.env.PATH)
      expect(env.CUDA_VISIBLE_DEVICES).toBe('0')
      expect(leaked(env)).toEqual([])
      expect(env.ESTIMATOR_MODE).toBeUndefined()
    } finally {
      await server.process.stop()
    }
  }, 120_000)

  test('the external estimator: only the allow-list and the names estimator-env gives', async () => {
    const script = join(dir, 'estimator.mjs')
    const dump = join(dir, 'estimator-env.json')
    await writeFile(script, `import { writeFileSync } from 'node:fs'\nwriteFileSync(${JSON.stringify(dump)}, JSON.stringify(process.env))\nprocess.stdin.resume()\nprocess.stdin.on('end', () => console.log('{"predictions": []}'))\n`)
    const modelPath = await syntheticModel(spec)
    const { profile } = await profileFile(modelPath)
    const estimator = externalEstimator(`node ${script}`, { env: ['ESTIMATOR_MODE'] })
    await estimator.predict([{ ref: 'm', profile }], makeHardware('CPU'), workload, ['steady_decode'])
    const env = JSON.parse(readFileSync(dump, 'utf8')) as Record<string, string>
    expect(env.ESTIMATOR_MODE).toBe('fast')
    expect(env.HOME).toBe(process.env.HOME)
    expect(leaked(env)).toEqual([])
  }, 60_000)
})
