// The accuracy benchmark (`bench-accuracy`): synthetic geometries, probed hardware, all four scenarios.
export { runAccuracyBenchmark, type AccuracyOptions, type AccuracyResult } from './benchmark.js'
export { ACCURACY_MODELS, accuracySpec } from './geometries.js'
export { ACCURACY_TARGETS, accuracyRow, summarizeAccuracy, renderAccuracy, type AccuracyRow, type ScenarioAccuracy } from './table.js'
