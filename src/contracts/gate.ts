// Verdicts × thresholds.yml → GateResult.

import type { ScenarioId } from './scenarios.js'

export interface ScenarioThresholds {
  /**
   * Median |error| over the gated rows (match, slower-than-fit, faster-than-fit).
   * @minimum 0
   */
  max_median_abs_error_pct: number
  /**
   * Largest |error| any single gated row may have.
   * @minimum 0
   */
  max_abs_error_pct: number
  /**
   * How many inconclusive-noisy rows are tolerated (they are left out of the error statistics).
   * @asType integer
   * @minimum 0
   */
  max_noisy: number
}

/**
 * Gate limits (thresholds.yml). Percentages are plain numbers (10 means 10 %). |error| is |observed − predicted| /
 * predicted × 100 in the scenario's unit.
 */
export interface Thresholds {
  /**
   * A row whose |error| is at or under this (and inside the predicted range) is a match.
   * @minimum 0
   */
  tolerance_pct: number
  /**
   * A row whose samples spread ((max - min) / median) more than this is inconclusive-noisy.
   * @minimum 0
   */
  max_spread_pct: number
  /**
   * At least this many models must have a gated (comparable) row.
   * @asType integer
   * @minimum 0
   */
  min_models: number
  /**
   * Runtime-error rows plus models that failed before any scenario ran.
   * @asType integer
   * @minimum 0
   */
  max_runtime_errors: number
  /**
   * With a baseline report: fail a row that got slower than the baseline by more than this, beyond the measured noise.
   * @minimum 0
   */
  max_regression_pct?: number
  /** Per-scenario limits; a scenario left out is reported but not gated. */
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
  /**
   * @asType integer
   * @minimum 0
   */
  samples: number
  /**
   * @asType integer
   * @minimum 0
   */
  gated: number
  /**
   * @asType integer
   * @minimum 0
   */
  noisy: number
  /**
   * @asType integer
   * @minimum 0
   */
  runtime_errors: number
  /** @minimum 0 */
  median_abs_error_pct: number | null
  /** @minimum 0 */
  max_abs_error_pct: number | null
}
