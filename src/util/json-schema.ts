// The JSON documents this tool reads and writes (report.json, hardware.json) share one way of checking them:
// ajv with every error collected, the most useful error named by its JSON path, a clear message for another
// schema_version, and "not valid JSON" for text that does not parse. Pure.

import { Ajv, type AnySchema, type ErrorObject, type ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'
import { InputError, errorMessage } from './errors.js'
import { describeSchemaError } from './json-path.js'
import { stableStringify } from './json.js'

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
  /** Older versions this build still reads: version → the function that turns such a document into the next version. */
  upgrades?: Readonly<Record<number, (doc: Record<string, unknown>) => Record<string, unknown>>>
}

/** camelCase → snake_case ("decodeBandwidthByType" → "decode_bandwidth_by_type"); other names are kept. */
export function snakeCase(key: string): string {
  return /^[a-z][a-zA-Z0-9]*$/.test(key) ? key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase() : key
}

/**
 * Version 1 → 2 of report.json and hardware.json: version 2 applies one rule to every key, snake_case, where version 1
 * kept the camelCase of the stage contracts it embedded (profile, fit, hardware, workload). Data keys (GGML type
 * names, probe part ids, refs) never were camelCase words, so renaming every camelCase key is exact. The hardware
 * profile a report embeds is upgraded with it.
 */
export function upgradeToSnakeKeys(doc: Record<string, unknown>): Record<string, unknown> {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk)
    if (v === null || typeof v !== 'object') return v
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [snakeCase(k), k === 'schema_version' && x === 1 ? 2 : walk(x)]))
  }
  return walk(doc) as Record<string, unknown>
}

/** Checks an object against the document's schema; a mismatch is an InputError naming `source` and the field path. */
export function validateJsonDocument<T>(spec: JsonDocumentSpec<T>, doc: unknown, source: string): T {
  let obj = doc
  for (;;) {
    const v = (obj as { schema_version?: unknown } | null)?.schema_version
    const upgrade = typeof v === 'number' ? spec.upgrades?.[v] : undefined
    if (!upgrade || obj === null || typeof obj !== 'object' || Array.isArray(obj)) break
    obj = upgrade(obj as Record<string, unknown>)
  }
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

/** A JSON document type's three operations, from its schema: check an object, parse text, serialise deterministically. */
export interface JsonDocument<T> {
  /** Checks an object; a mismatch is an InputError naming `source` and the field's JSON path. */
  validate(obj: unknown, source: string): T
  /** Parses JSON text and validates it. */
  parse(text: string, source: string): T
  /** Validated, deterministic bytes (sorted keys, trailing newline). */
  serialize(value: T, source: string): string
}

export function jsonDocument<T>(schema: AnySchema, spec: Omit<JsonDocumentSpec<T>, 'validate'>): JsonDocument<T> {
  const full: JsonDocumentSpec<T> = { ...spec, validate: strictAjv().compile<T>(schema) }
  const validate = (obj: unknown, source: string): T => validateJsonDocument(full, obj, source)
  return {
    validate,
    parse: (text, source) => validate(parseJsonText(text, source), source),
    serialize: (value, source) => {
      validate(value, source)
      return stableStringify(value)
    }
  }
}
