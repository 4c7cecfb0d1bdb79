import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Ajv } from 'ajv'
import { execa, parseCommandString } from 'execa'
import { memoryFit } from '../fit/index.js'
import type { EstimatorInput, EstimatorMemory, EstimatorOutput } from '../contracts/estimator.js'
import type { EstimatedMemory, Prediction, ScenarioPrediction } from '../contracts/prediction.js'
import { SCENARIO_UNITS } from '../contracts/scenarios.js'
import { InputError, clipQuoted } from '../util/errors.js'
import { killGroup, trackGroup } from '../bench/processes.js'
import { stableStringify } from '../util/json.js'
import type { Estimator } from './estimator.js'
import { packageRoot } from './paths.js'
import { childEnv } from '../util/child-env.js'

export const ESTIMATOR_TIMEOUT_MS = 300_000
/** Predictions for a thousand models take about a megabyte; more than this on stdout is not an answer. */
const MAX_STDOUT_BYTES = 16 * 1024 * 1024
/** Only the end of stderr is shown, and the bytes held are bounded too. */
const MAX_STDERR_BYTES = 1024 * 1024
const STDERR_LINES_SHOWN = 5
const SOURCE = '--estimator-command'

let validateOutput: ReturnType<Ajv['compile']> | null = null
function outputValidator(): ReturnType<Ajv['compile']> {
  // The published schema (schemas/) is the one we check against, read from the package so they cannot drift.
  const schema = JSON.parse(readFileSync(join(packageRoot(), 'schemas', 'estimator-output.schema.json'), 'utf8')) as object
  return (validateOutput ??= new Ajv({ allErrors: false }).compile(schema))
}

/** Checks the command's stdout; an error names the JSON path of the first offending value. */
export function parseEstimatorOutput(stdout: string, command: string): EstimatorOutput {
  let data: unknown
  try {
    data = JSON.parse(stdout)
  } catch (err) {
    throw new InputError(`${SOURCE} ${command}`, 'stdout', `not JSON: ${(err as Error).message}`)
  }
  const validate = outputValidator()
  if (!validate(data)) {
    const e = validate.errors![0]!
    const path = '$' + e.instancePath.replace(/\/(\d+)/g, '[$1]').replace(/\//g, '.')
    const extra = e.keyword === 'additionalProperties' ? ` "${(e.params as { additionalProperty: string }).additionalProperty}"` : ''
    throw new InputError(`${SOURCE} ${command}`, path, `${e.message ?? 'invalid'}${extra}`)
  }
  const out = data as EstimatorOutput
  out.predictions.forEach((p, i) => {
    const r = p.predicted_range
    if (r && !(r[0] <= p.predicted && p.predicted <= r[1])) {
      throw new InputError(`${SOURCE} ${command}`, `$.predictions[${i}].predicted_range`, 'must contain predicted ([lo, hi] with lo ≤ predicted ≤ hi)')
    }
  })
  return out
}

/** An answered memory estimate as the memory check reads it. */
function estimatedFrom(m: EstimatorMemory): EstimatedMemory {
  return {
    status: m.status,
    weights_bytes: m.weights_bytes,
    context_bytes: m.context_bytes,
    compute_bytes: m.compute_bytes,
    ...(m.devices ? { devices: m.devices.map((d) => ({ ...d, budget_bytes: null })) } : {})
  }
}

/**
 * A team's own estimator, run as a command without a shell. It gets hardware, profiles, scenarios and workload on
 * stdin and answers predictions (and, optionally, memory estimates) on stdout. Our memory fit still decides whether a
 * model is run at all; the estimator's memory estimate is what the memory gate judges against llama.cpp's projection.
 */
export function externalEstimator(command: string, opts: { env?: readonly string[]; timeoutMs?: number } = {}): Estimator {
  const timeoutMs = opts.timeoutMs ?? ESTIMATOR_TIMEOUT_MS
  const argv = parseCommandString(command)
  if (argv.length === 0) throw new InputError(SOURCE, null, 'empty command')
  return {
    name: 'external',
    command,
    async predict(models, hardware, workload, scenarios) {
      const message: EstimatorInput = { hardware, models: models.map((m) => ({ ref: m.ref, profile: m.profile })), scenarios: [...scenarios], workload }
      const input = stableStringify(message)
      // Its own process group: a wrapper (npm run, uv run, a shell script) leaves grandchildren holding stdout open,
      // and a timeout must end them all, not only the direct child.
      const child = execa(argv[0] as string, argv.slice(1), {
        input,
        reject: false,
        all: false,
        detached: true,
        cleanup: true,
        maxBuffer: { stdout: MAX_STDOUT_BYTES, stderr: MAX_STDERR_BYTES },
        // The allow-listed environment: the estimator is the code under test and never sees a token.
        env: childEnv('estimator', { extra: opts.env }),
        extendEnv: false
      })
      const untrack = child.pid ? trackGroup(child.pid, 'external estimator') : () => {}
      let timedOut = false
      const timer = setTimeout(() => {
        timedOut = true
        if (child.pid) void killGroup(child.pid)
      }, timeoutMs)
      const r = await child.finally(() => clearTimeout(timer))
      if (child.pid) await killGroup(child.pid)
      untrack()
      const tail = String(r.stderr ?? '')
        .split('\n')
        .filter((l) => l.trim())
        .slice(-STDERR_LINES_SHOWN)
        .map(clipQuoted)
        .join(' | ')
      if (r.isMaxBuffer) {
        throw new InputError(`${SOURCE} ${command}`, null, `printed more than ${MAX_STDOUT_BYTES / 2 ** 20} MiB on stdout (or ${MAX_STDERR_BYTES / 2 ** 20} MiB on stderr): not a predictions document`)
      }
      if (r.exitCode !== 0 || timedOut) {
        const why = timedOut
          ? `timed out after ${timeoutMs / 1000} s (its process group was killed)`
          : r.exitCode === undefined && r.signal === undefined
            ? `could not be started: ${clipQuoted(r.originalMessage ?? r.shortMessage ?? 'unknown error')}`
            : `exited with ${r.exitCode ?? r.signal}`
        throw new InputError(`${SOURCE} ${command}`, null, `${why}${tail ? `: ${tail}` : ''}`)
      }
      const answer = parseEstimatorOutput(String(r.stdout), command)
      const preds = answer.predictions
      // A prediction for a model or scenario it was not asked about, or two for one row, is a bug in the estimator
      // that would otherwise pass unseen.
      const asked = new Set(models.map((m) => m.ref))
      const seen = new Set<string>()
      preds.forEach((p, i) => {
        if (!asked.has(p.ref)) throw new InputError(`${SOURCE} ${command}`, `$.predictions[${i}].ref`, `"${clipQuoted(p.ref)}" is not a model it was asked about`)
        if (!scenarios.includes(p.scenario)) throw new InputError(`${SOURCE} ${command}`, `$.predictions[${i}].scenario`, `${p.scenario} was not asked for`)
        const key = `${p.ref}\u0000${p.scenario}`
        if (seen.has(key)) throw new InputError(`${SOURCE} ${command}`, `$.predictions[${i}]`, `a second prediction for ${clipQuoted(p.ref)} ${p.scenario}`)
        seen.add(key)
      })
      const memory = new Map<string, EstimatedMemory>()
      ;(answer.memory ?? []).forEach((m, i) => {
        if (!asked.has(m.ref)) throw new InputError(`${SOURCE} ${command}`, `$.memory[${i}].ref`, `"${clipQuoted(m.ref)}" is not a model it was asked about`)
        if (memory.has(m.ref)) throw new InputError(`${SOURCE} ${command}`, `$.memory[${i}]`, `a second memory estimate for ${clipQuoted(m.ref)}`)
        memory.set(m.ref, estimatedFrom(m))
      })
      const out = new Map<string, Prediction>()
      for (const m of models) {
        // Our memory fit only: our speed estimates (and their fact-noise variations) are not this estimator's.
        const fit = memoryFit(m.profile, hardware, workload)
        const scenarioPreds: ScenarioPrediction[] = []
        const notPredicted: Prediction['not_predicted'] = {}
        for (const s of scenarios) {
          const p = preds.find((x) => x.ref === m.ref && x.scenario === s)
          if (!p) {
            notPredicted[s] = 'the external estimator gave no prediction'
            continue
          }
          scenarioPreds.push({
            scenario: s,
            unit: SCENARIO_UNITS[s],
            predicted: p.predicted,
            predicted_range: p.predicted_range ?? [p.predicted, p.predicted],
            breakdown: p.breakdown ?? {},
            ...(p.fact_noise?.length ? { fact_noise: p.fact_noise.map((f) => ({ fact: f.fact, spread: f.spread, effect: f.effect })) } : {})
          })
        }
        // Our fit still decides what runs; the estimator's own memory (if it gave one) is what the memory gate judges.
        const est = memory.get(m.ref)
        out.set(m.ref, { fit, ...(est ? { memory: est } : {}), scenarios: scenarioPreds, not_predicted: notPredicted })
      }
      return out
    }
  }
}
