import type { Report } from '../contracts/report.js'
import { readInputText, writeFileAtomic } from '../util/fs.js'
import { parseReport, serializeReport } from '../report/schema.js'

/** Reads and validates a report file (edge). */
export async function readReport(path: string): Promise<Report> {
  return parseReport(await readInputText(path, 'the report'), path)
}

/** Validates and writes a report atomically (edge); an invalid report is never written. */
export async function writeReport(path: string, report: Report): Promise<void> {
  await writeFileAtomic(path, serializeReport(report, path))
}
