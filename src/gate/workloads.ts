// The named workloads of a run (thresholds.yml `workloads:`): each is the built-in workload with its keys and the
// run's flags applied, the scenarios it runs, and the limits its rows are gated with. Pure.

import type { Thresholds, WorkloadConfig } from '../contracts/gate.js'
import type { ScenarioId } from '../contracts/scenarios.js'
import type { NamedWorkload, Workload } from '../contracts/workload.js'
import { AUTO_GPU_LAYERS, defaultWorkload, validateParallel } from '../bench/workload.js'
import { InputError } from '../util/errors.js'

/** The workload of a run that names none: its rows carry no workload name, as before workloads existed. */
export const DEFAULT_WORKLOAD_NAME = 'default'

/** What a workload name may be: it labels rows, file names of checkpoints and report headings. */
export const WORKLOAD_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

/** The keys of a WorkloadConfig that are not the Workload's own. */
const NOT_WORKLOAD_KEYS = new Set(['scenarios', 'thresholds', 'min_window_s'])

/** The Workload keys a config sets. */
export function workloadOverrides(config: WorkloadConfig): Partial<Workload> {
  const out: Record<string, unknown> = Object.fromEntries(Object.entries(config).filter(([k]) => !NOT_WORKLOAD_KEYS.has(k)))
  // `auto` is the workload's -1: resolved per model before the run (AUTO_GPU_LAYERS).
  if (out.gpu_layers === 'auto') out.gpu_layers = AUTO_GPU_LAYERS
  return out as Partial<Workload>
}

export interface ResolvedWorkload extends NamedWorkload {
  scenarios: ScenarioId[]
  /** The limits of this workload's rows: the file's, with the workload's own over them. */
  thresholds: Thresholds
  /** Seconds each timed decode window should last at least (0: the counts as given). */
  minWindowS: number
}

/** The file's limits with a workload's over them (its scenarios replace the file's scenario by scenario). */
export function thresholdsFor(thresholds: Thresholds, name: string | undefined): Thresholds {
  const own = name ? thresholds.workloads?.[name]?.thresholds : undefined
  if (!own) return thresholds
  const { scenarios, ...rest } = own
  return { ...thresholds, ...rest, scenarios: { ...thresholds.scenarios, ...(scenarios ?? {}) } }
}

/**
 * The workloads a run gates, in the file's order (or `select`'s): each built from the defaults, the workload's keys,
 * then `flags` (the CLI flags and action inputs, which apply to every workload). Without a `workloads:` section:
 * one, `default`. `base` sits under the workload's keys (the machine's threads). Throws InputError naming the workload and key for a combination llama.cpp cannot run.
 */
export function resolveWorkloads(
  thresholds: Thresholds,
  flags: Partial<Workload>,
  opts: { select?: readonly string[] | null; scenarios: readonly ScenarioId[]; scenariosGiven: boolean; source: string; base?: Partial<Workload> }
): ResolvedWorkload[] {
  const configs = thresholds.workloads ?? { [DEFAULT_WORKLOAD_NAME]: {} }
  const names = opts.select && opts.select.length > 0 ? [...opts.select] : Object.keys(configs)
  return names.map((name) => {
    const config = configs[name]
    if (!config) {
      throw new InputError(opts.source, name, `no workload "${name}" in the thresholds file (it has ${Object.keys(configs).join(', ')})`)
    }
    const workload = defaultWorkload({ ...opts.base, ...workloadOverrides(config), ...flags })
    // The run's scenarios (a flag or input) win over the workload's list, so `--scenarios memory` stays memory-only.
    const scenarios = opts.scenariosGiven || !config.scenarios ? [...opts.scenarios] : [...config.scenarios]
    if (scenarios.includes('parallel_decode')) validateParallel(workload, `workload ${name}`)
    return { name, workload, scenarios, thresholds: thresholdsFor(thresholds, thresholds.workloads ? name : undefined), minWindowS: config.min_window_s ?? 0 }
  })
}
