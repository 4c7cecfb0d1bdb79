// Faults end as observations with a reason, never as a throw, and never leave a process running.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { execa } from 'execa'
import { liveProcesses } from '../../src/bench/processes.js'
import { runScenarios, type RunScenarioOptions } from '../../src/bench/runner.js'
import { defaultWorkload } from '../../src/bench/workload.js'
import { llamaBinDir } from '../helpers/llama.js'

const workload = defaultWorkload({
  context_tokens: 256,
  decode_tokens: 8,
  prefill_tokens: 32,
  first_token_prompt_tokens: 16,
  warm_prefix_tokens: 32,
  warm_suffix_tokens: 4,
  warm_decode_tokens: 4,
  ubatch: 32,
  batch: 64,
  threads: 1
})

let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bench-faults-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

function options(binDir: string, name: string, runTimeoutSec = 60): RunScenarioOptions {
  return {
    binDir,
    logsDir: join(dir, name, 'logs'),
    runTimeoutSec,
    vocabSize: 1024,
    repeat: { min: 1, max: 1, targetSpread: 0.1, budgetSec: 60, warmup: 0 },
    log: () => undefined
  }
}

async function fakeBin(name: string, files: Record<string, string>): Promise<string> {
  const bin = join(dir, name, 'bin')
  await mkdir(bin, { recursive: true })
  for (const [file, text] of Object.entries(files)) {
    await writeFile(join(bin, file), text)
    await chmod(join(bin, file), 0o755)
  }
  return bin
}

/** Lines of the process table that mention `needle` (ps itself excluded). */
async function processesMentioning(needle: string): Promise<string[]> {
  const { stdout } = await execa('ps', ['-eo', 'pid,pgid,stat,args'])
  return stdout.split('\n').filter((l) => l.includes(needle) && !l.includes('ps -eo'))
}

describe('a hanging llama-bench', () => {
  test('is killed with its child after the run timeout and reported as timed out', async () => {
    // A unique sleep length marks this test's processes in the process table.
    const marker = String(900_000 + Math.floor(Math.random() * 99_999))
    const bin = await fakeBin('hang', {
      'llama-bench': `#!/bin/sh\nsleep ${marker} &\necho "fake llama-bench: hanging" >&2\nsleep ${marker}\n`
    })
    const t0 = performance.now()
    const [obs] = await runScenarios('/nonexistent/model.gguf', ['steady_decode'], workload, options(bin, 'hang', 2))
    const tookSec = (performance.now() - t0) / 1000
    expect(obs?.observed).toBeNull()
    expect(obs?.error?.reason).toBe('llama-bench timed out after 2 s')
    expect(obs?.error?.log_tail).toContain('fake llama-bench: hanging')
    expect(tookSec).toBeLessThan(15)
    expect(await processesMentioning(`sleep ${marker}`)).toEqual([])
    expect(await processesMentioning(join(dir, 'hang'))).toEqual([])
    expect(liveProcesses()).toEqual([])
  }, 60_000)
})

describe('a llama-server that dies during a request', () => {
  test('fails the scenarios with the reason, restarts for the next one, and leaves nothing running', async () => {
    // Answers /health like a loaded server, then SIGKILLs itself on the first /completion (as the OOM killer would).
    const server = `#!${process.execPath}
const http = require('node:http')
const port = Number(process.argv[process.argv.indexOf('--port') + 1])
http.createServer((req, res) => {
  if (req.url === '/health') { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"status":"ok"}'); return }
  process.stderr.write('fake llama-server: crashing on ' + req.url + '\\n')
  process.kill(process.pid, 'SIGKILL')
}).listen(port, '127.0.0.1', () => process.stderr.write('fake llama-server: listening on ' + port + '\\n'))
`
    const bin = await fakeBin('crash', { 'llama-server': server })
    const obs = await runScenarios('/nonexistent/model.gguf', ['first_token', 'kv_warm_reuse'], workload, options(bin, 'crash'))
    for (const [o, scenario] of [
      [obs[0], 'first_token'],
      [obs[1], 'kv_warm_reuse']
    ] as const) {
      expect(o?.scenario).toBe(scenario)
      expect(o?.observed).toBeNull()
      expect(o?.error?.reason).toMatch(new RegExp(`^llama-server was killed by SIGKILL \\(out of memory\\?\\) during ${scenario}: POST /completion failed`))
      expect(o?.error?.log_tail.at(-1)).toBe('fake llama-server: crashing on /completion')
      expect(o?.logs).toEqual([expect.stringMatching(/^logs\/model-[0-9a-f]{8}\/server\/llama-server\.log$/)])
    }
    expect(await processesMentioning(join(dir, 'crash'))).toEqual([])
    expect(liveProcesses()).toEqual([])
  }, 60_000)
})

describe('llama.cpp that cannot run the model', () => {
  test('a model llama-bench cannot load: the exit code and its error line', async () => {
    const bad = join(dir, 'not-a-model.gguf')
    await writeFile(bad, 'this is not a GGUF file\n')
    const [obs] = await runScenarios(bad, ['prefill'], workload, options(llamaBinDir(), 'badmodel'))
    expect(obs?.error?.reason).toBe('llama-bench exited with code 1')
    expect(obs?.error?.log_tail.join('\n')).toContain('failed to load model')
    expect(obs?.repeats).toBe(0)
  }, 60_000)

  test('a model llama-server cannot load: it exits before it is ready, both server scenarios say so', async () => {
    const bad = join(dir, 'not-a-model-either.gguf')
    await writeFile(bad, 'GGUF but not really\n')
    const obs = await runScenarios(bad, ['first_token', 'kv_warm_reuse'], workload, options(llamaBinDir(), 'badserver'))
    for (const o of obs) {
      expect(o.error?.reason).toBe('llama-server exited with code 1 before it was ready')
      expect(o.error?.log_tail.length).toBeGreaterThan(0)
    }
    expect(liveProcesses()).toEqual([])
  }, 120_000)

  test('missing binaries: the spawn error, for llama-bench and llama-server', async () => {
    const empty = await fakeBin('empty', {})
    const obs = await runScenarios('/m.gguf', ['steady_decode', 'first_token'], workload, options(empty, 'empty'))
    expect(obs[0]?.error?.reason).toMatch(/^llama-bench could not be started: .*ENOENT/)
    expect(obs[1]?.error?.reason).toMatch(/^llama-server could not be started: .*ENOENT.* before it was ready$/)
  }, 60_000)
})

describe('cancellation', () => {
  test('SIGTERM to our process kills the live llama.cpp groups before it exits', async () => {
    const marker = String(800_000 + Math.floor(Math.random() * 99_999))
    const script = join(dir, 'cancel.mjs')
    // processes.ts has no relative imports, so Node can load it directly (type stripping).
    await writeFile(
      script,
      `const { describeOutcome, installSignalCleanup, startProcess } = await import(process.argv[2])
installSignalCleanup((code) => void p.done.then((o) => { console.error('reason: ' + describeOutcome('llama-bench', o)); process.exit(code) }))
const p = startProcess({ file: 'sh', args: ['-c', 'sleep ${marker} & sleep ${marker}'], stdoutPath: '${join(dir, 'cancel.log')}', stderrPath: '${join(dir, 'cancel.log')}', env: { PATH: process.env.PATH } })
console.log(String(p.pid))
setInterval(() => {}, 1000)
`
    )
    const processesTs = join(import.meta.dirname, '..', '..', 'src', 'bench', 'processes.ts')
    const child = execa(process.execPath, [script, processesTs], { reject: false })
    const pgid = await new Promise<number>((resolve, reject) => {
      child.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString().trim())))
      void child.then((r) => reject(new Error(`child exited early: ${r.exitCode}`)))
    })
    expect(pgid).toBeGreaterThan(0)
    while ((await processesMentioning(`sleep ${marker}`)).length < 2) await new Promise((r) => setTimeout(r, 50))
    child.kill('SIGTERM')
    const r = await child
    expect(r.exitCode).toBe(143)
    expect(await processesMentioning(`sleep ${marker}`)).toEqual([])
    // Its children died of the cancel, and say so: not "killed by SIGKILL (out of memory?)".
    expect(String(r.stderr)).toMatch(/reason: llama-bench was stopped: model-fit-gate received SIGTERM \(the run was cancelled\)/)
  }, 60_000)
})
