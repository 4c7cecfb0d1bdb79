import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { access, constants, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, basename, join, resolve } from 'node:path'
import { InputError, errorMessage } from './errors.js'

/** Writes a file so that readers never see half of it: write a temp file beside it, then rename. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`)
  try {
    await writeFile(tmp, data)
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}

/** Manifests, hardware profiles: a megabyte is a large one. */
export const DEFAULT_MAX_INPUT_BYTES = 16 * 1024 * 1024

/** Reads a file the user named (`what`: "the thresholds"); a file that cannot be read is an InputError naming it. */
export async function readInputText(path: string, what: string, maxBytes = DEFAULT_MAX_INPUT_BYTES): Promise<string> {
  // Regular files only: reading a FIFO or a device would block or never end.
  const info = await stat(path).catch(() => null)
  if (info && !info.isFile()) throw new InputError(path, null, `cannot read ${what}: not a regular file (${info.isDirectory() ? 'a directory' : 'a FIFO, socket or device'})`)
  // Parsing holds several copies of a text: a size no real input has is refused before it is read.
  if (info && info.size > maxBytes) throw new InputError(path, null, `${what} is ${info.size} bytes, more than the ${maxBytes} any real one needs`)
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    throw new InputError(path, null, `cannot read ${what}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`)
  }
}

/** SHA-256 of a file, streamed (hex). */
export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** Kernel and device trees: writing a report there hangs or does harm, never makes a file. */
const SPECIAL_TREES = ['/proc', '/sys', '/dev']

/**
 * Checks, before any benchmark, that a file can be written at `path` (`what`: the flag or input naming it): not a
 * directory, not under /proc, /sys or /dev, its directory creatable and writable. The error says which and why.
 */
export async function checkOutputFile(path: string, what: string): Promise<void> {
  const full = resolve(path)
  if (SPECIAL_TREES.some((tree) => full === tree || full.startsWith(`${tree}/`))) {
    throw new InputError(what, null, `${full} is under ${SPECIAL_TREES.find((tree) => full === tree || full.startsWith(`${tree}/`))}, which holds no ordinary files; choose a path in a normal directory`)
  }
  const existing = await stat(full).catch(() => null)
  if (existing?.isDirectory()) throw new InputError(what, null, `${full} is a directory; give a file path in it, such as ${join(full, 'report.json')}`)
  if (existing && !existing.isFile()) throw new InputError(what, null, `${full} is not a regular file`)
  const dir = dirname(full)
  try {
    await mkdir(dir, { recursive: true })
    await access(dir, constants.W_OK)
  } catch (err) {
    throw new InputError(what, null, `cannot write in ${dir}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`)
  }
}
