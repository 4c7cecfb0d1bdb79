import { readFile } from 'node:fs/promises'
import type { Report } from '../contracts/report.js'
import { InputError, errorMessage } from '../util/errors.js'
import { writeFileAtomic } from '../util/fs.js'
import { parseReport, serializeReport } from '../report/validate.js'

/** Reads and validates a report file (edge). */
export async function readReport(path: string): Promise<Report> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new InputError(path, null, `cannot read the report: ${errorMessage(err)}`)
  }
  return parseReport(text, path)
}

/** Validates and writes a report atomically (edge); an invalid report is never written. */
export async function writeReport(path: string, report: Report): Promise<void> {
  await writeFileAtomic(path, serializeReport(report, path))
}
