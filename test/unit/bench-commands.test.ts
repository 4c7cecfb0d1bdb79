import { describe, expect, it } from '@jest/globals'
import { benchRunPaths, llamaBenchArgs } from '../../src/bench/bench-scenarios.js'
import { parseDeviceBackends, parseVersionText } from '../../src/bench/build-info.js'
import { describeOutcome } from '../../src/bench/processes.js'
import { serverArgs } from '../../src/bench/server.js'
import { firstTokenRequest, primeRequest, reuseRequest } from '../../src/bench/server-scenarios.js'
import { defaultWorkload } from '../../src/bench/workload.js'

const w = defaultWorkload({ threads: 3, decode_depth: 128, kv_type: 'q8_0', flash_attention: true })

/** Flag → value pairs of a command line (flags without a value map to true). */
function flags(args: string[]): Record<string, string | true> {
  const out: Record<string, string | true> = {}
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string
    const next = args[i + 1]
    if (next !== undefined && !next.startsWith('-')) {
      out[a] = next
      i++
    } else out[a] = true
  }
  return out
}

describe('llama-bench command lines', () => {
  it('steady_decode times generation only, at the workload depth, a settling repetition then the sample', () => {
    expect(flags(llamaBenchArgs('/m/a.gguf', 'steady_decode', w))).toEqual({
      '-m': '/m/a.gguf',
      '-p': '0',
      '-n': '64',
      '-d': '128',
      '-r': '2',
      '-t': '3',
      '-ngl': '99',
      '-b': '2048',
      '-ub': '512',
      '-ctk': 'q8_0',
      '-ctv': 'q8_0',
      '-fa': 'on',
      '-o': 'jsonl'
    })
  })

  it('prefill times the prompt only, from an empty cache', () => {
    const f = flags(llamaBenchArgs('/m/a.gguf', 'prefill', defaultWorkload({ threads: 2 })))
    expect([f['-p'], f['-n'], f['-d'], f['-fa']]).toEqual(['512', '0', '0', 'off'])
  })

  it('prefill at depth appends the prompt to the cached tokens (long context)', () => {
    const f = flags(llamaBenchArgs('/m/a.gguf', 'prefill', defaultWorkload({ threads: 2, context_tokens: 17000, prefill_depth: 16384, kv_type: 'q8_0', flash_attention: true })))
    expect([f['-p'], f['-n'], f['-d'], f['-ctk'], f['-fa']]).toEqual(['512', '0', '16384', 'q8_0', 'on'])
  })

  it('names log files per run, warm-ups apart', () => {
    expect(benchRunPaths('/l/m/prefill', { index: 0, warmup: true, number: 1 })).toEqual({
      stdoutPath: '/l/m/prefill/warmup-1.json',
      stderrPath: '/l/m/prefill/warmup-1.log'
    })
    expect(benchRunPaths('/l/m/prefill', { index: 3, warmup: false, number: 3 }).stderrPath).toBe('/l/m/prefill/run-03.log')
  })
})

describe('llama-server command line', () => {
  it('loads the workload into one slot on localhost, without the RAM prompt cache, logging the buffer sizes (-lv 4)', () => {
    expect(flags(serverArgs('/m/a.gguf', w, 40123))).toEqual({
      '-m': '/m/a.gguf',
      '--host': '127.0.0.1',
      '--port': '40123',
      '-c': '4096',
      '-t': '3',
      '-ngl': '99',
      '-b': '2048',
      '-ub': '512',
      '-ctk': 'q8_0',
      '-ctv': 'q8_0',
      '-fa': 'on',
      '-np': '1',
      '--cache-ram': '0',
      '--metrics': true,
      '--slots': true,
      '--no-webui': true,
      '-lv': '4'
    })
  })
})

describe('server requests', () => {
  it('first_token: fresh prompt, no cache, greedy, the first token plus one decode step', () => {
    expect(firstTokenRequest([11, 12])).toEqual({
      prompt: [11, 12],
      n_predict: 2,
      cache_prompt: false,
      timings_per_token: true,
      samplers: ['top_k'],
      top_k: 1,
      seed: 42,
      ignore_eos: true
    })
  })

  it('kv_warm_reuse: prime slot 0 with the prefix, then send prefix + suffix to the same slot', () => {
    expect(primeRequest([11, 12])).toMatchObject({ prompt: [11, 12], n_predict: 0, cache_prompt: true, id_slot: 0 })
    expect(reuseRequest([11, 12], [13], 32)).toMatchObject({ prompt: [11, 12, 13], n_predict: 32, cache_prompt: true, id_slot: 0, ignore_eos: true })
  })
})

describe('build info parsing', () => {
  it('reads commit and build number from --version', () => {
    const text = 'version: 0.5.0-dev (build 1, commit de3ff81)\nbuilt with GNU 12.2.0 for Linux x86_64\n'
    expect(parseVersionText(text)).toEqual({ commit: 'de3ff81', buildNumber: 1 })
    expect(parseVersionText('version: 7 (abc1234)\n')).toBeNull()
    expect(parseVersionText('version: 7 (commit abc1234)')).toEqual({ commit: 'abc1234', buildNumber: null })
  })

  it('names the backend from --list-devices', () => {
    expect(parseDeviceBackends('Available devices:\n  (none)\n')).toBe('CPU')
    expect(parseDeviceBackends('Available devices:\n  CUDA0: NVIDIA GeForce RTX 5080 (16302 MiB, 15800 MiB free)\n  CUDA1: NVIDIA X (1 MiB, 1 MiB free)\n')).toBe('CUDA')
    expect(parseDeviceBackends('Available devices:\n  MTL0: Apple M1 Ultra (98304 MiB, 98303 MiB free)\n')).toBe('Metal')
    expect(parseDeviceBackends('Available devices:\n  Vulkan0: AMD (8192 MiB, 8000 MiB free)\n  CUDA0: N (1 MiB, 1 MiB free)\n')).toBe('Vulkan,CUDA')
  })
})

describe('describeOutcome', () => {
  const base = { exitCode: null, signal: null, timedOut: false, spawnError: null, durationMs: 1 }
  it('says how a process ended, the timeout first', () => {
    expect(describeOutcome('llama-bench', { ...base, timedOut: true, signal: 'SIGTERM' }, 2)).toBe('llama-bench timed out after 2 s')
    expect(describeOutcome('llama-bench', { ...base, signal: 'SIGKILL' })).toBe('llama-bench was killed by SIGKILL (out of memory?)')
    expect(describeOutcome('llama-bench', { ...base, signal: 'SIGSEGV' })).toBe('llama-bench was killed by SIGSEGV')
    expect(describeOutcome('llama-bench', { ...base, exitCode: 1 })).toBe('llama-bench exited with code 1')
    expect(describeOutcome('llama-server', { ...base, spawnError: 'spawn /x ENOENT' })).toBe('llama-server could not be started: spawn /x ENOENT')
  })
})
