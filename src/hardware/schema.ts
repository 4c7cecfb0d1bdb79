// hardware.json: validated against hardware.schema.json on every write and read, so a hand-edited or stale file is
// refused with the JSON path of the offending field instead of silently feeding wrong facts to the estimator.

import type { HardwareProfile } from '../contracts/hardware.js'
import { readInputText, writeFileAtomic } from '../util/fs.js'
import { jsonDocument, upgradeToSnakeKeys } from '../util/json-schema.js'
import schema from './hardware.schema.json' with { type: 'json' }

/** The hardware.json format this build reads and writes. */
export const HARDWARE_SCHEMA_VERSION = 2

const hardwareDocument = jsonDocument<HardwareProfile>(schema, {
  what: 'hardware profile',
  version: HARDWARE_SCHEMA_VERSION,
  upgrades: { 1: upgradeToSnakeKeys },
  versionHint: `(this build reads ${HARDWARE_SCHEMA_VERSION}); run \`probe --refresh\``
})

/** Checks an object against hardware.schema.json; a mismatch is an InputError naming `source` and the field path. */
export const validateHardwareProfile = (obj: unknown, source: string): HardwareProfile => hardwareDocument.validate(obj, source)

/** Parses hardware.json text and validates it. */
export const parseHardwareProfile = (text: string, source: string): HardwareProfile => hardwareDocument.parse(text, source)

/** Reads and validates a hardware.json (from `probe --out`, or written by hand). */
export async function readHardwareProfile(path: string): Promise<HardwareProfile> {
  return parseHardwareProfile(await readInputText(path, 'the hardware profile'), path)
}

/** Validated, deterministic bytes of a profile (sorted keys, trailing newline). */
export const serializeHardwareProfile = (profile: HardwareProfile, source = 'hardware profile'): string => hardwareDocument.serialize(profile, source)

/** Validates, then writes atomically. */
export async function writeHardwareProfile(path: string, profile: HardwareProfile): Promise<void> {
  await writeFileAtomic(path, serializeHardwareProfile(profile, path))
}
