/**
 * Invalid input: a bad GGUF, manifest, thresholds, hardware file or flag. The CLI maps it to exit code 2.
 * `source` names the file (or flag/input), `where` the field path, key or line, so the message can point at it.
 */
export class InputError extends Error {
  readonly source: string
  readonly where: string | null

  constructor(source: string, where: string | null, message: string) {
    super(where ? `${source}: ${where}: ${message}` : `${source}: ${message}`)
    this.name = 'InputError'
    this.source = source
    this.where = where
  }
}

/** Longest piece of user input a message quotes: a 50 MB value must not be echoed into a log or a summary. */
export const MAX_QUOTED_CHARS = 200

/** Text quoted into a message, cut to MAX_QUOTED_CHARS with the full length said. */
export function clipQuoted(text: string): string {
  return text.length <= MAX_QUOTED_CHARS ? text : `${text.slice(0, MAX_QUOTED_CHARS - 1)}… (${text.length} characters)`
}

/**
 * YAML text to a value, refusing alias expansion past the yaml library's limit (a "billion laughs" file) as an input
 * error of `fileName`, not a crash.
 */
export function yamlToJs(toJs: () => unknown, fileName: string): unknown {
  try {
    return toJs()
  } catch (err) {
    if (err instanceof ReferenceError || /alias/i.test(errorMessage(err))) {
      throw new InputError(fileName, null, `YAML aliases expand too far (${clipQuoted(errorMessage(err))}); write the values out`)
    }
    throw err
  }
}

/** A GGUF file that is not what its header says (bad magic, counts past the file, missing keys): the model's fault. */
export class GgufError extends InputError {}

/** A feature this build does not implement yet; also exit code 2. */
export class NotSupportedError extends InputError {
  constructor(what: string, detail = 'is not supported yet') {
    super(what, null, detail)
    this.name = 'NotSupportedError'
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/** A tool of the machine failed (llama-quantize, a compiler): the environment's to fix, with what was tried. */
export class EnvironmentError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'EnvironmentError'
  }
}

/** Faults of the machine or the network, not of our code: no space, no permission, no route, no answer. */
export function isEnvironmentError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false
  const { name, code } = err as { name?: unknown; code?: unknown }
  if (name === 'EnvironmentError' || name === 'TimeoutError' || name === 'HttpStatusError' || name === 'StalledError') return true
  if (name === 'TypeError' && /^cannot reach /.test(errorMessage(err))) return true
  return typeof code === 'string' && ['ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'EROFS', 'EMFILE', 'ENFILE', 'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code)
}
