import { readFile } from 'node:fs/promises'
import type { Thresholds } from '../types.js'
import { InputError, errorMessage } from '../util/errors.js'
import { DEFAULT_THRESHOLDS } from './defaults.js'
import { parseThresholds } from './thresholds.js'

/** Reads a thresholds file (edge); without a path, the built-in defaults (the repository's thresholds.yml). */
export async function readThresholds(path?: string | null): Promise<Thresholds> {
  if (!path) return DEFAULT_THRESHOLDS
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new InputError(path, null, `cannot read the thresholds file: ${errorMessage(err)}`)
  }
  return parseThresholds(text, path)
}
