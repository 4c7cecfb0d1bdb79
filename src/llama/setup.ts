import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { cpus, homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import lockfile from 'proper-lockfile'
import { writeFileAtomic } from '../util/fs.js'
import { stableStringify } from '../util/json.js'
import { chooseBackend, cmakeFlagsFor, probeBackend, type LlamaBackend } from './backend.js'

/** The node-llama-cpp release whose bundled llama.cpp source we build (REFERENCE.md: commit de3ff81). */
export const NODE_LLAMA_CPP_VERSION = '3.22.1'
export const LLAMA_TOOLS = ['llama-bench', 'llama-server', 'llama-quantize'] as const
/** A build holds the lock for minutes; a holder that stopped refreshing it for this long is dead. */
const LOCK_STALE_MS = 120_000
const LOCK_WAIT_RETRIES = 2_000
const PROGRESS_EVERY_MS = 10_000

export interface LlamaBuild {
  binDir: string
  commit: string
  backend: LlamaBackend
  nodeLlamaCppVersion: string
  cmakeFlags: string[]
}

/** `--dir`, else MODEL_FIT_GATE_CACHE, else $XDG_CACHE_HOME/model-fit-gate, else ~/.cache/model-fit-gate. */
export function cacheRoot(dir?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (dir) return dir
  if (env.MODEL_FIT_GATE_CACHE) return env.MODEL_FIT_GATE_CACHE
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'model-fit-gate')
}

async function readBuildInfo(path: string): Promise<LlamaBuild | null> {
  try {
    const info = JSON.parse(await readFile(path, 'utf8')) as LlamaBuild
    return LLAMA_TOOLS.every((t) => existsSync(join(info.binDir, t))) ? info : null
  } catch {
    return null
  }
}

async function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const r = await execa(cmd, args, { cwd: opts.cwd, env: opts.env, reject: false, all: true })
  if (r.exitCode !== 0) {
    const tail = String(r.all ?? '').split('\n').slice(-30).join('\n')
    throw new Error(`setup-llama: \`${cmd} ${args.join(' ')}\` failed (exit ${r.exitCode}):\n${tail}`)
  }
  return String(r.stdout)
}

/** npm pack the pinned node-llama-cpp and clone its bundled llama.cpp source into `srcDir`; returns the commit. */
async function fetchSource(srcDir: string, log: (l: string) => void): Promise<string> {
  if (existsSync(join(srcDir, '.git'))) return (await run('git', ['-C', srcDir, 'rev-parse', 'HEAD'])).trim()
  const tmp = await mkdtemp(join(tmpdir(), 'mfg-nlc-'))
  try {
    log(`setup-llama: npm pack node-llama-cpp@${NODE_LLAMA_CPP_VERSION}`)
    const packed = (await run('npm', ['pack', `node-llama-cpp@${NODE_LLAMA_CPP_VERSION}`, '--silent'], { cwd: tmp }))
      .trim()
      .split('\n')
      .pop() as string
    await run('tar', ['-xzf', packed, 'package/llama/gitRelease.bundle'], { cwd: tmp })
    const cloneTmp = `${srcDir}.partial`
    await rm(cloneTmp, { recursive: true, force: true })
    log('setup-llama: cloning the bundled llama.cpp source')
    await run('git', ['clone', '--quiet', join(tmp, 'package/llama/gitRelease.bundle'), cloneTmp])
    await run('mv', [cloneTmp, srcDir])
  } finally {
    await rm(tmp, { recursive: true, force: true })
  }
  return (await run('git', ['-C', srcDir, 'rev-parse', 'HEAD'])).trim()
}

async function cmakeBuild(
  srcDir: string,
  buildDir: string,
  flags: string[],
  env: NodeJS.ProcessEnv,
  log: (l: string) => void
): Promise<void> {
  log(`setup-llama: cmake ${flags.join(' ')}`)
  await run('cmake', ['-S', srcDir, '-B', buildDir, ...flags], { env })
  const jobs = String(Math.max(1, cpus().length))
  const child = execa('cmake', ['--build', buildDir, '--config', 'Release', '-j', jobs, '--target', ...LLAMA_TOOLS], {
    env,
    reject: false,
    all: true,
    buffer: { all: true, stdout: false, stderr: false }
  })
  let last = 0
  let lastPct = ''
  child.all?.on('data', (chunk: Buffer) => {
    const m = /\[\s*(\d+)%\]/.exec(String(chunk))
    if (m) lastPct = m[1] as string
    const now = Date.now()
    if (lastPct && now - last >= PROGRESS_EVERY_MS) {
      last = now
      log(`setup-llama: building ${lastPct}%`)
    }
  })
  const r = await child
  if (r.exitCode !== 0) {
    const tail = String(r.all ?? '').split('\n').slice(-40).join('\n')
    throw new Error(`setup-llama: cmake --build failed (exit ${r.exitCode}):\n${tail}`)
  }
}

/**
 * Builds llama-bench, llama-server and llama-quantize from the pinned llama.cpp source, cached by commit and
 * backend. Two runs that start at once serialize on a lock; the second finds the first one's build.
 */
export async function setupLlama(opts: { dir?: string; log?: (l: string) => void; backend?: string } = {}): Promise<LlamaBuild> {
  const log = opts.log ?? ((l: string) => console.error(l))
  const root = join(cacheRoot(opts.dir), 'llama.cpp')
  await mkdir(root, { recursive: true })
  const { backend, why } = chooseBackend(await probeBackend(), opts.backend ?? process.env.MODEL_FIT_GATE_BACKEND)
  const pointer = join(root, `node-llama-cpp-${NODE_LLAMA_CPP_VERSION}-${backend}.json`)
  const cached = await readBuildInfo(pointer)
  if (cached) return cached

  if (await lockfile.check(root, { stale: LOCK_STALE_MS })) log('setup-llama: another run is building llama.cpp here; waiting for it')
  const release = await lockfile.lock(root, {
    stale: LOCK_STALE_MS,
    update: LOCK_STALE_MS / 4,
    retries: { retries: LOCK_WAIT_RETRIES, minTimeout: 1_000, maxTimeout: 5_000 },
    onCompromised: (err) => log(`setup-llama: lock compromised: ${err.message}`)
  })
  try {
    const again = await readBuildInfo(pointer)
    if (again) return again
    log(`setup-llama: backend ${backend} (${why})`)
    const srcDir = join(root, `src-node-llama-cpp-${NODE_LLAMA_CPP_VERSION}`)
    const commit = await fetchSource(srcDir, log)
    const buildDir = join(root, `build-${commit.slice(0, 12)}-${backend}`)
    const flags = cmakeFlagsFor(backend)
    const env = { ...process.env }
    if (backend === 'cuda' && !env.CUDACXX && existsSync('/usr/local/cuda/bin/nvcc')) env.CUDACXX = '/usr/local/cuda/bin/nvcc'
    await cmakeBuild(srcDir, buildDir, flags, env, log)
    const info: LlamaBuild = {
      binDir: join(buildDir, 'bin'),
      commit,
      backend,
      nodeLlamaCppVersion: NODE_LLAMA_CPP_VERSION,
      cmakeFlags: flags
    }
    for (const t of LLAMA_TOOLS) {
      if (!existsSync(join(info.binDir, t))) throw new Error(`setup-llama: ${t} missing in ${info.binDir} after the build`)
    }
    await writeFileAtomic(pointer, stableStringify(info))
    log(`setup-llama: built llama.cpp ${commit.slice(0, 7)} (${backend})`)
    return info
  } finally {
    await release()
  }
}
