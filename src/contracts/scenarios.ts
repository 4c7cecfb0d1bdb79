// The vocabulary every stage shares: the four scenarios, their units, and the verdicts a row can get.

export const SCENARIO_IDS = ['steady_decode', 'prefill', 'first_token', 'kv_warm_reuse'] as const
export type ScenarioId = (typeof SCENARIO_IDS)[number]
export type ScenarioUnit = 'tok/s' | 'ms'
export const SCENARIO_UNITS: Record<ScenarioId, ScenarioUnit> = {
  steady_decode: 'tok/s',
  prefill: 'tok/s',
  first_token: 'ms',
  kv_warm_reuse: 'tok/s'
}

export const VERDICTS = [
  'match',
  'slower-than-fit',
  'faster-than-fit',
  'inconclusive-noisy',
  'runtime-error',
  'skipped',
  'does-not-fit'
] as const
export type Verdict = (typeof VERDICTS)[number]
