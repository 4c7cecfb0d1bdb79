// steady_decode and prefill through llama-bench.
//
// Repeats are separate processes: every sample is one fresh `llama-bench -r 2` (its own model load, its own
// built-in one-token warm-up, a first timed run that still runs slow on CPU, then the timed run that is the sample:
// see steadyNs), and the first process is a discarded warm-up (page cache, clocks). Samples taken inside one
// process share allocator, cache and thermal state, which makes `-r` samples look steadier than separate runs are;
// separate processes measure what a user's fresh run sees once it has settled.

import { llamaWorkloadFlags } from './workload.js'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Workload } from '../contracts/workload.js'
import { parseLlamaBenchOutput, steadyNs } from './llama-bench-json.js'
import { readLogTail } from './logs.js'
import { RunFailure } from './observation.js'
import { describeOutcome, runProcess } from './processes.js'
import type { Measurement, RunId } from './repeats.js'
import { childEnv } from '../util/child-env.js'

export type BenchScenario = 'steady_decode' | 'prefill'

/** Timed repetitions inside one llama-bench process: the settling one, then the sample (see the file comment). */
export const LLAMA_BENCH_REPETITIONS = 2

/** The llama-bench command line (flags as in tools/llama-bench/llama-bench.cpp of the pinned build). */
export function llamaBenchArgs(modelPath: string, scenario: BenchScenario, w: Workload): string[] {
  const shape =
    scenario === 'steady_decode'
      ? ['-p', '0', '-n', String(w.decode_tokens), '-d', String(w.decode_depth)]
      : ['-p', String(w.prefill_tokens), '-n', '0', '-d', String(w.prefill_depth ?? 0)]
  return [
    '-m', modelPath,
    ...shape,
    '-r', String(LLAMA_BENCH_REPETITIONS),
    ...llamaWorkloadFlags(w),
    '-o', 'jsonl'
  ]
}

export interface BenchRunPaths {
  stdoutPath: string
  stderrPath: string
}

/** Log file names of one run in the scenario's log folder. */
export function benchRunPaths(scenarioLogDir: string, run: RunId): BenchRunPaths {
  const name = run.warmup ? `warmup-${run.number}` : `run-${String(run.number).padStart(2, '0')}`
  return { stdoutPath: join(scenarioLogDir, `${name}.json`), stderrPath: join(scenarioLogDir, `${name}.log`) }
}

/** One llama-bench process → one sample (tok/s); a failure of any kind throws RunFailure with the log tail. */
export async function measureWithLlamaBench(
  binDir: string,
  modelPath: string,
  scenario: BenchScenario,
  w: Workload,
  paths: BenchRunPaths,
  timeoutSec: number
): Promise<Measurement> {
  const outcome = await runProcess({
    env: childEnv('llama'),
    file: join(binDir, 'llama-bench'),
    args: llamaBenchArgs(modelPath, scenario, w),
    stdoutPath: paths.stdoutPath,
    stderrPath: paths.stderrPath,
    timeoutSec,
    label: 'llama-bench'
  })
  if (outcome.spawnError || outcome.timedOut || outcome.signal || outcome.exitCode !== 0) {
    throw new RunFailure(describeOutcome('llama-bench', outcome, timeoutSec), await readLogTail(paths.stderrPath))
  }
  let tests
  try {
    tests = parseLlamaBenchOutput(await readFile(paths.stdoutPath, 'utf8'), paths.stdoutPath)
  } catch (err) {
    throw new RunFailure(err instanceof Error ? err.message : String(err), await readLogTail(paths.stderrPath))
  }
  const t = tests[0]
  const wantPrompt = scenario === 'prefill' ? w.prefill_tokens : 0
  const wantGen = scenario === 'steady_decode' ? w.decode_tokens : 0
  const wantDepth = scenario === 'steady_decode' ? w.decode_depth : (w.prefill_depth ?? 0)
  if (tests.length !== 1 || !t || t.nPrompt !== wantPrompt || t.nGen !== wantGen || t.nDepth !== wantDepth) {
    const got = tests.map((x) => `p${x.nPrompt}/n${x.nGen}/d${x.nDepth}`).join(', ')
    throw new RunFailure(`${paths.stdoutPath}: expected one test p${wantPrompt}/n${wantGen}/d${wantDepth}, got ${got}`, [])
  }
  const ms = steadyNs(t) / 1e6
  const tokPerSec = ((wantPrompt + wantGen) * 1000) / ms
  const breakdown: Record<string, number> =
    scenario === 'prefill'
      ? { prefill_ms: ms, ms_per_token: ms / wantPrompt, depth_tokens: wantDepth }
      : { decode_ms: ms, ms_per_token: ms / wantGen, depth_tokens: wantDepth }
  return { value: tokPerSec, breakdown }
}
