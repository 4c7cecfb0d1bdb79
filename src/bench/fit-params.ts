// llama.cpp's own memory projection: `llama-fit-params --fit-print on` loads a model with the `no_alloc` model
// parameter (metadata only, allocations simulated by the engine's own allocator) and prints, per device and for the
// host, the weights, the context (KV caches and recurrent state) and the compute buffer it would allocate
// (common_fit_print in common/fit.cpp). It reads no weights: a sparse file that holds only the real header at the
// real size projects the same as the whole model.

import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Workload } from '../contracts/workload.js'
import { childEnv } from '../util/child-env.js'
import { readLogTail } from './logs.js'
import { describeOutcome, runProcess } from './processes.js'
import { llamaWorkloadFlags } from './workload.js'

/** A projection takes a second; a model with thousands of tensors on a slow disk a few. */
export const FIT_PARAMS_TIMEOUT_SEC = 60
const MIB = 1024 * 1024

/** One line of the projection, bytes. llama.cpp prints whole MiB, rounded down (size / 1024 / 1024 in integers). */
export interface ProjectedBuffers {
  /** "Host", or a device name ("CUDA0", "Metal"). */
  device: string
  model_bytes: number
  /** KV caches and recurrent state together. */
  context_bytes: number
  compute_bytes: number
}

/** Parses `llama-fit-params --fit-print on` stdout ("CUDA0 900 64 300", "Host 46 13 89"); throws without a Host line. */
export function parseFitPrint(text: string, source = 'llama-fit-params'): ProjectedBuffers[] {
  const out: ProjectedBuffers[] = []
  for (const line of text.split(/\r?\n/)) {
    const m = /^(\S+) (\d+) (\d+) (\d+)\s*$/.exec(line)
    if (m) out.push({ device: m[1]!, model_bytes: Number(m[2]) * MIB, context_bytes: Number(m[3]) * MIB, compute_bytes: Number(m[4]) * MIB })
  }
  if (!out.some((d) => d.device === 'Host')) throw new Error(`${source}: no "Host" line in its projection`)
  return out
}

/** llama-fit-params' arguments: the workload's flags, one sequence as the bench's server runs, the print mode. */
export function fitParamsArgs(modelPath: string, w: Workload): string[] {
  return ['-m', modelPath, '-c', String(w.context_tokens), ...llamaWorkloadFlags(w), '-np', '1', '--fit-print', 'on']
}

/** Runs llama-fit-params for a model and workload; throws with its log tail when it fails. */
export async function projectMemory(binDir: string, modelPath: string, w: Workload, logDir: string, label: string): Promise<ProjectedBuffers[]> {
  const stdoutPath = join(logDir, `${label}.fit.txt`)
  const stderrPath = join(logDir, `${label}.fit.log`)
  const outcome = await runProcess({
    env: childEnv('llama'),
    file: join(binDir, 'llama-fit-params'),
    args: fitParamsArgs(modelPath, w),
    stdoutPath,
    stderrPath,
    timeoutSec: FIT_PARAMS_TIMEOUT_SEC,
    label: `llama-fit-params ${label}`
  })
  if (outcome.spawnError || outcome.timedOut || outcome.signal || outcome.exitCode !== 0) {
    throw new Error(`${label}: ${describeOutcome('llama-fit-params', outcome, FIT_PARAMS_TIMEOUT_SEC)}\n${(await readLogTail(stderrPath)).join('\n')}`)
  }
  return parseFitPrint(await readFile(stdoutPath, 'utf8'), stdoutPath)
}
