import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { LlamaBenchOutputError, parseLlamaBenchOutput, steadyNs } from '../../src/bench/llama-bench-json.js'

// Fixtures are the stdout of the real llama-bench (commit de3ff81, CPU) on a tiny synthetic model.
const fixture = (name: string) => readFileSync(join(import.meta.dirname, '..', 'fixtures', 'bench', name), 'utf8')

describe('parseLlamaBenchOutput', () => {
  it('reads a steady-decode run with three repetitions', () => {
    const [t, ...rest] = parseLlamaBenchOutput(fixture('steady-decode-r3.json'), 'sd.json')
    expect(rest).toEqual([])
    expect(t).toMatchObject({ buildCommit: 'de3ff81', buildNumber: 1, backends: 'CPU', cpuInfo: 'AMD EPYC', gpuInfo: '' })
    expect(t).toMatchObject({ nPrompt: 0, nGen: 32, nDepth: 0, nThreads: 2, typeK: 'f16', typeV: 'f16' })
    expect(t?.samplesTokPerSec).toEqual([429.97, 30.8845, 35.8251])
    expect(t?.samplesNs).toHaveLength(3)
    // tokens/s of each sample is (n_prompt + n_gen) / seconds, as llama-bench computes it
    expect((32 * 1e9) / (t?.samplesNs[1] as number)).toBeCloseTo(30.8845, 3)
  })

  it('reads a prefill run and the settings it echoes', () => {
    const [t] = parseLlamaBenchOutput(fixture('prefill-r1.json'), 'pp.json')
    expect(t).toMatchObject({ nPrompt: 128, nGen: 0, nUbatch: 512, nBatch: 2048, nGpuLayers: 99, flashAttn: 0 })
    expect(t?.avgTokPerSec).toBeCloseTo(135.026246, 5)
  })

  it('reads depth, flash attention and quantized KV settings', () => {
    const [t] = parseLlamaBenchOutput(fixture('steady-decode-depth64-fa-q8.json'), 'd.json')
    expect(t).toMatchObject({ nDepth: 64, nGen: 16, flashAttn: 1, typeK: 'q8_0', typeV: 'q8_0' })
  })

  it('returns every test of a multi-test run in order', () => {
    const tests = parseLlamaBenchOutput(fixture('two-tests.json'), 'two.json')
    expect(tests.map((t) => [t.nPrompt, t.nGen, t.samplesTokPerSec.length])).toEqual([
      [32, 0, 2],
      [0, 8, 2]
    ])
  })

  it('ignores fields it does not know', () => {
    const text = fixture('prefill-r1.json').replace('"build_commit"', '"a_future_field": {"x": [1, 2]},\n    "build_commit"')
    expect(parseLlamaBenchOutput(text, 'pp.json')[0]?.nPrompt).toBe(128)
  })

  it('names the test and the field that is missing', () => {
    const text = fixture('prefill-r1.json').replace(/"avg_ts": [^\n]*\n/, '')
    expect(() => parseLlamaBenchOutput(text, 'run-01.json')).toThrow(new LlamaBenchOutputError('run-01.json', '[0].avg_ts', 'missing'))
  })

  it('names a mistyped field', () => {
    const text = fixture('prefill-r1.json').replace('"n_prompt": 128', '"n_prompt": "128"')
    expect(() => parseLlamaBenchOutput(text, 'x.json')).toThrow('x.json: [0].n_prompt: expected an integer, got "128"')
  })

  it('rejects a non-numeric sample', () => {
    const text = fixture('prefill-r1.json').replace('"samples_ts": [ 135.026 ]', '"samples_ts": [ null ]')
    expect(() => parseLlamaBenchOutput(text, 'x.json')).toThrow('x.json: [0].samples_ts[0]: expected a finite number, got null')
  })

  it('reports the output of a run that died before printing results', () => {
    // llama-bench prints "[" before loading the model; a failed load exits there.
    expect(() => parseLlamaBenchOutput(fixture('load-failure-stdout.json'), 'fail.json')).toThrow(/^fail\.json: no complete JSON/)
  })

  it('reports empty output and an empty result list', () => {
    expect(() => parseLlamaBenchOutput('  \n', 'e.json')).toThrow('e.json: empty output (llama-bench printed no results)')
    expect(() => parseLlamaBenchOutput('[]', 'e.json')).toThrow('e.json: no test results on stdout')
    expect(() => parseLlamaBenchOutput('ggml_cuda_init: found 1 CUDA devices\n', 'e.json')).toThrow('e.json: no test results on stdout')
    expect(() => parseLlamaBenchOutput('{"a":1}', 'e.json')).toThrow('e.json: [0].build_commit: missing')
  })

  it('reads JSON lines (-o jsonl) among lines a backend printed on stdout', () => {
    const tests = JSON.parse(fixture('two-tests.json')) as unknown[]
    const noisy = [
      'ggml_cuda_init: found 1 CUDA devices:',
      '  Device 0: NVIDIA H200, compute capability 9.0, VMM: yes',
      JSON.stringify(tests[0]),
      '{ not json, but a backend message in braces }',
      JSON.stringify(tests[1]),
      'llama_perf_context_print: load time = 1.00 ms',
      '{"build_commit": "de3ff81", "cut_by_a_cra'
    ].join('\n')
    expect(parseLlamaBenchOutput(noisy, 'noisy.jsonl')).toEqual(parseLlamaBenchOutput(fixture('two-tests.json'), 'two.json'))
  })

  it('rejects sample lists of different lengths', () => {
    const text = fixture('steady-decode-r3.json').replace('"samples_ts": [ 429.97, 30.8845, 35.8251 ]', '"samples_ts": [ 429.97 ]')
    expect(() => parseLlamaBenchOutput(text, 's.json')).toThrow('s.json: [0].samples_ts: 1 samples but samples_ns has 3')
  })
})

describe('steadyNs', () => {
  const withSamples = (samplesNs: number[]) => ({ ...parseLlamaBenchOutput(fixture('steady-decode-r3.json'), 'sd.json')[0]!, samplesNs })

  it('skips the first timed repetition, which runs slow, and takes the median of the rest', () => {
    expect(steadyNs(withSamples([200e6, 100e6, 104e6]))).toBe(102e6)
    expect(steadyNs(withSamples([200e6, 100e6, 130e6, 104e6]))).toBe(104e6)
    expect(steadyNs(withSamples([200e6, 100e6]))).toBe(100e6)
  })

  it('uses the only repetition when there is one', () => {
    expect(steadyNs(withSamples([150e6]))).toBe(150e6)
  })
})
