/** Progress lines are written at most this often, so CI logs stay readable for multi-GB downloads. */
export const PROGRESS_INTERVAL_MS = 5_000

const MB = 1_000_000

/** "42.0% of 4,920 MB, 38.5 MB/s, ETA 1m 5s" — or without percent/ETA when the total is unknown. */
export function formatProgress(doneBytes: number, totalBytes: number | null, bytesPerSec: number): string {
  const rate = `${(bytesPerSec / MB).toFixed(1)} MB/s`
  if (totalBytes === null || totalBytes <= 0) return `${formatMb(doneBytes)} MB, ${rate}`
  const pct = ((100 * doneBytes) / totalBytes).toFixed(1)
  const eta = bytesPerSec > 0 ? formatDuration((totalBytes - doneBytes) / bytesPerSec) : '?'
  return `${pct}% of ${formatMb(totalBytes)} MB, ${rate}, ETA ${eta}`
}

function formatMb(bytes: number): string {
  const mb = bytes / MB
  return mb < 10 ? mb.toFixed(2) : Math.round(mb).toLocaleString('en-US')
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds))
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m ${s % 60}s`
  return `${Math.floor(m / 60)}h ${m % 60}m`
}

/** Throttles progress lines for one file; the rate counts only bytes fetched in this run (not resumed ones). */
export class ProgressReporter {
  private readonly startedAt: number
  private lastLogAt: number
  private readonly startBytes: number

  constructor(
    private readonly label: string,
    private readonly log: (line: string) => void,
    private readonly now: () => number,
    startBytes: number,
    private readonly intervalMs = PROGRESS_INTERVAL_MS
  ) {
    this.startedAt = now()
    this.lastLogAt = this.startedAt
    this.startBytes = startBytes
  }

  update(doneBytes: number, totalBytes: number | null): void {
    const t = this.now()
    if (t - this.lastLogAt < this.intervalMs) return
    this.lastLogAt = t
    this.log(`${this.label}: ${formatProgress(doneBytes, totalBytes, this.rate(doneBytes, t))}`)
  }

  done(doneBytes: number): void {
    const t = this.now()
    const secs = (t - this.startedAt) / 1000
    this.log(`${this.label}: done, ${formatMb(doneBytes)} MB in ${formatDuration(secs)} (${(this.rate(doneBytes, t) / MB).toFixed(1)} MB/s)`)
  }

  private rate(doneBytes: number, t: number): number {
    const secs = (t - this.startedAt) / 1000
    return secs > 0 ? (doneBytes - this.startBytes) / secs : 0
  }
}
