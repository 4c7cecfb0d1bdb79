import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, realpath, rm } from 'node:fs/promises'
import { availableParallelism, homedir, tmpdir } from 'node:os'
import { dirname, join, resolve, sep } from 'node:path'
import { execa } from 'execa'
import lockfile from 'proper-lockfile'
import { InputError, errorMessage } from '../util/errors.js'
import { fileSha256, writeFileAtomic } from '../util/fs.js'
import { stableStringify } from '../util/json.js'
import { chooseBackend, cmakeFlagsFor, probeBackend, type LlamaBackend } from './backend.js'
import {
  buildDirPath,
  COMMIT_FILE,
  commitFileFlags,
  generatorArgs,
  parseCommitFile,
  pointerPath,
  staleBuildDirReason,
  type LlamaOrigin
} from './build-plan.js'
import { childEnv } from '../util/child-env.js'

/** The node-llama-cpp release whose bundled llama.cpp source we build (llama.cpp commit de3ff81). */
export const NODE_LLAMA_CPP_VERSION = '3.22.1'
/** The llama.cpp commit that release bundles: a cached source at another commit, or with changes, is fetched again. */
export const NODE_LLAMA_CPP_COMMIT = 'de3ff815ea7d559ee917f063901b8986f038abc6'
/** The tools a run needs: a bin dir of one's own (`--llama-bin`) must hold these. */
export const LLAMA_TOOLS = ['llama-bench', 'llama-server', 'llama-quantize'] as const
/** What setup-llama builds: the tools a run needs, and llama-fit-params (llama.cpp's own memory projection). */
export const BUILT_TOOLS = [...LLAMA_TOOLS, 'llama-fit-params'] as const
/** A build holds the lock for minutes; a holder that stopped refreshing it for this long is dead. */
const LOCK_STALE_MS = 120_000
const LOCK_WAIT_RETRIES = 2_000
const PROGRESS_EVERY_MS = 10_000

export interface LlamaBuild {
  bin_dir: string
  commit: string
  backend: LlamaBackend
  /** null when built from a local source tree (`--source`). */
  node_llama_cpp_version: string | null
  /** The local source tree it was built from; null for node-llama-cpp's bundled source. */
  source: string | null
  cmake_flags: string[]
  /**
   * SHA-256 of each tool as it was built: checked before every use, so a binary changed in the cache (a fork's job on
   * a shared self-hosted runner) is rebuilt.
   */
  binaries_sha256: Record<string, string>
}

/** What a build is made from; its binaries are a function of these (and the toolchain). */
type BuildInputs = Pick<LlamaBuild, 'commit' | 'backend' | 'cmake_flags' | 'source' | 'node_llama_cpp_version'>

async function binariesSha256(binDir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const t of BUILT_TOOLS) out[t] = await fileSha256(join(binDir, t))
  return out
}

/** Why a cached build may not be used for `expected` inputs (null: it is what was built from them). */
export async function buildMismatch(info: LlamaBuild, expected: BuildInputs): Promise<string | null> {
  if (typeof info.binaries_sha256 !== 'object' || info.binaries_sha256 === null) return 'it records no hashes of its binaries (made by an older version)'
  for (const k of ['commit', 'backend', 'cmake_flags', 'source', 'node_llama_cpp_version'] as const) {
    if (stableStringify(info[k]) !== stableStringify(expected[k])) return `it was built with another ${k}`
  }
  for (const t of BUILT_TOOLS) {
    const path = join(info.bin_dir, t)
    if (!existsSync(path)) return `${t} is missing`
    if ((await fileSha256(path)) !== info.binaries_sha256[t]) return `${t} differs from the binary that was built`
  }
  return null
}

/** `--dir`, else MODEL_FIT_GATE_CACHE, else $XDG_CACHE_HOME/model-fit-gate, else ~/.cache/model-fit-gate. */
export function cacheRoot(dir?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (dir) return dir
  if (env.MODEL_FIT_GATE_CACHE) return env.MODEL_FIT_GATE_CACHE
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'model-fit-gate')
}

/**
 * The cached build a pointer names, when its binaries and inputs are what was built; otherwise null, and the
 * pointer is removed (the caller rebuilds, into a fresh build dir).
 */
async function readBuildInfo(path: string, expected: BuildInputs, log: (l: string) => void): Promise<{ info: LlamaBuild | null; tampered: boolean }> {
  let info: LlamaBuild
  try {
    info = JSON.parse(await readFile(path, 'utf8')) as LlamaBuild
  } catch {
    return { info: null, tampered: false }
  }
  // An integrity check of the cache (an accidental or a careless change), not a signature: the record sits beside
  // what it describes. Its binaries must at least be where this cache builds them.
  const inCache = typeof info.bin_dir === 'string' && resolve(info.bin_dir).startsWith(`${resolve(dirname(path))}${sep}`)
  const why = !inCache ? 'its binaries are not in this cache' : await buildMismatch(info, expected).catch((err: unknown) => `it cannot be checked (${errorMessage(err)})`)
  if (!why) return { info, tampered: false }
  log(`setup-llama: not using the cached build: ${why}; rebuilding from the source`)
  await rm(path, { force: true })
  return { info: null, tampered: true }
}

async function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const r = await execa(cmd, args, { cwd: opts.cwd, env: childEnv('build', { env: opts.env }), extendEnv: false, reject: false, all: true })
  if (r.exitCode !== 0) {
    const tail = String(r.all ?? '').split('\n').slice(-30).join('\n')
    throw new Error(`setup-llama: \`${cmd} ${args.join(' ')}\` failed (exit ${r.exitCode}):\n${tail}`)
  }
  return String(r.stdout)
}

/** npm pack the pinned node-llama-cpp and clone its bundled llama.cpp source into `srcDir`; returns the commit. */
/** Why a cached source tree may not be built (null: the pinned commit, unchanged). */
async function sourceMismatch(srcDir: string): Promise<string | null> {
  const head = (await run('git', ['-C', srcDir, 'rev-parse', 'HEAD'])).trim()
  if (head !== NODE_LLAMA_CPP_COMMIT) return `it is at ${head.slice(0, 12)}, not the pinned ${NODE_LLAMA_CPP_COMMIT.slice(0, 12)}`
  const changes = (await run('git', ['-C', srcDir, 'status', '--porcelain', '--untracked-files=all'])).trim()
  return changes ? `it has changes (${changes.split('\n').length} files differ from the commit)` : null
}

async function fetchSource(srcDir: string, log: (l: string) => void): Promise<string> {
  if (existsSync(join(srcDir, '.git'))) {
    const why = await sourceMismatch(srcDir).catch((err: unknown) => `it cannot be read (${errorMessage(err)})`)
    if (!why) return NODE_LLAMA_CPP_COMMIT
    log(`setup-llama: not using the cached source in ${srcDir}: ${why}; fetching it again`)
    await rm(srcDir, { recursive: true, force: true })
  }
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
  const why = await sourceMismatch(srcDir)
  if (why) throw new Error(`setup-llama: node-llama-cpp@${NODE_LLAMA_CPP_VERSION}'s bundled source is not what this version pins: ${why}`)
  return NODE_LLAMA_CPP_COMMIT
}

/**
 * The commit of a local llama.cpp source tree: `git rev-parse HEAD` when DIR is a git checkout (DIR itself, not a
 * folder inside some other repository), else the first line of DIR/.llama-commit. `fromFile` says which.
 */
export async function readSourceCommit(dir: string, name = '--source'): Promise<{ commit: string; fromFile: boolean }> {
  if (!existsSync(join(dir, 'CMakeLists.txt'))) throw new InputError(name, null, `${dir} is not a llama.cpp source tree (no CMakeLists.txt)`)
  if (existsSync(join(dir, '.git'))) {
    const r = await execa('git', ['-C', dir, 'rev-parse', 'HEAD'], { reject: false, env: childEnv('build'), extendEnv: false })
    if (r.exitCode !== 0) throw new InputError(name, null, `${dir}: \`git rev-parse HEAD\` failed: ${String(r.stderr).trim()}`)
    return { commit: String(r.stdout).trim(), fromFile: false }
  }
  const file = join(dir, COMMIT_FILE)
  if (!existsSync(file)) {
    throw new InputError(name, null, `${dir} has no commit: it is not a git checkout and has no ${COMMIT_FILE} file (one line: the commit)`)
  }
  try {
    return { commit: parseCommitFile(await readFile(file, 'utf8'), dir), fromFile: true }
  } catch (err) {
    throw new InputError(name, null, (err as Error).message)
  }
}

async function hasNinja(): Promise<boolean> {
  try {
    return (await execa('ninja', ['--version'], { reject: false, timeout: 10_000, env: childEnv('build'), extendEnv: false })).exitCode === 0
  } catch {
    return false
  }
}

/** cmake refuses to configure a build dir made for another source dir or generator: start that one afresh. */
async function clearStaleBuildDir(srcDir: string, buildDir: string, generator: string[], log: (l: string) => void): Promise<void> {
  let cacheText: string
  try {
    cacheText = await readFile(join(buildDir, 'CMakeCache.txt'), 'utf8')
  } catch {
    return
  }
  const why = staleBuildDirReason(cacheText, srcDir, generator[1] ?? null)
  if (!why) return
  log(`setup-llama: removing ${buildDir}: ${why}`)
  await rm(buildDir, { recursive: true, force: true })
}

async function cmakeBuild(
  srcDir: string,
  buildDir: string,
  flags: string[],
  env: NodeJS.ProcessEnv,
  log: (l: string) => void
): Promise<void> {
  const generator = generatorArgs(await hasNinja(), env)
  await clearStaleBuildDir(srcDir, buildDir, generator, log)
  log(`setup-llama: cmake ${[...generator, ...flags].join(' ')}`)
  await run('cmake', ['-S', srcDir, '-B', buildDir, ...generator, ...flags], { env })
  // Every core the process may use (cgroup and affinity limits included); the build is CPU-bound.
  const jobs = String(Math.max(1, availableParallelism()))
  log(`setup-llama: building with ${jobs} jobs${generator.length ? ` (${generator[1]})` : ''}`)
  const child = execa('cmake', ['--build', buildDir, '--config', 'Release', '-j', jobs, '--target', ...BUILT_TOOLS], {
    env: childEnv('build', { env }),
    extendEnv: false,
    reject: false,
    all: true,
    buffer: { all: true, stdout: false, stderr: false }
  })
  let last = 0
  let lastPct = ''
  child.all?.on('data', (chunk: Buffer) => {
    // make prints "[ 42%]", ninja "[123/456]"; a chunk may hold many lines: the last one counts.
    const text = String(chunk)
    const pct = [...text.matchAll(/\[\s*(\d+)%\]/g)].pop()
    const frac = [...text.matchAll(/\[(\d+)\/(\d+)\]/g)].pop()
    if (pct) lastPct = pct[1] as string
    else if (frac) lastPct = String(Math.floor((100 * Number(frac[1])) / Math.max(1, Number(frac[2]))))
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

/** `opts.source`, else MODEL_FIT_GATE_LLAMA_SOURCE; with the name an error about it should carry. */
export function sourceOption(source: string | undefined, env: NodeJS.ProcessEnv): { dir: string; name: string } | null {
  if (source) return { dir: source, name: '--source' }
  if (env.MODEL_FIT_GATE_LLAMA_SOURCE) return { dir: env.MODEL_FIT_GATE_LLAMA_SOURCE, name: 'MODEL_FIT_GATE_LLAMA_SOURCE' }
  return null
}

/** The local tree's real path and commit; null when none was asked for. */
async function localSource(option: { dir: string; name: string } | null): Promise<{ dir: string; commit: string; fromFile: boolean } | null> {
  if (!option) return null
  const dir = await realpath(resolve(option.dir)).catch(() => {
    throw new InputError(option.name, null, `${option.dir} does not exist`)
  })
  return { dir, ...(await readSourceCommit(dir, option.name)) }
}

/**
 * Builds llama-bench, llama-server, llama-quantize and llama-fit-params from the pinned llama.cpp source (node-llama-cpp's bundled
 * one, or a local tree given by `source` / MODEL_FIT_GATE_LLAMA_SOURCE), cached by commit, backend and cmake flags.
 * Two runs that start at once serialize on a lock; the second finds the first one's build.
 */
export async function setupLlama(
  opts: { dir?: string; log?: (l: string) => void; backend?: string; source?: string; env?: NodeJS.ProcessEnv } = {}
): Promise<LlamaBuild> {
  const env = opts.env ?? process.env
  const log = opts.log ?? ((l: string) => console.error(l))
  const root = join(cacheRoot(opts.dir, env), 'llama.cpp')
  // A local tree is read before anything is built or locked, so a wrong path fails at once (exit 2).
  const local = await localSource(sourceOption(opts.source, env))
  await mkdir(root, { recursive: true })
  const { backend, why } = chooseBackend(await probeBackend(), opts.backend ?? env.MODEL_FIT_GATE_BACKEND)
  const origin: LlamaOrigin = local ? { kind: 'source', commit: local.commit } : { kind: 'node-llama-cpp', version: NODE_LLAMA_CPP_VERSION }
  const flags = [...cmakeFlagsFor(backend, process.arch), ...(local?.fromFile ? commitFileFlags(local.commit) : [])]
  const pointer = pointerPath(root, origin, backend, flags)
  // The bundled source's commit is pinned, a local tree's read from it: both known before anything is fetched.
  const expected: BuildInputs = {
    commit: local ? local.commit : NODE_LLAMA_CPP_COMMIT,
    backend,
    cmake_flags: flags,
    source: local ? local.dir : null,
    node_llama_cpp_version: local ? null : NODE_LLAMA_CPP_VERSION
  }
  const cached = await readBuildInfo(pointer, expected, log)
  if (cached.info) return cached.info

  if (await lockfile.check(root, { stale: LOCK_STALE_MS })) log('setup-llama: another run is building llama.cpp here; waiting for it')
  const release = await lockfile.lock(root, {
    stale: LOCK_STALE_MS,
    update: LOCK_STALE_MS / 4,
    retries: { retries: LOCK_WAIT_RETRIES, minTimeout: 1_000, maxTimeout: 5_000 },
    onCompromised: (err) => log(`setup-llama: lock compromised: ${err.message}`)
  })
  try {
    const again = await readBuildInfo(pointer, expected, log)
    if (again.info) return again.info
    const rebuild = cached.tampered || again.tampered
    log(`setup-llama: backend ${backend} (${why})`)
    let srcDir: string
    let commit: string
    if (local) {
      srcDir = local.dir
      commit = local.commit
      log(`setup-llama: source ${srcDir} at ${commit.slice(0, 12)}${local.fromFile ? ` (from ${COMMIT_FILE})` : ''}`)
    } else {
      srcDir = join(root, `src-node-llama-cpp-${NODE_LLAMA_CPP_VERSION}`)
      commit = await fetchSource(srcDir, log)
    }
    const buildDir = buildDirPath(root, origin, commit, backend, flags)
    // A build that did not match its record is not trusted in part either: objects and all are made again.
    if (rebuild) await rm(buildDir, { recursive: true, force: true })
    const buildEnv = { ...env }
    if (backend === 'cuda' && !buildEnv.CUDACXX && existsSync('/usr/local/cuda/bin/nvcc')) buildEnv.CUDACXX = '/usr/local/cuda/bin/nvcc'
    await cmakeBuild(srcDir, buildDir, flags, buildEnv, log)
    const made = {
      bin_dir: join(buildDir, 'bin'),
      commit,
      backend,
      node_llama_cpp_version: local ? null : NODE_LLAMA_CPP_VERSION,
      source: local ? local.dir : null,
      cmake_flags: flags
    }
    for (const t of BUILT_TOOLS) {
      if (!existsSync(join(made.bin_dir, t))) throw new Error(`setup-llama: ${t} missing in ${made.bin_dir} after the build`)
    }
    const info: LlamaBuild = { ...made, binaries_sha256: await binariesSha256(made.bin_dir) }
    await writeFileAtomic(pointer, stableStringify(info))
    log(`setup-llama: built llama.cpp ${commit.slice(0, 7)} (${backend})`)
    return info
  } finally {
    await release()
  }
}
