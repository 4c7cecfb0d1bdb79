import { existsSync } from 'node:fs'
import { open, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { Report } from '../contracts/report.js'
import { readInputText, writeFileAtomic } from '../util/fs.js'
import { parseReport, serializeReport } from '../report/schema.js'

/** A report of a thousand models is a few MB; one past this is not a report we wrote. */
export const MAX_REPORT_BYTES = 64 * 1024 * 1024

/** Reads and validates a report file (edge). */
export async function readReport(path: string): Promise<Report> {
  return parseReport(await readInputText(path, 'the report', MAX_REPORT_BYTES), path)
}

/** Validates and writes a report atomically (edge); an invalid report is never written. */
export async function writeReport(path: string, report: Report): Promise<void> {
  await writeFileAtomic(path, serializeReport(report, path))
}

/** A llama.cpp log past this is cut to its head and tail before it is kept and uploaded. */
export const MAX_LOG_BYTES = 8 * 1024 * 1024
const LOG_HEAD_BYTES = 1024 * 1024
const LOG_TAIL_BYTES = 4 * 1024 * 1024

/**
 * Bounds every log file under `dir` (a server that logged 300 MB): the first MiB (the load: buffers, devices) and the
 * last 4 MiB (the failure) are kept, with a line saying how much was cut. Returns the files cut.
 */
export async function boundLogs(dir: string, maxBytes = MAX_LOG_BYTES): Promise<string[]> {
  if (!existsSync(dir)) return []
  const cut: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue
    const path = join(entry.parentPath, entry.name)
    const size = (await stat(path)).size
    if (size <= maxBytes) continue
    const f = await open(path, 'r')
    let head: Buffer
    let tail: Buffer
    try {
      head = Buffer.alloc(LOG_HEAD_BYTES)
      await f.read(head, 0, LOG_HEAD_BYTES, 0)
      tail = Buffer.alloc(LOG_TAIL_BYTES)
      await f.read(tail, 0, LOG_TAIL_BYTES, size - LOG_TAIL_BYTES)
    } finally {
      await f.close()
    }
    const note = `\n[… model-fit-gate cut ${size - LOG_HEAD_BYTES - LOG_TAIL_BYTES} bytes of this ${size}-byte log; the first and last bytes are kept …]\n`
    await writeFileAtomic(path, Buffer.concat([head, Buffer.from(note), tail]))
    cut.push(path)
  }
  return cut
}
