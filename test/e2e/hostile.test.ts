// Hostile input and a hostile environment, as a careless or hostile user would try them against the CLI: every case
// ends with exit 2 (or the gate's 0/1) and a short message naming the file, field or host — never 3 (our bug) or 134
// (out of memory), never a hang, never more than 512 MB. Inputs are generated here; nothing is committed.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { execa } from 'execa'
import { createServer, type Server } from 'node:net'
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import { encodeGgufHeader } from '../../src/gguf/encode.js'
import { GgufValueType, type GgufKv } from '../../src/gguf/format.js'
import { serializeHardwareProfile } from '../../src/hardware/index.js'
import { llamaBinDir } from '../helpers/llama.js'
import { makeHardware, showcaseReport } from '../helpers/report-fixture.js'
import { serializeReport } from '../../src/report/index.js'
import { syntheticModel } from '../helpers/synthetic.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const MAX_RSS_KB = 512 * 1024
const CASE_TIMEOUT_MS = 60_000

interface Case {
  kind: string
  name: string
  args: () => string[] | Promise<string[]>
  env?: () => NodeJS.ProcessEnv
  /** The exit codes that are right for it: 2 for an input or environment fault. */
  exit?: number[]
  message: RegExp
}

let dir: string
let silent: Server
let silentPort = 0
let html: HttpServer
let htmlPort = 0
const results: { kind: string; name: string; exit: number | undefined; ms: number; rssKb: number }[] = []

function gguf(kvs: Record<string, number | string>): Uint8Array {
  const meta: GgufKv[] = Object.entries(kvs).map(([key, value]) =>
    typeof value === 'string' ? { key, type: GgufValueType.STRING, value } : { key, type: GgufValueType.UINT32, value }
  )
  return encodeGgufHeader(meta, [], 32).bytes
}
const llamaKvs = { 'general.architecture': 'llama', 'llama.block_count': 2, 'llama.embedding_length': 64, 'llama.attention.head_count': 4, 'llama.context_length': 512 }
const p = (name: string): string => join(dir, name)

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mfg-hostile-'))
  await writeFile(p('layers.gguf'), gguf({ ...llamaKvs, 'llama.block_count': 2 ** 32 - 1 }))
  await writeFile(p('wide.gguf'), gguf({ ...llamaKvs, 'llama.embedding_length': 2 ** 32 - 1 }))
  await writeFile(p('zero-width.gguf'), gguf({ ...llamaKvs, 'llama.embedding_length': 0 }))
  await writeFile(p('garbage.gguf'), Buffer.alloc(4096, 0x41))
  await execa('mkfifo', [p('fifo.gguf')])
  await mkdir(p('dir.gguf'))
  await mkdir(p('out-dir'))
  const sound = ['tolerance_pct: 10', 'max_spread_pct: 25', 'min_models: 1', 'max_runtime_errors: 0', 'scenarios: {}', '']
  await writeFile(p('huge.yml'), sound.join('\n').replace('tolerance_pct: 10', `tolerance_pct: "${'z'.repeat(20_000_000)}"`))
  await writeFile(p('long.yml'), sound.join('\n').replace('tolerance_pct: 10', `tolerance_pct: "${'w'.repeat(900_000)}"`))
  await writeFile(p('bomb.yml'), ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefghi'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(', ')}]`), 'tolerance_pct: *i', ''].join('\n'))
  await writeFile(p('unknown-key.yml'), [...sound, 'tolerance_pc: 5', ''].join('\n'))
  const hw = JSON.parse(serializeHardwareProfile(makeHardware('CPU'))) as { measured: { decode_bandwidth_bytes_per_sec: { value: number } } }
  hw.measured.decode_bandwidth_bytes_per_sec.value = -1
  await writeFile(p('negative-hw.json'), JSON.stringify(hw))
  await writeFile(p('good-hw.json'), serializeHardwareProfile(makeHardware('CPU')))
  const report = JSON.parse(serializeReport(showcaseReport())) as { provenance: { shard: string | null } }
  report.provenance.shard = '3/2'
  await writeFile(p('shard-3-of-2.json'), JSON.stringify(report))
  await writeFile(p('not-json.json'), '{"schema_version": 2, ')
  await writeFile(p('unknown-ref.mjs'), `process.stdin.resume(); process.stdin.on('end', () => console.log(JSON.stringify({ predictions: [{ ref: 'not/asked', scenario: 'steady_decode', predicted: 1 }] })))\n`)
  await writeFile(p('flood.mjs'), `process.stdin.resume(); process.stdin.on('end', () => { const s = 'x'.repeat(1 << 20); for (let i = 0; i < 40; i++) process.stdout.write(s) })\n`)
  await writeFile(p('stderr-flood.mjs'), `process.stderr.write(('e'.repeat(10000) + '\\n').repeat(5000)); process.exit(1)\n`)
  await writeFile(p('rss.mjs'), `import { writeSync } from 'node:fs'\nprocess.on('exit', () => { try { writeSync(2, '\\nmaxrss_kb=' + process.resourceUsage().maxRSS + '\\n') } catch {} })\n`)
  await syntheticModel({ architecture: 'llama', layers: 2, embeddingLength: 128, feedForwardLength: 256, heads: 4, kvHeads: 2, vocabSize: 512, contextLength: 1024, seed: 3 })
  silent = createServer(() => {}) // accepts connections, never answers
  await new Promise<void>((res) => silent.listen(0, '127.0.0.1', () => res()))
  silentPort = (silent.address() as { port: number }).port
  // A proxy's login page where the Hub should be: 200, HTML.
  html = createHttpServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('<html>sign in</html>'))
  await new Promise<void>((res) => html.listen(0, '127.0.0.1', () => res()))
  htmlPort = (html.address() as { port: number }).port
}, 120_000)

afterAll(async () => {
  silent?.close()
  html?.close()
  await rm(dir, { recursive: true, force: true })
  const kinds = [...new Set(results.map((r) => r.kind))]
  const lines = kinds.map((k) => `${k}: ${results.filter((r) => r.kind === k).length}`)
  const rss = Math.max(...results.map((r) => r.rssKb))
  const slowest = results.reduce((a, b) => (b.ms > a.ms ? b : a))
  console.log(`hostile cases: ${results.length} (${lines.join('; ')}); largest RSS ${(rss / 1024).toFixed(0)} MB; longest ${(slowest.ms / 1000).toFixed(1)} s (${slowest.name})`)
})

async function modelPath(): Promise<string> {
  return syntheticModel({ architecture: 'llama', layers: 2, embeddingLength: 128, feedForwardLength: 256, heads: 4, kvHeads: 2, vocabSize: 512, contextLength: 1024, seed: 3 })
}

const CASES: Case[] = [
  // Crashes and unbounded memory from small inputs
  { kind: 'memory', name: 'a GGUF claiming 2^32-1 layers', args: () => ['profile', p('layers.gguf')], message: /layers\.gguf: key llama\.block_count: 4294967295 is outside 1\.\.512/ },
  { kind: 'memory', name: 'a GGUF 2^32-1 wide', args: () => ['profile', p('wide.gguf')], message: /key llama\.embedding_length: 4294967295 is outside/ },
  { kind: 'memory', name: 'a 20 MB string in thresholds.yml', args: () => ['check', p('good-report.json'), '--thresholds', p('huge.yml')], message: /huge\.yml: the thresholds is \d+ bytes, more than the 1048576 any real one needs/ },
  { kind: 'memory', name: 'a 900 KB value in thresholds.yml, quoted short', args: () => ['check', p('good-report.json'), '--thresholds', p('long.yml')], message: /long\.yml: tolerance_pct \(line 1\): must be number, got string "w+… \(900002 characters\)/ },
  { kind: 'memory', name: 'a YAML alias bomb', args: () => ['check', p('good-report.json'), '--thresholds', p('bomb.yml')], message: /bomb\.yml: YAML aliases expand too far/ },
  // Hangs
  { kind: 'hang', name: 'a FIFO named *.gguf', args: () => ['profile', p('fifo.gguf')], message: /fifo\.gguf: is not a regular file \(a FIFO, socket or device\)/ },
  { kind: 'hang', name: 'a report path under /proc', args: () => ['validate', p('dir.gguf'), '--out', '/proc/self/report.json'], message: /\/proc\/self\/report\.json is under \/proc/ },
  { kind: 'hang', name: 'a Hub that accepts and never answers', args: () => ['profile', 'org/repo:Q8_0'], env: () => ({ HF_ENDPOINT: `http://127.0.0.1:${silentPort}`, MODEL_FIT_GATE_HTTP_TIMEOUT_SEC: '2' }), message: /no answer from 127\.0\.0\.1:\d+ within 2 s/ },
  { kind: 'hang', name: 'thresholds that are a FIFO', args: () => ['check', p('good-report.json'), '--thresholds', p('fifo.gguf')], message: /cannot read the thresholds: not a regular file/ },
  // Bad data accepted
  { kind: 'bad data', name: 'a GGUF of zero width', args: () => ['profile', p('zero-width.gguf')], message: /key llama\.embedding_length: 0 is outside/ },
  { kind: 'bad data', name: 'a report whose shard is 3/2', args: () => ['check', p('shard-3-of-2.json')], message: /shard-3-of-2\.json: provenance\.shard/ },
  { kind: 'bad data', name: 'a misspelt threshold key', args: () => ['check', p('good-report.json'), '--thresholds', p('unknown-key.yml')], message: /unknown-key\.yml: tolerance_pc \(line 7\): unknown key "tolerance_pc"/ },
  // Input and environment errors, not bugs
  { kind: 'exit code', name: 'a model path that is a directory', args: () => ['profile', p('dir.gguf')], message: /dir\.gguf: is not a regular file \(a directory\)/ },
  { kind: 'exit code', name: 'not a GGUF', args: () => ['profile', p('garbage.gguf')], message: /garbage\.gguf: header: not a GGUF file \(bad magic\)/ },
  { kind: 'exit code', name: 'a report path that is a directory', args: () => ['validate', p('dir.gguf'), '--out', p('out-dir')], message: /out-dir is a directory/ },
  { kind: 'exit code', name: 'an HTML path that is a directory', args: () => ['report', p('good-report.json'), '--html', p('out-dir')], message: /--html: .*out-dir is a directory/ },
  { kind: 'exit code', name: 'a report that is not JSON', args: () => ['check', p('not-json.json')], message: /not-json\.json: not valid JSON/ },
  { kind: 'exit code', name: 'a Hub that answers HTML', args: () => ['profile', 'org/repo:Q8_0'], env: () => ({ HF_ENDPOINT: `http://127.0.0.1:${htmlPort}` }), message: /127\.0\.0\.1:\d+ did not answer like a Hugging Face Hub \(not JSON/ },
  { kind: 'exit code', name: 'a Hub port that refuses', args: () => ['profile', 'org/repo:Q8_0'], env: () => ({ HF_ENDPOINT: 'http://127.0.0.1:9', MODEL_FIT_GATE_HTTP_TIMEOUT_SEC: '2' }), message: /127\.0\.0\.1:9/ },
  // Numbers out of range
  { kind: 'range', name: 'a run timeout past Node\'s timers', args: () => ['validate', p('dir.gguf'), '--run-timeout', '2147484'], message: /--run-timeout: expected whole seconds from 1 to 604800, got "2147484"/ },
  { kind: 'range', name: 'a disk budget that is not a size', args: () => ['validate', p('dir.gguf'), '--disk-budget', 'lots'], message: /--disk-budget: expected a size such as 50G/ },
  { kind: 'range', name: 'estimator-env naming a token', args: () => ['validate', p('dir.gguf'), '--estimator-env', 'HF_TOKEN'], message: /--estimator-env: HF_TOKEN: not passed to the estimator/ }
]

async function runCase(c: Case): Promise<{ exit: number | undefined; output: string }> {
  const args = await c.args()
  const t0 = performance.now()
  const r = await execa(process.execPath, ['--import', p('rss.mjs'), 'dist/cli.js', ...args], {
    cwd: ROOT,
    reject: false,
    timeout: CASE_TIMEOUT_MS,
    env: { ...process.env, MODEL_FIT_GATE_LLAMA_BIN: llamaBinDir(), MODEL_FIT_GATE_CACHE: p('cache'), HF_HUB_CACHE: p('hub'), ...(c.env?.() ?? {}) }
  })
  const ms = performance.now() - t0
  const output = `${String(r.stdout)}\n${String(r.stderr)}`
  const rssKb = Number(/maxrss_kb=(\d+)/.exec(output)?.[1] ?? 0)
  results.push({ kind: c.kind, name: c.name, exit: r.exitCode, ms, rssKb })
  expect(r.timedOut).toBe(false)
  expect(rssKb).toBeGreaterThan(0)
  expect(rssKb).toBeLessThan(MAX_RSS_KB)
  return { exit: r.exitCode, output }
}

describe('hostile input and environment', () => {
  beforeAll(async () => {
    await writeFile(p('good-report.json'), serializeReport(showcaseReport()))
  })

  test.each(CASES.map((c) => [`${c.kind}: ${c.name}`, c] as const))('%s', async (_label, c) => {
    const { exit, output } = await runCase(c)
    expect(c.exit ?? [2]).toContain(exit)
    expect(output).toMatch(c.message)
    expect(output).not.toMatch(/internal error \(a bug\)/)
    // Short, whatever was put in: no input is echoed whole.
    expect(output.length).toBeLessThan(4000)
  }, CASE_TIMEOUT_MS + 10_000)

  test('bad data: a hardware profile with a negative bandwidth', async () => {
    const { exit, output } = await runCase({ kind: 'bad data', name: 'a hardware profile with a negative bandwidth', args: async () => ['fit', await modelPath(), '--hardware', p('negative-hw.json')], message: /./ })
    expect(exit).toBe(2)
    expect(output).toMatch(/negative-hw\.json: measured\.decode_bandwidth_bytes_per_sec\.value: must be > 0, got -1/)
  }, CASE_TIMEOUT_MS)

  test.each([
    ['an estimator naming a model it was not asked about', 'unknown-ref.mjs', /\$\.predictions\[0\]\.ref: "not\/asked" is not a model it was asked about/],
    ['an estimator printing 40 MB', 'flood.mjs', /printed more than 16 MiB on stdout/],
    ['an estimator failing with 50 MB of stderr', 'stderr-flood.mjs', /exited with 1: e+… \(10000 characters\)/]
  ])('unbounded text: %s ends as an input error, before any benchmark, in a short message', async (_name, script, message) => {
    const { exit, output } = await runCase({
      kind: 'estimator',
      name: _name,
      args: async () => ['validate', await modelPath(), '--hardware', p('good-hw.json'), '--scenarios', 'steady_decode', '--out', p(`est-${script}/report.json`), '--estimator-command', `node ${p(script)}`],
      message
    })
    expect(exit).toBe(2)
    expect(output).toMatch(message)
    expect(output).not.toMatch(/steady_decode: run 1/)
    expect(output.length).toBeLessThan(8000)
  }, CASE_TIMEOUT_MS)
})
