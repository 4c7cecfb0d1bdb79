// Pure parts of setup-llama: where a build is cached, which commit a local source tree is at, which cmake generator
// to ask for, and whether an existing build dir can be reused. setup.ts does the I/O around them.

import { createHash } from 'node:crypto'
import { join } from 'node:path'
import type { LlamaBackend } from './backend.js'

/** Hex digits of the flags hash in cache names: enough to tell flag sets apart, short enough to read. */
const FLAGS_HASH_CHARS = 8
const COMMIT_CHARS_IN_NAMES = 12
/** `git rev-parse --short` length, as llama.cpp's own build-info.cmake records the commit. */
const SHORT_COMMIT_CHARS = 7
export const COMMIT_FILE = '.llama-commit'

/** Where the source comes from: the pinned node-llama-cpp's bundled llama.cpp, or a local tree (`--source DIR`). */
export type LlamaOrigin = { kind: 'node-llama-cpp'; version: string } | { kind: 'source'; commit: string }

/** A short hash of the cmake flags: a build made with other flags is another build (and another cache entry). */
export function flagsHash(flags: readonly string[]): string {
  return createHash('sha256').update(flags.join('\n')).digest('hex').slice(0, FLAGS_HASH_CHARS)
}

/**
 * The pointer file naming a finished build. For node-llama-cpp it is known before the source is fetched (npm pack is
 * the slow part); for a local source the commit is read first, so it is part of the name.
 */
export function pointerPath(root: string, origin: LlamaOrigin, backend: LlamaBackend, flags: readonly string[]): string {
  const what = origin.kind === 'node-llama-cpp' ? `node-llama-cpp-${origin.version}` : `source-${origin.commit.slice(0, COMMIT_CHARS_IN_NAMES)}`
  return join(root, `${what}-${backend}-${flagsHash(flags)}.json`)
}

/** The cmake build dir: by commit, backend and flags; builds from a local source tree never share node-llama-cpp's. */
export function buildDirPath(root: string, origin: LlamaOrigin, commit: string, backend: LlamaBackend, flags: readonly string[]): string {
  const prefix = origin.kind === 'source' ? 'build-source-' : 'build-'
  return join(root, `${prefix}${commit.slice(0, COMMIT_CHARS_IN_NAMES)}-${backend}-${flagsHash(flags)}`)
}

/** The commit in DIR/.llama-commit (its first line: 7 to 40 hex digits); `dir` only names the tree in the error. */
export function parseCommitFile(text: string, dir: string): string {
  const line = (text.split(/\r?\n/)[0] ?? '').trim()
  if (!/^[0-9a-f]{7,40}$/i.test(line)) {
    throw new Error(`${join(dir, COMMIT_FILE)}: expected a git commit (7 to 40 hex digits) on its first line, got "${line.slice(0, 60)}"`)
  }
  return line.toLowerCase()
}

/**
 * A source tree that is not a git checkout cannot tell llama.cpp's build-info.cmake its commit (it would print
 * "unknown", or the commit of a git repository the tree happens to sit in): pass the commit from .llama-commit.
 */
export function commitFileFlags(commit: string): string[] {
  return [`-DLLAMA_BUILD_COMMIT=${commit.slice(0, SHORT_COMMIT_CHARS)}`, '-DLLAMA_BUILD_NUMBER=0']
}

/** Ninja when it is installed and the user has not chosen a generator (CMAKE_GENERATOR); else cmake's default. */
export function generatorArgs(hasNinja: boolean, env: NodeJS.ProcessEnv): string[] {
  if (env.CMAKE_GENERATOR) return []
  return hasNinja ? ['-G', 'Ninja'] : []
}

/**
 * Why an existing build dir cannot be configured again (cmake refuses another source dir or generator), or null
 * when it can. `cacheText` is its CMakeCache.txt; `generator` the one asked for with -G, if any.
 */
export function staleBuildDirReason(cacheText: string, srcDir: string, generator: string | null): string | null {
  const value = (key: string): string | null => {
    const m = new RegExp(`^${key}:[A-Z]+=(.*)$`, 'm').exec(cacheText)
    return m ? (m[1] as string).trim() : null
  }
  const home = value('CMAKE_HOME_DIRECTORY')
  if (home !== null && home !== srcDir) return `it was configured for another source dir (${home})`
  const cachedGenerator = value('CMAKE_GENERATOR')
  if (generator && cachedGenerator !== null && cachedGenerator !== generator) return `it was configured with the ${cachedGenerator} generator`
  return null
}
