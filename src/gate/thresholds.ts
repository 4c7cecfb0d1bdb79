import type { ErrorObject } from 'ajv'
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml'
import { SCENARIO_IDS } from '../contracts/scenarios.js'
import type { Thresholds } from '../contracts/gate.js'
import type { CompareSettings } from '../contracts/verdict.js'
import { InputError, clipQuoted, yamlToJs } from '../util/errors.js'
import { jsonPath, pointerToPath, valueAt, type PathSegment } from '../util/json-path.js'
import { mostUsefulError, strictAjv } from '../util/json-schema.js'
import schema from './thresholds.schema.json' with { type: 'json' }
import { WORKLOAD_NAME, workloadOverrides } from './workloads.js'
import { defaultWorkload, validateParallel } from '../bench/workload.js'

// One compiled validator per process. allErrors on so mostUsefulError() can pick the error to name.
const validate = strictAjv().compile<Thresholds>(schema)


/**
 * Parses and schema-checks a thresholds YAML file. Every error is an InputError naming the file, the key path and
 * its line: "thresholds.yml: scenarios.prefill.max_abs_error_pct (line 7): must be number, got string "ten"".
 */
export function parseThresholds(text: string, fileName: string): Thresholds {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false })
  const yamlError = doc.errors[0]
  if (yamlError) {
    const line = lineCounter.linePos(yamlError.pos[0]).line
    throw new InputError(fileName, `line ${line}`, `invalid YAML: ${firstLine(yamlError.message)}`)
  }
  const value: unknown = yamlToJs(() => doc.toJS({ maxAliasCount: 100 }), fileName)
  if (value === null || value === undefined) {
    throw new InputError(fileName, 'line 1', 'the file is empty; expected a mapping of thresholds (see thresholds.yml)')
  }
  if (validate(value)) {
    checkWorkloads(value, doc, lineCounter, fileName)
    return value
  }
  const error = mostUsefulError(validate.errors ?? [])
  if (!error) throw new InputError(fileName, null, 'does not match the thresholds schema')
  throw describeError(error, doc, lineCounter, fileName, value)
}

/**
 * Each named workload must be a combination llama.cpp runs (bench/workload.ts validateWorkload): checked here, so a
 * bad one fails with its line before anything runs.
 */
function checkWorkloads(t: Thresholds, doc: Document, lineCounter: LineCounter, fileName: string): void {
  for (const [name, config] of Object.entries(t.workloads ?? {})) {
    const at = (p: PathSegment[], message: string): InputError => new InputError(fileName, `${jsonPath(p)} (line ${lineOf(doc, lineCounter, p, true)})`, message)
    if (!WORKLOAD_NAME.test(name)) throw at(['workloads', name], `workload name "${clipQuoted(name)}" must be letters, digits, '.', '_' or '-' (at most 64, starting with a letter or digit)`)
    try {
      const w = defaultWorkload(workloadOverrides(config))
      if (config.scenarios?.includes('parallel_decode')) validateParallel(w)
    } catch (err) {
      if (!(err instanceof InputError)) throw err
      const key = err.where ?? ''
      throw at(['workloads', name, ...(key in config ? [key] : [])], err.message.slice(`${err.source}: ${err.where ? `${err.where}: ` : ''}`.length))
    }
  }
}

/** A limit is exceeded only by more than this, so a value printed equal to its limit passes. */
const LIMIT_EPSILON = 1e-9

/** Whether a value breaks a limit (more than the limit, beyond float noise): every gate rule uses this one. */
export function exceeds(value: number, limit: number): boolean {
  return value > limit + LIMIT_EPSILON
}

/** A thresholds file (or corpus spec) is a few hundred bytes; past a mebibyte it is not one. */
export const MAX_THRESHOLDS_BYTES = 1024 * 1024

/** Limits set per scenario (under `scenarios.<id>`); the others are set once for the run. */
const SCENARIO_LIMITS = new Set(['max_median_abs_error_pct', 'max_abs_error_pct', 'max_noisy'])

/**
 * The line of a thresholds file that sets the limit a gate failure is about (annotations point at it): the key's
 * line, else the nearest enclosing key's; null when the text is not YAML.
 */
export function limitLine(text: string, failure: { scenario: string | null; limit: string }): number | null {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, prettyErrors: false })
  if (doc.errors.length > 0 || !isMap(doc.contents)) return null
  const path =
    failure.scenario === 'memory'
      ? ['memory', ...failure.limit.split('.')]
      : failure.scenario !== null && SCENARIO_LIMITS.has(failure.limit)
        ? ['scenarios', failure.scenario, failure.limit]
        : [failure.limit]
  return lineOf(doc, lineCounter, path, true)
}

/** The verdict settings a thresholds file implies (percentages → fractions). */
export function compareSettingsFrom(thresholds: Thresholds): CompareSettings {
  return { tolerance: thresholds.tolerance_pct / 100, maxSpread: thresholds.max_spread_pct / 100 }
}

function describeError(
  error: ErrorObject,
  doc: Document,
  lineCounter: LineCounter,
  fileName: string,
  root: unknown
): InputError {
  const path = pointerToPath(error.instancePath)
  const at = (p: PathSegment[], message: string, keyLine = false): InputError =>
    new InputError(fileName, `${jsonPath(p)} (line ${lineOf(doc, lineCounter, p, keyLine)})`, message)

  switch (error.keyword) {
    case 'additionalProperties': {
      const key = clipQuoted(String((error.params as { additionalProperty: string }).additionalProperty))
      const full = [...path, key]
      if ((path.length === 1 && path[0] === 'scenarios') || (path.length === 4 && path[0] === 'workloads' && path[3] === 'scenarios')) {
        return at(full, `unknown scenario "${key}"; valid scenario ids: ${SCENARIO_IDS.join(', ')}`, true)
      }
      return at(full, `unknown key "${key}"; valid keys here: ${validKeysAt(path).join(', ')}`, true)
    }
    case 'required': {
      const key = String((error.params as { missingProperty: string }).missingProperty)
      return at([...path, key], `missing required key "${key}"`, true)
    }
    case 'type':
      return at(path, `must be ${String((error.params as { type: string }).type)}, got ${describe(valueAt(root, path))}`)
    default:
      return at(path, `${error.message ?? 'is invalid'}, got ${describe(valueAt(root, path))}`)
  }
}

/** Top-level keys, or the scenario keys, the schema allows at a path (for "valid keys here" in messages). */
function validKeysAt(path: PathSegment[]): string[] {
  if (path.length === 0) return Object.keys(schema.properties)
  if (path.length === 2 && path[0] === 'scenarios') return Object.keys(schema.definitions.ScenarioThresholds.properties)
  if (path.length === 2 && path[0] === 'workloads') return Object.keys(schema.definitions.WorkloadConfig.properties)
  if (path.length === 3 && path[0] === 'workloads' && path[2] === 'thresholds') return Object.keys(schema.definitions.WorkloadThresholds.properties)
  return []
}

/**
 * The 1-based line of a key path. A path that does not exist (a missing key) points at its nearest existing parent.
 * keyLine: point at the key itself rather than its value (for unknown keys).
 */
function lineOf(doc: Document, lineCounter: LineCounter, path: PathSegment[], keyLine: boolean): number {
  for (let n = path.length; n > 0; n--) {
    const parent = n === 1 ? doc.contents : doc.getIn(path.slice(0, n - 1), true)
    const key = path[n - 1]
    if (isMap(parent)) {
      const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key))
      if (pair) {
        const node = (keyLine || !pair.value ? pair.key : pair.value) as Node | null
        const offset = node?.range?.[0]
        if (offset !== undefined) return lineCounter.linePos(offset).line
      }
    } else if (isSeq(parent) && typeof key === 'number') {
      const offset = (parent.items[key] as Node | undefined)?.range?.[0]
      if (offset !== undefined) return lineCounter.linePos(offset).line
    }
  }
  const offset = (doc.contents as Node | null)?.range?.[0] ?? 0
  return lineCounter.linePos(offset).line
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  if (typeof value === 'string') return `string ${clipQuoted(JSON.stringify(value))}`
  return `${typeof value} ${String(value)}`
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message
}
