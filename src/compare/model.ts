import { DEFAULT_SCENARIOS, SCENARIO_IDS, SCENARIO_UNITS } from '../contracts/scenarios.js'
import type { Observation } from '../contracts/observation.js'
import type { Prediction } from '../contracts/prediction.js'
import type { ScenarioId } from '../contracts/scenarios.js'
import type { CompareSettings, ScenarioResult } from '../contracts/verdict.js'
import { compareScenario } from './compare.js'

/**
 * Compares every requested scenario of one model, in SCENARIO_IDS order. A scenario with neither a prediction nor an
 * observation still gets a row (skipped, or does-not-fit), so every model shows the same scenarios in the report.
 */
export function compareModel(
  prediction: Prediction | null,
  observations: readonly Observation[],
  settings: CompareSettings,
  scenarios: readonly ScenarioId[] = DEFAULT_SCENARIOS,
  /** The run-start re-check found the machine moved since the probe (in words): every judged row says so. */
  machineMoved: string | null = null
): ScenarioResult[] {
  const wanted = new Set(scenarios)
  return SCENARIO_IDS.filter((id) => wanted.has(id)).map((id) => {
    const predicted = prediction?.scenarios.find((s) => s.scenario === id) ?? null
    const observed = observations.find((o) => o.scenario === id) ?? null
    const reason = prediction ? prediction.not_predicted[id] : 'no prediction for this model'
    if (!predicted && !observed) return emptyRow(id, prediction, reason)
    return compareScenario(predicted, observed, settings, {
      reason,
      doesNotFit: prediction?.fit.status === 'does-not-fit',
      fitReason: prediction?.fit.reason,
      machineMoved
    })
  })
}

function emptyRow(id: ScenarioId, prediction: Prediction | null, reason: string | undefined): ScenarioResult {
  const fit = prediction?.fit
  const doesNotFit = fit?.status === 'does-not-fit'
  return {
    scenario: id,
    unit: SCENARIO_UNITS[id],
    predicted: null,
    predicted_range: null,
    observed: null,
    samples: [],
    spread: null,
    ratio: null,
    abs_error_pct: null,
    verdict: doesNotFit ? 'does-not-fit' : 'skipped',
    detail: { reason: doesNotFit && fit ? fit.reason : (reason ?? 'not predicted and not run') }
  }
}
