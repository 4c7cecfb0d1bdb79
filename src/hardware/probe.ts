// probeHardware(): system facts, ceilings, and the llama.cpp-measured facts of this machine, cached per device,
// llama.cpp build, backend and thread count. The measuring runs the probe's own synthetic models only.

import { existsSync } from 'node:fs'
import { mkdir, readFile, rm, statfs } from 'node:fs/promises'
import { platform } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { execa } from 'execa'
import { readBuildInfo } from '../bench/build-info.js'
import { defaultWorkload } from '../bench/workload.js'
import { largestGpu } from '../fit/memory.js'
import { kvKey } from '../fit/rates.js'
import { profileFile } from '../gguf/index.js'
import type { HardwareProfile, MeasuredFact, MeasuredFacts, NoisyFact, OffloadFacts } from '../contracts/hardware.js'
import type { Workload } from '../contracts/workload.js'
import { errorMessage } from '../util/errors.js'
import { writeFileAtomic } from '../util/fs.js'
import { stableStringify } from '../util/json.js'
import { parseJsonText } from '../util/json-schema.js'
import { spread } from '../util/stats.js'
import { cacheKnee, effectiveCacheBytes, measureCeilings, stableKnee } from './ceilings.js'
import { deviceFingerprint } from './fingerprint.js'
import { detectGpus, type CommandRunner } from './gpu.js'
import { findTiming, runProbeBench } from './probe-bench.js'
import { ensureProbeFiles, probeModelMade } from './probe-files.js'
import { fitProbeFacts, type DepthPair, type ProbeObservations, type ProbeProfiles } from './probe-fit.js'
import { failureLine } from '../report/provenance.js'
import { describeFailures, dropFailed, type PartFailure } from './probe-failures.js'
import { mergeObservations } from './probe-obs.js'
import { fitHostFacts, fitOffloadFacts } from './probe-fit-offload.js'
import { dropFailedRuns, emptyHostObservations, emptyOffloadObservations, hostPlan, hostRound, type Attempt } from './probe-host.js'
import { DEFAULT_CACHE_BYTES, parallelWrites, probePlan } from './probe-models.js'
import { observeServer } from './probe-server.js'
import { readHardwareProfile, writeHardwareProfile } from './schema.js'
import { readSystemFacts } from './system.js'
import { childEnv } from '../util/child-env.js'

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
  interleave?: { passes: number; between: (pass: number, probeModels: Record<string, string>) => Promise<void> }
}

export const runTool: CommandRunner = async (file, args) => {
  try {
    const r = await execa(file, [...args], { reject: false, timeout: TOOL_TIMEOUT_MS, stdin: 'ignore', env: childEnv('llama'), extendEnv: false })
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

/** What observations.json holds: the raw observations and each probe model's path. */
export interface ProbeRecord {
  observations: ProbeObservations
  probe_models: Record<string, string>
}

/**
 * The observations.json beside a profile; null when there is none. Throws, naming the file, when it is not one (the
 * sentinel, the re-check and the accuracy benchmark's pairs all read the probe's models from it).
 */
export async function readProbeRecord(profilePath: string): Promise<ProbeRecord | null> {
  const file = observationsPath(profilePath)
  if (!existsSync(file)) return null
  const r = parseJsonText(await readFile(file, 'utf8'), file) as Partial<ProbeRecord> | null
  if (!r || typeof r !== 'object' || !r.observations || !r.probe_models) throw new Error(`${file} holds no probe observations`)
  return r as ProbeRecord
}


/** One part of a probe pass: its rounds, the series that decide on extra ones, and one round's measuring. */
interface ProbePart {
  /** The name in probe_seconds and the log. */
  name: string
  /** Rounds always run. */
  rounds: number
  /** Extra rounds start only before this many seconds into the pass; null: no extra rounds. */
  deadlineSec: number | null
  series: () => Iterable<readonly number[]>
  /** Every array its rounds push to (emptied when the part is re-measured). */
  arrays: () => number[][]
  round: (round: number) => Promise<void>
}

/**
 * The directly measured facts (one probe model's rounds each, no fit between models) whose rounds disagree beyond
 * PROBE_TARGET_SPREAD: what hardware.json warns of. Fitted small terms (per-row costs, fixed overheads) are left out:
 * a difference of two rates near zero spreads hundreds of percent on a quiet machine too; how much any fact's noise
 * moves an estimate is the estimator's own account (fit/fact-noise.ts).
 */
export function noisyFacts(m: MeasuredFacts): NoisyFact[] {
  const maps: Array<[string, Record<string, MeasuredFact> | undefined]> = [
    ['decode_bandwidth_by_type', m.decode_bandwidth_by_type],
    ['decode_cached_bandwidth_by_type', m.decode_cached_bandwidth_by_type],
    ['prefill_flops_by_type', m.prefill_flops_by_type],
    ['moe_prefill_efficiency_by_type', m.moe_prefill_efficiency_by_type],
    ['kv_depth_ms_per_token_per_layer', m.kv_depth_ms_per_token_per_layer]
  ]
  const out: NoisyFact[] = []
  for (const [name, map] of maps) {
    for (const k of Object.keys(map ?? {}).sort()) {
      const f = map![k] as MeasuredFact
      if (f.spread > PROBE_TARGET_SPREAD) out.push({ fact: `measured.${name}.${k}`, spread: Number(f.spread.toPrecision(4)), samples: f.samples.length })
    }
  }
  const scan = m.ssm_scan_ns_per_state_element_token
  if (scan && scan.spread > PROBE_TARGET_SPREAD) out.push({ fact: 'measured.ssm_scan_ns_per_state_element_token', spread: Number(scan.spread.toPrecision(4)), samples: scan.samples.length })
  return out
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

  const { sys, gpus, build, threads, fingerprint } = await readMachine(opts.binDir, opts.threads)
  const cachePath = cachedProfilePath(opts.cacheDir, fingerprint, opts.quick)
  const passes = opts.interleave?.passes ?? 1
  if (!Number.isInteger(passes) || passes < 1) throw new Error(`probe: passes must be an integer ≥ 1, got ${passes}`)
  // The cached profile: returned as it is unless re-measuring; its knee keeps a refresh's plan stable.
  const previous = existsSync(cachePath) ? await readHardwareProfile(cachePath).catch((err: unknown) => errorMessage(err)) : null
  if (!opts.refresh && !opts.interleave && previous !== null) {
    if (typeof previous !== 'string' && !previous.noisy_facts?.length) {
      opts.log(`probe: using the cached hardware profile ${cachePath} (measured ${previous.measured_at}; --refresh re-measures)`)
      return previous
    }
    if (typeof previous !== 'string') {
      const list = previous.noisy_facts!.map((f) => `${f.fact} ±${(100 * f.spread).toFixed(0)} %`).join(', ')
      opts.log(`probe: the cached profile of ${previous.measured_at} was measured noisy (${list}): re-measuring`)
    } else opts.log(`probe: the cached profile is unusable, re-measuring: ${previous}`)
  }
  lap('system')

  const workload: Workload = defaultWorkload({ threads })
  const mib = (b: number) => `${(b / 1024 ** 2).toFixed(0)} MiB`
  const rounds = opts.quick ? 1 : PROBE_ROUNDS
  const reps = opts.quick ? 1 : PROBE_BENCH_REPS
  await mkdir(opts.cacheDir, { recursive: true })
  // The cache a stream really gets, measured before anything is sized from it (the reported size is only a label).
  const reportedCache = sys.caches.totalBytes
  const ceilings = await measureCeilings({ workDir: join(opts.cacheDir, 'ceilings'), threads, cacheBytes: reportedCache, availableBytes: sys.ramAvailableBytes, log: opts.log })
  const sweptKnee = cacheKnee(ceilings.cacheSweep, ceilings.memoryReadBytesPerSec?.value).kneeBytes
  // hardware.json keeps the sweep as measured and the knee as planned with.
  const kneeBytes = stableKnee(sweptKnee, typeof previous === 'string' ? null : previous?.ceilings.cache_knee_bytes)
  if (kneeBytes !== sweptKnee) opts.log(`probe: the sweep's knee ${mib(sweptKnee!)} is within an octave of the cached profile's; keeping ${mib(kneeBytes!)}`)
  const cache = effectiveCacheBytes(kneeBytes, reportedCache, DEFAULT_CACHE_BYTES)
  opts.log(
    `probe: usable cache ${mib(cache.bytes)} (${cache.source}; knee of the read sweep ${kneeBytes !== null ? mib(kneeBytes) : 'not seen'}, reported ${reportedCache > 0 ? mib(reportedCache) : 'unknown'})`
  )
  lap('ceilings')

  // The GPU the memory fit budgets with (fit/memory.ts), so the probe's models are sized to the same device.
  const gpu = build.backend !== 'CPU' ? largestGpu(gpus) : undefined
  const gpuFree = gpu ? (gpu.memory_free_bytes ?? gpu.memory_total_bytes) : null
  // A quick probe's plan differs: its files live apart, so neither plan's clean-up removes the other's.
  const modelDir = join(opts.cacheDir, opts.quick ? 'probe-models-quick' : 'probe-models')
  const disk = await statfs(opts.cacheDir).catch(() => null)
  const plan = probePlan(
    {
      cacheBytes: cache.bytes,
      cacheKneeBytes: kneeBytes,
      gpuFreeBytes: gpuFree,
      ramAvailableBytes: sys.ramAvailableBytes,
      diskFreeBytes: disk ? disk.bavail * disk.bsize : null,
      cores: sys.cores,
      // On a CPU the bandwidth models stream at about the memory read rate; a GPU's rate is not known yet.
      streamBytesPerSec: gpu ? null : (ceilings.memoryReadBytesPerSec?.value ?? null)
    },
    {
      ...(opts.quick ? { types: QUICK_TYPES, cacheMultiple: QUICK_CACHE_MULTIPLE } : {}),
      // Each llama-bench process runs its warm-up and then `reps` repetitions.
      schedule: { rounds, runsPerRound: reps + 1, tokens: DECODE_TOKENS },
      made: probeModelMade(modelDir)
    }
  )
  for (const o of plan.omitted) opts.log(`probe: ${o.type} gets no bandwidth models: ${o.reason}`)
  if (plan.targetReduced) {
    opts.log(
      `probe: WARNING: bandwidth models cut from ${mib(plan.targetReduced.fromBytes)} to ${mib(plan.bandwidthTargetBytes)} (${plan.targetReduced.reason}): ` +
        `they may be partly cache-resident, so the decode rates may be over-estimates`
    )
  }
  const made = await ensureProbeFiles(plan.models, { binDir: opts.binDir, dir: modelDir, log: opts.log, writers: parallelWrites(sys.cores) })
  const files = made.paths
  const failures: PartFailure[] = [...made.failures]
  const profiles: ProbeProfiles = {}
  for (const [id, path] of files) profiles[id] = (await profileFile(path)).profile
  lap('models')

  const logDir = join(opts.cacheDir, 'probe-logs')
  await rm(logDir, { recursive: true, force: true })
  await mkdir(logDir, { recursive: true })
  const path = (id: string): string => {
    const p = files.get(id)
    if (!p) throw new Error(`probe: probe model ${id} was not made`)
    return p
  }
  const failed = new Set(failures.map((f) => f.id))
  // On a GPU machine, the CPU's own facts and the cost of splitting a model between them (probe-host.ts). A host model
  // that fails costs its host facts only: its failures are kept apart from the GPU part's.
  const hp = build.backend !== 'CPU' && gpu !== undefined ? hostPlan(plan) : null
  const hostFailed = new Set<string>()
  const hostAttempt: Attempt = async (id, run) => {
    if (failed.has(id) || hostFailed.has(id)) return undefined
    try {
      return await run()
    } catch (err) {
      hostFailed.add(id)
      opts.log(`probe: WARNING: ${id} failed on the CPU (-ngl 0) or split; the probe goes on without its host facts: ${errorMessage(err).split('\n')[0]}`)
      return undefined
    }
  }
  const hostShape = { decodeTokens: DECODE_TOKENS, prefillTokens: PREFILL_TOKENS, kvKey: kvKey(workload.kv_type, workload.flash_attention), kvDepth: KV_PROBE_DEPTH, kvTokens: KV_PROBE_TOKENS }
  /** The observations without any series of a failed model, in the GPU part and in the host part. */
  const dropAllFailed = (o: ProbeObservations): ProbeObservations => ({
    ...dropFailed(o, failed),
    ...(o.host ? { host: dropFailed(o.host, hostFailed) } : {}),
    ...(o.offload ? { offload: dropFailedRuns(o.offload, hostFailed) } : {})
  })
  /**
   * One probe model's measurement. A model that could not be made, or whose llama.cpp run crashes, hangs or prints
   * no timing, is recorded once and skipped from then on: it costs its own facts, never the probe.
   */
  const attempt = async <T>(id: string, run: () => Promise<T>): Promise<T | undefined> => {
    if (failed.has(id)) return undefined
    try {
      return await run()
    } catch (err) {
      failed.add(id)
      failures.push({ id, stage: 'run', reason: errorMessage(err) })
      opts.log(`probe: WARNING: ${id} failed; the probe goes on without its facts: ${errorMessage(err).split('\n')[0]}`)
      return undefined
    }
  }
  const push = (into: Record<string, number[]>, key: string, value: number | undefined): void => {
    if (value !== undefined) (into[key] ??= []).push(value)
  }
  const emptyObservations = (): ProbeObservations => ({
    decode_tokens: DECODE_TOKENS,
    bandwidth: {},
    prefill_tokens: PREFILL_TOKENS,
    prefill: {},
    overhead: { short_id: plan.overheadIds[0], long_id: plan.overheadIds[1], short_ms: [], long_ms: [] },
    cached: {},
    kv_decode: {},
    kv_prefill: null,
    moe: { decode_ms: [], prefill_ms_by_type: {} },
    ssm: { prefill_ms: [] },
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
    const decodeMs = (id: string, round: number): Promise<number | undefined> =>
      attempt(id, async () => findTiming((await bench(id, { gen: [DECODE_TOKENS], reps }, round)).timings, { nGen: DECODE_TOKENS }).msPerToken)
    const elapsedSec = (): number => (performance.now() - passStart) / 1000

    // Decode: bandwidth per type, overhead, in-cache bandwidth — interleaved by round so drift hits all alike.
    const decodeRound = async (round: number): Promise<void> => {
      for (const type of plan.bandwidthTypes) {
        push(obs.bandwidth, type, await decodeMs(`bw-${type}`, round))
        push((obs.bandwidth_narrow ??= {}), type, await decodeMs(`bwn-${type}`, round))
      }
      const short = await decodeMs(obs.overhead.short_id, round)
      const long = await decodeMs(obs.overhead.long_id, round)
      if (short !== undefined && long !== undefined) {
        obs.overhead.short_ms.push(short)
        obs.overhead.long_ms.push(long)
      }
      for (const type of plan.types) push(obs.cached, type, await decodeMs(`cached-${type}`, round))
    }

    // Attention at depth: decode and prefill at depth 0 and KV_PROBE_DEPTH for the two KV geometries, at the workload's
    // KV type; and decode again with a quantized KV cache (flash attention, which llama.cpp requires for it), so the
    // depth cost is a fact per KV type. Interleaved by round like the decode part.
    const kvKeyDefault = kvKey(workload.kv_type, workload.flash_attention)
    const pair = (): DepthPair => ({ shallow_depth: 0, deep_depth: KV_PROBE_DEPTH, tokens: KV_PROBE_TOKENS, shallow_ms: [], deep_ms: [] })
    const kvDecode = { a: pair(), b: pair() }
    const kvPrefill = { a: { ...pair(), tokens: PREFILL_TOKENS }, b: { ...pair(), tokens: PREFILL_TOKENS } }
    const kvQuant = !opts.quick && QUANTIZED_KV_KEY !== kvKeyDefault ? { a: pair(), b: pair() } : null
    // Prefill at depth with the quantized cache and flash attention too: its kernel attends query by query, a law of
    // its own (a long-context workload with flash attention prefills several times slower than the plain law).
    const kvQuantPrefill = kvQuant ? { a: { ...pair(), tokens: PREFILL_TOKENS }, b: { ...pair(), tokens: PREFILL_TOKENS } } : null
    obs.kv_decode[kvKeyDefault] = kvDecode
    if (kvQuant) obs.kv_decode[QUANTIZED_KV_KEY] = kvQuant
    if (kvQuantPrefill) obs.kv_prefill_by_key = { [QUANTIZED_KV_KEY]: kvQuantPrefill }
    obs.kv_prefill = kvPrefill
    const kvRound = async (round: number): Promise<void> => {
      for (const which of ['a', 'b'] as const) {
        const id = `kv-${which}`
        const m = await attempt(id, async () => {
          const { timings } = await bench(id, { gen: [KV_PROBE_TOKENS], prompt: [PREFILL_TOKENS], depth: [0, KV_PROBE_DEPTH], reps }, round)
          // Two repetitions (the settling one and the sample): each prefills the 1536-token depth again.
          const q = kvQuant && round < rounds ? (await bench(id, { gen: [KV_PROBE_TOKENS], prompt: [PREFILL_TOKENS], depth: [0, KV_PROBE_DEPTH], reps: Math.min(reps, 2), ...QUANTIZED_KV }, round, '-q8')).timings : null
          return { timings, q }
        })
        if (!m) continue
        kvDecode[which].shallow_ms.push(findTiming(m.timings, { nGen: KV_PROBE_TOKENS }).msPerToken)
        kvDecode[which].deep_ms.push(findTiming(m.timings, { nGen: KV_PROBE_TOKENS, nDepth: KV_PROBE_DEPTH }).msPerToken)
        kvPrefill[which].shallow_ms.push(findTiming(m.timings, { nPrompt: PREFILL_TOKENS }).msPerToken)
        kvPrefill[which].deep_ms.push(findTiming(m.timings, { nPrompt: PREFILL_TOKENS, nDepth: KV_PROBE_DEPTH }).msPerToken)
        if (kvQuant && m.q) {
          kvQuant[which].shallow_ms.push(findTiming(m.q, { nGen: KV_PROBE_TOKENS }).msPerToken)
          kvQuant[which].deep_ms.push(findTiming(m.q, { nGen: KV_PROBE_TOKENS, nDepth: KV_PROBE_DEPTH }).msPerToken)
          if (kvQuantPrefill) {
            kvQuantPrefill[which].shallow_ms.push(findTiming(m.q, { nPrompt: PREFILL_TOKENS }).msPerToken)
            kvQuantPrefill[which].deep_ms.push(findTiming(m.q, { nPrompt: PREFILL_TOKENS, nDepth: KV_PROBE_DEPTH }).msPerToken)
          }
        }
      }
    }

    // Prefill per type and the MoE model.
    const prefillRound = async (round: number): Promise<void> => {
      for (const type of plan.types) {
        for (const [id, into] of [[`pf-${type}`, obs.prefill], [`pfw-${type}`, (obs.prefill_wide ??= {})]] as const) {
          push(into, type, await attempt(id, async () => findTiming((await bench(id, { prompt: [PREFILL_TOKENS], reps }, round)).timings, { nPrompt: PREFILL_TOKENS }).msPerToken))
        }
      }
      for (const type of plan.types) {
        // Decode of the F16 model for the routing overhead; prefill of every type for the expert-matmul efficiency.
        const id = `moe-${type}`
        const gen = type === 'F16' ? [DECODE_TOKENS] : []
        const m = await attempt(id, async () => {
          const { timings } = await bench(id, { gen, prompt: [PREFILL_TOKENS], reps }, round)
          return { decode: type === 'F16' ? findTiming(timings, { nGen: DECODE_TOKENS }).msPerToken : null, prefill: findTiming(timings, { nPrompt: PREFILL_TOKENS }).msPerToken }
        })
        if (!m) continue
        if (m.decode !== null) obs.moe!.decode_ms.push(m.decode)
        push(obs.moe!.prefill_ms_by_type, type, m.prefill)
      }
      // The recurrent scan: prefill of the Mamba-2 model.
      const ssm = await attempt('ssm-F16', async () => findTiming((await bench('ssm-F16', { prompt: [PREFILL_TOKENS], reps }, round)).timings, { nPrompt: PREFILL_TOKENS }).msPerToken)
      if (ssm !== undefined) obs.ssm!.prefill_ms.push(ssm)
    }

    // Server overheads at two vocabulary sizes (the server repeats its own requests: one round).
    const serverRound = async (): Promise<void> => {
      for (const id of ['srv-v2k', 'srv-v64k']) {
        const served = await attempt(id, () =>
          observeServer({
            binDir: opts.binDir,
            modelPath: path(id),
            vocab: profiles[id]!.vocab_size,
            workload,
            rounds: opts.quick ? 1 : SERVER_ROUNDS,
            benchReps: reps,
            logDir,
            label: pass > 1 ? `${id}-p${pass}` : id
          })
        )
        if (served) obs.server.push({ id, ...served })
      }
    }

    // The schedule as data: each part runs its rounds, and extra ones (up to PROBE_MAX_ROUNDS) while its series
    // disagree by more than the target and its deadline has not passed.
    const schedule: ProbePart[] = [
      {
        name: 'decode',
        rounds,
        deadlineSec: EXTRA_ROUND_DEADLINES_SEC.decode,
        series: () => [...Object.values(obs.bandwidth), ...Object.values(obs.bandwidth_narrow ?? {}), ...Object.values(obs.cached), obs.overhead.long_ms],
        arrays: () => [...Object.values(obs.bandwidth), ...Object.values(obs.bandwidth_narrow ?? {}), ...Object.values(obs.cached), obs.overhead.long_ms, obs.overhead.short_ms],
        round: decodeRound
      },
      {
        name: 'kv_depth',
        rounds,
        deadlineSec: EXTRA_ROUND_DEADLINES_SEC.kv,
        series: () => [kvDecode.a.deep_ms, kvDecode.b.deep_ms, kvDecode.a.shallow_ms, kvDecode.b.shallow_ms, kvPrefill.a.deep_ms, kvPrefill.b.deep_ms],
        arrays: () => [kvDecode, kvPrefill, ...(kvQuant ? [kvQuant] : [])].flatMap((k) => [k.a.shallow_ms, k.a.deep_ms, k.b.shallow_ms, k.b.deep_ms]),
        round: kvRound
      },
      {
        name: 'prefill',
        rounds,
        deadlineSec: EXTRA_ROUND_DEADLINES_SEC.prefill,
        series: () => [...Object.values(obs.prefill), ...Object.values(obs.prefill_wide ?? {}), ...Object.values(obs.moe!.prefill_ms_by_type), obs.ssm!.prefill_ms],
        arrays: () => [...Object.values(obs.prefill), ...Object.values(obs.prefill_wide ?? {}), ...Object.values(obs.moe!.prefill_ms_by_type), obs.moe!.decode_ms, obs.ssm!.prefill_ms],
        round: prefillRound
      },
      { name: 'server', rounds: 1, deadlineSec: null, series: () => [], arrays: () => [], round: serverRound },
      // The CPU and the split runs: fixed rounds, no extra ones (the part must stay short).
      ...(hp
        ? [
            {
              name: 'host',
              rounds,
              deadlineSec: null,
              series: () => [],
              arrays: () => [],
              round: (round: number) =>
                hostRound(hp, { host: (obs.host ??= emptyHostObservations(hp, hostShape)), offload: (obs.offload ??= emptyOffloadObservations(hp, profiles, hostShape)) }, async (id, req, variant) => (await bench(id, req, round, variant)).timings, hostAttempt, { ...hostShape, reps })
            }
          ]
        : [])
    ]
    const runPart = async (part: ProbePart, deadline: boolean): Promise<void> => {
      const more = (round: number): boolean =>
        round < part.rounds ||
        (!opts.quick && part.deadlineSec !== null && round < PROBE_MAX_ROUNDS && (!deadline || elapsedSec() < part.deadlineSec) && worstSpread(part.series()) > PROBE_TARGET_SPREAD)
      for (let round = 0; more(round); round++) await part.round(round)
    }
    for (const part of schedule) {
      await runPart(part, true)
      lap(part.name)
    }
    // A part whose rounds still disagree beyond the warning level was measured in a busy stretch: its rounds are
    // thrown away and it is measured again, once, without the deadline (a noisy fact costs more than the seconds).
    for (const part of schedule) {
      const worst = worstSpread(part.series())
      if (opts.quick || part.deadlineSec === null || worst <= PROBE_WARN_SPREAD) continue
      opts.log(`probe: re-measuring ${part.name}: its rounds disagree by ${(100 * worst).toFixed(0)} % (over ${(100 * PROBE_WARN_SPREAD).toFixed(0)} %)`)
      for (const a of part.arrays()) a.length = 0
      await runPart(part, false)
      lap(`${part.name} again`)
    }
    // A model that failed in a later round loses its earlier rounds too: every series has one sample per round.
    return dropAllFailed(obs)
  }

  let obs = await measurePass(1)
  for (let pass = 1; opts.interleave && pass <= passes; pass++) {
    const before = performance.now()
    await opts.interleave.between(pass, Object.fromEntries(files))
    // The time spent between passes is not the probe's.
    mark = performance.now()
    pausedMs += mark - before
    // A model that failed in this pass is dropped from the earlier ones too, so the passes stay the same plan.
    if (pass < passes) obs = mergeObservations(dropAllFailed(obs), await measurePass(pass + 1))
  }

  let measured: MeasuredFacts
  try {
    measured = fitProbeFacts(obs, profiles, { kvType: workload.kv_type, flashAttention: workload.flash_attention, cacheBytes: plan.cacheBytes })
  } catch (err) {
    // Only a probe that measured nothing usable stops the run: say which parts failed and why.
    const parts = failures.map((f) => `${f.id} (${f.stage}: ${f.reason.split('\n')[0]})`).join('; ')
    throw new Error(`${errorMessage(err)}${parts ? `; failed probe parts: ${parts}` : ''}`, { cause: err })
  }
  const fitContext = { kvType: workload.kv_type, flashAttention: workload.flash_attention, cacheBytes: plan.cacheBytes }
  const { measuredHost, measuredOffload } = fitHostPart(obs, profiles, measured, fitContext, opts.log)
  const probeFailures = describeFailures(failures, plan.omitted, measured)
  for (const f of probeFailures) opts.log(`probe: stand-in: ${failureLine(f)}`)
  const noisy = noisyFacts(measured)
  if (noisy.length > 0) {
    opts.log(
      `probe: WARNING: noisy facts after re-measuring (${noisy.map((f) => `${f.fact} ±${(100 * f.spread).toFixed(0)} %`).join(', ')}): ` +
        `the machine was busy; this profile is not reused as sound (the next run probes again); rows resting on them are inconclusive`
    )
  }
  seconds.total = Number(((performance.now() - t0 - pausedMs) / 1000).toFixed(2))
  const profile: HardwareProfile = {
    schema_version: 2,
    fingerprint,
    system: {
      ...systemSection(sys, threads),
      cache_bytes: plan.cacheBytes,
      cache_reported_bytes: reportedCache,
      cache_source: cache.source,
      gpus
    },
    llama: { commit: build.commit, build_number: build.buildNumber, backend: build.backend, node_llama_cpp_version: null, bin_dir: opts.binDir },
    measured,
    ...(measuredHost ? { measured_host: measuredHost } : {}),
    ...(measuredOffload ? { measured_offload: measuredOffload } : {}),
    ceilings: {
      memory_read_bytes_per_sec: ceilings.memoryReadBytesPerSec,
      peak_flops_per_sec: ceilings.peakFlopsPerSec,
      cache_sweep: ceilings.cacheSweep,
      cache_knee_bytes: kneeBytes
    },
    ...(probeFailures.length > 0 ? { probe_failures: probeFailures } : {}),
    ...(noisy.length > 0 ? { noisy_facts: noisy } : {}),
    probe_seconds: seconds,
    measured_at: opts.now()
  }
  await writeHardwareProfile(cachePath, profile)
  await writeFileAtomic(observationsPath(cachePath), stableStringify({ observations: obs, probe_models: Object.fromEntries(files) }))
  opts.log(`probe: done in ${seconds.total} s → ${cachePath}`)
  if (seconds.total > PROBE_BUDGET_SEC * passes) {
    opts.log(`probe: took longer than its ${PROBE_BUDGET_SEC} s budget${passes > 1 ? ' per pass' : ''} (a busy machine makes every run slower)`)
  }
  return profile
}

/**
 * The host part's facts (a GPU machine): the CPU's, then the offload facts from the split runs given the CPU's and the
 * GPU's. Each one missing is said in the log, never replaced: without it partial offload is not predicted.
 */
function fitHostPart(
  obs: ProbeObservations,
  profiles: ProbeProfiles,
  measured: MeasuredFacts,
  ctx: Parameters<typeof fitProbeFacts>[2],
  log: (line: string) => void
): { measuredHost: MeasuredFacts | null; measuredOffload: OffloadFacts | null } {
  if (!obs.host) return { measuredHost: null, measuredOffload: null }
  const host = fitHostFacts(obs.host, profiles, ctx)
  if (!host.facts) {
    log(`probe: WARNING: no facts of the CPU (${host.reason}): partial offload will not be predicted`)
    return { measuredHost: null, measuredOffload: null }
  }
  const gb = (x: number) => `${(x / 1e9).toFixed(1)} GB/s`
  log(`probe: the CPU (-ngl 0): F16 decode ${gb(host.facts.decode_bandwidth_by_type.F16?.value ?? host.facts.decode_bandwidth_bytes_per_sec.value)}, fixed ${host.facts.fixed_decode_ms?.value ?? '?'} ms, per layer ${host.facts.per_layer_decode_ms?.value ?? '?'} ms`)
  const offload = obs.offload ? fitOffloadFacts(obs.offload, profiles, measured, host.facts, ctx) : null
  if (offload) log(`probe: offload: bus ${gb(offload.bus_bytes_per_sec.value)} (±${(100 * offload.bus_bytes_per_sec.spread).toFixed(0)} %), hand-off ${offload.handoff_ms.value} ms (±${(100 * offload.handoff_ms.spread).toFixed(0)} %)`)
  else log('probe: WARNING: no offload facts (no split run measured, or none left time beyond the law): partial offload will not be predicted')
  return { measuredHost: host.facts, measuredOffload: offload }
}

/** The machine as the probe identifies it: system facts, GPUs, the llama.cpp build, threads and the fingerprint. */
async function readMachine(binDir: string, threadsOpt: number | undefined) {
  const sys = await readSystemFacts(runTool)
  const gpus = await detectGpus(runTool, platform())
  const build = await readBuildInfo(binDir)
  const threads = threadsOpt ?? sys.cores
  const fingerprint = deviceFingerprint({ ...sys, gpus, llamaCommit: build.commit, backend: build.backend, threads })
  return { sys, gpus, build, threads, fingerprint }
}

/** hardware.json's system facts every profile has. */
function systemSection(sys: Awaited<ReturnType<typeof readSystemFacts>>, threads: number) {
  return {
    os: sys.os,
    arch: sys.arch,
    cpu_model: sys.cpuModel,
    cores: sys.cores,
    threads,
    ram_total_bytes: sys.ramTotalBytes,
    ram_available_bytes: sys.ramAvailableBytes
  }
}

/**
 * The machine without a benchmark: system facts, GPUs and the llama.cpp build, no speed facts (`measured` absent).
 * What a memory-only run needs (seconds, on any runner); a cached probe of the same machine is used instead when
 * there is one, so its speed facts come along for the estimator that wants them.
 */
export async function systemProfile(opts: { binDir: string; cacheDir: string; threads?: number; now: () => string; log: (line: string) => void }): Promise<HardwareProfile> {
  const { sys, gpus, build, threads, fingerprint } = await readMachine(opts.binDir, opts.threads)
  const cachePath = cachedProfilePath(opts.cacheDir, fingerprint)
  const cached = existsSync(cachePath) ? await readHardwareProfile(cachePath).catch(() => null) : null
  if (cached) {
    opts.log(`memory-only: using the cached hardware profile ${cachePath} (measured ${cached.measured_at})`)
    return cached
  }
  opts.log('memory-only: no cached hardware profile of this machine; no speed facts, none needed')
  return {
    schema_version: 2,
    fingerprint,
    system: {
      ...systemSection(sys, threads),
      cache_reported_bytes: sys.caches.totalBytes,
      gpus
    },
    llama: { commit: build.commit, build_number: build.buildNumber, backend: build.backend, node_llama_cpp_version: null, bin_dir: opts.binDir },
    ceilings: { memory_read_bytes_per_sec: null, peak_flops_per_sec: null },
    probe_seconds: {},
    measured_at: opts.now()
  }
}
