import type { Report } from '../contracts/report.js'
import { jsonDocument, upgradeToSnakeKeys } from '../util/json-schema.js'
import reportSchema from './report.schema.json' with { type: 'json' }

/** The report format this build reads and writes. */
export const REPORT_SCHEMA_VERSION = 2

const reportDocument = jsonDocument<Report>(reportSchema, {
  what: 'report',
  version: REPORT_SCHEMA_VERSION,
  upgrades: { 1: upgradeToSnakeKeys },
  versionHint: `by this version of model-fit-gate (it reads ${REPORT_SCHEMA_VERSION})`
})

/**
 * Checks an object against report.schema.json and returns it typed. A mismatch is an InputError naming `source`
 * and the JSON path: "report.json: models[2].scenarios[0].ratio: must be number or null, got "fast"".
 */
export const validateReport = (obj: unknown, source: string): Report => reportDocument.validate(obj, source)

/** Parses report JSON text (as read from a file or an artifact) and validates it. */
export const parseReport = (text: string, source: string): Report => reportDocument.parse(text, source)

/** Validated, deterministic JSON (sorted keys, trailing newline): the bytes written to report.json. */
export const serializeReport = (report: Report, source = 'report'): string => reportDocument.serialize(report, source)
