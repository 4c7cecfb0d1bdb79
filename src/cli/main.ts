import { join, resolve } from 'node:path'
import { InputError, errorMessage, isEnvironmentError } from '../util/errors.js'
import { stableStringify } from '../util/json.js'
import { readInputText, writeFileAtomic, checkOutputFile } from '../util/fs.js'
import { setupLlama, cacheRoot } from '../llama/setup.js'
import { locateLlama } from '../llama/locate.js'
import { parseSynthSpec } from '../synth/spec.js'
import { synthesize } from '../synth/synth.js'
import { syntheticSpecPath, defaultThresholdsPath } from '../pipeline/paths.js'
import { DEFAULT_RUN_TIMEOUT_SEC, parseByteSize, parseEstimatorEnv, parsePasses, parseScenarioList, parseSeconds, parseWorkloadNames, parseWorkloadSettings, type CorpusName } from '../pipeline/config.js'
import { runGate } from '../pipeline/run.js'
import { loadModelProfile } from '../pipeline/profile-any.js'
import { gateReports } from '../pipeline/check.js'
import { installSignalCleanup, defaultWorkload } from '../bench/index.js'
import { AUTO_GPU_LAYERS } from '../bench/workload.js'
import type { ModelProfile } from '../contracts/profile.js'
import { probeHardware, readHardwareProfile } from '../hardware/index.js'
import { predict } from '../fit/index.js'
import { readReport } from '../pipeline/report-files.js'
import { renderHtml, renderMarkdown } from '../report/index.js'
import { renderFitTable } from './render-fit.js'
import { ACCURACY_MODELS, runAccuracyBenchmark } from '../accuracy/index.js'
import type { HardwareProfile } from '../contracts/hardware.js'
import type { Workload } from '../contracts/workload.js'
import { COMMANDS, topLevelHelp } from './commands.js'
import { helpText, intFlag, parseCommandArgs, str, type ParsedArgs } from './args.js'
import { hfToken } from '../models/index.js'
import { MAX_THRESHOLDS_BYTES, parseThresholds } from '../gate/thresholds.js'
import { resolveWorkloads } from '../gate/workloads.js'
import { DEFAULT_SCENARIOS } from '../contracts/scenarios.js'

export const EXIT_OK = 0
export const EXIT_GATE_FAILED = 1
export const EXIT_INPUT = 2
export const EXIT_BUG = 3

type Handler = (args: ParsedArgs) => Promise<number>

const out = (text: string): void => {
  process.stdout.write(text.endsWith('\n') ? text : text + '\n')
}
const log = (line: string): void => {
  process.stderr.write(line + '\n')
}
const groupToStderr = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
  log(`── ${name}`)
  return fn()
}

async function hardwareFor(args: ParsedArgs): Promise<HardwareProfile> {
  const file = str(args.values.hardware)
  if (file) return readHardwareProfile(file)
  const { binDir } = await locateLlama({ binDir: str(args.values['llama-bin']), cacheDir: str(args.values['cache-dir']), log })
  return probeHardware({
    binDir,
    cacheDir: join(cacheRoot(str(args.values['cache-dir'])), 'hardware'),
    refresh: Boolean(args.values.refresh),
    log,
    now: () => new Date().toISOString()
  })
}

/** The workload flags (pipeline/config.ts WORKLOAD_SETTINGS) as overrides; the bench checks the combination. */
function workloadFromFlags(args: ParsedArgs): Partial<Workload> {
  return parseWorkloadSettings((name) => str(args.values[name]), (name) => `--${name}`, 'flag') as Partial<Workload>
}

const handlers: Record<string, Handler> = {
  async 'setup-llama'(args) {
    const build = await setupLlama({ dir: str(args.values.dir), source: str(args.values.source), log })
    const from = build.source ? `source ${build.source}` : `node-llama-cpp ${build.node_llama_cpp_version}`
    log(`llama.cpp ${build.commit.slice(0, 7)} (${build.backend}, ${from})`)
    out(build.bin_dir)
    return EXIT_OK
  },

  async synth(args) {
    const outDir = str(args.values.out)
    if (!outDir) throw new InputError('synth', '--out', 'is required')
    const specPath = resolve(str(args.values.spec) ?? syntheticSpecPath())
    const spec = parseSynthSpec(await readInputText(specPath, 'the spec', MAX_THRESHOLDS_BYTES), specPath)
    const { binDir } = await locateLlama({ binDir: str(args.values['llama-bin']), cacheDir: str(args.values['cache-dir']), log })
    const result = await synthesize(spec, resolve(outDir), binDir, log)
    for (const m of result.models) log(`${m.written ? 'wrote ' : 'cached'} ${m.ref} → ${m.path}`)
    out(result.manifestPath)
    return EXIT_OK
  },

  async profile(args) {
    const { profile, source } = await loadModelProfile(args.positionals[0] as string, { token: hfToken(str(args.values['hf-token'])), log })
    if (args.values.json) out(stableStringify(profile))
    else out(renderFitTable([{ ref: source, profile, prediction: null }]))
    return EXIT_OK
  },

  async probe(args) {
    const file = str(args.values.out)
    if (file) await checkOutputFile(file, '--out')
    const hw = await hardwareFor(args)
    if (file) {
      await writeFileAtomic(resolve(file), stableStringify(hw))
      out(resolve(file))
    } else out(stableStringify(hw))
    return EXIT_OK
  },

  async fit(args) {
    const workloadFlags = workloadFromFlags(args)
    const models = []
    for (const m of args.positionals) {
      const { profile, source } = await loadModelProfile(m, { token: hfToken(str(args.values['hf-token'])), log })
      models.push({ ref: source, profile })
    }
    const hardware = await hardwareFor(args)
    const workload = defaultWorkload({ threads: hardware.system.threads, ...workloadFlags })
    // gpu_layers auto: `fit` runs no llama.cpp, so the estimator's own fit says how many layers fit (all when no GPU).
    const layersFor = (profile: ModelProfile): Workload => {
      if (workload.gpu_layers !== AUTO_GPU_LAYERS) return workload
      const all = predict(profile, hardware, { ...workload, gpu_layers: 99 }).fit.gpu_layers_that_fit
      return { ...workload, gpu_layers: all ?? 99 }
    }
    const rows = models.map((m) => ({ ...m, prediction: predict(m.profile, hardware, layersFor(m.profile)) }))
    out(args.values.json ? stableStringify({ workload, models: rows }) : renderFitTable(rows))
    return EXIT_OK
  },

  async validate(args) {
    const corpus = str(args.values.corpus)
    if (corpus && !['smoke', 'deep', 'synthetic'].includes(corpus)) {
      throw new InputError('--corpus', null, `expected smoke, deep or synthetic, got "${corpus}"`)
    }
    const reportPath = resolve(str(args.values.out) ?? join('model-fit-gate-report', 'report.json'))
    const result = await runGate(
      {
        modelArgs: args.positionals,
        modelsText: null,
        modelsFile: str(args.values['models-file']) ?? null,
        corpus: (corpus as CorpusName | undefined) ?? null,
        scenarios: parseScenarioList(str(args.values.scenarios), '--scenarios'),
        thresholdsPath: resolve(str(args.values.thresholds) ?? defaultThresholdsPath()),
        llamaBin: str(args.values['llama-bin']),
        hardwarePath: str(args.values.hardware) ?? null,
        refreshHardware: Boolean(args.values.refresh),
        hfToken: str(args.values['hf-token']) ?? null,
        cacheDir: str(args.values['cache-dir']),
        reportPath,
        runTimeoutSec: parseSeconds(str(args.values['run-timeout']), '--run-timeout') ?? DEFAULT_RUN_TIMEOUT_SEC,
        estimatorTimeoutSec: parseSeconds(str(args.values['estimator-timeout']), '--estimator-timeout'),
        shard: str(args.values.shard) ?? null,
        estimatorCommand: str(args.values['estimator-command']) ?? null,
        estimatorEnv: parseEstimatorEnv(str(args.values['estimator-env']), '--estimator-env'),
        diskBudgetBytes: parseByteSize(str(args.values['disk-budget']), '--disk-budget'),
        timeBudgetSec: parseSeconds(str(args.values['time-budget']), '--time-budget'),
        resume: Boolean(args.values.resume),
        passes: parsePasses(str(args.values.passes), '--passes') ?? undefined,
        baselinePath: str(args.values.baseline) ?? null,
        workload: workloadFromFlags(args),
        workloadNames: parseWorkloadNames(str(args.values.workload)),
        scenariosGiven: str(args.values.scenarios) !== undefined,
        runnerName: process.env.RUNNER_NAME ?? null
      },
      { log, group: groupToStderr, now: () => new Date() }
    )
    log(`report: ${result.reportPath}`)
    log(`markdown: ${result.markdownPath}`)
    log(`html: ${result.htmlPath}`)
    log(result.report.gate.passed ? 'gate: passed' : `gate: FAILED (${result.report.gate.failures.length} failures)`)
    for (const f of result.report.gate.failures) log(`  - ${f.message}`)
    out(result.reportPath)
    return result.report.gate.passed ? EXIT_OK : EXIT_GATE_FAILED
  },

  async check(args) {
    const scenario = str(args.values.scenario)
    const mdOut = str(args.values['markdown-out'])
    if (mdOut) await checkOutputFile(mdOut, '--markdown-out')
    const result = await gateReports(args.positionals.map((p) => resolve(p)), {
      thresholdsPath: resolve(str(args.values.thresholds) ?? defaultThresholdsPath()),
      scenario: scenario ?? 'all'
    })
    const md = str(args.values['markdown-out'])
    if (md) await writeFileAtomic(resolve(md), result.markdown)
    out(result.report.gate.passed ? 'gate: passed' : `gate: FAILED`)
    for (const f of result.report.gate.failures) out(`  - ${f.message}`)
    return result.report.gate.passed ? EXIT_OK : EXIT_GATE_FAILED
  },

  async report(args) {
    const report = await readReport(resolve(args.positionals[0] as string))
    const md = str(args.values.markdown)
    const html = str(args.values.html)
    if (!md && !html) throw new InputError('report', null, 'give --markdown FILE and/or --html FILE')
    if (md) await checkOutputFile(md, '--markdown')
    if (html) await checkOutputFile(html, '--html')
    if (md) {
      await writeFileAtomic(resolve(md), renderMarkdown(report))
      out(resolve(md))
    }
    if (html) {
      await writeFileAtomic(resolve(html), renderHtml(report))
      out(resolve(html))
    }
    return EXIT_OK
  },

  async 'bench-accuracy'(args) {
    const { binDir } = await locateLlama({ binDir: str(args.values['llama-bin']), cacheDir: str(args.values['cache-dir']), log })
    const workDir = resolve(str(args.values.out) ?? join(cacheRoot(str(args.values['cache-dir'])), 'accuracy'))
    const passes = intFlag(args.values.passes, 'passes')
    const cachedProbe = args.values['cached-probe'] === true
    if (args.values.refresh === true && !cachedProbe) throw new InputError('bench-accuracy', '--refresh', 'goes with --cached-probe (without it every pass probes anew)')
    const only = str(args.values.models)?.split(',').map((x) => x.trim()).filter(Boolean)
    const known = new Set(ACCURACY_MODELS.map((m) => m.name))
    const unknown = only?.find((n) => !known.has(n))
    if (unknown) throw new InputError('bench-accuracy', '--models', `"${unknown}" is not a benchmark model (${[...known].join(', ')})`)
    const thresholdsPath = str(args.values.thresholds)
    if (str(args.values.workload) && !thresholdsPath) throw new InputError('bench-accuracy', '--workload', 'goes with --thresholds (the file that names the workloads)')
    // The named workloads, checked (with their lines) before anything is synthesized or run.
    const workloads = thresholdsPath
      ? resolveWorkloads(parseThresholds(await readInputText(resolve(thresholdsPath), 'the thresholds', MAX_THRESHOLDS_BYTES), thresholdsPath), {}, { select: parseWorkloadNames(str(args.values.workload)), scenarios: [...DEFAULT_SCENARIOS], scenariosGiven: false, source: '--workload' })
      : undefined
    await runAccuracyBenchmark({ binDir, workDir, log: out, cachedProbe, refreshHardware: args.values.refresh === true, paired: args.values['no-pairs'] !== true, ...(passes ? { passes } : {}), ...(only ? { only } : {}), ...(workloads ? { workloads } : {}) })
    return EXIT_OK
  }
}

/** Runs one CLI command; returns the exit code (0 done/passed, 1 gate failed, 2 invalid input). */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    out(topLevelHelp())
    return command ? EXIT_OK : EXIT_INPUT
  }
  if (command === '--version') {
    const { toolVersion } = await import('../pipeline/paths.js')
    out(toolVersion())
    return EXIT_OK
  }
  const spec = COMMANDS[command]
  const handler = handlers[command]
  if (!spec || !handler) {
    log(`model-fit-gate: unknown command "${command}"\n`)
    log(topLevelHelp())
    return EXIT_INPUT
  }
  installSignalCleanup()
  try {
    const args = parseCommandArgs(spec, rest)
    if (args.values.help) {
      out(helpText(spec))
      return EXIT_OK
    }
    return await handler(args)
  } catch (err) {
    if (err instanceof InputError) {
      log(`model-fit-gate ${command}: ${err.message}`)
      return EXIT_INPUT
    }
    // The network, the disk or a permission: the environment's to fix, not our bug.
    if (isEnvironmentError(err)) {
      log(`model-fit-gate ${command}: ${errorMessage(err)} (a fault of the environment: the network, the disk or a permission)`)
      return EXIT_INPUT
    }
    log(`model-fit-gate ${command}: internal error (a bug): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`)
    return EXIT_BUG
  }
}
