// llama-server lifecycle: a free port on 127.0.0.1, the model loaded with the workload's flags, ready when
// /health answers 200 (503 while loading), stopped by process group. Callers stop it in a finally block.

import { llamaWorkloadFlags } from './workload.js'
import { createServer } from 'node:net'
import { join } from 'node:path'
import type { Workload } from '../contracts/workload.js'
import { RunFailure } from './failure.js'
import { readLogTail } from './logs.js'
import { describeOutcome, startProcess, type LiveProcess, type ProcessOutcome } from './processes.js'
import { childEnv } from '../util/child-env.js'

export const SERVER_HOST = '127.0.0.1'
/** Poll interval of /health while the model loads. */
const HEALTH_POLL_MS = 100
/** One /health request may take this long before it counts as "not ready yet". */
const HEALTH_REQUEST_TIMEOUT_MS = 2000
/** Attempts when another process takes the free port between our probe and the server's bind. */
const BIND_ATTEMPTS = 3
/**
 * Log verbosity of the server: llama.cpp's own INFO messages (the buffer sizes at load, which the report sets beside
 * the memory estimate) are level 4 in common/log.cpp (common_log_get_verbosity); the default threshold 3 drops them.
 */
export const SERVER_LOG_VERBOSITY = 4
/** What llama-server logs when the port is taken (tools/server/server-http.cpp). */
const BIND_FAILURE_TEXT = "couldn't bind HTTP server socket"

/** A server that could not start or became unusable; carries the log tail for the Observation. */
export class ServerError extends RunFailure {
  constructor(message: string, logTail: string[]) {
    super(message, logTail)
    this.name = 'ServerError'
  }
}

export interface LlamaServer {
  readonly baseUrl: string
  readonly port: number
  readonly logPath: string
  readonly process: LiveProcess
  /** How the process ended, or null while it runs. */
  exited(): ProcessOutcome | null
  /** Stops the server and its process group; safe to call more than once. */
  stop(): Promise<void>
}

export interface ServerStartOptions {
  binDir: string
  modelPath: string
  workload: Workload
  /** stdout and stderr of the server go here, appended: a restarted server's log follows the one that died. */
  logPath: string
  /** Seconds the model may take to load before /health must answer 200. */
  readyTimeoutSec: number
  /** Slots (-np); default 1. */
  slots?: number
}

/**
 * The llama-server command line for a workload (flags checked against common/arg.cpp of the pinned build).
 * One slot (-np 1) unless asked, so kv_warm_reuse's prefix stays in slot 0; parallel_decode asks for its N. An
 * explicit -np keeps the KV cache split per slot (context / slots cells each; only the automatic -np unifies it), as
 * the workload's validation and the estimate assume. The host-RAM prompt cache off (--cache-ram 0), so no request
 * pays for saving another's prompt and reuse comes only from the slot's own KV cache.
 */
export function serverArgs(modelPath: string, w: Workload, port: number, slots = 1): string[] {
  if (!Number.isInteger(slots) || slots < 1) throw new Error(`slots must be an integer ≥ 1, got ${slots}`)
  return [
    '-m', modelPath,
    '--host', SERVER_HOST,
    '--port', String(port),
    '-c', String(w.context_tokens),
    ...llamaWorkloadFlags(w),
    '-np', String(slots),
    '--cache-ram', '0',
    '--metrics',
    '--slots',
    '--no-webui',
    '-lv', String(SERVER_LOG_VERBOSITY)
  ]
}

/** A TCP port that was free on 127.0.0.1 a moment ago (the OS picks it when binding port 0). */
export function freePort(host = SERVER_HOST): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, host, () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('could not get a free port'))))
    })
  })
}

type HealthState = 'ready' | 'loading' | 'down'

async function health(baseUrl: string): Promise<HealthState> {
  try {
    const res = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(HEALTH_REQUEST_TIMEOUT_MS) })
    await res.arrayBuffer()
    return res.status === 200 ? 'ready' : 'loading'
  } catch {
    return 'down'
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

/** Waits for /health 200; throws ServerError when the process exits first or the time runs out. */
async function waitReady(proc: LiveProcess, baseUrl: string, opts: ServerStartOptions): Promise<void> {
  const deadline = Date.now() + opts.readyTimeoutSec * 1000
  for (;;) {
    const state = await health(baseUrl)
    if (state === 'ready') return
    const ended = proc.outcome()
    if (ended) {
      throw new ServerError(`${describeOutcome('llama-server', ended)} before it was ready`, await readLogTail(opts.logPath))
    }
    if (Date.now() >= deadline) {
      const what = state === 'loading' ? 'still loading (503)' : 'not answering'
      throw new ServerError(`llama-server ${what} after ${opts.readyTimeoutSec} s`, await readLogTail(opts.logPath))
    }
    await Promise.race([sleep(HEALTH_POLL_MS), proc.done])
  }
}

/** Starts llama-server and resolves once it serves; on failure nothing is left running and ServerError is thrown. */
export async function startServer(opts: ServerStartOptions): Promise<LlamaServer> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    const baseUrl = `http://${SERVER_HOST}:${port}`
    const proc = startProcess({
      env: childEnv('llama'),
      file: join(opts.binDir, 'llama-server'),
      args: serverArgs(opts.modelPath, opts.workload, port, opts.slots),
      stdoutPath: opts.logPath,
      stderrPath: opts.logPath,
      append: true,
      label: 'llama-server'
    })
    try {
      await waitReady(proc, baseUrl, opts)
    } catch (err) {
      await proc.stop()
      const bindFailed = (await readLogTail(opts.logPath)).some((l) => l.includes(BIND_FAILURE_TEXT))
      if (bindFailed && attempt < BIND_ATTEMPTS) continue
      throw err
    }
    return {
      baseUrl,
      port,
      logPath: opts.logPath,
      process: proc,
      exited: () => proc.outcome(),
      stop: async () => {
        await proc.stop()
      }
    }
  }
}
