import type { GateFailure, Thresholds } from '../contracts/gate.js'
import type { BaselineComparison, Report, ShardProvenance } from '../contracts/report.js'
import type { ScenarioId } from '../contracts/scenarios.js'
import { applyGate } from './apply.js'
import { DEFAULT_THRESHOLDS } from './defaults.js'
import { InputError } from '../util/errors.js'
import { stableStringify } from '../util/json.js'
import { parseShard } from '../models/shard.js'
import { rowLabel } from '../contracts/report.js'

export interface AggregateOptions {
  /** Gate with these; default: the thresholds the shards were gated with (they must agree), else the defaults. */
  thresholds?: Thresholds
  scenario?: ScenarioId | 'all'
  /** File names of the reports, in the same order, for error messages and ordering ties. */
  sources?: readonly string[]
}

/**
 * Merges shard reports into one report and gates it as one run, keeping each shard's runner and own result in
 * `shards`. Shards are ordered by their k in "k/n" (then source name), so the merged report does not depend on the
 * order the files were found in. Refuses reports of different schema versions and a ref
 * present in two shards of one machine; the same ref from two machines becomes two rows named `ref @ runner`.
 * Provenance is the first shard's, with the longest shard's wall time (they run in parallel).
 */
export function aggregateReports(reports: readonly Report[], opts: AggregateOptions = {}): Report {
  const source = 'reports'
  if (reports.length === 0) throw new InputError(source, null, 'no shard reports to aggregate')
  const named = reports.map((report, i) => ({ report, name: opts.sources?.[i] ?? `report ${i + 1}`, i }))

  const versions = new Set(named.map((r) => (r.report as { schema_version: unknown }).schema_version))
  if (versions.size > 1) {
    const list = named.map((r) => `${JSON.stringify((r.report as { schema_version: unknown }).schema_version)} (${r.name})`)
    throw new InputError(source, 'schema_version', `shard reports disagree: ${list.join(', ')}; produce them with one model-fit-gate version`)
  }

  const incomplete = shardGaps(named)
  named.sort((a, b) => shardIndex(a.report) - shardIndex(b.report) || compareText(a.name, b.name) || a.i - b.i)

  // The same model on two machines (a CUDA box and a Mac in one matrix) is two rows, each named with its runner;
  // the same model twice on one machine means the shards overlap.
  const owner = new Map<string, { name: string; fingerprint: string }>()
  const devices = new Map<string, Set<string>>()
  for (const { report, name } of named) {
    // Keyed by the row label: with named workloads one report holds a model once per workload.
    for (const m of report.models) {
      const key = rowLabel(m)
      const first = owner.get(key)
      if (first !== undefined && first.fingerprint === report.hardware.fingerprint) {
        throw new InputError(source, 'models', `model "${key}" is in more than one shard report of one machine (${first.name}, ${name}); shards must be disjoint`)
      }
      if (first === undefined) owner.set(key, { name, fingerprint: report.hardware.fingerprint })
      devices.set(m.ref, (devices.get(m.ref) ?? new Set()).add(report.hardware.fingerprint))
    }
  }
  const rowName = (ref: string, report: Report): string =>
    (devices.get(ref)?.size ?? 1) > 1 ? `${ref} @ ${report.provenance.runner_name ?? report.provenance.device}` : ref

  const thresholds = opts.thresholds ?? agreedThresholds(named.map((n) => n.report)) ?? DEFAULT_THRESHOLDS
  const first = (named[0] as (typeof named)[number]).report
  const runnerNames = [...new Set(named.map((n) => n.report.provenance.runner_name).filter((n): n is string => n !== null))]
  const merged: Report = {
    ...first,
    generated_at: named.map((n) => n.report.generated_at).reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a)),
    provenance: {
      ...first.provenance,
      shard: null,
      runner_name: runnerNames.length > 0 ? runnerNames.join(', ') : null,
      wall_time_s: Math.max(...named.map((n) => n.report.provenance.wall_time_s))
    },
    models: named.flatMap((n) => n.report.models.map((m) => ({ ...m, ref: rowName(m.ref, n.report) }))),
    shards: named.map((n) => shardOf(n.report)),
    ...mergedBaseline(named.map((n) => n.report), rowName)
  }
  const gated = applyGate(merged, thresholds, { scenario: opts.scenario })
  if (incomplete.length === 0) return gated
  return { ...gated, gate: { passed: false, failures: [...incomplete, ...gated.gate.failures] } }
}

/**
 * A sharded run is judged whole or not at all: every shard k of n must have its report (a shard that crashed wrote
 * none) once per machine, and all of them must be of one corpus (Provenance.corpus_digest). Mixed corpora are an
 * input error; a missing or doubled shard fails the gate, named.
 */
function shardGaps(named: ReadonlyArray<{ report: Report; name: string }>): GateFailure[] {
  const sharded = named.filter((n) => n.report.provenance.shard)
  if (sharded.length === 0) return []
  const digests = new Set(sharded.map((n) => n.report.provenance.corpus_digest).filter((d): d is string => d !== undefined))
  if (digests.size > 1) {
    const list = sharded.map((n) => `${n.report.provenance.corpus_digest ?? '?'} (${n.name})`)
    throw new InputError('reports', 'corpus_digest', `shard reports are of different corpora: ${list.join(', ')}; aggregate the shards of one run`)
  }
  const specs = sharded.map((n) => ({ ...parseShard(n.report.provenance.shard as string, `${n.name}: provenance.shard`), machine: n.report.hardware.fingerprint, name: n.name }))
  const counts = new Set(specs.map((s) => s.count))
  if (counts.size > 1) throw new InputError('reports', 'shard', `shard reports split the corpus differently (${sharded.map((n) => `${n.report.provenance.shard} in ${n.name}`).join(', ')})`)
  const n = specs[0]!.count
  const failures: GateFailure[] = []
  for (const machine of new Set(specs.map((s) => s.machine))) {
    const here = specs.filter((s) => s.machine === machine)
    const label = new Set(specs.map((s) => s.machine)).size > 1 ? ` on ${machine.slice(0, 12)}` : ''
    for (let k = 1; k <= n; k++) {
      const got = here.filter((s) => s.index === k)
      if (got.length === 0) {
        failures.push({ scenario: null, model: null, limit: 'complete_shards', value: k, message: `shard ${k}/${n}${label} has no report (it crashed or was not uploaded): the corpus was not judged whole` })
      } else if (got.length > 1) {
        failures.push({ scenario: null, model: null, limit: 'complete_shards', value: k, message: `shard ${k}/${n}${label} has ${got.length} reports (${got.map((g) => g.name).join(', ')})` })
      }
    }
  }
  return failures
}

/** Each shard compared its own models with the baseline; the whole run keeps all of their rows. */
function mergedBaseline(reports: readonly Report[], rowName: (ref: string, report: Report) => string): { baseline?: BaselineComparison } {
  const compared = reports.filter((r) => r.baseline !== undefined)
  const first = compared[0]?.baseline
  if (!first) return {}
  return {
    baseline: {
      ...first,
      rows: compared.flatMap((r) => r.baseline!.rows.map((row) => ({ ...row, ref: rowName(row.ref, r) }))),
      not_compared: compared.flatMap((r) => r.baseline!.not_compared.map((row) => ({ ...row, ref: rowName(row.ref, r) })))
    }
  }
}

function shardOf(report: Report): ShardProvenance {
  const p = report.provenance
  return {
    shard: p.shard,
    runner_name: p.runner_name,
    runner_os: p.runner_os,
    device: p.device,
    backend: p.backend,
    llama_cpp_commit: p.llama_cpp_commit,
    hardware_fingerprint: report.hardware.fingerprint,
    wall_time_s: p.wall_time_s,
    models: report.models.map((m) => m.ref),
    passed: report.gate.passed,
    failures: report.gate.failures.length
  }
}

function agreedThresholds(reports: readonly Report[]): Thresholds | null {
  const all = reports.map((r) => r.thresholds).filter((t): t is Thresholds => t !== undefined)
  if (all.length === 0) return null
  const distinct = new Set(all.map((t) => stableStringify(t)))
  if (distinct.size > 1) {
    throw new InputError('reports', 'thresholds', 'shard reports were gated with different thresholds; pass the thresholds to gate them with')
  }
  return all[0] as Thresholds
}

/** k of "k/n", or after every numbered shard when the report is not a shard. */
function shardIndex(report: Report): number {
  const spec = report.provenance.shard
  if (!spec) return Number.MAX_SAFE_INTEGER
  try {
    return parseShard(spec).index
  } catch {
    return Number.MAX_SAFE_INTEGER
  }
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
