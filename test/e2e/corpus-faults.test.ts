// A corpus run against the local Hub-compatible server, through the CLI as users run it: a 404 ref, a gated ref, a
// corrupt GGUF and a download dropped three times sit between good models. Every good model is measured, each bad one
// is a row naming its failure; with a disk budget the run never holds more than one model's download; a run killed
// mid-corpus resumes and measures only what is left; shards of it aggregate only when all are there.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { execa } from 'execa'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Report } from '../../src/contracts/report.js'
import { serializeHardwareProfile } from '../../src/hardware/index.js'
import type { SyntheticModelSpec } from '../../src/gguf/writer.js'
import { startHubServer, type HubServer } from '../helpers/hub-server.js'
import { llamaBinDir } from '../helpers/llama.js'
import { makeHardware } from '../helpers/report-fixture.js'
import { syntheticModel } from '../helpers/synthetic.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const spec = (seed: number, embeddingLength: number): SyntheticModelSpec => ({
  architecture: 'llama',
  layers: 2,
  embeddingLength,
  feedForwardLength: 2 * embeddingLength,
  heads: 4,
  kvHeads: 2,
  vocabSize: 2048,
  contextLength: 2048,
  seed
})
const GOOD = ['e2e/good-a:Q8_0', 'e2e/dropped:Q8_0', 'e2e/good-b:Q8_0']
const MANIFEST = ['# the corpus', 'e2e/good-a:Q8_0', 'e2e/missing:Q8_0', 'e2e/gated:Q8_0', 'e2e/corrupt:Q8_0', 'e2e/dropped:Q8_0', 'e2e/good-b:Q8_0', '']

let dir: string
let hub: HubServer
let hardware: string
let sizes: number[]
let env: NodeJS.ProcessEnv

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mfg-corpus-'))
  const files = [await syntheticModel(spec(31, 256), 'Q8_0'), await syntheticModel(spec(32, 384), 'Q8_0'), await syntheticModel(spec(33, 320), 'Q8_0')]
  sizes = await Promise.all(files.map(async (f) => (await stat(f)).size))
  const corrupt = join(dir, 'corrupt.gguf')
  await writeFile(corrupt, Buffer.alloc(64 * 1024, 7))
  hub = await startHubServer({
    token: 'hf_e2e',
    repos: [
      { repo: 'e2e/good-a', files: [{ path: 'good-a-Q8_0.gguf', localPath: files[0] }] },
      { repo: 'e2e/gated', private: true, files: [{ path: 'gated-Q8_0.gguf', localPath: files[0] }] },
      { repo: 'e2e/corrupt', files: [{ path: 'corrupt-Q8_0.gguf', localPath: corrupt }] },
      { repo: 'e2e/dropped', files: [{ path: 'dropped-Q8_0.gguf', localPath: files[1] }] },
      { repo: 'e2e/good-b', files: [{ path: 'good-b-Q8_0.gguf', localPath: files[2] }] }
    ]
  })
  hardware = join(dir, 'hardware.json')
  await writeFile(hardware, serializeHardwareProfile(makeHardware('test CPU')))
  await writeFile(join(dir, 'models.txt'), MANIFEST.join('\n'))
  const { HF_TOKEN: _t, HUGGING_FACE_HUB_TOKEN: _h, ...rest } = process.env
  env = { ...rest, HF_ENDPOINT: hub.url, MODEL_FIT_GATE_LLAMA_BIN: llamaBinDir(), MODEL_FIT_GATE_CACHE: join(dir, 'mfg-cache') }
}, 300_000)

afterAll(async () => {
  await hub?.close()
  await rm(dir, { recursive: true, force: true })
})

function validate(out: string, hubCache: string, extra: string[] = []) {
  return execa(
    'node',
    ['dist/cli.js', 'validate', '--models-file', join(dir, 'models.txt'), '--scenarios', 'steady_decode', '--hardware', hardware, '--out', out, ...extra],
    { cwd: ROOT, env: { ...env, HF_HUB_CACHE: hubCache }, reject: false, timeout: 600_000 }
  )
}

const readReport = async (path: string): Promise<Report> => JSON.parse(await readFile(path, 'utf8')) as Report

describe('a corpus run in the real world', () => {
  test("bad models cost their own rows; good ones are measured; a disk budget holds one model's download at a time", async () => {
    hub.faults.drop = { path: 'dropped-Q8_0.gguf', afterBytes: 64 * 1024, times: 3 }
    const budget = Math.max(...sizes) + 1024
    const hubCache = join(dir, 'hub-cache')
    const out = join(dir, 'run', 'report.json')
    const r = await validate(out, hubCache, ['--disk-budget', String(budget)])
    expect(r.exitCode).toBe(1) // runtime errors > max_runtime_errors (0)
    const report = await readReport(out)
    expect(report.models.map((m) => m.ref)).toEqual(MANIFEST.filter((l) => l.includes(':')))
    const byRef = new Map(report.models.map((m) => [m.ref, m]))
    for (const ref of GOOD) expect(byRef.get(ref)?.scenarios[0]?.samples.length).toBeGreaterThan(0)
    // Like the Hub, the server answers 401 for a repo that does not exist.
    expect(byRef.get('e2e/missing:Q8_0')?.error).toMatch(/^resolve: .*(404|401: the repo does not exist)/)
    expect(byRef.get('e2e/gated:Q8_0')?.error).toMatch(/^resolve: .*(401|gated|token)/i)
    expect(byRef.get('e2e/corrupt:Q8_0')?.error).toMatch(/^profile: .*not a GGUF file \(bad magic\)/)
    for (const ref of ['e2e/missing:Q8_0', 'e2e/gated:Q8_0', 'e2e/corrupt:Q8_0']) expect(byRef.get(ref)?.scenarios[0]?.verdict).toBe('runtime-error')
    // The dropped download was resumed by the retries: three drops, one model.
    expect(hub.faults.drop?.times ?? 0).toBe(0)
    // The disk: each model removed after its run, the most held at once under the budget.
    const held = Number(/disk: at most (\d+\.\d+) MiB of downloads held at once/.exec(String(r.stderr))?.[1]) * 2 ** 20
    expect(held).toBeLessThanOrEqual(budget + 0.1 * 2 ** 20)
    expect(held).toBeGreaterThan(Math.min(...sizes) * 0.9)
    const blobs = (await readdir(hubCache, { recursive: true })).filter((f) => f.includes('blobs/') && !f.endsWith('.lock'))
    expect(blobs).toEqual([])
    console.log(`disk budget ${(budget / 2 ** 20).toFixed(1)} MiB, high-water ${(held / 2 ** 20).toFixed(1)} MiB, corpus ${(sizes.reduce((a, b) => a + b, 0) / 2 ** 20).toFixed(1)} MiB`)
  }, 600_000)

  test('a run killed mid-corpus resumes and measures only what is left', async () => {
    const hubCache = join(dir, 'hub-cache-resume')
    const out = join(dir, 'resumed', 'report.json')
    const checkpoint = join(dir, 'resumed', 'checkpoint')
    const t0 = performance.now()
    const first = validate(out, hubCache)
    // Kill it once the first good model is in the checkpoint.
    while (!(existsSync(checkpoint) && (await readdir(checkpoint)).some((f) => f.endsWith('.json')))) await new Promise((res) => setTimeout(res, 200))
    first.kill('SIGKILL')
    await first
    const killedAfterMs = performance.now() - t0
    expect(existsSync(out)).toBe(false)
    const t1 = performance.now()
    const again = await validate(out, hubCache, ['--resume'])
    const resumedMs = performance.now() - t1
    expect(again.stderr).toMatch(/resume: [1-9]\d* of 6 models already measured by an earlier run/)
    const report = await readReport(out)
    expect(report.resumed?.length).toBeGreaterThanOrEqual(1)
    for (const ref of GOOD) expect(report.models.find((m) => m.ref === ref)?.scenarios[0]?.samples.length).toBeGreaterThan(0)
    // A resumed model was not run again: no llama.cpp log of it in the second run's output.
    expect(String(again.stderr)).not.toMatch(new RegExp(`${report.resumed![0]!.replace(/[/.]/g, '\\$&')} steady_decode: (match|slower|faster)`))
    console.log(`resume: killed after ${(killedAfterMs / 1000).toFixed(1)} s; the resumed run took ${(resumedMs / 1000).toFixed(1)} s and reused ${report.resumed!.length} model(s)`)
  }, 600_000)

  test('shards aggregate only when every shard has its report', async () => {
    const hubCache = join(dir, 'hub-cache-shards')
    const out = join(dir, 'shard1', 'report.json')
    await validate(out, hubCache, ['--shard', '1/2'])
    const check = await execa('node', ['dist/cli.js', 'check', out], { cwd: ROOT, env, reject: false })
    expect(check.exitCode).toBe(1)
    expect(String(check.stdout) + String(check.stderr)).toMatch(/shard 2\/2 has no report/)
  }, 600_000)

  test('profile reads HF_TOKEN from the environment, as its help says (a gated repo)', async () => {
    const run = (token?: string) =>
      execa('node', ['dist/cli.js', 'profile', 'e2e/gated:Q8_0', '--json'], { cwd: ROOT, env: { ...env, HF_HUB_CACHE: join(dir, 'hub-profile'), ...(token ? { HF_TOKEN: token } : {}) }, reject: false })
    const without = await run()
    expect(without.exitCode).toBe(2)
    expect(String(without.stderr)).toMatch(/401/)
    const withToken = await run('hf_e2e')
    expect(withToken.exitCode).toBe(0)
    expect(JSON.parse(String(withToken.stdout))).toMatchObject({ architecture: 'llama', file_type: 'Q8_0' })
  }, 120_000)
})

