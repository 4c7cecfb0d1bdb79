import type { ErrorObject } from 'ajv'
import { InputError } from './errors.js'

// Shared by every schema-checked input (report, hardware.json, thresholds.yml): ajv speaks JSON pointers
// (/models/2/ratio); users read paths (models[2].ratio) and the offending value.

export type PathSegment = string | number

/** Characters of an offending value quoted in a message. */
const MAX_SHOWN_VALUE_CHARS = 60

export function pointerToPath(pointer: string): PathSegment[] {
  if (pointer === '') return []
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s))
}

/** models[2].scenarios[0].ratio */
export function jsonPath(path: readonly PathSegment[]): string {
  if (path.length === 0) return '(top level)'
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('')
}

export function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let v = root
  for (const s of path) {
    if (v === null || typeof v !== 'object') return undefined
    v = (v as Record<string, unknown>)[String(s)]
  }
  return v
}

function showValue(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value)
  const text = JSON.stringify(value) ?? String(value)
  return text.length > MAX_SHOWN_VALUE_CHARS ? `${text.slice(0, MAX_SHOWN_VALUE_CHARS - 1)}…` : text
}

/** One ajv error as an InputError naming `source`, the field path and, for a wrong value, the value itself. */
export function describeSchemaError(error: ErrorObject, root: unknown, source: string): InputError {
  const path = pointerToPath(error.instancePath)
  const params = error.params as Record<string, unknown>
  if (error.keyword === 'additionalProperties') {
    return new InputError(source, jsonPath([...path, String(params.additionalProperty)]), 'is not a known field')
  }
  if (error.keyword === 'required') {
    return new InputError(source, jsonPath([...path, String(params.missingProperty)]), 'is required')
  }
  const expected = error.keyword === 'type' ? `must be ${String(params.type).replaceAll(',', ' or ')}` : (error.message ?? 'is invalid')
  return new InputError(source, jsonPath(path), `${expected}, got ${showValue(valueAt(root, path))}`)
}
