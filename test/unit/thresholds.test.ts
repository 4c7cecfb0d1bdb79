import { readFileSync } from 'node:fs'
import { describe, expect, test } from '@jest/globals'
import { parseThresholds, compareSettingsFrom } from '../../src/gate/thresholds.js'
import { DEFAULT_THRESHOLDS } from '../../src/gate/defaults.js'
import { InputError } from '../../src/util/errors.js'

const GOOD = `tolerance_pct: 10
max_spread_pct: 10
min_models: 1
max_runtime_errors: 0
scenarios:
  prefill:
    max_median_abs_error_pct: 15
    max_abs_error_pct: 30
    max_noisy: 1
`

function errorOf(text: string): InputError {
  try {
    parseThresholds(text, 'thresholds.yml')
  } catch (err) {
    if (err instanceof InputError) return err
    throw err
  }
  throw new Error('expected an InputError')
}

describe('parseThresholds', () => {
  test('the repository’s thresholds.yml is exactly the built-in defaults', () => {
    const text = readFileSync(new URL('../../thresholds.yml', import.meta.url), 'utf8')
    expect(parseThresholds(text, 'thresholds.yml')).toEqual(DEFAULT_THRESHOLDS)
  })

  test('a valid file parses to the typed limits', () => {
    const t = parseThresholds(GOOD, 'thresholds.yml')
    expect(t.scenarios.prefill).toEqual({ max_median_abs_error_pct: 15, max_abs_error_pct: 30, max_noisy: 1 })
    expect(t.scenarios.steady_decode).toBeUndefined()
    expect(compareSettingsFrom(t)).toEqual({ tolerance: 0.1, maxSpread: 0.1 })
  })

  test('a wrong type names the file, the key path and its line', () => {
    const err = errorOf(GOOD.replace('max_abs_error_pct: 30', 'max_abs_error_pct: thirty'))
    expect(err.message).toBe('thresholds.yml: scenarios.prefill.max_abs_error_pct (line 8): must be number, got string "thirty"')
  })

  test('a misspelt key is named with its line and the keys that are valid there', () => {
    const err = errorOf(GOOD.replace('max_noisy: 1', 'max_noise: 1'))
    expect(err.message).toMatch(/^thresholds\.yml: scenarios\.prefill\.max_noise \(line 9\): unknown key "max_noise"/)
    expect(err.message).toMatch(/max_median_abs_error_pct, max_abs_error_pct, max_noisy/)
  })

  test('an unknown top-level key is an error at its line', () => {
    const err = errorOf(GOOD + 'tolerence: 5\n')
    expect(err.message).toMatch(/^thresholds\.yml: tolerence \(line 10\): unknown key "tolerence"; valid keys here: tolerance_pct/)
  })

  test('an unknown scenario lists the valid scenario ids', () => {
    const err = errorOf(GOOD.replace('  prefill:', '  decode:'))
    expect(err.message).toBe(
      'thresholds.yml: scenarios.decode (line 6): unknown scenario "decode"; valid scenario ids: steady_decode, prefill, first_token, kv_warm_reuse, parallel_decode'
    )
  })

  test('a missing key is named and points at its parent’s line', () => {
    const err = errorOf(GOOD.replace('    max_noisy: 1\n', ''))
    expect(err.message).toBe('thresholds.yml: scenarios.prefill.max_noisy (line 6): missing required key "max_noisy"')
  })

  test('negative limits and fractional counts are refused', () => {
    expect(errorOf(GOOD.replace('tolerance_pct: 10', 'tolerance_pct: -1')).message).toMatch(
      /^thresholds\.yml: tolerance_pct \(line 1\): must be >= 0, got number -1/
    )
    expect(errorOf(GOOD.replace('min_models: 1', 'min_models: 1.5')).message).toMatch(/min_models \(line 3\): must be integer/)
  })

  test('broken YAML and an empty file are input errors with a line', () => {
    expect(errorOf('tolerance_pct: [1,\n').message).toMatch(/^thresholds\.yml: line \d+: invalid YAML/)
    expect(errorOf('tolerance_pct: 1\ntolerance_pct: 2\n').message).toMatch(/^thresholds\.yml: line 2: invalid YAML/)
    expect(errorOf('').message).toMatch(/^thresholds\.yml: line 1: the file is empty/)
    expect(errorOf('- 1\n').message).toMatch(/^thresholds\.yml: \(top level\) \(line 1\): must be object, got a list/)
  })
})

describe('hostile thresholds files', () => {
  test('a YAML alias bomb is an input error naming the file, not a crash', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefghi'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(', ')}]`), 'tolerance_pct: *i', ''].join('\n')
    expect(() => parseThresholds(bomb, 'bomb.yml')).toThrow(/^bomb\.yml: YAML aliases expand too far/)
  })

  test('a huge value is quoted short, with its length', () => {
    const text = `tolerance_pct: "${'x'.repeat(5_000_000)}"\nmax_spread_pct: 25\nmin_models: 1\nmax_runtime_errors: 0\nscenarios: {}\n`
    let message = ''
    try {
      parseThresholds(text, 'big.yml')
    } catch (err) {
      message = (err as Error).message
    }
    expect(message).toMatch(/^big\.yml: tolerance_pct \(line 1\): must be number, got string "x{100,}… \(5000002 characters\)$/)
    expect(message.length).toBeLessThan(400)
  })
})
