/**
 * Number formatting shared by verdict reasons, gate messages and the rendered reports, so a value reads the same
 * everywhere. Never exponent notation: tok/s and ms values span 0.1 … 100 000.
 */

/** About three significant digits, at least the integer digits: 1234 → "1234", 35.27 → "35.3", 0.5123 → "0.512". */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n)
  const a = Math.abs(n)
  if (a >= 100) return n.toFixed(0)
  if (a >= 10) return n.toFixed(1)
  if (a >= 1) return n.toFixed(2)
  if (a === 0) return '0'
  return trimZeros(n.toFixed(Math.min(20, 2 - Math.floor(Math.log10(a)))))
}

/** A percentage with one decimal: 14.2. */
export function formatPct(pct: number): string {
  return pct.toFixed(1)
}

/** "+8.0 %", "−20.0 %", "±0.0 %": the sign always shown, a true minus sign. */
export function formatDeltaPct(pct: number): string {
  const text = formatPct(Math.abs(pct))
  if (Number(text) === 0) return `±${text} %`
  return `${pct > 0 ? '+' : '−'}${text} %`
}

/** A configured limit as written: 10 → "10", 12.5 → "12.5". */
export function formatLimit(n: number): string {
  return trimZeros(n.toFixed(2))
}

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s
}

/** Bytes in the largest binary unit that keeps a whole part: "812 KiB", "4.3 MiB", "12.50 GiB". */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`
  return `${Math.round(bytes / 1024)} KiB`
}
