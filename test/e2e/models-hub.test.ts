// A Hub ref end to end against the local Hub: resolved like llama -hf, profiled from its header alone, downloaded
// through a dropped connection into the shared cache layout, loaded by real llama-bench, reused without a GET, and
// fetched by two processes at once without corrupting the cache.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { build } from 'esbuild'
import { execa } from 'execa'
import { createHash } from 'node:crypto'
import { copyFile, mkdtemp, readFile, readdir, readlink, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { SyntheticModelSpec } from '../../src/gguf/writer.js'
import { parseManifest, profileRemote, resolveModels } from '../../src/models/index.js'
import type { ModelRef } from '../../src/contracts/models.js'
import { startHubServer, type HubServer } from '../helpers/hub-server.js'
import { llamaBinDir } from '../helpers/llama.js'
import { syntheticModel } from '../helpers/synthetic.js'

// ~20 MB at Q8_0: large enough that a header read is a small fraction of the file, small enough for CI.
const SPEC: SyntheticModelSpec = {
  architecture: 'llama',
  layers: 4,
  embeddingLength: 512,
  feedForwardLength: 1024,
  heads: 8,
  kvHeads: 4,
  vocabSize: 8192,
  contextLength: 2048,
  seed: 21
}
const REPO = 'e2e-org/Synth-GGUF'
const FILE = 'Synth-Q8_0.gguf'
const DROP_AFTER_BYTES = 5 << 20
const MAX_HEADER_READ_BYTES = 2 << 20
const BENCH_TIMEOUT_MS = 120_000
const FAST_RETRY = { maxRetries: 3, baseDelayMs: 10, maxDelayMs: 50 }
const ROOT = fileURLToPath(new URL('../..', import.meta.url))

let dir: string
let hub: HubServer
let q8Path: string
let refs: ModelRef[]

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mfg-e2e-hub-'))
  const f16 = await syntheticModel(SPEC, 'F16')
  q8Path = await syntheticModel(SPEC, 'Q8_0')
  // A projector beside the model, as vision repos have: -hf must never pick it.
  const mmproj = join(dir, 'mmproj-Synth-F16.gguf')
  await copyFile(f16, mmproj)
  hub = await startHubServer({
    repos: [
      {
        repo: REPO,
        files: [
          { path: 'README.md', content: Buffer.from('# synthetic\n'), git: true },
          { path: 'Synth-F16.gguf', localPath: f16 },
          { path: FILE, localPath: q8Path },
          { path: 'mmproj-Synth-F16.gguf', localPath: mmproj }
        ]
      }
    ]
  })
  refs = parseManifest(`# e2e\n${REPO}:q8_0\n`, join(dir, 'corpus.txt'), dir)
}, 300_000)

afterAll(async () => {
  await hub?.close()
  await rm(dir, { recursive: true, force: true })
})

describe('a Hub model end to end', () => {
  it('profiles from its header, downloads through a dropped connection, runs in llama-bench, and is reused', async () => {
    const fileBytes = (await stat(q8Path)).size
    expect(fileBytes).toBeGreaterThan(8 * MAX_HEADER_READ_BYTES)

    // 1. Header-only profile: a few ranged reads, nothing downloaded.
    const remote = await profileRemote(refs[0] as never, { endpoint: hub.url })
    expect(remote.profile).toMatchObject({ architecture: 'llama', file_type: 'Q8_0', layers: 4, embedding_length: 512, vocab_size: 8192, file_bytes: fileBytes })
    expect(remote.bytesRead).toBeLessThan(MAX_HEADER_READ_BYTES)

    // 2. Download with one dropped connection: resumed with a Range request, verified, linked into the cache.
    const cacheDir = join(dir, 'hub-cache')
    const logs: string[] = []
    hub.faults.drop = { path: FILE, afterBytes: DROP_AFTER_BYTES, times: 1 }
    const before = hub.requests.length
    const [model] = await resolveModels(refs, { cacheDir, endpoint: hub.url, log: (l) => logs.push(l), retry: FAST_RETRY })
    const commit = hub.commitOf(REPO)
    const sha = createHash('sha256').update(await readFile(q8Path)).digest('hex')
    const repoDir = join(cacheDir, 'models--e2e-org--Synth-GGUF')
    expect(model).toEqual({ ref: `${REPO}:q8_0`, paths: [join(repoDir, 'snapshots', commit, FILE)] })
    expect(await readlink(model?.paths[0] as string)).toBe(`../../blobs/${sha}`)
    expect((await readFile(join(repoDir, 'refs', 'main'), 'utf8')).trim()).toBe(commit)
    expect(await readdir(join(repoDir, 'blobs'))).toEqual([sha])
    const ranges = hub.requests.slice(before).filter((r) => r.path.startsWith('/cdn/') && r.method === 'GET').map((r) => r.range)
    expect(ranges).toHaveLength(2)
    expect(ranges[0]).toBeNull()
    expect(ranges[1]).toMatch(/^bytes=\d+-$/)
    expect(logs.some((l) => l.includes('connection lost'))).toBe(true)

    // 3. The downloaded file is a model llama.cpp loads and runs.
    const { stdout } = await execa(
      join(llamaBinDir(), 'llama-bench'),
      ['-m', model?.paths[0] as string, '-p', '8', '-n', '4', '-r', '1', '-t', '1', '-o', 'json'],
      { timeout: BENCH_TIMEOUT_MS }
    )
    const rows = JSON.parse(stdout) as { n_prompt: number; n_gen: number; avg_ts: number; model_size: number }[]
    expect(rows.map((r) => [r.n_prompt, r.n_gen])).toEqual([
      [8, 0],
      [0, 4]
    ])
    expect(rows.every((r) => r.avg_ts > 0)).toBe(true)

    // 4. A second run reuses the cache: no GET of the file at all.
    const getsBefore = hub.fileGets(FILE).length
    const again = await resolveModels(refs, { cacheDir, endpoint: hub.url, log: () => undefined })
    expect(again).toEqual([model])
    expect(hub.fileGets(FILE).length).toBe(getsBefore)
    expect(hub.fileGets('mmproj-Synth-F16.gguf')).toEqual([])
  }, 300_000)

  it('lets two processes resolve the same model into one cache without corrupting it', async () => {
    // A real second process: the models module bundled as the action bundles it, run twice at once.
    const script = join(dir, 'resolve-cli.mjs')
    await build({
      stdin: {
        contents: `import { parseManifest, resolveModels } from ${JSON.stringify(join(ROOT, 'src/models/index.ts'))}
const [endpoint, cacheDir, ref] = process.argv.slice(2)
const out = await resolveModels(parseManifest(ref, 'argv', process.cwd()), { cacheDir, endpoint, log: (l) => console.error(l) })
console.log(JSON.stringify(out))`,
        resolveDir: ROOT,
        loader: 'ts'
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node24',
      outfile: script,
      logLevel: 'warning',
      banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" }
    })
    const cacheDir = join(dir, 'shared-cache')
    // Slow bytes so the two downloads overlap for certain.
    hub.faults.slow = { path: FILE, chunkDelayMs: 5 }
    const cdnBefore = hub.fileGets(FILE).filter((r) => r.path.startsWith('/cdn/')).length
    const run = () => execa(process.execPath, [script, hub.url, cacheDir, `${REPO}:Q8_0`], { timeout: 120_000 })
    const [a, b] = await Promise.all([run(), run()])
    hub.faults.slow = undefined
    expect(JSON.parse(a.stdout)).toEqual(JSON.parse(b.stdout))
    const path = (JSON.parse(a.stdout) as { paths: string[] }[])[0]?.paths[0] as string
    expect(createHash('sha256').update(await readFile(path)).digest('hex')).toBe(createHash('sha256').update(await readFile(q8Path)).digest('hex'))
    // One process fetched the bytes; the other waited on the lock and found the blob.
    expect(hub.fileGets(FILE).filter((r) => r.path.startsWith('/cdn/')).length - cdnBefore).toBe(1)
    expect(`${a.stderr}\n${b.stderr}`).toMatch(/another process is downloading it|blob already cached/)
    expect(await readdir(join(cacheDir, 'models--e2e-org--Synth-GGUF', 'blobs'))).toHaveLength(1)
    expect(await readdir(join(cacheDir, '.locks', 'models--e2e-org--Synth-GGUF'))).toEqual([])
  }, 300_000)
})

describe('the CLI with a Hub ref', () => {
  it('profiles it from the header alone, then downloads, runs and gates it through HF_ENDPOINT and HF_HUB_CACHE', async () => {
    const hubCache = join(dir, 'cli-hub-cache')
    const env = {
      ...process.env,
      HF_ENDPOINT: hub.url,
      HF_HUB_CACHE: hubCache,
      MODEL_FIT_GATE_LLAMA_BIN: llamaBinDir(),
      MODEL_FIT_GATE_CACHE: join(dir, 'mfg-cache')
    }
    const fullGets = () => hub.fileGets(FILE).filter((r) => r.range === null).length
    const fullGetsBefore = fullGets()
    const profile = await execa('node', ['dist/cli.js', 'profile', `${REPO}:Q8_0`, '--json'], { cwd: ROOT, env, reject: false })
    expect(profile.exitCode).toBe(0)
    expect(JSON.parse(String(profile.stdout))).toMatchObject({ architecture: 'llama', file_type: 'Q8_0', layers: 4 })
    const mib = /profiled from (\d+\.\d+) MiB of header \(no download\)/.exec(String(profile.stderr))?.[1]
    expect(Number(mib)).toBeLessThan(MAX_HEADER_READ_BYTES / 2 ** 20)
    expect(fullGets()).toBe(fullGetsBefore)

    const { makeHardware } = await import('../helpers/report-fixture.js')
    const { serializeHardwareProfile } = await import('../../src/hardware/index.js')
    const { writeFile } = await import('node:fs/promises')
    const hardware = join(dir, 'hardware.json')
    await writeFile(hardware, serializeHardwareProfile(makeHardware('test CPU')))
    const out = join(dir, 'cli-report', 'report.json')
    const run = await execa(
      'node',
      ['dist/cli.js', 'validate', `${REPO}:Q8_0`, '--scenarios', 'steady_decode', '--hardware', hardware, '--out', out],
      { cwd: ROOT, env, reject: false, timeout: 300_000 }
    )
    expect([0, 1]).toContain(run.exitCode)
    const report = JSON.parse(await readFile(out, 'utf8')) as { models: { ref: string; path: string; scenarios: { samples: number[] }[] }[] }
    expect(report.models[0]?.ref).toBe(`${REPO}:Q8_0`)
    expect(report.models[0]?.path.startsWith(join(hubCache, 'models--e2e-org--Synth-GGUF', 'snapshots'))).toBe(true)
    expect(report.models[0]?.scenarios[0]?.samples.length).toBeGreaterThan(0)
  }, 300_000)
})
