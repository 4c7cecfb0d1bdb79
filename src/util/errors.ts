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
