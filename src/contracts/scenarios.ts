// The vocabulary every stage shares: the four scenarios, their units, and the verdicts a row can get.

export const SCENARIO_IDS = ['steady_decode', 'prefill', 'first_token', 'kv_warm_reuse', 'parallel_decode'] as const
export type ScenarioId = (typeof SCENARIO_IDS)[number]
/**
 * What a run measures when nobody names scenarios: the four single-stream ones. parallel_decode (several requests
 * served at once) runs when a workload or `scenarios` asks for it, since it needs a server with several slots.
 */
export const DEFAULT_SCENARIOS: readonly ScenarioId[] = ['steady_decode', 'prefill', 'first_token', 'kv_warm_reuse']
export type ScenarioUnit = 'tok/s' | 'ms'
export const SCENARIO_UNITS: Record<ScenarioId, ScenarioUnit> = {
  steady_decode: 'tok/s',
  prefill: 'tok/s',
  first_token: 'ms',
  kv_warm_reuse: 'tok/s',
  parallel_decode: 'tok/s'
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
