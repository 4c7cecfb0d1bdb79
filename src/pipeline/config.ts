import type { ScenarioId } from '../contracts/scenarios.js'
import { SCENARIO_IDS } from '../contracts/scenarios.js'
import { InputError } from '../util/errors.js'

/** The job summary cap is 1 MiB; leave room for what other steps write. */
export const SUMMARY_MAX_BYTES = 900 * 1024
export { DEFAULT_RUN_TIMEOUT_SEC } from '../bench/runner.js'

export type { CorpusName } from '../models/corpora.js'

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

