// The report's sections as data: which sections a report has, in reading order, which of them each serializer shows,
// and — for the byte-capped Markdown (job summary, PR comment) — what each part may drop and in which order of
// importance. One function, fitToBudget, spends the budget; the serializers only turn sections into text. Pure.

/** The sections of every rendering, in reading order. */
export const SECTION_IDS = ['verdict', 'charts', 'scenarios', 'drift', 'memory', 'baseline', 'rows', 'models', 'provenance'] as const
export type SectionId = (typeof SECTION_IDS)[number]

/** The sections each serializer shows: the charts are SVG, so only the HTML page has them. */
export const SECTIONS_SHOWN: Readonly<Record<'markdown' | 'html', readonly SectionId[]>> = {
  markdown: SECTION_IDS.filter((s) => s !== 'charts'),
  html: SECTION_IDS
}

/**
 * One part of a byte-capped rendering. A part without a priority is always shown whole (the verdict, provenance).
 * A part with one shows its header and as many whole items, in order, as the budget leaves once every part of a
 * lower priority number took its share; the items left out are counted in its note.
 */
export interface BudgetPart {
  /** Lower is more important: spent first. Absent: always shown whole, counted before any priority. */
  priority?: number
  /** Shown (and counted) whenever the part is. */
  header: string
  items?: readonly string[]
  /** Counted and shown after the items, only when at least one item is shown. */
  closing?: string
  /** Not counted (NOTE_RESERVE_BYTES covers it): appended after the items when some are left out. */
  note?: (left: number, total: number) => string
  /** Not counted: appended after everything else of the part. */
  after?: string
  /** Instead of the whole part when none of its items fits (counted against nothing). */
  whenNoneFit?: (total: number) => string
  /** Bytes kept back from the budget for this part's uncounted notes. */
  reserve?: number
}

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8')

/**
 * Fits parts (in reading order) into `budget` bytes: fixed parts and reserves first, then each prioritised part in
 * priority order takes its header and the whole items that still fit (stopping at the first that does not). Returns
 * the parts' texts in reading order.
 */
export function fitToBudget(parts: readonly BudgetPart[], budget: number): string[] {
  let left = budget
  for (const p of parts) left -= (p.priority === undefined ? bytes(p.header) : 0) + (p.reserve ?? 0)
  const texts = parts.map((p) => (p.priority === undefined ? p.header : ''))
  const order = parts.map((p, i) => ({ p, i })).filter(({ p }) => p.priority !== undefined)
  order.sort((a, b) => a.p.priority! - b.p.priority! || a.i - b.i)
  for (const { p, i } of order) {
    const closing = p.closing ?? ''
    let used = bytes(p.header)
    let shown = 0
    let text = p.header
    const items = p.items ?? []
    for (const item of items) {
      if (used + bytes(item) > left - bytes(closing)) break
      text += item
      used += bytes(item)
      shown++
    }
    const rest = items.length - shown
    if (shown === 0 && p.whenNoneFit && items.length > 0) {
      texts[i] = p.whenNoneFit(items.length)
      continue
    }
    left -= used + (shown > 0 ? bytes(closing) : 0)
    texts[i] = text + (rest > 0 && p.note ? p.note(rest, items.length) : '') + (shown > 0 ? closing : '') + (p.after ?? '')
  }
  return texts
}
