import type { ProbeFailure } from '../contracts/hardware.js'
import type { Report } from '../contracts/report.js'
import { formatNumber } from '../util/format.js'

/** One line for logs and reports: "pf-Q8_0 (run: …): Q4_0's measured prefill rate …". */
export function failureLine(f: ProbeFailure): string {
  return `${f.part} (${f.stage}: ${f.reason.split('\n')[0]}) → ${f.stand_in}`
}

/** Stand-ins named one by one; more are counted. */
const MAX_NAMED_STAND_INS = 8

/**
 * The probe facts this report's predictions rest on that were not measured (a failed probe part, or a type the plan
 * left out), each with what stands in for it: every renderer names them, so no estimate hides a stand-in.
 */
export function standInLines(report: Report): string[] {
  const failures = report.hardware.probe_failures ?? []
  const lines = failures.slice(0, MAX_NAMED_STAND_INS).map(failureLine)
  if (failures.length > MAX_NAMED_STAND_INS) lines.push(`and ${failures.length - MAX_NAMED_STAND_INS} more in hardware.json (probe_failures)`)
  return lines
}

/** The cache the estimator counted with, and where that number came from. */
function cacheLine(report: Report): string | null {
  const s = report.hardware.system
  if (s.cache_bytes === undefined) return null
  const mib = (b: number) => `${formatNumber(b / 1024 ** 2)} MiB`
  const knee = report.hardware.ceilings.cache_knee_bytes
  const detail = [
    s.cache_source ? `${s.cache_source}` : null,
    knee ? `read-sweep knee ${mib(knee)}` : null,
    s.cache_reported_bytes ? `reported ${mib(s.cache_reported_bytes)}` : null
  ].filter((x) => x !== null)
  return `${mib(s.cache_bytes)} usable${detail.length > 0 ? ` (${detail.join(', ')})` : ''}`
}

/** Label/value pairs describing where and how the numbers were produced, for every renderer. */
export function provenanceLines(report: Report): [string, string][] {
  const p = report.provenance
  const w = report.workload
  const lines: [string, string][] = [
    ['generated', report.generated_at],
    ['tool', `${report.tool.name} ${report.tool.version}`],
    ['estimator', report.estimator.command ? `${report.estimator.name} (${report.estimator.command})` : report.estimator.name],
    ['llama.cpp', `commit ${p.llama_cpp_commit}${p.llama_cpp_build !== null ? `, build ${p.llama_cpp_build}` : ''}`],
    ['node-llama-cpp', p.node_llama_cpp_version ?? 'unknown'],
    ['backend', p.backend],
    ['device', p.driver ? `${p.device} (driver ${p.driver})` : p.device],
    ['threads', String(p.threads)],
    ['runner', p.runner_name ? `${p.runner_name} (${p.runner_os})` : p.runner_os],
    ['hardware profile', report.hardware.fingerprint],
    ...(cacheLine(report) ? [['cache', cacheLine(report)!] as [string, string]] : []),
    ...standInLines(report).map((l): [string, string] => ['probe stand-in', l]),
    ['wall time', `${formatNumber(p.wall_time_s)} s`],
    [
      'workload',
      `ctx ${w.context_tokens}, kv ${w.kv_type}, decode ${w.decode_tokens} tok at depth ${w.decode_depth}, prefill ${w.prefill_tokens}${w.prefill_depth ? ` at depth ${w.prefill_depth}` : ''}, ` +
        `first token prompt ${w.first_token_prompt_tokens}, warm ${w.warm_prefix_tokens}+${w.warm_suffix_tokens}, ` +
        `ubatch ${w.ubatch}, batch ${w.batch}, gpu layers ${w.gpu_layers}, flash attention ${w.flash_attention ? 'on' : 'off'}`
    ]
  ]
  if (p.shard) lines.push(['shard', p.shard])
  if (report.thresholds) {
    lines.push(['thresholds', `tolerance ${report.thresholds.tolerance_pct} %, max spread ${report.thresholds.max_spread_pct} %, min models ${report.thresholds.min_models}, max runtime errors ${report.thresholds.max_runtime_errors}${report.thresholds.max_regression_pct !== undefined ? `, max regression ${report.thresholds.max_regression_pct} %` : ''}`])
  }
  for (const s of report.shards ?? []) {
    lines.push([
      `shard ${s.shard ?? '—'}`,
      `${s.runner_name ?? 'runner'} (${s.runner_os}, ${s.device}, ${s.backend}, llama.cpp ${s.llama_cpp_commit}): ` +
        `${s.models.length} models, ${s.passed ? 'passed' : `failed (${s.failures})`}, ${formatNumber(s.wall_time_s)} s`
    ])
  }
  return lines
}
