// The accuracy benchmark (`bench-accuracy`): synthetic geometries, probed hardware, all four scenarios.
export { runAccuracyBenchmark, type AccuracyOptions, type AccuracyResult } from './benchmark.js'
export { ACCURACY_MODELS, accuracySpec } from './geometries.js'
export { ACCURACY_TARGETS, accuracyRow, summarizeAccuracy, summarizeMemory, renderAccuracy, type AccuracyRow, type MemoryAccuracy, type ScenarioAccuracy } from './table.js'
