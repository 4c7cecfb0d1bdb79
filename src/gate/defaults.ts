import type { Thresholds } from '../contracts/gate.js'

/**
 * The limits in the repository's thresholds.yml, built in so the bundled action and CLI gate without a file.
 * A unit test proves thresholds.yml parses to exactly this object.
 */
export const DEFAULT_THRESHOLDS: Thresholds = {
  tolerance_pct: 10,
  max_spread_pct: 10,
  min_models: 1,
  max_runtime_errors: 0,
  scenarios: {
    steady_decode: { max_median_abs_error_pct: 10, max_abs_error_pct: 20, max_noisy: 1 },
    prefill: { max_median_abs_error_pct: 15, max_abs_error_pct: 30, max_noisy: 1 },
    first_token: { max_median_abs_error_pct: 15, max_abs_error_pct: 30, max_noisy: 1 },
    kv_warm_reuse: { max_median_abs_error_pct: 15, max_abs_error_pct: 30, max_noisy: 1 }
  },
  memory: {
    weights: { max_median_abs_error_pct: 1, max_abs_error_pct: 2 },
    context: { max_median_abs_error_pct: 1, max_abs_error_pct: 5 },
    compute: { max_median_abs_error_pct: 5, max_abs_error_pct: 15 },
    check_fit: true
  }
}
