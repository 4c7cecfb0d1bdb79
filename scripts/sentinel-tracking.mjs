// Does the sentinel track the models? Reads a report of a run with two or more passes and, for every model and
// scenario, sets the model's pass-to-pass ratio (last pass / first) beside the sentinel's ratio measured right after
// that model in the same passes. If the sentinel tracked the models, dividing one by the other would shrink the
// pass-to-pass difference; the last lines print the median and max |difference| before and after that correction.
//
// usage: node scripts/sentinel-tracking.mjs model-fit-gate-report/report.json
import { readFileSync } from 'node:fs'

const path = process.argv[2]
if (!path) {
  console.error('usage: node scripts/sentinel-tracking.mjs REPORT.json')
  process.exit(2)
}
const report = JSON.parse(readFileSync(path, 'utf8'))
const series = report.drift?.series ?? []
if (!report.passes || report.passes < 2 || series.length === 0) {
  console.error(`${path}: needs a run with --passes 2 or more and a sentinel (passes ${report.passes ?? 1}, ${series.length} sentinel points)`)
  process.exit(2)
}
const last = report.passes
const after = (ref, pass) => series.find((p) => p.after === ref && p.pass === pass)?.value ?? null
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
console.log(`sentinel (${report.drift.sentinel.test}): ${series.map((p) => p.value?.toFixed(1) ?? 'failed').join(' ')}; range ${(100 * report.drift.range).toFixed(1)} %`)
const raw = {}
const corrected = {}
for (const m of report.models) {
  const s1 = after(m.ref, 1)
  const s2 = after(m.ref, last)
  for (const row of m.scenarios) {
    const p = row.detail.passes
    if (!p || p.length < 2 || p[0].observed == null || p[p.length - 1].observed == null || !s1 || !s2) continue
    // A speed ratio in every unit (first_token is in ms: lower is faster).
    const ratio = row.unit === 'ms' ? p[0].observed / p[p.length - 1].observed : p[p.length - 1].observed / p[0].observed
    const sentinel = s2 / s1
    ;(raw[row.scenario] ??= []).push(Math.abs(ratio - 1) * 100)
    ;(corrected[row.scenario] ??= []).push(Math.abs(ratio / sentinel - 1) * 100)
    console.log(`${m.ref.padEnd(40)} ${row.scenario.padEnd(14)} model ${ratio.toFixed(3)}  sentinel ${sentinel.toFixed(3)}`)
  }
}
for (const s of Object.keys(raw)) {
  console.log(
    `${s.padEnd(14)} |pass ${last} / pass 1 − 1|: median ${median(raw[s]).toFixed(1)} %, max ${Math.max(...raw[s]).toFixed(1)} %; ` +
      `divided by the sentinel's: median ${median(corrected[s]).toFixed(1)} %, max ${Math.max(...corrected[s]).toFixed(1)} %`
  )
}
