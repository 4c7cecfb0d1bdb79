// probeHardware(): system facts, ceilings, and the llama.cpp-measured facts of this machine, cached per device,
// llama.cpp build, backend and thread count. The measuring runs the probe's own synthetic models only.

import { existsSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { platform } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { execa } from 'execa'
import { readBuildInfo } from '../bench/build-info.js'
import { defaultWorkload } from '../bench/workload.js'
import { largestGpu } from '../fit/memory.js'
import { kvKey } from '../fit/rates.js'
import { profileFile } from '../gguf/index.js'
import type { HardwareProfile, Workload } from '../types.js'
import { errorMessage } from '../util/errors.js'
import { writeFileAtomic } from '../util/fs.js'
import { stableStringify } from '../util/json.js'
import { spread } from '../util/stats.js'
import { measureCeilings } from './ceilings.js'
import { deviceFingerprint } from './fingerprint.js'
import { detectGpus, type CommandRunner } from './gpu.js'
import { findTiming, runProbeBench } from './probe-bench.js'
import { ensureProbeFiles } from './probe-files.js'
import { fitProbeFacts, type DepthPair, type ProbeObservations, type ProbeProfiles } from './probe-fit.js'
import { mergeObservations } from './probe-obs.js'
import { probePlan } from './probe-models.js'
import { observeServer } from './probe-server.js'
import { readHardwareProfile, writeHardwareProfile } from './schema.js'
import { readSystemFacts } from './system.js'

/** Measuring rounds: each fact gets one sample per round, so its spread shows the run-to-run noise. */
export const PROBE_ROUNDS = 2
/** Decode and prefill get extra rounds (up to this many) while their samples disagree by more than the target. */
export const PROBE_MAX_ROUNDS = 4
export const PROBE_TARGET_SPREAD = 0.1
/** Facts noisier than this make the probe warn that the machine was busy. */
export const PROBE_WARN_SPREAD = 0.25
/** llama-bench repetitions inside one process: the first settles, the median of the rest is the round's sample. */
export const PROBE_BENCH_REPS = 3
export const DECODE_TOKENS = 32
export const PREFILL_TOKENS = 512
/** Depth of the attention probes: deep enough that attention dominates the difference to depth 0. */
export const KV_PROBE_DEPTH = 1536
export const KV_PROBE_TOKENS = 16
/** Server requests per model (after warm-up). */
export const SERVER_ROUNDS = 3
/** The probe's time budget on a CPU machine (first run, probe models included). */
export const PROBE_BUDGET_SEC = 150
/**
 * Extra rounds of a part start only before its deadline (seconds since the probe began), so the parts after it still
 * fit the budget.
 */
export const EXTRA_ROUND_DEADLINES_SEC = { decode: 60, kv: 85, prefill: 110 } as const
/** The quantized KV cache whose depth cost is measured beside the workload's (q8_0 needs flash attention). */
const QUANTIZED_KV = { kvType: 'q8_0', flashAttention: true } as const
export const QUANTIZED_KV_KEY = kvKey(QUANTIZED_KV.kvType, QUANTIZED_KV.flashAttention)
const TOOL_TIMEOUT_MS = 20_000
/** A quick probe (tests, a first look): two weight types, smaller bandwidth models, one round. */
export const QUICK_TYPES = ['F16', 'Q8_0'] as const
export const QUICK_CACHE_MULTIPLE = 1

export interface ProbeOptions {
  binDir: string
  cacheDir: string
  refresh: boolean
  threads?: number
  log: (line: string) => void
  now: () => string
  /** Fewer rounds and no optional parts (tests, a quick look). */
  quick?: boolean
  /**
   * Measure in `passes` passes, calling `between(pass)` after each (the accuracy benchmark runs one pass of its
   * models there), and fit the facts from the rounds of every pass together. The facts then sample the same stretch of
   * the machine's drift as the observations they are compared with, not only the probe's own two minutes. Always
   * measures (a cached profile is not used) and caches the merged profile.
   */
  interleave?: { passes: number; between: (pass: number) => Promise<void> }
}

const runTool: CommandRunner = async (file, args) => {
  try {
    const r = await execa(file, [...args], { reject: false, timeout: TOOL_TIMEOUT_MS, stdin: 'ignore' })
    return r.exitCode === 0 ? String(r.stdout) : null
  } catch {
    return null
  }
}

/** Where the cached profile of a fingerprint lives. */
export function cachedProfilePath(cacheDir: string, fingerprint: string, quick = false): string {
  return join(cacheDir, `hardware-${fingerprint}${quick ? '-quick' : ''}.json`)
}

/**
 * The raw observations the profile's facts were fitted from, beside it: a user can check a fact against the runs
 * behind it (the llama-bench logs are in probe-logs/), and a fit can be re-done without re-measuring.
 */
export function observationsPath(profilePath: string): string {
  return profilePath.replace(/\.json$/, '.observations.json')
}

function prefixed<T>(prefix: string, rec: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(rec).map(([k, v]) => [`${prefix}${k}`, v]))
}

/** Largest spread among sample series (each series: one value per round). */
function worstSpread(series: Iterable<readonly number[]>): number {
  let worst = 0
  for (const s of series) if (s.length > 1) worst = Math.max(worst, spread(s))
  return worst
}

export async function probeHardware(opts: ProbeOptions): Promise<HardwareProfile> {
  const t0 = performance.now()
  const seconds: Record<string, number> = {}
  let mark = t0
  // Milliseconds spent between interleaved passes (not the probe's time).
  let pausedMs = 0
  const lap = (name: string): void => {
    const now = performance.now()
    const sec = (now - mark) / 1000
    // Parts measured in several passes add up.
    seconds[name] = Number(((seconds[name] ?? 0) + sec).toFixed(2))
    opts.log(`probe: ${name} took ${sec.toFixed(2)} s`)
    mark = now
  }

  const sys = await readSystemFacts(runTool)
  const gpus = await detectGpus(runTool, platform())
  const build = await readBuildInfo(opts.binDir)
  const threads = opts.threads ?? sys.cores
  const fingerprint = deviceFingerprint({ ...sys, gpus, llamaCommit: build.commit, backend: build.backend, threads })
  const cachePath = cachedProfilePath(opts.cacheDir, fingerprint, opts.quick)
  const passes = opts.interleave?.passes ?? 1
  if (!Number.isInteger(passes) || passes < 1) throw new Error(`probe: passes must be an integer ≥ 1, got ${passes}`)
  if (!opts.refresh && !opts.interleave && existsSync(cachePath)) {
    try {
      const cached = await readHardwareProfile(cachePath)
      opts.log(`probe: using the cached hardware profile ${cachePath} (measured ${cached.measuredAt}; --refresh re-measures)`)
      return cached
    } catch (err) {
      opts.log(`probe: the cached profile is unusable, re-measuring: ${errorMessage(err)}`)
    }
  }
  lap('system')

  const workload: Workload = defaultWorkload({ threads })
  // The GPU the memory fit budgets with (fit/memory.ts), so the probe's models are sized to the same device.
  const gpu = build.backend !== 'CPU' ? largestGpu(gpus) : undefined
  const gpuFree = gpu ? (gpu.memoryFreeBytes ?? gpu.memoryTotalBytes) : null
  const plan = probePlan(
    { cacheBytes: sys.caches.totalBytes, gpuFreeBytes: gpuFree, ramAvailableBytes: sys.ramAvailableBytes },
    opts.quick ? { types: QUICK_TYPES, cacheMultiple: QUICK_CACHE_MULTIPLE } : {}
  )
  await mkdir(opts.cacheDir, { recursive: true })
  const modelDir = join(opts.cacheDir, 'probe-models')
  const files = await ensureProbeFiles(plan.models, { binDir: opts.binDir, dir: modelDir, log: opts.log })
  const profiles: ProbeProfiles = {}
  for (const [id, path] of files) profiles[id] = (await profileFile(path)).profile
  lap('models')

  const ceilings = await measureCeilings({ workDir: join(opts.cacheDir, 'ceilings'), threads, cacheBytes: plan.cacheBytes, availableBytes: sys.ramAvailableBytes, log: opts.log })
  lap('ceilings')

  const logDir = join(opts.cacheDir, 'probe-logs')
  await rm(logDir, { recursive: true, force: true })
  await mkdir(logDir, { recursive: true })
  const rounds = opts.quick ? 1 : PROBE_ROUNDS
  const reps = opts.quick ? 1 : PROBE_BENCH_REPS
  const path = (id: string): string => {
    const p = files.get(id)
    if (!p) throw new Error(`probe: probe model ${id} was not made`)
    return p
  }
  const emptyObservations = (): ProbeObservations => ({
    decodeTokens: DECODE_TOKENS,
    bandwidth: {},
    prefillTokens: PREFILL_TOKENS,
    prefill: {},
    overhead: { shortId: plan.overheadIds[0], longId: plan.overheadIds[1], shortMs: [], longMs: [] },
    cached: {},
    kvDecode: {},
    kvPrefill: null,
    moe: { decodeMs: [], prefillMsByType: {} },
    server: []
  })

  /**
   * One pass of every measuring part. Its extra rounds are judged on its own samples; their deadlines count from the
   * probe's start in the first pass (models and ceilings included, as the budget does) and from its own start after.
   */
  const measurePass = async (pass: number): Promise<ProbeObservations> => {
    const obs = emptyObservations()
    const passStart = pass === 1 ? t0 : performance.now()
    const bench = (id: string, req: Parameters<typeof runProbeBench>[2], round: number, variant = '') =>
      runProbeBench(opts.binDir, path(id), req, workload, logDir, `${id}${variant}${pass > 1 ? `-p${pass}` : ''}-r${round}`)
    const decodeMs = async (id: string, round: number): Promise<number> =>
      findTiming((await bench(id, { gen: [DECODE_TOKENS], reps }, round)).timings, { nGen: DECODE_TOKENS }).msPerToken
    const elapsedSec = (): number => (performance.now() - passStart) / 1000
    const moreRounds = (round: number, series: () => Iterable<readonly number[]>, deadlineSec: number): boolean =>
      round < rounds || (!opts.quick && round < PROBE_MAX_ROUNDS && elapsedSec() < deadlineSec && worstSpread(series()) > PROBE_TARGET_SPREAD)

    // Decode: bandwidth per type, overhead, in-cache bandwidth — interleaved by round so drift hits all alike.
    const decodeSeries = () => [...Object.values(obs.bandwidth), ...Object.values(obs.bandwidthNarrow ?? {}), ...Object.values(obs.cached), obs.overhead.longMs]
    for (let round = 0; moreRounds(round, decodeSeries, EXTRA_ROUND_DEADLINES_SEC.decode); round++) {
      for (const type of plan.types) {
        ;(obs.bandwidth[type] ??= []).push(await decodeMs(`bw-${type}`, round))
        ;((obs.bandwidthNarrow ??= {})[type] ??= []).push(await decodeMs(`bwn-${type}`, round))
      }
      obs.overhead.shortMs.push(await decodeMs(obs.overhead.shortId, round))
      obs.overhead.longMs.push(await decodeMs(obs.overhead.longId, round))
      for (const type of plan.types) (obs.cached[type] ??= []).push(await decodeMs(`cached-${type}`, round))
    }
    lap('decode')

    // Attention at depth: decode and prefill at depth 0 and KV_PROBE_DEPTH for the two KV geometries, at the workload's
    // KV type; and decode again with a quantized KV cache (flash attention, which llama.cpp requires for it), so the
    // depth cost is a fact per KV type. Interleaved by round like the decode part.
    const kvKeyDefault = kvKey(workload.kvType, workload.flashAttention)
    const pair = (): DepthPair => ({ shallowDepth: 0, deepDepth: KV_PROBE_DEPTH, tokens: KV_PROBE_TOKENS, shallowMs: [], deepMs: [] })
    const kvDecode = { a: pair(), b: pair() }
    const kvPrefill = { a: { ...pair(), tokens: PREFILL_TOKENS }, b: { ...pair(), tokens: PREFILL_TOKENS } }
    const kvQuant = !opts.quick && QUANTIZED_KV_KEY !== kvKeyDefault ? { a: pair(), b: pair() } : null
    const kvSeries = () => [kvDecode.a.deepMs, kvDecode.b.deepMs, kvDecode.a.shallowMs, kvDecode.b.shallowMs, kvPrefill.a.deepMs, kvPrefill.b.deepMs]
    for (let round = 0; moreRounds(round, kvSeries, EXTRA_ROUND_DEADLINES_SEC.kv); round++) {
      for (const which of ['a', 'b'] as const) {
        const { timings } = await bench(`kv-${which}`, { gen: [KV_PROBE_TOKENS], prompt: [PREFILL_TOKENS], depth: [0, KV_PROBE_DEPTH], reps }, round)
        kvDecode[which].shallowMs.push(findTiming(timings, { nGen: KV_PROBE_TOKENS }).msPerToken)
        kvDecode[which].deepMs.push(findTiming(timings, { nGen: KV_PROBE_TOKENS, nDepth: KV_PROBE_DEPTH }).msPerToken)
        kvPrefill[which].shallowMs.push(findTiming(timings, { nPrompt: PREFILL_TOKENS }).msPerToken)
        kvPrefill[which].deepMs.push(findTiming(timings, { nPrompt: PREFILL_TOKENS, nDepth: KV_PROBE_DEPTH }).msPerToken)
        if (kvQuant && round < rounds) {
          // Two repetitions (the settling one and the sample): each prefills the 1536-token depth again.
          const q = await bench(`kv-${which}`, { gen: [KV_PROBE_TOKENS], depth: [0, KV_PROBE_DEPTH], reps: Math.min(reps, 2), ...QUANTIZED_KV }, round, '-q8')
          kvQuant[which].shallowMs.push(findTiming(q.timings, { nGen: KV_PROBE_TOKENS }).msPerToken)
          kvQuant[which].deepMs.push(findTiming(q.timings, { nGen: KV_PROBE_TOKENS, nDepth: KV_PROBE_DEPTH }).msPerToken)
        }
      }
    }
    obs.kvDecode[kvKeyDefault] = kvDecode
    if (kvQuant) obs.kvDecode[QUANTIZED_KV_KEY] = kvQuant
    obs.kvPrefill = kvPrefill
    lap('kv_depth')

    // Prefill per type and the MoE model.
    const prefillSeries = () => [...Object.values(obs.prefill), ...Object.values(obs.prefillWide ?? {}), ...Object.values(obs.moe!.prefillMsByType)]
    for (let round = 0; moreRounds(round, prefillSeries, EXTRA_ROUND_DEADLINES_SEC.prefill); round++) {
      for (const type of plan.types) {
        for (const [id, into] of [[`pf-${type}`, obs.prefill], [`pfw-${type}`, (obs.prefillWide ??= {})]] as const) {
          const { timings } = await bench(id, { prompt: [PREFILL_TOKENS], reps }, round)
          ;(into[type] ??= []).push(findTiming(timings, { nPrompt: PREFILL_TOKENS }).msPerToken)
        }
      }
      for (const type of plan.types) {
        // Decode of the F16 model for the routing overhead; prefill of every type for the expert-matmul efficiency.
        const gen = type === 'F16' ? [DECODE_TOKENS] : []
        const { timings } = await bench(`moe-${type}`, { gen, prompt: [PREFILL_TOKENS], reps }, round)
        if (type === 'F16') obs.moe!.decodeMs.push(findTiming(timings, { nGen: DECODE_TOKENS }).msPerToken)
        ;(obs.moe!.prefillMsByType[type] ??= []).push(findTiming(timings, { nPrompt: PREFILL_TOKENS }).msPerToken)
      }
    }
    lap('prefill')

    // Server overheads at two vocabulary sizes.
    for (const id of ['srv-v2k', 'srv-v64k']) {
      obs.server.push(
        await observeServer({
          binDir: opts.binDir,
          modelPath: path(id),
          vocab: profiles[id]!.vocabSize,
          workload,
          rounds: opts.quick ? 1 : SERVER_ROUNDS,
          benchReps: reps,
          logDir,
          label: pass > 1 ? `${id}-p${pass}` : id
        })
      )
    }
    lap('server')
    return obs
  }

  let obs = await measurePass(1)
  for (let pass = 1; opts.interleave && pass <= passes; pass++) {
    const before = performance.now()
    await opts.interleave.between(pass)
    // The time spent between passes is not the probe's.
    mark = performance.now()
    pausedMs += mark - before
    if (pass < passes) obs = mergeObservations(obs, await measurePass(pass + 1))
  }

  const measured = fitProbeFacts(obs, profiles, { kvType: workload.kvType, flashAttention: workload.flashAttention, cacheBytes: plan.cacheBytes })
  const noisy = Object.entries({ ...measured.decodeBandwidthByType, ...prefixed('prefill ', measured.prefillFlopsByType) })
    .filter(([, f]) => f.spread > PROBE_WARN_SPREAD)
    .map(([k, f]) => `${k} ±${(100 * f.spread).toFixed(0)} %`)
  if (noisy.length > 0) {
    opts.log(`probe: WARNING: noisy facts (${noisy.join(', ')}): the machine was busy; re-run \`probe --refresh\` when it is quiet`)
  }
  seconds.total = Number(((performance.now() - t0 - pausedMs) / 1000).toFixed(2))
  const profile: HardwareProfile = {
    schema_version: 1,
    fingerprint,
    system: {
      os: sys.os,
      arch: sys.arch,
      cpuModel: sys.cpuModel,
      cores: sys.cores,
      threads,
      ramTotalBytes: sys.ramTotalBytes,
      ramAvailableBytes: sys.ramAvailableBytes,
      cacheBytes: plan.cacheBytes,
      gpus
    },
    llama: { commit: build.commit, buildNumber: build.buildNumber, backend: build.backend, nodeLlamaCppVersion: null, binDir: opts.binDir },
    measured,
    ceilings: { memoryReadBytesPerSec: ceilings.memoryReadBytesPerSec, peakFlopsPerSec: ceilings.peakFlopsPerSec },
    probeSeconds: seconds,
    measuredAt: opts.now()
  }
  await writeHardwareProfile(cachePath, profile)
  await writeFileAtomic(observationsPath(cachePath), stableStringify({ observations: obs, probe_models: Object.fromEntries(files) }))
  opts.log(`probe: done in ${seconds.total} s → ${cachePath}`)
  if (seconds.total > PROBE_BUDGET_SEC * passes) {
    opts.log(`probe: took longer than its ${PROBE_BUDGET_SEC} s budget${passes > 1 ? ' per pass' : ''} (a busy machine makes every run slower)`)
  }
  return profile
}
