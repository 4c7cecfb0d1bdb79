// A recorded run for replaying `validate` without llama.cpp: real observations of three synthetic models on a 2-core
// EPYC, with the hardware profile measured there (test/fixtures/pipeline/recorded-run.json).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { HardwareProfile } from '../../src/contracts/hardware.js'
import type { ModelRun } from '../../src/contracts/observation.js'
import type { ModelProfile } from '../../src/contracts/profile.js'
import { DEFAULT_SCENARIOS as SCENARIO_IDS } from '../../src/contracts/scenarios.js'
import type { Workload } from '../../src/contracts/workload.js'
import { DEFAULT_THRESHOLDS } from '../../src/gate/index.js'
import { builtinEstimator } from '../../src/pipeline/builtin-estimator.js'
import type { ProfiledModel, ScenarioRunner, ValidateParams } from '../../src/pipeline/validate.js'

export interface Recorded {
  hardware: HardwareProfile
  workload: Workload
  models: (ProfiledModel & { run: ModelRun; profile: ModelProfile })[]
}

export const recorded = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'pipeline', 'recorded-run.json'), 'utf8')) as Recorded

/** Replays each model's recorded observations of the scenarios asked. */
export const replay: ScenarioRunner = async (model, scenarios) => {
  const run = recorded.models.find((m) => m.ref === model.ref)!.run
  return { ...run, observations: run.observations.filter((o) => scenarios.includes(o.scenario)) }
}

/** validate's parameters for the recorded run: every model and scenario, replayed, the default thresholds. */
export function recordedParams(over: Partial<ValidateParams> = {}): ValidateParams {
  return {
    models: recorded.models.map(({ ref, path, profile }) => ({ ref, path, profile })),
    scenarios: [...SCENARIO_IDS],
    workload: recorded.workload,
    thresholds: DEFAULT_THRESHOLDS,
    hardware: recorded.hardware,
    estimator: builtinEstimator(),
    runScenarios: replay,
    log: () => {},
    group: (_name, fn) => fn(),
    now: () => new Date('2026-12-02T17:30:00.000Z'),
    toolVersion: '0.1.0',
    runnerOs: 'Linux',
    shard: null,
    runnerName: null,
    baseline: null,
    ...over
  }
}
