// The external estimator is user code: whatever it does, the gate ends in bounded time and memory with an input error
// that names it, and leaves no process behind.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { execa } from 'execa'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { defaultWorkload } from '../../src/bench/workload.js'
import { externalEstimator } from '../../src/pipeline/external-estimator.js'
import { makeHardware, makeProfile } from '../helpers/report-fixture.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mfg-estimator-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const models = [{ ref: 'org/m:Q8_0', profile: makeProfile({ architecture: 'llama', paramCount: 1e8, fileType: 'Q8_0', fileBytes: 1e8 }) }]
const workload = defaultWorkload({ threads: 2 })

async function estimatorError(script: string, opts: { timeoutMs?: number } = {}): Promise<string> {
  const path = join(dir, `e${Math.random().toString(36).slice(2)}.mjs`)
  await writeFile(path, script)
  try {
    await externalEstimator(`node ${path}`, opts).predict(models, makeHardware('CPU'), workload, ['steady_decode'])
  } catch (err) {
    return (err as Error).message
  }
  return 'no error'
}

const answer = (preds: unknown[]): string => `process.stdin.resume(); process.stdin.on('end', () => console.log(JSON.stringify({ predictions: ${JSON.stringify(preds)} })))\n`

describe('a hostile external estimator', () => {
  test('one that hangs through a grandchild is killed with its whole process group at the timeout', async () => {
    const marker = `mfg-hang-${Math.floor(Math.random() * 1e9)}`
    const t0 = performance.now()
    const message = await estimatorError(
      `import { spawn } from 'node:child_process'\nspawn('sh', ['-c', 'exec sleep 300 # ${marker}'], { stdio: 'inherit' })\nsetInterval(() => {}, 1000)\n`,
      { timeoutMs: 1500 }
    )
    expect(message).toMatch(/timed out after 1\.5 s \(its process group was killed\)/)
    expect(performance.now() - t0).toBeLessThan(20_000)
    const left = await execa('pgrep', ['-f', marker], { reject: false })
    expect(String(left.stdout).trim()).toBe('')
  }, 30_000)

  test('one that floods stdout is refused past 16 MiB, without holding it all', async () => {
    const message = await estimatorError(`process.stdin.resume(); process.stdin.on('end', () => { const s = 'x'.repeat(1 << 20); for (let i = 0; i < 40; i++) process.stdout.write(s) })\n`)
    expect(message).toMatch(/printed more than 16 MiB on stdout/)
  }, 30_000)

  test('a failing one with a flood of stderr is reported in a few lines, each cut short', async () => {
    const message = await estimatorError(`process.stderr.write(('y'.repeat(5000) + '\\n').repeat(2000)); process.exit(3)\n`)
    expect(message).toMatch(/exited with 3: y+… \(5000 characters\)/)
    expect(message.length).toBeLessThan(2000)
  }, 30_000)

  test('a prediction for a model it was not asked about, or a second one for a row, is refused naming the index', async () => {
    expect(await estimatorError(answer([{ ref: 'org/other', scenario: 'steady_decode', predicted: 5 }]))).toMatch(/\$\.predictions\[0\]\.ref: "org\/other" is not a model it was asked about/)
    const twice = { ref: 'org/m:Q8_0', scenario: 'steady_decode', predicted: 5 }
    expect(await estimatorError(answer([twice, twice]))).toMatch(/\$\.predictions\[1\]: a second prediction for org\/m:Q8_0 steady_decode/)
    expect(await estimatorError(answer([{ ...twice, scenario: 'prefill' }]))).toMatch(/\$\.predictions\[0\]\.scenario: prefill was not asked for/)
  }, 30_000)
})

describe('a model path that is not a file', () => {
  test('a FIFO or a directory named *.gguf is refused at once, not read', async () => {
    const { profileFile } = await import('../../src/gguf/index.js')
    const fifo = join(dir, 'pipe.gguf')
    await execa('mkfifo', [fifo])
    await expect(profileFile(fifo)).rejects.toThrow(`${fifo}: is not a regular file (a FIFO, socket or device); give a GGUF file`)
    await expect(profileFile(dir)).rejects.toThrow(/is not a regular file \(a directory\)/)
  })
})
