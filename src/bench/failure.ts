// A llama.cpp run that failed: the scenario's runtime-error, with the log lines that say why.

/** A llama.cpp run that did not produce a measurement, with the log lines that say why. */
export class RunFailure extends Error {
  readonly logTail: string[]
  constructor(reason: string, logTail: string[]) {
    super(reason)
    this.name = 'RunFailure'
    this.logTail = logTail
  }
}
