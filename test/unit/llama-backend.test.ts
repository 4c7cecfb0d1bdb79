import { afterAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chooseBackend, cmakeFlagsFor, NO_AMX_FLAGS } from '../../src/llama/backend.js'
import {
  buildDirPath,
  commitFileFlags,
  flagsHash,
  generatorArgs,
  parseCommitFile,
  pointerPath,
  staleBuildDirReason
} from '../../src/llama/build-plan.js'
import { readSourceCommit, sourceOption } from '../../src/llama/setup.js'

describe('choosing the llama.cpp backend to build', () => {
  it('builds CUDA only when nvcc and an NVIDIA GPU are both present', () => {
    expect(chooseBackend({ platform: 'linux', hasNvcc: true, hasNvidiaGpu: true }).backend).toBe('cuda')
    const noGpu = chooseBackend({ platform: 'linux', hasNvcc: true, hasNvidiaGpu: false })
    expect(noGpu.backend).toBe('cpu')
    expect(noGpu.why).toMatch(/no NVIDIA GPU/)
    expect(chooseBackend({ platform: 'linux', hasNvcc: false, hasNvidiaGpu: true }).backend).toBe('cpu')
  })
  it('builds Metal on macOS', () => {
    expect(chooseBackend({ platform: 'darwin', hasNvcc: false, hasNvidiaGpu: false }).backend).toBe('metal')
  })
  it('honours an explicit backend and refuses an unknown one', () => {
    expect(chooseBackend({ platform: 'linux', hasNvcc: false, hasNvidiaGpu: false }, 'cuda').backend).toBe('cuda')
    expect(() => chooseBackend({ platform: 'linux', hasNvcc: false, hasNvidiaGpu: false }, 'rocm')).toThrow(/unknown backend "rocm"/)
  })
  it('passes the backend switch to cmake and never downloads (no curl, no prebuilt web UI)', () => {
    expect(cmakeFlagsFor('cuda', 'x64')).toEqual(expect.arrayContaining(['-DGGML_CUDA=ON', '-DLLAMA_CURL=OFF', '-DLLAMA_USE_PREBUILT_UI=OFF']))
    expect(cmakeFlagsFor('metal', 'arm64')).toContain('-DGGML_METAL=ON')
    expect(cmakeFlagsFor('cpu', 'x64')).toEqual(expect.arrayContaining(['-DGGML_CUDA=OFF', '-DGGML_METAL=OFF']))
  })
})

describe('no AMX kernels on x86-64', () => {
  it('turns AMX off for C and C++, each flag set one argv element, on every x86-64 backend', () => {
    for (const backend of ['cpu', 'cuda', 'metal'] as const) {
      const flags = cmakeFlagsFor(backend, 'x64')
      expect(flags).toContain('-DCMAKE_C_FLAGS=-mno-amx-tile -mno-amx-int8 -mno-amx-bf16')
      expect(flags).toContain('-DCMAKE_CXX_FLAGS=-mno-amx-tile -mno-amx-int8 -mno-amx-bf16')
    }
    expect(NO_AMX_FLAGS.split(' ')).toEqual(['-mno-amx-tile', '-mno-amx-int8', '-mno-amx-bf16'])
  })
  it('leaves other architectures alone (the flags do not exist there)', () => {
    for (const arch of ['arm64', 'ppc64', 'riscv64']) {
      expect(cmakeFlagsFor('cpu', arch).some((f) => f.includes('amx') || f.startsWith('-DCMAKE_C'))).toBe(false)
    }
  })
})

describe('the build cache key', () => {
  const root = '/c/llama.cpp'
  const npm = { kind: 'node-llama-cpp', version: '3.22.1' } as const
  const commit = 'de3ff815ea7d559ee917f063901b8986f038abc6'

  it('hashes the flags to 8 hex digits, the same for the same flags and different for others', () => {
    const flags = cmakeFlagsFor('cpu', 'x64')
    expect(flagsHash(flags)).toMatch(/^[0-9a-f]{8}$/)
    expect(flagsHash([...flags])).toBe(flagsHash(flags))
    expect(flagsHash(cmakeFlagsFor('cpu', 'arm64'))).not.toBe(flagsHash(flags))
    // Joining must not let two flag lists collide by moving a space between elements.
    expect(flagsHash(['-Da=1 -Db=2'])).not.toBe(flagsHash(['-Da=1', '-Db=2']))
  })
  it('names the pointer and the build dir by the flags, so a build with other flags (the AMX one) is not reused', () => {
    const withoutAmxFlags = cmakeFlagsFor('cpu', 'x64').filter((f) => !f.includes('amx'))
    const p = pointerPath(root, npm, 'cpu', cmakeFlagsFor('cpu', 'x64'))
    expect(p).toMatch(/^\/c\/llama\.cpp\/node-llama-cpp-3\.22\.1-cpu-[0-9a-f]{8}\.json$/)
    expect(p).not.toBe(join(root, 'node-llama-cpp-3.22.1-cpu.json'))
    expect(pointerPath(root, npm, 'cpu', withoutAmxFlags)).not.toBe(p)
    const b = buildDirPath(root, npm, commit, 'cpu', cmakeFlagsFor('cpu', 'x64'))
    expect(b).toBe(join(root, `build-de3ff815ea7d-cpu-${flagsHash(cmakeFlagsFor('cpu', 'x64'))}`))
    expect(buildDirPath(root, npm, commit, 'cpu', withoutAmxFlags)).not.toBe(b)
  })
  it('keeps builds from a local source tree apart from node-llama-cpp builds', () => {
    const flags = cmakeFlagsFor('cuda', 'x64')
    const src = { kind: 'source', commit } as const
    expect(pointerPath(root, src, 'cuda', flags)).toBe(join(root, `source-de3ff815ea7d-cuda-${flagsHash(flags)}.json`))
    expect(buildDirPath(root, src, commit, 'cuda', flags)).toBe(join(root, `build-source-de3ff815ea7d-cuda-${flagsHash(flags)}`))
    expect(buildDirPath(root, src, commit, 'cuda', flags)).not.toBe(buildDirPath(root, npm, commit, 'cuda', flags))
  })
})

describe('building from a local source tree', () => {
  it('reads the commit from the first line of .llama-commit', () => {
    expect(parseCommitFile('DE3FF815ea7d559ee917f063901b8986f038abc6\n', '/s')).toBe(commit40())
    expect(parseCommitFile('de3ff81\r\nanything else', '/s')).toBe('de3ff81')
    expect(() => parseCommitFile('', '/src/llama')).toThrow(/\/src\/llama\/\.llama-commit: expected a git commit/)
    expect(() => parseCommitFile('v1.2.3\n', '/s')).toThrow(/got "v1\.2\.3"/)
  })
  it('tells llama.cpp the commit from the file, as its short hash, since it cannot ask git', () => {
    expect(commitFileFlags(commit40())).toEqual(['-DLLAMA_BUILD_COMMIT=de3ff81', '-DLLAMA_BUILD_NUMBER=0'])
  })
  it('takes --source over MODEL_FIT_GATE_LLAMA_SOURCE, and names where the path came from', () => {
    expect(sourceOption('/a', { MODEL_FIT_GATE_LLAMA_SOURCE: '/b' })).toEqual({ dir: '/a', name: '--source' })
    expect(sourceOption(undefined, { MODEL_FIT_GATE_LLAMA_SOURCE: '/b' })).toEqual({ dir: '/b', name: 'MODEL_FIT_GATE_LLAMA_SOURCE' })
    expect(sourceOption(undefined, { MODEL_FIT_GATE_LLAMA_SOURCE: '' })).toBeNull()
    expect(sourceOption(undefined, {})).toBeNull()
  })

  const tmp = mkdtempSync(join(tmpdir(), 'mfg-llama-src-'))
  afterAll(() => rmSync(tmp, { recursive: true, force: true }))
  const tree = (name: string, files: Record<string, string>): string => {
    const dir = join(tmp, name)
    mkdirSync(dir, { recursive: true })
    for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text)
    return dir
  }
  const git = (dir: string, ...args: string[]): string =>
    execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { encoding: 'utf8' }).trim()

  it('asks git when the tree is a git checkout', async () => {
    const dir = tree('checkout', { 'CMakeLists.txt': '' })
    git(dir, 'init', '-q')
    git(dir, 'add', '-A')
    git(dir, 'commit', '-q', '-m', 'x')
    expect(await readSourceCommit(dir)).toEqual({ commit: git(dir, 'rev-parse', 'HEAD'), fromFile: false })
  })
  it('reads .llama-commit in a plain tree, even one inside some other git repository', async () => {
    const outer = tree('outer', { 'CMakeLists.txt': '' })
    git(outer, 'init', '-q')
    const dir = tree('outer/unpacked', { 'CMakeLists.txt': '', '.llama-commit': `${commit40()}\n` })
    expect(await readSourceCommit(dir)).toEqual({ commit: commit40(), fromFile: true })
  })
  it('refuses a tree with no commit, or no CMakeLists.txt, naming the dir and the flag', async () => {
    const bare = tree('bare', { 'CMakeLists.txt': '' })
    await expect(readSourceCommit(bare)).rejects.toThrow(`--source: ${bare} has no commit: it is not a git checkout and has no .llama-commit file`)
    const empty = tree('empty', {})
    await expect(readSourceCommit(empty, 'MODEL_FIT_GATE_LLAMA_SOURCE')).rejects.toThrow(
      `MODEL_FIT_GATE_LLAMA_SOURCE: ${empty} is not a llama.cpp source tree (no CMakeLists.txt)`
    )
    const bad = tree('bad', { 'CMakeLists.txt': '', '.llama-commit': 'main\n' })
    await expect(readSourceCommit(bad)).rejects.toThrow(/\.llama-commit: expected a git commit/)
  })
})

describe('configuring the build', () => {
  it('asks for Ninja when it is installed, unless the user chose a generator', () => {
    expect(generatorArgs(true, {})).toEqual(['-G', 'Ninja'])
    expect(generatorArgs(false, {})).toEqual([])
    expect(generatorArgs(true, { CMAKE_GENERATOR: 'Unix Makefiles' })).toEqual([])
  })
  it('starts a build dir afresh only when cmake would refuse it (other source dir or generator)', () => {
    const cache = 'CMAKE_GENERATOR:INTERNAL=Unix Makefiles\nCMAKE_HOME_DIRECTORY:INTERNAL=/src/a\n'
    expect(staleBuildDirReason(cache, '/src/a', null)).toBeNull()
    expect(staleBuildDirReason(cache, '/src/a', 'Unix Makefiles')).toBeNull()
    expect(staleBuildDirReason(cache, '/src/b', null)).toMatch(/another source dir \(\/src\/a\)/)
    expect(staleBuildDirReason(cache, '/src/a', 'Ninja')).toMatch(/Unix Makefiles generator/)
    expect(staleBuildDirReason('', '/src/a', 'Ninja')).toBeNull()
  })
})

function commit40(): string {
  return 'de3ff815ea7d559ee917f063901b8986f038abc6'
}
