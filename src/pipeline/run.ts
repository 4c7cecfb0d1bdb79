import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { platform, release, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import type { HardwareProfile } from '../contracts/hardware.js'
import type { ModelRef } from '../contracts/models.js'
import type { ModelReport, Report } from '../contracts/report.js'
import type { ScenarioId } from '../contracts/scenarios.js'
import type { Workload } from '../contracts/workload.js'
import { InputError } from '../util/errors.js'
import { locateLlama } from '../llama/locate.js'
import { cacheRoot } from '../llama/setup.js'
import { applyGate, parseThresholds } from '../gate/index.js'
import { resolveWorkloads, type ResolvedWorkload } from '../gate/workloads.js'
import type { Thresholds } from '../contracts/gate.js'
import { MAX_THRESHOLDS_BYTES } from '../gate/thresholds.js'
import { parseManifest, parseModelArg, corpusPath, hfToken } from '../models/index.js'
import { probeHardware, readHardwareProfile, readRuntimeMemory, runTool, systemProfile, withRuntimeMemory } from '../hardware/index.js'
import { fittedGpuLayers, projectMemory } from '../bench/fit-params.js'
import { openSentinel, type Sentinel } from '../hardware/sentinel.js'
import { modelLogDirName } from '../bench/logs.js'
import { HOST } from '../fit/devices.js'
import { runModel } from '../bench/index.js'
import { renderMarkdown, renderHtml } from '../report/index.js'
import { selectShard } from '../models/shard.js'
import { MAX_LOG_BYTES, boundLogs, readReport, writeReport } from './report-files.js'
import { checkOutputFile, readInputText, writeFileAtomic } from '../util/fs.js'
import { parseSynthSpec } from '../synth/spec.js'
import { synthesize } from '../synth/synth.js'
import { SUMMARY_MAX_BYTES, type CorpusName } from './config.js'
import { builtinEstimator } from './builtin-estimator.js'
import { externalEstimator } from './external-estimator.js'
import type { Estimator } from './estimator.js'
import { packageRoot, syntheticSpecPath, toolVersion } from './paths.js'
import { validate, type MemoryProjector, type ProfiledModel } from './validate.js'
import { modelFetcher, profileRef } from './model-files.js'
import { checkpointStore } from './checkpoint.js'

export interface GateRunConfig {
  /** MODEL arguments of the CLI: local paths, `owner/repo:QUANT`, URLs. */
  modelArgs: string[]
  /** Manifest text given inline (action input `models`). */
  modelsText: string | null
  modelsFile: string | null
  corpus: CorpusName | null
  scenarios: ScenarioId[]
  thresholdsPath: string
  llamaBin: string | undefined
  hardwarePath: string | null
  refreshHardware: boolean
  /** The hf-token input or flag; null: HF_TOKEN or HUGGING_FACE_HUB_TOKEN from the environment (models/hub-env.ts). */
  hfToken: string | null
  cacheDir: string | undefined
  /** Report JSON path; markdown, HTML and logs go beside it. */
  reportPath: string
  runTimeoutSec: number
  shard: string | null
  estimatorCommand: string | null
  /** Environment variables the external estimator may see beyond the allow-list (util/child-env.ts). */
  estimatorEnv: string[]
  /** Seconds the external estimator may take (its whole process group is killed after); null: the default. */
  estimatorTimeoutSec?: number | null
  /** A previous report: observed figures are compared with it (Δ % against the measured noise). */
  baselinePath: string | null
  workload: Partial<Workload>
  runnerName: string | null
  /** Bytes of downloads the run may hold at once (each model removed after its run); null: no budget. */
  diskBudgetBytes?: number | null
  /** Seconds after which no model starts (its rows are skipped); null: no budget. */
  timeBudgetSec?: number | null
  /** Reuse the rows of models an interrupted run with the same machine, build, workload and estimator finished. */
  resume?: boolean
  /** Passes over the corpus (interleaved: all models, then all again); default DEFAULT_PASSES. */
  passes?: number
  /** The named workloads of the thresholds file to gate (`--workload`, input `workloads`); null or empty: all of them. */
  workloadNames?: string[] | null
  /** Whether `scenarios` was given (a flag or input): then it wins over each workload's own list. */
  scenariosGiven?: boolean
}

/**
 * Two passes by default: the fewest that show the machine's minute-to-minute drift at all. Measured on our 2-core
 * CI host: back-to-back repeats agree within 1–8 %, the same model measured again minutes later differs by 12–15 % at
 * the median and up to 45 % (docs/design.md, "Noise across time"); one pass would call such rows match or miss.
 */
export const DEFAULT_PASSES = 2

export interface GateRunResult {
  report: Report
  reportPath: string
  markdownPath: string
  htmlPath: string
  logsDir: string
  markdown: string
}

export interface RunHooks {
  log: (line: string) => void
  group: <T>(name: string, fn: () => Promise<T>) => Promise<T>
  now: () => Date
}

/** Collects the model refs from every source the config names; bad lines fail here, before anything runs. */
async function collectRefs(cfg: GateRunConfig, binDir: () => Promise<string>, hooks: RunHooks): Promise<ModelRef[]> {
  const refs: ModelRef[] = []
  for (const arg of cfg.modelArgs) refs.push(parseModelArg(arg, process.cwd()))
  if (cfg.modelsText && cfg.modelsText.trim()) refs.push(...parseManifest(cfg.modelsText, 'input models', process.cwd()))
  if (cfg.modelsFile) {
    const file = resolve(cfg.modelsFile)
    refs.push(...parseManifest(await readInputText(file, 'the models file'), file, dirname(file)))
  }
  if (cfg.corpus === 'synthetic') {
    const specPath = syntheticSpecPath()
    const spec = parseSynthSpec(await readInputText(specPath, 'the synthetic corpus spec', MAX_THRESHOLDS_BYTES), specPath)
    const out = join(cacheRoot(cfg.cacheDir), 'synthetic')
    const { manifestPath } = await synthesize(spec, out, await binDir(), hooks.log)
    refs.push(...parseManifest(await readFile(manifestPath, 'utf8'), manifestPath, out))
  } else if (cfg.corpus) {
    const file = corpusPath(cfg.corpus, packageRoot())
    if (!file) throw new InputError('corpus', null, `unknown corpus "${cfg.corpus}"`)
    refs.push(...parseManifest(await readInputText(file, 'the corpus'), file, dirname(file)))
  }
  if (refs.length === 0) throw new InputError('models', null, 'no models given (MODEL arguments, --models-file, or a corpus)')
  const seen = new Set<string>()
  for (const r of refs) {
    if (seen.has(r.ref)) throw new InputError(r.file, `line ${r.line}`, `duplicate model ref "${r.ref}"`)
    seen.add(r.ref)
  }
  return refs
}

/** The whole gate run shared by the CLI's `validate` and the action: inputs are checked before any benchmark. */
export async function runGate(cfg: GateRunConfig, hooks: RunHooks): Promise<GateRunResult> {
  // Where the report goes is checked first: a path that cannot be written must not cost a whole run.
  await checkOutputFile(cfg.reportPath, 'report path (--out, output-dir)')
  const thresholds = parseThresholds(await readInputText(cfg.thresholdsPath, 'the thresholds', MAX_THRESHOLDS_BYTES), cfg.thresholdsPath)
  // Every workload is built and checked now (the flags over each), so a bad one fails before any benchmark.
  const workloadOpts = { select: cfg.workloadNames ?? null, scenarios: cfg.scenarios, scenariosGiven: cfg.scenariosGiven ?? false, source: 'workload (--workload, input workloads)' }
  resolveWorkloads(thresholds, cfg.workload, workloadOpts)
  const named = thresholds.workloads !== undefined
  let located: Awaited<ReturnType<typeof locateLlama>> | null = null
  const llama = async () => (located ??= await locateLlama({ binDir: cfg.llamaBin, cacheDir: cfg.cacheDir, log: hooks.log }))
  const allRefs = await collectRefs(cfg, async () => (await llama()).binDir, hooks)
  const refs = cfg.shard ? selectShard(allRefs, cfg.shard) : allRefs
  hooks.log(`models: ${refs.length}${cfg.shard ? ` (shard ${cfg.shard} of ${allRefs.length})` : ''}`)

  const baseline = cfg.baselinePath ? await readReport(resolve(cfg.baselinePath)) : null
  const hardwareFromFile: HardwareProfile | null = cfg.hardwarePath ? await readHardwareProfile(cfg.hardwarePath) : null
  // No scenario: the memory-only run (`--scenarios memory`): every model judged against llama.cpp's projection from
  // its header, nothing benchmarked or downloaded.
  const memoryOnly = cfg.scenarios.length === 0
  const started = hooks.now()
  const { binDir, build } = await llama()
  const canProject = existsSync(join(binDir, 'llama-fit-params'))
  if (!canProject) hooks.log(`memory: llama-fit-params is not in ${binDir}: memory is not checked against llama.cpp's projection (setup-llama builds it)`)
  if (memoryOnly && !canProject) throw new InputError('scenarios', 'memory', `the memory-only run needs llama-fit-params, which is not in ${binDir}`)
  // Hub models' header-only copies (sparse files of the real size): outside the output directory, which is uploaded.
  const headerDir = canProject ? await mkdtemp(join(tmpdir(), 'model-fit-gate-headers-')) : null
  try {
    return await runWithHeaders()
  } finally {
    if (headerDir) await rm(headerDir, { recursive: true, force: true })
  }

  async function runWithHeaders(): Promise<GateRunResult> {
    // Every model is profiled from its header first (nothing downloaded); a model's own fault becomes its rows.
    // The explicit token (hf-token), else HF_TOKEN or HUGGING_FACE_HUB_TOKEN from the environment.
    const fileOpts = { token: hfToken(cfg.hfToken), log: hooks.log, diskBudgetBytes: cfg.diskBudgetBytes ?? null, headerDir }
    const models: ProfiledModel[] = []
    for (const ref of refs) models.push(await profileRef(ref, fileOpts))
    const fetcher = modelFetcher(refs, fileOpts)

    const hardwareDir = join(cacheRoot(cfg.cacheDir), 'hardware')
    const probed =
      hardwareFromFile ??
      (memoryOnly
        ? await systemProfile({ binDir, cacheDir: hardwareDir, threads: cfg.workload.threads, now: () => hooks.now().toISOString(), log: hooks.log })
        : await probeHardware({
            binDir,
            cacheDir: hardwareDir,
            refresh: cfg.refreshHardware,
            log: hooks.log,
            now: () => hooks.now().toISOString()
          }))
    // Free memory as it is now, not when the probe ran: the budgets of the memory fit.
    const runtime = await readRuntimeMemory(binDir, runTool)
    for (const w of runtime.warnings) hooks.log(`memory: WARNING: ${w}`)
    const hardware = withRuntimeMemory(probed, runtime)
    hooks.log(`memory: ${(hardware.system.ram_available_bytes / 2 ** 30).toFixed(1)} GiB of RAM available; the CPU repacks ${hardware.llama.repacked_types?.join(', ') || 'no type'}${(hardware.system.llama_devices ?? []).map((d) => `, ${d.name} ${(d.free_bytes / 2 ** 30).toFixed(1)} of ${(d.total_bytes / 2 ** 30).toFixed(1)} GiB free`).join('')}`)
    if (build && !hardware.llama.node_llama_cpp_version) hardware.llama.node_llama_cpp_version = build.node_llama_cpp_version

    const workloads = resolveWorkloads(thresholds, cfg.workload, { ...workloadOpts, base: { threads: hardware.system.threads } })
    const estimator: Estimator = cfg.estimatorCommand ? externalEstimator(cfg.estimatorCommand, { env: cfg.estimatorEnv, ...(cfg.estimatorTimeoutSec ? { timeoutMs: cfg.estimatorTimeoutSec * 1000 } : {}) }) : builtinEstimator()
    const outDir = dirname(resolve(cfg.reportPath))
    const logsDir = join(outDir, 'logs')
    // The machine's drift: the sentinel at the start (and the cached probe's facts re-checked), after every model.
    const sentinel: Sentinel | null = memoryOnly
      ? null
      : await openSentinel({
          binDir,
          cacheDir: hardwareDir,
          hardwarePath: cfg.hardwarePath,
          hardware,
          probedNow: !hardwareFromFile && (probed.measured_at ?? '') >= started.toISOString(),
          logDir: join(logsDir, 'sentinel'),
          now: hooks.now,
          log: hooks.log
        })
    const passes = cfg.passes ?? DEFAULT_PASSES
    if (!Number.isInteger(passes) || passes < 1) throw new InputError('passes', null, `expected an integer ≥ 1, got ${cfg.passes}`)
    if (!cfg.resume) await rm(join(outDir, 'checkpoint'), { recursive: true, force: true })
    const parts: { name: string; report: Report; resumed: string[] }[] = []
    for (const wl of workloads) {
      if (named) hooks.log(`workload ${wl.name}: ${workloadLine(wl.workload)}; scenarios ${wl.scenarios.join(', ') || 'memory'}`)
      // Each workload's logs and checkpoint in a folder of its own: the same model runs once per workload.
      const wlLogs = named ? join(logsDir, wl.name) : logsDir
      const checkpoint = checkpointStore(named ? join(outDir, 'checkpoint', wl.name) : join(outDir, 'checkpoint'), { hardware, workload: wl.workload, estimator, scenarios: wl.scenarios, toolVersion: toolVersion(), passes })
      const resumed = cfg.resume ? await checkpoint.load(models.map((m) => m.ref)) : new Map<string, ModelReport>()
      if (cfg.resume) hooks.log(`resume${named ? ` (${wl.name})` : ''}: ${resumed.size} of ${models.length} models already measured by an earlier run`)
      const report = await validate({
        models,
        scenarios: wl.scenarios,
        workload: wl.workload,
        thresholds: wl.thresholds,
        hardware,
        estimator,
        runScenarios: (model, scenarios, w) =>
          runModel(model.path, scenarios, w, {
            binDir,
            logsDir: wlLogs,
            artifactsDir: outDir,
            runTimeoutSec: cfg.runTimeoutSec,
            vocabSize: model.profile?.vocab_size ?? 0,
            log: hooks.log
          }),
        log: hooks.log,
        group: named ? (name, fn) => hooks.group(`${name} · ${wl.name}`, fn) : hooks.group,
        now: hooks.now,
        toolVersion: toolVersion(),
        runnerOs: `${platform()} ${release()}`,
        shard: cfg.shard,
        corpusDigest: createHash('sha256').update(allRefs.map((r) => r.ref).join('\n')).digest('hex').slice(0, 16),
        runnerName: cfg.runnerName,
        // With named workloads the merged report is compared once, its rows named by workload (mergeWorkloads).
        baseline: named ? null : baseline,
        fetchModel: fetcher.fetch,
        deadline: cfg.timeBudgetSec ? { at: new Date(started.getTime() + cfg.timeBudgetSec * 1000), budgetSec: cfg.timeBudgetSec } : null,
        resumed,
        onModelDone: (m) => checkpoint.save(m),
        passes,
        minWindowS: wl.minWindowS,
        ...(sentinel ? { sentinel: (at) => sentinel.measure(named ? { ...at, after: `${at.after} · ${wl.name}` } : at), drift: () => sentinel.record() } : {}),
        ...(canProject ? { projectMemory: memoryProjector(binDir, wlLogs, hardware) } : {}),
        // gpu_layers auto: without a GPU there is nothing to offload; with one, llama.cpp's own fit decides.
        resolveGpuLayers: async (model) => {
          if ((hardware.system.llama_devices ?? []).length === 0) return 0
          if (!canProject) throw new Error(`llama-fit-params is not in ${binDir} (setup-llama builds it)`)
          const path = model.path ?? model.headerPath
          if (!path) throw new Error(`no header-only copy to fit from: ${model.headerError ?? 'none was made'}`)
          const dir = join(wlLogs, modelLogDirName(path))
          await mkdir(dir, { recursive: true })
          return fittedGpuLayers(binDir, path, wl.workload, dir, 'auto')
        }
      })
      parts.push({ name: wl.name, report, resumed: [...resumed.keys()] })
    }
    const report = named ? mergeWorkloads(parts, workloads, thresholds, baseline) : (parts[0] as (typeof parts)[number]).report
    const resumedAll = named ? parts.flatMap((p) => p.resumed.map((r) => `${r} · ${p.name}`)) : (parts[0]?.resumed ?? [])
    if (resumedAll.length > 0) report.resumed = resumedAll
    if (cfg.diskBudgetBytes != null) hooks.log(`disk: at most ${(fetcher.highWaterBytes() / 2 ** 20).toFixed(1)} MiB of downloads held at once (budget ${(cfg.diskBudgetBytes / 2 ** 20).toFixed(1)} MiB)`)
    for (const f of await boundLogs(logsDir)) hooks.log(`logs: ${f} was cut to its first and last MiBs (over ${MAX_LOG_BYTES / 2 ** 20} MiB)`)
    return writeOutputs(report, resolve(cfg.reportPath), logsDir)
  }
}

/** A workload in one line for the log. */
function workloadLine(w: Workload): string {
  return `context ${w.context_tokens}, KV ${w.kv_type}, flash attention ${w.flash_attention ? 'on' : 'off'}, -ngl ${w.gpu_layers}, decode ${w.decode_tokens} at depth ${w.decode_depth}, prefill ${w.prefill_tokens} at depth ${w.prefill_depth ?? 0}, ${w.parallel_slots ?? 4} parallel slots`
}

/**
 * One report of a run of named workloads: every workload's rows, each named, in the order they ran; the whole run's
 * time; the drift record as the sentinel ended; gated per workload (gate/apply.ts).
 */
function mergeWorkloads(parts: { name: string; report: Report }[], workloads: ResolvedWorkload[], thresholds: Thresholds, baseline: Report | null): Report {
  const first = (parts[0] as (typeof parts)[number]).report
  const last = (parts[parts.length - 1] as (typeof parts)[number]).report
  const merged: Report = {
    ...last,
    provenance: { ...last.provenance, wall_time_s: Math.round(parts.reduce((s, p) => s + p.report.provenance.wall_time_s, 0) * 10) / 10 },
    workload: first.workload,
    workloads: workloads.map((w) => ({ name: w.name, workload: w.workload, scenarios: w.scenarios })),
    models: parts.flatMap((p) => p.report.models.map((m) => ({ ...m, workload: p.name })))
  }
  return applyGate(merged, thresholds, { baseline })
}

/** llama.cpp's projection of each model: from its file when it is on disk, else from its header-only copy. */
function memoryProjector(binDir: string, logsDir: string, hardware: HardwareProfile): MemoryProjector {
  return async (model, workload) => {
    const path = model.path ?? model.headerPath ?? null
    if (!path) return { skip: `no header-only copy to project from: ${model.headerError ?? 'none was made'}` }
    const dir = join(logsDir, modelLogDirName(path))
    await mkdir(dir, { recursive: true })
    const devices = await projectMemory(binDir, path, workload, dir, 'memory')
    const free = (name: string): number | null =>
      name === HOST ? hardware.system.ram_available_bytes : (hardware.system.llama_devices?.find((d) => d.name === name)?.free_bytes ?? null)
    return { projected: devices.map((d) => ({ ...d, free_bytes: free(d.device) })), source: model.path ? 'file' : 'header' }
  }
}

/** Report JSON (schema-checked), Markdown and HTML beside it; each written atomically. */
export async function writeOutputs(report: Report, reportPath: string, logsDir: string): Promise<GateRunResult> {
  const base = reportPath.replace(/\.json$/i, '')
  const markdownPath = `${base}.md`
  const htmlPath = `${base}.html`
  await writeReport(reportPath, report)
  const markdown = renderMarkdown(report, { maxBytes: SUMMARY_MAX_BYTES })
  await writeFileAtomic(markdownPath, markdown)
  await writeFileAtomic(htmlPath, renderHtml(report))
  return { report, reportPath, markdownPath, htmlPath, logsDir, markdown }
}
