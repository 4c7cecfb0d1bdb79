// The bench folder's public API: what the pipeline (validate, probe) uses.
export { runModel, runScenario, runScenarios, DEFAULT_RUN_TIMEOUT_SEC } from './runner.js'
export type { RunScenarioOptions } from './runner.js'
export { readBuildInfo, type BuildInfo } from './build-info.js'
export { defaultWorkload, validateWorkload } from './workload.js'
export { DEFAULT_REPEAT_POLICY, summarizeSamples, type RepeatPolicy } from './repeats.js'
export { installSignalCleanup, killAll, liveProcesses } from './processes.js'
export { parseLlamaBenchOutput, type LlamaBenchTest } from './llama-bench-json.js'
