import { parseArgs } from 'node:util'
import { InputError } from '../util/errors.js'

export interface FlagSpec {
  type: 'string' | 'boolean'
  multiple?: boolean
  help: string
  value?: string
}

export interface CommandSpec {
  name: string
  usage: string
  summary: string
  flags: Record<string, FlagSpec>
  /** Positional arguments: how many at least / at most (Infinity for a list). */
  positionals: { min: number; max: number; name: string }
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>
  positionals: string[]
}

/** node:util parseArgs with our usage errors (exit 2) naming the flag. */
export function parseCommandArgs(spec: CommandSpec, argv: string[]): ParsedArgs {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = { help: { type: 'boolean' } }
  for (const [name, f] of Object.entries(spec.flags)) options[name] = { type: f.type, ...(f.multiple ? { multiple: true } : {}) }
  let parsed
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true })
  } catch (err) {
    throw new InputError(spec.name, null, `${(err as Error).message}\nusage: ${spec.usage}`)
  }
  const values = parsed.values as ParsedArgs['values']
  if (values.help) return { values, positionals: parsed.positionals }
  const n = parsed.positionals.length
  if (n < spec.positionals.min || n > spec.positionals.max) {
    const want = spec.positionals.max === Infinity ? `at least ${spec.positionals.min}` : `${spec.positionals.min}–${spec.positionals.max}`
    throw new InputError(spec.name, null, `expected ${want} ${spec.positionals.name} argument(s), got ${n}\nusage: ${spec.usage}`)
  }
  return { values, positionals: parsed.positionals }
}

export function helpText(spec: CommandSpec): string {
  const rows = Object.entries(spec.flags).map(([name, f]) => {
    const left = `  --${name}${f.type === 'string' ? ` ${f.value ?? 'VALUE'}` : ''}`
    return `${left.padEnd(34)} ${f.help}`
  })
  return [`usage: ${spec.usage}`, '', spec.summary, '', 'options:', ...rows, `${'  --help'.padEnd(34)} show this help`, ''].join('\n')
}

export function intFlag(value: unknown, flag: string, min = 1): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < min) throw new InputError(`--${flag}`, null, `expected an integer ≥ ${min}, got "${String(value)}"`)
  return n
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}
