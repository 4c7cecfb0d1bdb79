import { Ajv, type ErrorObject } from 'ajv'
import addFormatsModule from 'ajv-formats'
import type { Report } from '../types.js'
import { InputError } from '../util/errors.js'
import { stableStringify } from '../util/json.js'
import { describeSchemaError } from '../util/json-path.js'
import thresholdsSchema from '../gate/thresholds.schema.json' with { type: 'json' }
import reportSchema from './report.schema.json' with { type: 'json' }

/** The report format this build reads and writes. */
export const REPORT_SCHEMA_VERSION = 1

// ajv-formats is CommonJS: under Node's ESM loader the default import is the plugin itself, under TypeScript's view
// of it the plugin is `.default`; accept both.
type FormatsPlugin = typeof addFormatsModule.default
const addFormats: FormatsPlugin =
  (addFormatsModule as unknown as { default?: FormatsPlugin }).default ?? (addFormatsModule as unknown as FormatsPlugin)

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true })
addFormats(ajv, ['date-time'])
ajv.addSchema(thresholdsSchema)
const validate = ajv.compile<Report>(reportSchema)

/**
 * Checks an object against report.schema.json and returns it typed. A mismatch is an InputError naming `source`
 * and the JSON path: "report.json: models[2].scenarios[0].ratio: must be number,null, got string "fast"".
 */
export function validateReport(obj: unknown, source: string): Report {
  const version = (obj as { schema_version?: unknown } | null)?.schema_version
  if (obj !== null && typeof obj === 'object' && version !== undefined && version !== REPORT_SCHEMA_VERSION) {
    throw new InputError(
      source,
      'schema_version',
      `report schema_version ${JSON.stringify(version)} is not supported by this version of model-fit-gate (it reads ${REPORT_SCHEMA_VERSION})`
    )
  }
  if (validate(obj)) return obj
  const error = mostUsefulError(validate.errors ?? [])
  if (!error) throw new InputError(source, null, 'does not match the report schema')
  throw describeSchemaError(error, obj, source)
}

/** Parses report JSON text (as read from a file or an artifact) and validates it. */
export function parseReport(text: string, source: string): Report {
  let obj: unknown
  try {
    obj = JSON.parse(text)
  } catch (err) {
    throw new InputError(source, null, `not valid JSON: ${err instanceof Error ? err.message : String(err)}`)
  }
  return validateReport(obj, source)
}

/** Validated, deterministic JSON (sorted keys, trailing newline): the bytes written to report.json. */
export function serializeReport(report: Report, source = 'report'): string {
  validateReport(report, source)
  return stableStringify(report)
}

/**
 * A misspelt key shows up both as an unknown key and as the required key it was meant to be; the unknown key is the
 * one the user has to fix, so it is named first. Otherwise the first error in schema order.
 */
function mostUsefulError(errors: readonly ErrorObject[]): ErrorObject | undefined {
  return errors.find((e) => e.keyword === 'additionalProperties') ?? errors[0]
}
