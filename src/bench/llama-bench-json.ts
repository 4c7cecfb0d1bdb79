// Pure parser for `llama-bench -o jsonl` output (tools/llama-bench/llama-bench.cpp, jsonl_printer): one JSON object
// per line, one line per test (model × parameter combination). JSON lines rather than `-o json`'s single array,
// because a backend or driver that prints to stdout (some do, at load) breaks a whole-document parse; here such lines
// are skipped, and a test is any line that is a JSON object. An array (`-o json`) is still read whole.
// Fields read here, and nothing else (unknown fields are ignored, so newer llama-bench builds that add fields still
// parse):
//   build_commit  string   short commit hash of the llama.cpp build ("de3ff81")
//   build_number  integer  llama.cpp build number (1 for the node-llama-cpp bundle)
//   backends      string   backends in use, comma-separated ("CPU", "CUDA", "Metal")
//   cpu_info      string   CPU description
//   gpu_info      string   GPU description ("" on CPU-only builds)
//   n_prompt      integer  prompt tokens per timed run (-p)
//   n_gen         integer  generated tokens per timed run (-n)
//   n_depth       integer  tokens prefilled before each timed run, not timed (-d)
//   n_threads, n_batch, n_ubatch, n_gpu_layers, flash_attn (-1 auto, 0 off, 1 on): integers, the settings echoed
//   type_k, type_v  string  KV cache types
//   avg_ts        number   mean tokens/s over the repetitions, tokens = n_prompt + n_gen
//   samples_ts    number[] tokens/s of each repetition (-r), same order as samples_ns
//   samples_ns    number[] wall time of each repetition in ns
// A missing or mistyped field is an error naming the test index and the field.

import { errorMessage } from '../util/errors.js'
import { median } from '../util/stats.js'

/** Output that is not what llama-bench prints: names the source (log path) and the field. */
export class LlamaBenchOutputError extends Error {
  constructor(source: string, where: string | null, message: string) {
    super(where ? `${source}: ${where}: ${message}` : `${source}: ${message}`)
    this.name = 'LlamaBenchOutputError'
  }
}

export interface LlamaBenchTest {
  buildCommit: string
  buildNumber: number
  backends: string
  cpuInfo: string
  gpuInfo: string
  nPrompt: number
  nGen: number
  nDepth: number
  nThreads: number
  nBatch: number
  nUbatch: number
  nGpuLayers: number
  flashAttn: number
  typeK: string
  typeV: string
  avgTokPerSec: number
  samplesTokPerSec: number[]
  samplesNs: number[]
}

type Obj = Record<string, unknown>

function field(obj: Obj, key: string, source: string, where: string): unknown {
  if (!(key in obj)) throw new LlamaBenchOutputError(source, `${where}.${key}`, 'missing')
  return obj[key]
}

function str(obj: Obj, key: string, source: string, where: string): string {
  const v = field(obj, key, source, where)
  if (typeof v !== 'string') throw new LlamaBenchOutputError(source, `${where}.${key}`, `expected a string, got ${JSON.stringify(v)}`)
  return v
}

function int(obj: Obj, key: string, source: string, where: string): number {
  const v = field(obj, key, source, where)
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new LlamaBenchOutputError(source, `${where}.${key}`, `expected an integer, got ${JSON.stringify(v)}`)
  }
  return v
}

function num(obj: Obj, key: string, source: string, where: string): number {
  const v = field(obj, key, source, where)
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new LlamaBenchOutputError(source, `${where}.${key}`, `expected a finite number, got ${JSON.stringify(v)}`)
  }
  return v
}

function nums(obj: Obj, key: string, source: string, where: string): number[] {
  const v = field(obj, key, source, where)
  if (!Array.isArray(v)) throw new LlamaBenchOutputError(source, `${where}.${key}`, 'expected an array of numbers')
  return v.map((x, i) => {
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw new LlamaBenchOutputError(source, `${where}.${key}[${i}]`, `expected a finite number, got ${JSON.stringify(x)}`)
    }
    return x
  })
}

/** The test objects in llama-bench's stdout: a JSON array (`-o json`), else every line that is a JSON object. */
function testObjects(text: string, source: string): unknown[] {
  const trimmed = text.trim()
  if (trimmed.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(trimmed)
      if (Array.isArray(parsed)) return parsed
    } catch (err) {
      throw new LlamaBenchOutputError(source, null, `no complete JSON (llama-bench stopped before finishing?): ${errorMessage(err)}`)
    }
  }
  const tests: unknown[] = []
  for (const line of trimmed.split('\n')) {
    const s = line.trim()
    if (!s.startsWith('{')) continue
    try {
      const parsed: unknown = JSON.parse(s)
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) tests.push(parsed)
    } catch {
      // A line that only looks like JSON (a backend's message, a line cut by a crash): not a test.
    }
  }
  return tests
}

/**
 * Parses the stdout of `llama-bench -o jsonl` (or `-o json`). `source` names where the text came from (a log path)
 * for errors. Lines that are not JSON objects are skipped; no test at all is a LlamaBenchOutputError (a crash before
 * the first result, or output that is not llama-bench's).
 */
export function parseLlamaBenchOutput(text: string, source: string): LlamaBenchTest[] {
  if (text.trim() === '') throw new LlamaBenchOutputError(source, null, 'empty output (llama-bench printed no results)')
  const parsed = testObjects(text, source)
  if (parsed.length === 0) throw new LlamaBenchOutputError(source, null, 'no test results on stdout (llama-bench stopped before finishing?)')
  return parsed.map((t, i) => {
    const where = `[${i}]`
    if (typeof t !== 'object' || t === null || Array.isArray(t)) {
      throw new LlamaBenchOutputError(source, where, 'expected an object')
    }
    const o = t as Obj
    const test: LlamaBenchTest = {
      buildCommit: str(o, 'build_commit', source, where),
      buildNumber: int(o, 'build_number', source, where),
      backends: str(o, 'backends', source, where),
      cpuInfo: str(o, 'cpu_info', source, where),
      gpuInfo: str(o, 'gpu_info', source, where),
      nPrompt: int(o, 'n_prompt', source, where),
      nGen: int(o, 'n_gen', source, where),
      nDepth: int(o, 'n_depth', source, where),
      nThreads: int(o, 'n_threads', source, where),
      nBatch: int(o, 'n_batch', source, where),
      nUbatch: int(o, 'n_ubatch', source, where),
      nGpuLayers: int(o, 'n_gpu_layers', source, where),
      flashAttn: int(o, 'flash_attn', source, where),
      typeK: str(o, 'type_k', source, where),
      typeV: str(o, 'type_v', source, where),
      avgTokPerSec: num(o, 'avg_ts', source, where),
      samplesTokPerSec: nums(o, 'samples_ts', source, where),
      samplesNs: nums(o, 'samples_ns', source, where)
    }
    if (test.samplesTokPerSec.length === 0) throw new LlamaBenchOutputError(source, `${where}.samples_ts`, 'no samples')
    if (test.samplesTokPerSec.length !== test.samplesNs.length) {
      throw new LlamaBenchOutputError(source, `${where}.samples_ts`, `${test.samplesTokPerSec.length} samples but samples_ns has ${test.samplesNs.length}`)
    }
    return test
  })
}

/**
 * The steady time of a test, ns: the median of its repetitions after the first. llama-bench warms up with a single
 * token before timing; on CPU the first timed repetition after that still runs slow (first touch of KV and compute
 * pages, thread pool and clocks settling) — measured 574 against 1112 tok/s on a 35 MiB model, 170 against 224 on a
 * 220 MiB one — while the repetitions after it agree within a few percent. With one repetition there is nothing else.
 */
export function steadyNs(t: LlamaBenchTest): number {
  return median(t.samplesNs.length > 1 ? t.samplesNs.slice(1) : t.samplesNs)
}
