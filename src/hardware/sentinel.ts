// The machine's drift on record: the sentinel (one of the probe's own models, one short llama-bench decode, measured
// at the start of a run, after every model and at the end) and the re-check (a cached probe's decode and prefill
// facts measured again at the start, the way the probe measured them). Both reuse the probe's models and its
// observations.json, so "now" is compared with "then" on the same file, flags and token counts.

import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { defaultWorkload } from '../bench/workload.js'
import type { HardwareProfile } from '../contracts/hardware.js'
import type { DriftRecord, RecheckedFact, SentinelPoint } from '../contracts/report.js'
import { errorMessage } from '../util/errors.js'
import { median, spread } from '../util/stats.js'
import { DECODE_TOKENS, PREFILL_TOKENS, PROBE_BENCH_REPS, cachedProfilePath, observationsPath, readProbeRecord, type ProbeRecord } from './probe.js'
import { findTiming, runProbeBench } from './probe-bench.js'

/** The sentinel's weight type, in order of preference: a common type whose decode streams memory. */
const SENTINEL_TYPES = ['Q8_0', 'Q4_K', 'F16', 'Q4_0'] as const

export interface SentinelOptions {
  binDir: string
  /** The hardware cache dir (the probe's models and observations.json are there). */
  cacheDir: string
  /** Where the profile was read from (`--hardware`); null: the cache. */
  hardwarePath: string | null
  hardware: HardwareProfile
  /** The run measured the profile itself: nothing to re-check. */
  probedNow: boolean
  logDir: string
  now: () => Date
  log: (line: string) => void
}

export interface Sentinel {
  /** Measures the sentinel once and adds it to the series. */
  measure(at: { pass: number; after: string | null }): Promise<void>
  record(): DriftRecord
}

/** The first probe record among the profiles' (the one read, else where it looked), or why it is unusable. */
async function firstProbeRecord(profilePaths: string[]): Promise<ProbeRecord | string> {
  for (const p of profilePaths) {
    try {
      const r = await readProbeRecord(p)
      if (r) return r
    } catch (err) {
      return errorMessage(err)
    }
  }
  return `the probe's observations are not on this machine (looked for ${profilePaths.map(observationsPath).join(', ')})`
}

/** Rate from ms per token. */
const rate = (ms: number): number => 1000 / ms

/**
 * The sentinel of a run, with the re-check done: the probe's decode and prefill of the sentinel's type measured
 * again when the profile was not measured by this run. Returns a sentinel that records only why it cannot run when
 * the probe's models are not here (a profile from another machine, a cleaned cache).
 */
export async function openSentinel(opts: SentinelOptions): Promise<Sentinel> {
  const fromCache = cachedProfilePath(opts.cacheDir, opts.hardware.fingerprint)
  const probe = await firstProbeRecord([...(opts.hardwarePath ? [opts.hardwarePath] : []), fromCache])
  const series: SentinelPoint[] = []
  const unavailable = (reason: string): Sentinel => {
    opts.log(`drift: no sentinel: ${reason}`)
    return { measure: async () => {}, record: () => ({ sentinel: null, series: [], range: null, recheck: null, reason }) }
  }
  if (typeof probe === 'string') return unavailable(probe)
  const type = SENTINEL_TYPES.find((t) => probe.observations.bandwidth[t]?.length && existsSync(probe.probe_models[`bw-${t}`] ?? '')) ??
    Object.keys(probe.observations.bandwidth).sort().find((t) => existsSync(probe.probe_models[`bw-${t}`] ?? ''))
  if (!type) return unavailable(`none of the probe's bandwidth models is on this machine (${Object.keys(probe.probe_models).length} listed)`)
  const part = `bw-${type}`
  const model = probe.probe_models[part] as string
  // The probe's own workload: its threads, flags and token counts, so the figures compare with its rounds.
  const workload = defaultWorkload({ threads: opts.hardware.system.threads })
  await mkdir(opts.logDir, { recursive: true })
  let runs = 0
  const decode = async (): Promise<number> => {
    const label = `sentinel-${String(++runs).padStart(3, '0')}`
    const { timings } = await runProbeBench(opts.binDir, model, { gen: [DECODE_TOKENS], reps: PROBE_BENCH_REPS }, workload, opts.logDir, label)
    return rate(findTiming(timings, { nGen: DECODE_TOKENS }).msPerToken)
  }
  const test = `${part} decode ${DECODE_TOKENS} tokens`
  const measure = async (at: { pass: number; after: string | null }): Promise<number | null> => {
    const when = opts.now().toISOString()
    try {
      const value = Number((await decode()).toPrecision(6))
      series.push({ at: when, pass: at.pass, after: at.after, value })
      opts.log(`drift: sentinel ${test}: ${value.toFixed(2)} tok/s${at.after ? ` (after ${at.after})` : ' (start)'}`)
      return value
    } catch (err) {
      const error = errorMessage(err).split('\n')[0] as string
      series.push({ at: when, pass: at.pass, after: at.after, value: null, error })
      opts.log(`drift: WARNING: the sentinel failed: ${error}`)
      return null
    }
  }

  let recheck: DriftRecord['recheck'] = null
  const start = await measure({ pass: 0, after: null })
  if (!opts.probedNow) {
    const facts: RecheckedFact[] = []
    const probedDecode = probe.observations.bandwidth[type] ?? []
    if (probedDecode.length > 0) {
      const then = rate(median(probedDecode))
      facts.push({ fact: `measured.decode_bandwidth_by_type.${type}`, test, unit: 'tok/s', probed: round(then), now: start === null ? null : start, change: start === null ? null : round(start / then - 1) })
    }
    const pf = probe.probe_models[`pf-${type}`]
    const probedPrefill = probe.observations.prefill[type] ?? []
    if (pf && existsSync(pf) && probedPrefill.length > 0) {
      const then = rate(median(probedPrefill))
      const ptest = `pf-${type} prefill ${PREFILL_TOKENS} tokens`
      let now: number | null = null
      try {
        const { timings } = await runProbeBench(opts.binDir, pf, { prompt: [PREFILL_TOKENS], reps: PROBE_BENCH_REPS }, workload, opts.logDir, 'recheck-prefill')
        now = round(rate(findTiming(timings, { nPrompt: PREFILL_TOKENS }).msPerToken))
      } catch (err) {
        opts.log(`drift: WARNING: the prefill re-check failed: ${errorMessage(err).split('\n')[0]}`)
      }
      facts.push({ fact: `measured.prefill_flops_by_type.${type}`, test: ptest, unit: 'tok/s', probed: round(then), now, change: now === null ? null : round(now / then - 1) })
    }
    for (const f of facts) {
      opts.log(`drift: re-check ${f.test}: probed ${f.probed.toFixed(2)} ${f.unit}, now ${f.now === null ? 'failed' : `${f.now.toFixed(2)} ${f.unit} (${f.change! >= 0 ? '+' : ''}${(f.change! * 100).toFixed(1)} %)`}`)
    }
    recheck = { probed_at: opts.hardware.measured_at ?? 'unknown', facts }
  }
  return {
    async measure(at) {
      await measure(at)
    },
    record() {
      const values = series.map((p) => p.value).filter((v): v is number => v !== null)
      return {
        sentinel: { part, test, unit: 'tok/s' },
        series: series.map((p) => ({ ...p })),
        range: values.length >= 2 ? round(spread(values)) : null,
        recheck,
        reason: opts.probedNow ? 'the probe ran in this run: nothing to re-check' : null
      }
    }
  }
}

function round(x: number): number {
  return Number(x.toPrecision(6))
}
