import type { Report } from '../contracts/report.js'
import { stableStringify } from '../util/json.js'
import { parseJsonText, strictAjv, upgradeToSnakeKeys, validateJsonDocument, type JsonDocumentSpec } from '../util/json-schema.js'
import reportSchema from './report.schema.json' with { type: 'json' }

/** The report format this build reads and writes. */
export const REPORT_SCHEMA_VERSION = 2

const spec: JsonDocumentSpec<Report> = {
  validate: strictAjv().compile<Report>(reportSchema),
  what: 'report',
  version: REPORT_SCHEMA_VERSION,
  upgrades: { 1: upgradeToSnakeKeys },
  versionHint: `by this version of model-fit-gate (it reads ${REPORT_SCHEMA_VERSION})`
}

/**
 * Checks an object against report.schema.json and returns it typed. A mismatch is an InputError naming `source`
 * and the JSON path: "report.json: models[2].scenarios[0].ratio: must be number,null, got string "fast"".
 */
export function validateReport(obj: unknown, source: string): Report {
  return validateJsonDocument(spec, obj, source)
}

/** Parses report JSON text (as read from a file or an artifact) and validates it. */
export function parseReport(text: string, source: string): Report {
  return validateReport(parseJsonText(text, source), source)
}

/** Validated, deterministic JSON (sorted keys, trailing newline): the bytes written to report.json. */
export function serializeReport(report: Report, source = 'report'): string {
  validateReport(report, source)
  return stableStringify(report)
}
