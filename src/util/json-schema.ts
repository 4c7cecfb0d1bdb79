// The JSON documents this tool reads and writes (report.json, hardware.json) share one way of checking them:
// ajv with every error collected, the most useful error named by its JSON path, a clear message for another
// schema_version, and "not valid JSON" for text that does not parse. Pure.

import { Ajv, type AnySchema, type ErrorObject, type ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'
import { InputError, errorMessage } from './errors.js'
import { describeSchemaError } from './json-path.js'

// ajv-formats is CommonJS: Node's ESM loader hands over the plugin itself, TypeScript sees it as `.default`.
type FormatsPlugin = typeof addFormatsModule.default
const addFormats: FormatsPlugin =
  (addFormatsModule as unknown as { default?: FormatsPlugin }).default ?? (addFormatsModule as unknown as FormatsPlugin)

/** A strict ajv that collects every error (so mostUsefulError can choose) and knows date-time. */
export function strictAjv(extraSchemas: readonly AnySchema[] = []): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true })
  addFormats(ajv, ['date-time'])
  for (const s of extraSchemas) ajv.addSchema(s)
  return ajv
}

/**
 * The error a user can act on. A misspelt key shows up both as an unknown key and as the required key it was meant
 * to be: the unknown key is the one to fix, so it comes first. Else the deepest path, the most specific (anyOf
 * reports its branches' errors plus its own; the branches carry the reason).
 */
export function mostUsefulError(errors: readonly ErrorObject[]): ErrorObject | undefined {
  const unknown = errors.find((e) => e.keyword === 'additionalProperties')
  if (unknown) return unknown
  const specific = errors.filter((e) => e.keyword !== 'anyOf')
  return [...specific].sort((a, b) => b.instancePath.length - a.instancePath.length)[0] ?? errors[0]
}

export interface JsonDocumentSpec<T> {
  validate: ValidateFunction<T>
  /** "report", "hardware profile": names the document in messages. */
  what: string
  version: number
  /** Follows "<what> schema_version N is not supported": which version this build reads, and what to do. */
  versionHint: string
}

/** Checks an object against the document's schema; a mismatch is an InputError naming `source` and the field path. */
export function validateJsonDocument<T>(spec: JsonDocumentSpec<T>, obj: unknown, source: string): T {
  const version = (obj as { schema_version?: unknown } | null)?.schema_version
  if (obj !== null && typeof obj === 'object' && version !== undefined && version !== spec.version) {
    throw new InputError(source, 'schema_version', `${spec.what} schema_version ${JSON.stringify(version)} is not supported ${spec.versionHint}`)
  }
  if (spec.validate(obj)) return obj
  const error = mostUsefulError(spec.validate.errors ?? [])
  if (!error) throw new InputError(source, null, `does not match the ${spec.what} schema`)
  throw describeSchemaError(error, obj, source)
}

/** JSON text → value; text that does not parse is an InputError naming `source`. */
export function parseJsonText(text: string, source: string): unknown {
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new InputError(source, null, `not valid JSON: ${errorMessage(err)}`)
  }
}
