import { readInputText } from '../util/fs.js'
import { MAX_THRESHOLDS_BYTES } from '../gate/thresholds.js'
import { aggregateReports } from '../gate/aggregate.js'
import { renderMarkdown } from '../report/index.js'
import { readReport } from './report-files.js'
import { applyGate, parseThresholds } from '../gate/index.js'
import type { Report } from '../contracts/report.js'
import type { ScenarioId } from '../contracts/scenarios.js'
import { InputError } from '../util/errors.js'
import { SCENARIO_IDS } from '../contracts/scenarios.js'
import { SUMMARY_MAX_BYTES } from './config.js'

/** `check`: one report, or several shard reports aggregated, gated again against (possibly other) thresholds. */
export async function gateReports(
  paths: string[],
  opts: { thresholdsPath: string; scenario: string }
): Promise<{ report: Report; markdown: string }> {
  if (opts.scenario !== 'all' && !(SCENARIO_IDS as readonly string[]).includes(opts.scenario)) {
    throw new InputError('--scenario', null, `expected all or one of ${SCENARIO_IDS.join(', ')}, got "${opts.scenario}"`)
  }
  const text = await readInputText(opts.thresholdsPath, 'the thresholds', MAX_THRESHOLDS_BYTES)
  const thresholds = parseThresholds(text, opts.thresholdsPath)
  const reports = await Promise.all(paths.map((p) => readReport(p)))
  const scenario = opts.scenario as ScenarioId | 'all'
  const report =
    // One report is gated as it is, unless it is a shard: a shard alone is an incomplete corpus, which aggregating says.
    reports.length === 1 && !reports[0]!.provenance.shard
      ? applyGate(reports[0] as Report, thresholds, { scenario })
      : aggregateReports(reports, { thresholds, scenario, sources: paths })
  return { report, markdown: renderMarkdown(report, { maxBytes: SUMMARY_MAX_BYTES }) }
}
