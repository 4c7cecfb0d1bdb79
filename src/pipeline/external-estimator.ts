import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Ajv } from 'ajv'
import { execa, parseCommandString } from 'execa'
import { predict } from '../fit/index.js'
import type { EstimatorInput, EstimatorOutput, EstimatorPrediction } from '../contracts/estimator.js'
import type { Prediction, ScenarioPrediction } from '../contracts/prediction.js'
import { SCENARIO_UNITS } from '../contracts/scenarios.js'
import { InputError } from '../util/errors.js'
import { stableStringify } from '../util/json.js'
import type { Estimator } from './estimator.js'
import { packageRoot } from './paths.js'
import { childEnv } from '../util/child-env.js'

export const ESTIMATOR_TIMEOUT_MS = 300_000
const SOURCE = '--estimator-command'

let validateOutput: ReturnType<Ajv['compile']> | null = null
function outputValidator(): ReturnType<Ajv['compile']> {
  // The published schema (schemas/) is the one we check against, read from the package so they cannot drift.
  const schema = JSON.parse(readFileSync(join(packageRoot(), 'schemas', 'estimator-output.schema.json'), 'utf8')) as object
  return (validateOutput ??= new Ajv({ allErrors: false }).compile(schema))
}

/** Checks the command's stdout; an error names the JSON path of the first offending value. */
export function parseEstimatorOutput(stdout: string, command: string): EstimatorPrediction[] {
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
  const preds = (data as EstimatorOutput).predictions
  preds.forEach((p, i) => {
    const r = p.predicted_range
    if (r && !(r[0] <= p.predicted && p.predicted <= r[1])) {
      throw new InputError(`${SOURCE} ${command}`, `$.predictions[${i}].predicted_range`, 'must contain predicted ([lo, hi] with lo ≤ predicted ≤ hi)')
    }
  })
  return preds
}

/**
 * A team's own estimator, run as a command without a shell. It gets hardware, profiles, scenarios and workload on
 * stdin and answers predictions on stdout. Memory fit stays ours: it only decides whether a model is run at all.
 */
export function externalEstimator(command: string, opts: { env?: readonly string[] } = {}): Estimator {
  const argv = parseCommandString(command)
  if (argv.length === 0) throw new InputError(SOURCE, null, 'empty command')
  return {
    name: 'external',
    command,
    async predict(models, hardware, workload, scenarios) {
      const message: EstimatorInput = { hardware, models: models.map((m) => ({ ref: m.ref, profile: m.profile })), scenarios: [...scenarios], workload }
      const input = stableStringify(message)
      const r = await execa(argv[0] as string, argv.slice(1), {
        input,
        reject: false,
        timeout: ESTIMATOR_TIMEOUT_MS,
        all: false,
        // The allow-listed environment: the estimator is the code under test and never sees a token.
        env: childEnv('estimator', { extra: opts.env }),
        extendEnv: false
      })
      if (r.exitCode !== 0 || r.timedOut) {
        const why = r.timedOut ? `timed out after ${ESTIMATOR_TIMEOUT_MS / 1000} s` : `exited with ${r.exitCode ?? r.signal}`
        throw new InputError(`${SOURCE} ${command}`, null, `${why}: ${String(r.stderr).split('\n').slice(-5).join(' | ')}`)
      }
      const preds = parseEstimatorOutput(String(r.stdout), command)
      const out = new Map<string, Prediction>()
      for (const m of models) {
        const own = predict(m.profile, hardware, workload)
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
            breakdown: p.breakdown ?? {}
          })
        }
        out.set(m.ref, { fit: own.fit, scenarios: scenarioPreds, not_predicted: notPredicted })
      }
      return out
    }
  }
}
