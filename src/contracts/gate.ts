// Verdicts × thresholds.yml → GateResult.

import type { ScenarioId } from './scenarios.js'

export interface ScenarioThresholds {
  max_median_abs_error_pct: number
  max_abs_error_pct: number
  max_noisy: number
}

export interface Thresholds {
  tolerance_pct: number
  max_spread_pct: number
  min_models: number
  max_runtime_errors: number
  max_regression_pct?: number
  scenarios: Partial<Record<ScenarioId, ScenarioThresholds>>
}

export interface GateFailure {
  scenario: ScenarioId | null
  model: string | null
  limit: string
  value: number
  message: string
}

export interface GateResult {
  passed: boolean
  failures: GateFailure[]
}

export interface ScenarioSummary {
  samples: number
  gated: number
  noisy: number
  runtime_errors: number
  median_abs_error_pct: number | null
  max_abs_error_pct: number | null
}
