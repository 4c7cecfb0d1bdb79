/** Median of a non-empty list (mean of the middle two for even lengths). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of an empty list')
  const s = [...values].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

/** spread = (max − min) / median, the noise figure the verdicts use. 0 for a single sample. */
export function spread(values: readonly number[]): number {
  if (values.length < 2) return 0
  const m = median(values)
  if (m === 0) return 0
  return (Math.max(...values) - Math.min(...values)) / Math.abs(m)
}
