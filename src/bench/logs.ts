// Where llama.cpp logs go (one folder per model, one per scenario) and how an error quotes them.

import { createHash } from 'node:crypto'
import { open } from 'node:fs/promises'
import { basename, join, relative, sep } from 'node:path'

/** Lines of a log quoted in an error. */
export const LOG_TAIL_LINES = 20
/** Bytes read from the end of a log to find those lines (llama.cpp lines are short; a few KB each at worst). */
const LOG_TAIL_BYTES = 64 * 1024
const MODEL_SLUG_MAX_CHARS = 60

/** A folder name for a model: its file name made safe, plus a short hash of the full path against name clashes. */
export function modelLogDirName(modelPath: string): string {
  const slug = basename(modelPath)
    .replace(/\.gguf$/i, '')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .slice(0, MODEL_SLUG_MAX_CHARS)
  const hash = createHash('sha256').update(modelPath).digest('hex').slice(0, 8)
  return `${slug || 'model'}-${hash}`
}

/** Log file paths of one model: `<logsDir>/<model>/<scenario>/<name>`. */
export function scenarioLogPath(logsDir: string, modelPath: string, scenario: string, name: string): string {
  return join(logsDir, modelLogDirName(modelPath), scenario, name)
}

/** A log path as Observation.logs records it: relative to the artifacts dir, with forward slashes. */
export function artifactRelative(artifactsDir: string, path: string): string {
  return relative(artifactsDir, path).split(sep).join('/')
}

/** The last `lines` non-empty lines of a log file; [] when it does not exist. */
export async function readLogTail(path: string, lines = LOG_TAIL_LINES): Promise<string[]> {
  let fh
  try {
    fh = await open(path, 'r')
  } catch {
    return []
  }
  try {
    const { size } = await fh.stat()
    const length = Math.min(size, LOG_TAIL_BYTES)
    const buf = Buffer.alloc(length)
    await fh.read(buf, 0, length, size - length)
    const all = buf.toString('utf8').split(/\r?\n/).filter((l) => l.trim() !== '')
    // The first line may be cut by the byte window; drop it unless the window holds the whole file.
    const whole = length === size ? all : all.slice(1)
    return whole.slice(-lines)
  } finally {
    await fh.close()
  }
}
