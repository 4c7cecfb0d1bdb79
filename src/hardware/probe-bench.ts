// llama-bench runs of the probe, through src/bench's process runner and JSON parser. One process per model and
// round: its tests share one model load, and depth states are prefilled once per depth (llama-bench caches them).

import { join } from 'node:path'
import { readFile } from 'node:fs/promises'
import { parseLlamaBenchOutput, steadyNs, type LlamaBenchTest } from '../bench/llama-bench-json.js'
import { readLogTail } from '../bench/logs.js'
import { describeOutcome, runProcess } from '../bench/processes.js'
import { llamaWorkloadFlags } from '../bench/workload.js'
import type { Workload } from '../contracts/workload.js'
import { childEnv } from '../util/child-env.js'

/** A probe run of a tiny model takes a second; a large one on a slow machine a minute. */
export const PROBE_BENCH_TIMEOUT_SEC = 300

export interface BenchRequest {
  prompt?: number[]
  gen?: number[]
  depth?: number[]
  reps: number
  kvType?: string
  flashAttention?: boolean
  /**
   * -ngl values, each a test of its own (llama-bench runs every combination): the host and offload parts of a GPU
   * probe run the same model with every layer on the CPU and half of them on the GPU. Absent: the workload's.
   */
  gpuLayers?: number[]
  /** -nopo 1: no op offload (a prefill with every layer on the CPU then runs on the CPU, not the GPU). */
  noOpOffload?: boolean
}

export interface BenchTiming {
  nPrompt: number
  nGen: number
  nDepth: number
  nGpuLayers: number
  /** Wall time per token of the steady repetitions (steadyNs), ms. */
  msPerToken: number
}

/** llama-bench arguments for a probe request with the workload's batch shape, threads and offload. */
export function probeBenchArgs(modelPath: string, req: BenchRequest, w: Workload): string[] {
  const list = (xs: number[] | undefined, dflt: string) => (xs && xs.length > 0 ? xs.join(',') : dflt)
  const flags = llamaWorkloadFlags({ ...w, kv_type: req.kvType ?? w.kv_type, flash_attention: req.flashAttention ?? w.flash_attention })
  const ngl = flags.indexOf('-ngl')
  if (req.gpuLayers && req.gpuLayers.length > 0 && ngl >= 0) flags[ngl + 1] = req.gpuLayers.join(',')
  return [
    '-m', modelPath,
    '-p', list(req.prompt, '0'),
    '-n', list(req.gen, '0'),
    '-d', list(req.depth, '0'),
    '-r', String(req.reps),
    ...flags,
    ...(req.noOpOffload ? ['-nopo', '1'] : []),
    '-o', 'jsonl'
  ]
}

/**
 * Pure: ms per token of each test's steady repetitions (steadyNs: the median after the first, which runs slow), the
 * same rule the scenarios' observations follow, so a fact and an observation measure the same state of a run.
 */
export function benchTimings(tests: readonly LlamaBenchTest[]): BenchTiming[] {
  return tests
    .filter((t) => t.nPrompt + t.nGen > 0)
    .map((t) => ({ nPrompt: t.nPrompt, nGen: t.nGen, nDepth: t.nDepth, nGpuLayers: t.nGpuLayers, msPerToken: steadyNs(t) / 1e6 / (t.nPrompt + t.nGen) }))
}

/** The test of a shape (and of an -ngl, when asked: a run of several -ngl values has a test per value). */
export function findTiming(timings: readonly BenchTiming[], want: { nPrompt?: number; nGen?: number; nDepth?: number; nGpuLayers?: number }): BenchTiming {
  const t = timings.find(
    (x) => x.nPrompt === (want.nPrompt ?? 0) && x.nGen === (want.nGen ?? 0) && x.nDepth === (want.nDepth ?? 0) && (want.nGpuLayers === undefined || x.nGpuLayers === want.nGpuLayers)
  )
  if (!t) throw new Error(`probe: llama-bench printed no test p${want.nPrompt ?? 0}/n${want.nGen ?? 0}/d${want.nDepth ?? 0}${want.nGpuLayers !== undefined ? `/ngl${want.nGpuLayers}` : ''}`)
  return t
}

/** Runs llama-bench once; throws with the log tail when it fails. */
export async function runProbeBench(
  binDir: string,
  modelPath: string,
  req: BenchRequest,
  w: Workload,
  logDir: string,
  label: string
): Promise<{ timings: BenchTiming[]; tests: LlamaBenchTest[] }> {
  const stdoutPath = join(logDir, `${label}.json`)
  const stderrPath = join(logDir, `${label}.log`)
  const outcome = await runProcess({
    env: childEnv('llama'),
    file: join(binDir, 'llama-bench'),
    args: probeBenchArgs(modelPath, req, w),
    stdoutPath,
    stderrPath,
    timeoutSec: PROBE_BENCH_TIMEOUT_SEC,
    label: `probe ${label}`
  })
  if (outcome.spawnError || outcome.timedOut || outcome.signal || outcome.exitCode !== 0) {
    throw new Error(`probe ${label}: ${describeOutcome('llama-bench', outcome, PROBE_BENCH_TIMEOUT_SEC)}\n${(await readLogTail(stderrPath)).join('\n')}`)
  }
  const tests = parseLlamaBenchOutput(await readFile(stdoutPath, 'utf8'), stdoutPath)
  return { timings: benchTimings(tests), tests }
}
