// hardware.json: validated against hardware.schema.json on every write and read, so a hand-edited or stale file is
// refused with the JSON path of the offending field instead of silently feeding wrong facts to the estimator.

import { readFile } from 'node:fs/promises'
import { Ajv, type ErrorObject } from 'ajv'
import addFormatsModule from 'ajv-formats'
import type { HardwareProfile } from '../types.js'
import { InputError } from '../util/errors.js'
import { writeFileAtomic } from '../util/fs.js'
import { stableStringify } from '../util/json.js'
import { describeSchemaError } from '../util/json-path.js'
import schema from './hardware.schema.json' with { type: 'json' }

/** The hardware.json format this build reads and writes. */
export const HARDWARE_SCHEMA_VERSION = 1

// ajv-formats is CommonJS: Node's ESM loader hands over the plugin itself, TypeScript sees it as `.default`.
type FormatsPlugin = typeof addFormatsModule.default
const addFormats: FormatsPlugin =
  (addFormatsModule as unknown as { default?: FormatsPlugin }).default ?? (addFormatsModule as unknown as FormatsPlugin)

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true })
addFormats(ajv, ['date-time'])
const validate = ajv.compile<HardwareProfile>(schema)

/** The error a user can act on: an unknown (misspelt) key first, else the deepest path (the most specific). */
function mostUsefulError(errors: readonly ErrorObject[]): ErrorObject | undefined {
  const unknown = errors.find((e) => e.keyword === 'additionalProperties')
  if (unknown) return unknown
  // anyOf reports its branches' errors plus its own; the branch errors carry the specific reason.
  const specific = errors.filter((e) => e.keyword !== 'anyOf')
  return [...specific].sort((a, b) => b.instancePath.length - a.instancePath.length)[0] ?? errors[0]
}

/** Checks an object against hardware.schema.json; a mismatch is an InputError naming `source` and the field path. */
export function validateHardwareProfile(obj: unknown, source: string): HardwareProfile {
  const version = (obj as { schema_version?: unknown } | null)?.schema_version
  if (obj !== null && typeof obj === 'object' && version !== undefined && version !== HARDWARE_SCHEMA_VERSION) {
    throw new InputError(
      source,
      'schema_version',
      `hardware profile schema_version ${JSON.stringify(version)} is not supported (this build reads ${HARDWARE_SCHEMA_VERSION}); run \`probe --refresh\``
    )
  }
  if (validate(obj)) return obj
  const error = mostUsefulError(validate.errors ?? [])
  if (!error) throw new InputError(source, null, 'does not match the hardware profile schema')
  throw describeSchemaError(error, obj, source)
}

/** Parses hardware.json text and validates it. */
export function parseHardwareProfile(text: string, source: string): HardwareProfile {
  let obj: unknown
  try {
    obj = JSON.parse(text)
  } catch (err) {
    throw new InputError(source, null, `not valid JSON: ${err instanceof Error ? err.message : String(err)}`)
  }
  return validateHardwareProfile(obj, source)
}

/** Reads and validates a hardware.json (from `probe --out`, or written by hand). */
export async function readHardwareProfile(path: string): Promise<HardwareProfile> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new InputError(path, null, `cannot read the hardware profile: ${err instanceof Error ? err.message : String(err)}`)
  }
  return parseHardwareProfile(text, path)
}

/** Validated, deterministic bytes of a profile (sorted keys, trailing newline). */
export function serializeHardwareProfile(profile: HardwareProfile, source = 'hardware profile'): string {
  validateHardwareProfile(profile, source)
  return stableStringify(profile)
}

/** Validates, then writes atomically. */
export async function writeHardwareProfile(path: string, profile: HardwareProfile): Promise<void> {
  await writeFileAtomic(path, serializeHardwareProfile(profile, path))
}
