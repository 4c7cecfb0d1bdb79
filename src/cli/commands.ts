import type { CommandSpec } from './args.js'
import { WORKLOAD_SETTINGS } from '../pipeline/config.js'

const llamaBin = { type: 'string', value: 'DIR', help: 'llama.cpp bin dir (else MODEL_FIT_GATE_LLAMA_BIN, PATH, setup-llama)' } as const
const cacheDir = { type: 'string', value: 'DIR', help: 'cache dir (else MODEL_FIT_GATE_CACHE, else the XDG cache)' } as const
const hardware = { type: 'string', value: 'FILE', help: 'hardware.json from `probe` (else the cached probe, measured if absent)' } as const
const hfToken = { type: 'string', value: 'TOKEN', help: 'Hugging Face token (else HF_TOKEN)' } as const
/** The flags of every command that runs llama.cpp, and of those that also read models (the Hub token). */
const llamaFlags = { 'llama-bin': llamaBin, 'cache-dir': cacheDir } as const
const modelFlags = { ...llamaFlags, 'hf-token': hfToken } as const
/** Every workload setting as a flag (pipeline/config.ts): the same names and help for `fit` and `validate`. */
const workloadFlags = Object.fromEntries(WORKLOAD_SETTINGS.map((s) => [s.flag, { type: 'string', value: s.kind === 'onoff' ? 'on|off' : s.kind === 'shares' ? 'A,B,…' : s.kind === 'int' ? 'N' : s.kind === 'layers' ? 'N|auto' : 'VALUE', help: s.help }])) as Record<string, { type: 'string'; value: string; help: string }>
/** A command's usage line, summary (`--help`) and positional arguments. */
const about = (usage: string, summary: string, positionals: CommandSpec['positionals']) => ({ usage, summary, positionals })
const NO_POSITIONALS = { min: 0, max: 0, name: '' } as const
const models = (min: number) => ({ min, max: Infinity, name: 'MODEL' }) as const

/** Every command's flags, named once; `--help` text and parsing both come from here. The key is the command's name. */
const TABLE: Record<string, Omit<CommandSpec, 'name'>> = {
  'setup-llama': {
    ...about('model-fit-gate setup-llama [--dir D] [--source DIR]', 'Build llama-bench, llama-server and llama-quantize (CUDA when nvcc and an NVIDIA GPU are present, Metal on macOS, else CPU) ' +
      'from the llama.cpp source bundled in the pinned node-llama-cpp, or from a local source tree with --source (no registry access needed). ' +
      'Cached by commit, backend and cmake flags; prints the bin dir last.', NO_POSITIONALS),
    flags: {
      dir: { type: 'string', value: 'DIR', help: 'cache dir (else MODEL_FIT_GATE_CACHE, else the XDG cache)' },
      source: {
        type: 'string',
        value: 'DIR',
        help: 'build this llama.cpp source tree (else MODEL_FIT_GATE_LLAMA_SOURCE); its commit from git, else from DIR/.llama-commit'
      }
    }
  },
  synth: {
    ...about('model-fit-gate synth --spec corpora/synthetic.yml --out DIR', 'Write the synthetic corpus (F16 by our GGUF writer, other types by llama-quantize) and DIR/manifest.txt. Files made from the same spec are reused.', NO_POSITIONALS),
    flags: {
      spec: { type: 'string', value: 'FILE', help: 'corpus spec (default: the bundled corpora/synthetic.yml)' },
      out: { type: 'string', value: 'DIR', help: 'output dir (required)' },
      ...llamaFlags
    }
  },
  profile: {
    ...about('model-fit-gate profile MODEL [--json]', 'GGUF header → ModelProfile. MODEL: a local path, owner/repo:QUANT (header read by HTTP ranges, no download), or an http(s) URL.', { min: 1, max: 1, name: 'MODEL' }),
    flags: { json: { type: 'boolean', help: 'print the profile as JSON' }, 'hf-token': hfToken }
  },
  probe: {
    ...about('model-fit-gate probe [--out hardware.json] [--refresh]', 'Measure the HardwareProfile through llama.cpp itself (cached per device, llama.cpp build, backend and threads).', NO_POSITIONALS),
    flags: {
      out: { type: 'string', value: 'FILE', help: 'write hardware.json here (default: print it)' },
      refresh: { type: 'boolean', help: 're-measure even when a cached profile exists' },
      ...llamaFlags
    }
  },
  fit: {
    ...about('model-fit-gate fit MODEL… [--hardware F] [--ctx N] [--json]', 'Predictions (memory fit and the four scenarios) without running any model.', models(1)),
    flags: {
      hardware,
      json: { type: 'boolean', help: 'print JSON' },
      ...workloadFlags,
      ...modelFlags
    }
  },
  validate: {
    ...about('model-fit-gate validate [MODEL…] [--models-file F] [--corpus smoke|deep|synthetic] [--hardware F] [--scenarios a,b] [--out report.json]', 'Profile, predict, run the scenarios with real llama.cpp, and write the report (JSON, Markdown, HTML). Exit 1 when the gate fails.', models(0)),
    flags: {
      'models-file': { type: 'string', value: 'FILE', help: 'manifest: one model per line' },
      corpus: { type: 'string', value: 'NAME', help: 'smoke, deep or synthetic' },
      hardware,
      scenarios: { type: 'string', value: 'LIST', help: "comma-separated scenario ids (default: steady_decode, prefill, first_token, kv_warm_reuse; all adds parallel_decode; given, it overrides each workload's own list), or memory: every model's memory judged against llama.cpp's projection from its header, nothing benchmarked or downloaded" },
      out: { type: 'string', value: 'FILE', help: 'report path (default: ./model-fit-gate-report/report.json)' },
      thresholds: { type: 'string', value: 'FILE', help: 'gate limits, and named workloads in its workloads: section (default: the bundled thresholds.yml)' },
      workload: { type: 'string', value: 'NAMES', help: "the thresholds file's workloads to gate, comma-separated (default: all of them; without a workloads: section, one built-in workload)" },
      ...workloadFlags,
      'run-timeout': { type: 'string', value: 'SECONDS', help: 'kill a llama.cpp run after this long (default 600)' },
      shard: { type: 'string', value: 'K/N', help: 'run only shard K of N of the models' },
      'estimator-command': { type: 'string', value: 'CMD', help: 'gate an external estimator (JSON on stdin/stdout)' },
      'estimator-timeout': { type: 'string', value: 'SECONDS', help: 'kill the estimator (and every process it started) after this long (default 300)' },
      'estimator-env': { type: 'string', value: 'NAMES', help: 'environment variables the estimator may see beyond PATH, HOME, locale and GPU runtimes (never a token)' },
      baseline: { type: 'string', value: 'FILE', help: 'a previous report to compare observed figures with' },
      refresh: { type: 'boolean', help: 're-measure the hardware profile' },
      'disk-budget': { type: 'string', value: 'SIZE', help: 'hold at most this much of downloads at once (50G): each model is fetched before its run and removed after' },
      'time-budget': { type: 'string', value: 'SECONDS', help: 'start no model after this long; the rest are skipped with the reason' },
      resume: { type: 'boolean', help: 'reuse the rows an interrupted run with the same --out, machine, build and workload finished' },
      passes: { type: 'string', value: 'N', help: 'measure the corpus N times, interleaved (all models, then all again); each row is the median of its passes and its spread covers them all (default 2)' },
      ...modelFlags
    }
  },
  check: {
    ...about('model-fit-gate check REPORT… [--thresholds F] [--scenario S|all] [--markdown-out F]', 'Gate one report, or several shard reports as one. Exit 0 when the gate passes, 1 when it fails.', { min: 1, max: Infinity, name: 'REPORT' }),
    flags: {
      thresholds: { type: 'string', value: 'FILE', help: 'gate limits (default: the bundled thresholds.yml)' },
      scenario: { type: 'string', value: 'S', help: 'gate one scenario, or all (default)' },
      'markdown-out': { type: 'string', value: 'FILE', help: 'write the gated summary as Markdown' }
    }
  },
  report: {
    ...about('model-fit-gate report REPORT [--markdown F] [--html F]', 'Render a report as Markdown and/or a self-contained HTML page with charts.', { min: 1, max: 1, name: 'REPORT' }),
    flags: {
      markdown: { type: 'string', value: 'FILE', help: 'write Markdown here' },
      html: { type: 'string', value: 'FILE', help: 'write HTML here' }
    }
  },
  'bench-accuracy': {
    ...about('model-fit-gate bench-accuracy [--out DIR] [--passes N] [--cached-probe [--refresh]] [--models A,B] [--no-pairs] [--thresholds F [--workload A,B]]', 'Accuracy benchmark: synthesize ≥ 10 geometries, probe, run the scenarios (each model back to back with its nearest probe model) in every workload, print each row, the median and max |error|, the noise floor and the paired law error, per workload.', NO_POSITIONALS),
    flags: {
      out: { type: 'string', value: 'DIR', help: 'work dir for models and results' },
      passes: { type: 'string', value: 'N', help: 'passes over all models, each after a probe pass; observed = the median of the passes, facts fitted from every probe pass (default 3)' },
      'cached-probe': { type: 'boolean', help: 'use the cached hardware profile instead of probing before every pass (quicker; facts from other minutes)' },
      refresh: { type: 'boolean', help: 'with --cached-probe: re-measure the cached profile first' },
      models: { type: 'string', value: 'A,B', help: 'only these benchmark models, by name (a quick partial run)' },
      'no-pairs': { type: 'boolean', help: 'do not measure each model back to back with its nearest probe model (no paired law error; half the time)' },
      thresholds: { type: 'string', value: 'FILE', help: "a thresholds file whose workloads: section names the workloads to measure (default: the built-in workload)" },
      workload: { type: 'string', value: 'NAMES', help: "with --thresholds: only these of its workloads" },
      ...llamaFlags
    }
  }
}

export const COMMANDS: Record<string, CommandSpec> = Object.fromEntries(Object.entries(TABLE).map(([name, spec]) => [name, { name, ...spec }]))

export function topLevelHelp(): string {
  const rows = Object.values(COMMANDS).map((c) => `  ${c.name.padEnd(16)} ${c.summary.split('. ')[0]}`)
  return [
    'usage: model-fit-gate <command> [options]',
    '',
    'commands:',
    ...rows,
    '',
    'Run `model-fit-gate <command> --help` for its options.',
    'Exit codes: 0 done (gate passed), 1 gate failed, 2 invalid input or usage, anything else is a bug.',
    ''
  ].join('\n')
}
