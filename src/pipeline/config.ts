import type { ScenarioId } from '../contracts/scenarios.js'
import { SCENARIO_IDS } from '../contracts/scenarios.js'
import { InputError } from '../util/errors.js'
import { forbiddenReason } from '../util/child-env.js'

/** The job summary cap is 1 MiB; leave room for what other steps write. */
export const SUMMARY_MAX_BYTES = 900 * 1024
export { DEFAULT_RUN_TIMEOUT_SEC } from '../bench/runner.js'

export type { CorpusName } from '../models/corpora.js'

/**
 * `estimator-env`: the names of environment variables the external estimator may see beyond the allow-list (comma,
 * space or newline separated). A name that looks like a secret, or the runner's own, is refused: the estimator is the
 * code under test and never gets a token.
 */
export function parseEstimatorEnv(text: string | undefined, source: string): string[] {
  const names = (text ?? '').split(/[\s,]+/).filter(Boolean)
  for (const name of names) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new InputError(source, null, `"${name.slice(0, 100)}" is not an environment variable name`)
    const why = forbiddenReason(name)
    if (why) throw new InputError(source, name, `not passed to the estimator: ${why}`)
  }
  return [...new Set(names)]
}

/** `a,b` → scenario ids, each checked; empty means all of them. */
export function parseScenarioList(text: string | undefined, source: string): ScenarioId[] {
  if (!text || !text.trim() || text.trim() === 'all') return [...SCENARIO_IDS]
  const out: ScenarioId[] = []
  for (const raw of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!(SCENARIO_IDS as readonly string[]).includes(raw)) {
      throw new InputError(source, raw, `unknown scenario (expected one of ${SCENARIO_IDS.join(', ')})`)
    }
    if (!out.includes(raw as ScenarioId)) out.push(raw as ScenarioId)
  }
  return out
}

