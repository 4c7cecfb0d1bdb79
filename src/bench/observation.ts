// Turning repeated runs into an Observation. A run that fails for a runtime reason (crash, timeout, OOM, missing
// binary, bad output, server error) becomes an Observation with observed: null and the reason plus the log tail;
// anything else is a bug and is rethrown.

import { type Observation } from '../contracts/observation.js'
import { SCENARIO_UNITS, type ScenarioId } from '../contracts/scenarios.js'
import { LlamaBenchOutputError } from './llama-bench-json.js'
import type { RepeatOutcome } from './repeats.js'
import { RequestError } from './server-client.js'
import { ServerResponseError } from './server-json.js'
import { RunFailure } from './failure.js'

export { RunFailure }


/** Failures caused by llama.cpp or its output (the caller's `runtime-error`), as opposed to bugs. */
export function isRuntimeFailure(err: unknown): err is Error {
  return (
    err instanceof RunFailure ||
    err instanceof RequestError ||
    err instanceof ServerResponseError ||
    err instanceof LlamaBenchOutputError
  )
}

function logTailOf(err: Error): string[] {
  return err instanceof RunFailure ? err.logTail : []
}

/** An Observation for a scenario that could not run at all (e.g. the server did not start). */
export function failedObservation(scenario: ScenarioId, reason: string, logTail: string[], logs: string[]): Observation {
  return {
    scenario,
    unit: SCENARIO_UNITS[scenario],
    observed: null,
    samples: [],
    dropped_samples: [],
    spread: null,
    breakdown: {},
    error: { reason, log_tail: logTail },
    logs,
    repeats: 0
  }
}

/**
 * The Observation of a finished repeat loop: kept samples (measurement order) in `samples`, the outlier in
 * `dropped_samples`, observed = their median, spread = their spread. A runtime failure keeps the samples measured
 * before it but reports observed: null.
 */
export function toObservation(scenario: ScenarioId, outcome: RepeatOutcome, logs: string[]): Observation {
  const unit = SCENARIO_UNITS[scenario]
  if (outcome.stopReason === 'error') {
    const err = outcome.error
    if (!isRuntimeFailure(err)) throw err
    return {
      scenario,
      unit,
      observed: null,
      samples: outcome.samples,
      dropped_samples: [],
      spread: null,
      breakdown: outcome.breakdown,
      error: { reason: err.message, log_tail: logTailOf(err) },
      logs,
      repeats: outcome.samples.length
    }
  }
  const summary = outcome.summary
  if (!summary) throw new Error(`${scenario}: repeats finished without samples`)
  return {
    scenario,
    unit,
    observed: summary.observed,
    samples: summary.kept,
    dropped_samples: summary.dropped,
    spread: summary.spread,
    breakdown: outcome.breakdown,
    error: null,
    logs,
    repeats: outcome.samples.length
  }
}
