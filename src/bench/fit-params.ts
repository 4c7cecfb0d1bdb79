// llama.cpp's own memory projection: `llama-fit-params --fit-print on` loads a model with the `no_alloc` model
// parameter (metadata only, allocations simulated by the engine's own allocator) and prints, per device and for the
// host, the weights, the context (KV caches and recurrent state) and the compute buffer it would allocate
// (common_fit_print in common/fit.cpp). It reads no weights: a sparse file that holds only the real header at the
// real size projects the same as the whole model.

import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ProjectedBytes, ProjectedDevice } from '../contracts/verdict.js'
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

/** One row of llama.cpp's memory breakdown, whole MiB: a device, the host, or another buffer type (CPU_REPACK, AMX). */
export interface BreakdownRow {
  name: string
  model: number
  context: number
  compute: number
}

/**
 * The memory breakdown llama-fit-params logs last: the `fit_memory_breakdown` record of its JSON log (--log-jsonl),
 * else the rows of the table it prints in a text log. null when the log has neither (it was cut off before it).
 */
export function breakdownRows(log: string): BreakdownRow[] | null {
  for (const line of log.split('\n').reverse()) {
    if (!line.includes('"fit_memory_breakdown"')) continue
    try {
      const record = JSON.parse(line) as { type?: string; data?: { rows?: { name?: unknown; model?: unknown; context?: unknown; compute?: unknown }[] } }
      if (record.type !== 'fit_memory_breakdown' || !Array.isArray(record.data?.rows)) continue
      return record.data.rows.map((r) => ({ name: String(r.name), model: Number(r.model) || 0, context: Number(r.context) || 0, compute: Number(r.compute) || 0 }))
    } catch {
      continue
    }
  }
  // A JSON log without its record was cut off: the table's rows before the cut are not the whole table.
  if (/^\{"type":/m.test(log)) return null
  const rows = [...log.matchAll(/\|\s+- (\S+)\s+\|\s+\d+\s+=\s+(\d+)\s+\+\s+(\d+)\s+\+\s+(\d+)\s+\|/g)]
  return rows.length > 0 ? rows.map((m) => ({ name: m[1]!, model: Number(m[2]), context: Number(m[3]), compute: Number(m[4]) })) : null
}

/** 0.01 MiB, as llama.cpp's log prints sizes (%.2f): a printed value is within half of it. */
const LOG_STEP = MIB / 100

/**
 * The projection as intervals, refined from llama-fit-params' verbose log where it says more than the whole MiB of
 * --fit-print:
 * - the memory breakdown table lists host-side buffer types apart from "Host" that the print leaves out (CPU_REPACK,
 *   AMX: weights llama.cpp copied into a layout of its own, still in RAM): added to the host, a floored MiB each;
 * - the compute buffers (sched_reserve, one line per buffer type, 0.01 MiB): a device's own name is that device, any
 *   other (CPU, CUDA_Host) the host;
 * - the KV caches and recurrent state ("size = … MiB" per cache, 0.01 MiB) when one device holds all the context.
 */
export function projectionIntervals(print: readonly ProjectedBuffers[], log: string): Omit<ProjectedDevice, 'free_bytes'>[] {
  const floored = (b: number): ProjectedBytes => [b, b + MIB]
  const out = print.map((d) => ({ device: d.device, weights_bytes: floored(d.model_bytes), context_bytes: floored(d.context_bytes), compute_bytes: floored(d.compute_bytes) }))
  const host = out.find((d) => d.device === 'Host')!
  const names = new Set(print.map((d) => d.device))
  for (const row of breakdownRows(log) ?? []) {
    if (row.name === 'Host' || names.has(row.name)) continue
    const add = (r: ProjectedBytes, mib: number): ProjectedBytes => (mib > 0 ? [r[0] + mib * MIB, r[1] + mib * MIB + MIB] : r)
    host.weights_bytes = add(host.weights_bytes, row.model)
    host.context_bytes = add(host.context_bytes, row.context)
    host.compute_bytes = add(host.compute_bytes, row.compute)
  }
  const compute = new Map<string, { bytes: number; lines: number }>()
  for (const m of log.matchAll(/sched_reserve:\s+(\S+) compute buffer size =\s+([\d.]+) MiB/g)) {
    const device = names.has(m[1]!) ? m[1]! : 'Host'
    const c = compute.get(device) ?? { bytes: 0, lines: 0 }
    compute.set(device, { bytes: c.bytes + Number(m[2]) * MIB, lines: c.lines + 1 })
  }
  for (const d of out) {
    const c = compute.get(d.device)
    // Only a refinement: the log's figure must agree with the printed MiB, or the print stands.
    if (c && c.bytes >= d.compute_bytes[0] - c.lines * LOG_STEP && c.bytes < d.compute_bytes[1] + c.lines * LOG_STEP) {
      d.compute_bytes = [c.bytes - (c.lines * LOG_STEP) / 2, c.bytes + (c.lines * LOG_STEP) / 2]
    }
  }
  const withContext = out.filter((_, i) => print[i]!.context_bytes > 0)
  const sizes = [...log.matchAll(/(?:llama_kv_cache|llama_memory_recurrent): size =\s+([\d.]+) MiB/g)].map((m) => Number(m[1]) * MIB)
  const only = withContext.length === 1 ? withContext[0]! : out.length === 1 ? out[0]! : null
  if (only && sizes.length > 0) {
    const sum = sizes.reduce((a, b) => a + b, 0)
    const half = (sizes.length * LOG_STEP) / 2
    if (sum + half >= only.context_bytes[0] && sum - half < only.context_bytes[1]) only.context_bytes = [sum - half, sum + half]
  }
  return out
}

/** llama-fit-params' arguments: the workload's flags, one sequence as the bench's server runs, the print mode. */
export function fitParamsArgs(modelPath: string, w: Workload): string[] {
  // -v: the per-buffer lines projectionIntervals refines the print with are debug messages during the projection.
  // --log-jsonl: the log goes to stdout as JSON lines and ends in the breakdown record (see FIT_PARAMS_ATTEMPTS).
  return ['-m', modelPath, '-c', String(w.context_tokens), ...llamaWorkloadFlags(w), '-np', '1', '--fit-print', 'on', '-v', '--log-jsonl']
}

/**
 * llama.cpp logs through a worker thread that is not flushed at exit (upstream issue 22142), and llama-fit-params
 * returns right after the projection, so the end of its log — the memory breakdown the refinement needs — is
 * sometimes lost: 4 of 15 runs of one model here. With --log-jsonl the log ends in one `fit_memory_breakdown` record;
 * a run without it is run again, at most this many times in all (a quarter of runs lost → 1 in 4000 fails six times).
 */
export const FIT_PARAMS_ATTEMPTS = 6

/** Whether llama-fit-params' log reached its memory breakdown (the last thing it logs). */
export function logComplete(log: string): boolean {
  return breakdownRows(log) !== null
}

/**
 * Runs llama-fit-params (`--fit-print on -v --log-jsonl` among `args`) until its output is complete — the breakdown
 * record and the print's Host line both whole (the logger thread and the print share stdout, so a line of one cut by
 * the other is a lost run too) — FIT_PARAMS_ATTEMPTS at most. Returns that stdout; throws with its log tail when a
 * run fails, or when no run was complete (the repacked copies would be unknown).
 */
export async function runFitParams(binDir: string, args: string[], logDir: string, label: string): Promise<string> {
  const stdoutPath = join(logDir, `${label}.fit.jsonl`)
  const stderrPath = join(logDir, `${label}.fit.log`)
  for (let attempt = 1; attempt <= FIT_PARAMS_ATTEMPTS; attempt++) {
    const outcome = await runProcess({
      env: childEnv('llama'),
      file: join(binDir, 'llama-fit-params'),
      args,
      stdoutPath,
      stderrPath,
      timeoutSec: FIT_PARAMS_TIMEOUT_SEC,
      label: `llama-fit-params ${label}`
    })
    if (outcome.spawnError || outcome.timedOut || outcome.signal || outcome.exitCode !== 0) {
      const tail = [...(await readLogTail(stdoutPath)), ...(await readLogTail(stderrPath))].slice(-12)
      throw new Error(`${label}: ${describeOutcome('llama-fit-params', outcome, FIT_PARAMS_TIMEOUT_SEC)}\n${tail.join('\n')}`)
    }
    const out = await readFile(stdoutPath, 'utf8')
    if (logComplete(out) && /^Host \d+ \d+ \d+\s*$/m.test(out)) return out
  }
  throw new Error(`${label}: llama-fit-params' log ended before its memory breakdown in ${FIT_PARAMS_ATTEMPTS} runs (its logger is cut off at exit): the repacked copies are unknown`)
}

/** llama.cpp's projection of a model for a workload, as intervals per device (Host last). */
export async function projectMemory(binDir: string, modelPath: string, w: Workload, logDir: string, label: string): Promise<Omit<ProjectedDevice, 'free_bytes'>[]> {
  const out = await runFitParams(binDir, fitParamsArgs(modelPath, w), logDir, label)
  return projectionIntervals(parseFitPrint(out, join(logDir, `${label}.fit.jsonl`)), out)
}

/**
 * gpu_layers auto: the layers llama.cpp's own fit offloads for a model and workload — `llama-fit-params` without
 * --fit-print runs common_fit_params (what llama-server's -ngl auto runs) and prints the fitted arguments
 * ("-c 4096 -ngl 33"). Only -ngl is taken: a fit that also moves tensors (-ot) or splits (-ts) is said in the error,
 * since the scenarios would then run another placement than llama.cpp's auto.
 */
export async function fittedGpuLayers(binDir: string, modelPath: string, w: Workload, logDir: string, label: string): Promise<number> {
  const flags = llamaWorkloadFlags({ ...w, gpu_layers: 0 })
  flags[flags.indexOf('-ngl') + 1] = 'auto'
  const stdoutPath = join(logDir, `${label}.fit-layers.txt`)
  const stderrPath = join(logDir, `${label}.fit-layers.log`)
  const outcome = await runProcess({
    env: childEnv('llama'),
    file: join(binDir, 'llama-fit-params'),
    args: ['-m', modelPath, '-c', String(w.context_tokens), ...flags, '-np', '1'],
    stdoutPath,
    stderrPath,
    timeoutSec: FIT_PARAMS_TIMEOUT_SEC,
    label: `llama-fit-params ${label} (gpu layers)`
  })
  if (outcome.spawnError || outcome.timedOut || outcome.signal || outcome.exitCode !== 0) {
    throw new Error(`${describeOutcome('llama-fit-params', outcome, FIT_PARAMS_TIMEOUT_SEC)}\n${(await readLogTail(stderrPath)).slice(-8).join('\n')}`)
  }
  return parseFittedLayers(await readFile(stdoutPath, 'utf8'))
}

/** "-c 4096 -ngl 33" → 33; a fit with tensor overrides or a split is refused (see fittedGpuLayers). */
export function parseFittedLayers(stdout: string): number {
  const line = stdout.split(/\r?\n/).find((l) => /^-c \d+ -ngl -?\d+/.test(l))
  if (!line) throw new Error(`llama-fit-params printed no fitted arguments: "${stdout.slice(0, 200)}"`)
  if (/ -ot | -ts /.test(line)) throw new Error(`llama.cpp's fit also places tensors or splits the model ("${line.slice(0, 200)}"); give gpu_layers as a number`)
  return Math.max(0, Number(/-ngl (-?\d+)/.exec(line)![1]))
}
