// Which llama.cpp build the observations come from: `llama-bench --version` prints (to stderr)
//   version: 0.5.0-dev (build 1, commit de3ff81)
//   built with GNU 12.2.0 for Linux x86_64
// and `llama-bench --list-devices` lists the non-CPU devices ("  CUDA0: NVIDIA … (24080 MiB, 23500 MiB free)",
// "  (none)" on a CPU-only build).

import { join } from 'node:path'
import { execa } from 'execa'
import { InputError } from '../util/errors.js'
import { childEnv } from '../util/child-env.js'

/** These two commands print and exit; anything slower is a broken binary. */
const VERSION_TIMEOUT_MS = 30_000

export interface BuildInfo {
  commit: string
  buildNumber: number | null
  /** "CPU" when no other device is listed, else the device backends, comma-separated ("CUDA", "Metal"). */
  backend: string
}

/** Pure: commit and build number from the `--version` text; null when the text has no version line. */
export function parseVersionText(text: string): { commit: string; buildNumber: number | null } | null {
  const m = /build (\d+), commit ([0-9A-Za-z]+)\)/.exec(text)
  if (m) return { buildNumber: Number(m[1]), commit: m[2] as string }
  const c = /commit ([0-9A-Za-z]+)/.exec(text)
  return c ? { commit: c[1] as string, buildNumber: null } : null
}

/** Device name prefixes whose backend is usually called otherwise (ggml-metal names its devices MTL0, MTL1…). */
const BACKEND_ALIASES: Readonly<Record<string, string>> = { MTL: 'Metal' }

/** Pure: backend names from the `--list-devices` text (device names without their index: CUDA0 → CUDA). */
export function parseDeviceBackends(text: string): string {
  const names: string[] = []
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s+([A-Za-z][A-Za-z_-]*?)\d*:\s/.exec(line)
    if (!m) continue
    const name = BACKEND_ALIASES[m[1] as string] ?? (m[1] as string)
    if (!names.includes(name)) names.push(name)
  }
  return names.length === 0 ? 'CPU' : names.join(',')
}

async function llamaBench(binDir: string, args: string[]): Promise<string> {
  const file = join(binDir, 'llama-bench')
  const r = await execa(file, args, { reject: false, all: true, timeout: VERSION_TIMEOUT_MS, stdin: 'ignore', env: childEnv('llama'), extendEnv: false })
  if (r.failed) {
    throw new InputError('llama-bin', binDir, `\`llama-bench ${args.join(' ')}\` failed: ${r.shortMessage}`)
  }
  return r.all ?? ''
}

/** The build's commit, build number and backend, from `llama-bench --version` and `--list-devices`. */
export async function readBuildInfo(binDir: string): Promise<BuildInfo> {
  const versionText = await llamaBench(binDir, ['--version'])
  const version = parseVersionText(versionText)
  if (!version) {
    throw new InputError('llama-bin', binDir, `\`llama-bench --version\` printed no build commit: ${versionText.slice(0, 200)}`)
  }
  const backend = parseDeviceBackends(await llamaBench(binDir, ['--list-devices']))
  return { ...version, backend }
}
