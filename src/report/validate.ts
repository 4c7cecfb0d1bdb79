import { Ajv, type ErrorObject } from 'ajv'
import addFormatsModule from 'ajv-formats'
import type { Report } from '../types.js'
import { InputError } from '../util/errors.js'
import { stableStringify } from '../util/json.js'
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
  throw describe(error, obj, source)
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

function describe(error: ErrorObject, root: unknown, source: string): InputError {
  const path = pointerToPath(error.instancePath)
  const params = error.params as Record<string, unknown>
  if (error.keyword === 'additionalProperties') {
    return new InputError(source, jsonPath([...path, String(params.additionalProperty)]), 'is not a known field')
  }
  if (error.keyword === 'required') {
    return new InputError(source, jsonPath([...path, String(params.missingProperty)]), 'is required')
  }
  const value = valueAt(root, path)
  const expected = error.keyword === 'type' ? `must be ${String(params.type).replaceAll(',', ' or ')}` : (error.message ?? 'is invalid')
  return new InputError(source, jsonPath(path), `${expected}, got ${show(value)}`)
}

function pointerToPath(pointer: string): (string | number)[] {
  if (pointer === '') return []
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s))
}

/** models[2].scenarios[0].ratio */
function jsonPath(path: (string | number)[]): string {
  if (path.length === 0) return '(top level)'
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('')
}

function valueAt(root: unknown, path: (string | number)[]): unknown {
  let v = root
  for (const s of path) {
    if (v === null || typeof v !== 'object') return undefined
    v = (v as Record<string, unknown>)[String(s)]
  }
  return v
}

const MAX_SHOWN_VALUE_CHARS = 60

function show(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value)
  const text = JSON.stringify(value) ?? String(value)
  return text.length > MAX_SHOWN_VALUE_CHARS ? `${text.slice(0, MAX_SHOWN_VALUE_CHARS - 1)}…` : text
}

/**
 * A misspelt key shows up both as an unknown key and as the required key it was meant to be; the unknown key is the
 * one the user has to fix, so it is named first. Otherwise the first error in schema order.
 */
function mostUsefulError(errors: readonly ErrorObject[]): ErrorObject | undefined {
  return errors.find((e) => e.keyword === 'additionalProperties') ?? errors[0]
}
