// llama.cpp processes: each one started detached in a process group of its own, so a timeout, a stop or our own
// cancellation kills it together with any children (SIGTERM to the group, SIGKILL after a grace period). A registry
// of live groups lets SIGINT/SIGTERM of this process (a cancelled action) kill them all before exiting.
// Failures (missing binary, crash, timeout) are returned as outcomes, never thrown.

import { closeSync, mkdirSync, openSync } from 'node:fs'
import { constants as osConstants } from 'node:os'
import { dirname } from 'node:path'
import { performance } from 'node:perf_hooks'
import { execa } from 'execa'

/** Time a group gets between SIGTERM and SIGKILL. */
export const KILL_GRACE_MS = 3000
/** Shorter grace when we are being cancelled: GitHub sends SIGTERM 7.5 s after SIGINT, SIGKILL 2.5 s later. */
export const SIGNAL_CLEANUP_GRACE_MS = 2000
/** How long to wait for a SIGKILLed group to disappear (it cannot resist; this only bounds reaping delays). */
const GROUP_GONE_AFTER_KILL_MS = 5000
const GROUP_POLL_MS = 25

export interface ProcessSpec {
  file: string
  args: readonly string[]
  /** stdout goes here. */
  stdoutPath: string
  /** stderr goes here; may be the same path as stdoutPath. */
  stderrPath: string
  /** Append to the log files (a restarted server's log) instead of starting them afresh (the default). */
  append?: boolean
  /** Kill the group after this many seconds; absent = no timeout (servers, stopped explicitly). */
  timeoutSec?: number
  /** A short name for logs and the registry ("llama-bench steady_decode r2"). */
  label?: string
  /**
   * The child's whole environment (nothing of ours is inherited): the callers pass util/child-env's allow-list, so no
   * token reaches llama.cpp. (Taken as data, not imported: this file has no relative imports, see the cancel test.)
   */
  env: Record<string, string>
}

export interface ProcessOutcome {
  exitCode: number | null
  signal: string | null
  timedOut: boolean
  /** The system's message when the process could not be started (missing binary, not executable). */
  spawnError: string | null
  durationMs: number
}

export interface LiveProcess {
  /** Also the process group id; null when the spawn failed. */
  readonly pid: number | null
  readonly label: string
  /** Resolves once the process has exited and its whole group is gone. Never rejects. */
  readonly done: Promise<ProcessOutcome>
  /** The outcome once exited, else null. */
  outcome(): ProcessOutcome | null
  /** SIGTERM the group, SIGKILL after `graceMs`; resolves with the outcome once it is gone. */
  stop(graceMs?: number): Promise<ProcessOutcome>
}

const liveGroups = new Map<number, string>()

function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal)
  } catch {
    // ESRCH: already gone.
  }
}

async function waitGroupGone(pgid: number, ms: number): Promise<boolean> {
  const until = performance.now() + ms
  while (groupExists(pgid)) {
    if (performance.now() >= until) return false
    await new Promise((r) => setTimeout(r, GROUP_POLL_MS))
  }
  return true
}

/** SIGTERM to the group, SIGKILL after `graceMs` if anything survives; resolves when the group is gone. */
export async function killGroup(pgid: number, graceMs = KILL_GRACE_MS): Promise<void> {
  if (!groupExists(pgid)) return
  signalGroup(pgid, 'SIGTERM')
  if (await waitGroupGone(pgid, graceMs)) return
  signalGroup(pgid, 'SIGKILL')
  await waitGroupGone(pgid, GROUP_GONE_AFTER_KILL_MS)
}

/** Starts `spec` detached in its own process group, its output going to the log files. */
export function startProcess(spec: ProcessSpec): LiveProcess {
  const label = spec.label ?? spec.file
  mkdirSync(dirname(spec.stdoutPath), { recursive: true })
  mkdirSync(dirname(spec.stderrPath), { recursive: true })
  const flags = spec.append ? 'a' : 'w'
  const outFd = openSync(spec.stdoutPath, flags)
  const errFd = spec.stderrPath === spec.stdoutPath ? outFd : openSync(spec.stderrPath, flags)
  const t0 = performance.now()
  let timedOut = false
  let result: ProcessOutcome | null = null

  // Raw file descriptors go to spawn() as they are: the child writes its log itself, not through our process.
  // (execa's types spell file descriptors as the literals 3…9; at runtime any open fd is passed through.)
  const sub = execa(spec.file, [...spec.args], {
    detached: true,
    cleanup: false,
    stdin: 'ignore',
    stdout: outFd as 3,
    stderr: errFd as 3,
    reject: false,
    env: spec.env,
    extendEnv: false,
    forceKillAfterDelay: false
  })
  const pid = typeof sub.pid === 'number' ? sub.pid : null
  if (pid !== null) liveGroups.set(pid, label)

  const timer =
    pid !== null && spec.timeoutSec !== undefined
      ? setTimeout(() => {
          timedOut = true
          void killGroup(pid)
        }, spec.timeoutSec * 1000)
      : null

  const done = (async (): Promise<ProcessOutcome> => {
    const r = await sub
    if (timer) clearTimeout(timer)
    // Children the process left behind (or that ignore SIGTERM after a timeout) go with the group.
    if (pid !== null) {
      await killGroup(pid)
      liveGroups.delete(pid)
    }
    closeSync(outFd)
    if (errFd !== outFd) closeSync(errFd)
    const exitCode = typeof r.exitCode === 'number' ? r.exitCode : null
    const signal = typeof r.signal === 'string' ? r.signal : null
    const notStarted = pid === null || (r.failed && exitCode === null && signal === null)
    const spawnError = notStarted ? r.originalMessage || r.shortMessage || 'spawn failed' : null
    const outcome: ProcessOutcome = { exitCode, signal, timedOut, spawnError, durationMs: performance.now() - t0 }
    result = outcome
    return outcome
  })()

  return {
    pid,
    label,
    done,
    outcome: () => result,
    stop: async (graceMs = KILL_GRACE_MS) => {
      if (timer) clearTimeout(timer)
      if (pid !== null && result === null) await killGroup(pid, graceMs)
      return done
    }
  }
}

/** Runs `spec` to completion (or its timeout) and returns how it ended. */
export function runProcess(spec: ProcessSpec): Promise<ProcessOutcome> {
  return startProcess(spec).done
}

/** A one-line account of how a process ended, for error reasons. */
/** The signal that is stopping this process (SIGTERM from a cancelled job, SIGINT): its children die of it, not of OOM. */
let stoppingBy: NodeJS.Signals | null = null

export function describeOutcome(label: string, o: ProcessOutcome, timeoutSec?: number): string {
  if (o.spawnError) return `${label} could not be started: ${o.spawnError}`
  if (stoppingBy && o.signal) return `${label} was stopped: model-fit-gate received ${stoppingBy} (the run was cancelled)`
  if (o.timedOut) return `${label} timed out after ${timeoutSec ?? '?'} s`
  if (o.signal) return `${label} was killed by ${o.signal}${o.signal === 'SIGKILL' ? ' (out of memory?)' : ''}`
  return `${label} exited with code ${o.exitCode}`
}

/**
 * Tracks a process group started elsewhere (the external estimator, spawned detached), so a cancelled run kills it
 * too; the returned function stops tracking it.
 */
export function trackGroup(pgid: number, label: string): () => void {
  liveGroups.set(pgid, label)
  return () => void liveGroups.delete(pgid)
}

/** Process groups started here that are still alive, for diagnostics and tests. */
export function liveProcesses(): { pid: number; label: string }[] {
  return [...liveGroups.entries()].map(([pid, label]) => ({ pid, label }))
}

/** Kills every live group (SIGTERM, then SIGKILL after the grace period) and waits until they are gone. */
export async function killAll(graceMs = KILL_GRACE_MS): Promise<void> {
  await Promise.all([...liveGroups.keys()].map((pgid) => killGroup(pgid, graceMs)))
}

/** Synchronous last resort for process exit: SIGKILL every live group. */
export function killAllNow(): void {
  for (const pgid of liveGroups.keys()) signalGroup(pgid, 'SIGKILL')
}

let uninstall: (() => void) | null = null

/**
 * On SIGINT/SIGTERM (a cancelled run): kill all live llama.cpp groups, then exit with 128 + signal number.
 * On any exit: SIGKILL whatever is still registered. Idempotent; returns a function that removes the handlers.
 */
export function installSignalCleanup(exit: (code: number) => void = (code) => process.exit(code)): () => void {
  if (uninstall) return uninstall
  const onSignal = (signal: NodeJS.Signals) => {
    stoppingBy = signal
    const code = 128 + (osConstants.signals[signal] ?? 0)
    void killAll(SIGNAL_CLEANUP_GRACE_MS).finally(() => exit(code))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.on('exit', killAllNow)
  uninstall = () => {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    process.off('exit', killAllNow)
    uninstall = null
  }
  return uninstall
}
