import { mkdtempSync, readFileSync, symlinkSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execa } from 'execa'
import { beforeAll, describe, expect, it } from '@jest/globals'
import { llamaBinDir } from '../helpers/llama.js'
import { syntheticModel } from '../helpers/synthetic.js'
import { makeHardware } from '../helpers/report-fixture.js'
import { validateReport } from '../../src/report/index.js'
import { serializeHardwareProfile } from '../../src/hardware/index.js'
import type { Report } from '../../src/contracts/report.js'

// A broken model costs its own rows, never the run: one model whose llama-bench hangs, one whose real llama-server
// is killed in the middle of its first_token scenario, one healthy model. The run must finish, mark exactly those rows
// runtime-error, fail the gate, write the report, and leave no llama.cpp process behind.
const TIMEOUT_MS = 10 * 60_000
const RUN_TIMEOUT_SEC = 20

async function processesMentioning(needle: string): Promise<string[]> {
  const { stdout } = await execa('ps', ['-eo', 'pid,pgid,stat,args'])
  return String(stdout)
    .split('\n')
    .filter((l) => l.includes(needle) && !l.includes('ps -eo'))
}

describe('faults during a gate run', () => {
  let work: string
  let result: { exitCode?: number; stderr: string }
  let report: Report
  const marker = String(800_000 + Math.floor(Math.random() * 99_999))

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'mfg-faults-'))
    const real = llamaBinDir()
    const model = await syntheticModel({
      architecture: 'llama',
      layers: 2,
      embeddingLength: 256,
      feedForwardLength: 512,
      heads: 4,
      kvHeads: 4,
      vocabSize: 1024,
      contextLength: 2048,
      seed: 7
    })
    for (const name of ['healthy', 'hangs', 'dies']) symlinkSync(model, join(work, `${name}.gguf`))
    // llama-bench hangs (with a child) for the model named "hangs"; everything else is the real binary.
    const bin = join(work, 'bin')
    mkdirSync(bin)
    writeFileSync(
      join(bin, 'llama-bench'),
      `#!/bin/sh\ncase "$*" in *hangs.gguf*) sleep ${marker} & sleep ${marker} ;; *) exec "${real}/llama-bench" "$@" ;; esac\n`
    )
    writeFileSync(join(bin, 'llama-server'), `#!/bin/sh\nexec "${real}/llama-server" "$@"\n`)
    writeFileSync(join(bin, 'llama-quantize'), `#!/bin/sh\nexec "${real}/llama-quantize" "$@"\n`)
    for (const t of ['llama-bench', 'llama-server', 'llama-quantize']) chmodSync(join(bin, t), 0o755)
    writeFileSync(join(work, 'hardware.json'), serializeHardwareProfile(makeHardware('test CPU')))
    writeFileSync(join(work, 'models.txt'), ['# faults', 'ref=healthy,path=healthy.gguf', 'ref=hangs,path=hangs.gguf', 'ref=dies,path=dies.gguf'].join('\n'))

    const child = execa(
      'node',
      [
        'dist/cli.js', 'validate',
        '--models-file', join(work, 'models.txt'),
        '--hardware', join(work, 'hardware.json'),
        '--scenarios', 'steady_decode,first_token',
        '--run-timeout', String(RUN_TIMEOUT_SEC),
        '--llama-bin', bin,
        '--out', join(work, 'out', 'report.json')
      ],
      { reject: false, timeout: TIMEOUT_MS, env: { ...process.env, MODEL_FIT_GATE_CACHE: join(work, 'cache') } }
    )
    // From the moment the "dies" model starts, every llama-server of it is killed as soon as it appears: its
    // first_token scenario (the only one of its two that starts a server) crashes mid-scenario on any machine. (Killing
    // once its warm-up was logged lost the race on a busy CI host: the tiny model's scenario ended first.)
    let stderr = ''
    let polling: ReturnType<typeof setInterval> | null = null
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += String(chunk)
      if (!polling && stderr.includes('── dies')) {
        polling = setInterval(() => void execa('pkill', ['-KILL', '-f', `llama-server.*${work}/dies.gguf`], { reject: false }), 25)
      }
    })
    const r = await child
    if (polling) clearInterval(polling)
    result = { exitCode: r.exitCode, stderr }
    const path = join(work, 'out', 'report.json')
    report = validateReport(JSON.parse(readFileSync(path, 'utf8')), path) as Report
  }, TIMEOUT_MS)

  it('finishes, fails the gate with exit 1 and still writes the report', () => {
    expect(result.exitCode).toBe(1)
    expect(report.gate.passed).toBe(false)
    expect(report.gate.failures.some((f) => f.limit === 'max_runtime_errors')).toBe(true)
  })

  it('marks the hung llama-bench and the killed server as runtime-error rows with their reasons', () => {
    const row = (ref: string, scenario: string) => report.models.find((m) => m.ref === ref)?.scenarios.find((s) => s.scenario === scenario)
    expect(row('hangs', 'steady_decode')).toMatchObject({ verdict: 'runtime-error', detail: { reason: expect.stringMatching(/timed out after 20 s/) } })
    expect(row('dies', 'first_token')).toMatchObject({ verdict: 'runtime-error', detail: { reason: expect.stringMatching(/llama-server/) } })
    // The healthy model and the other rows were still measured by real llama.cpp.
    for (const [ref, scenario] of [['healthy', 'steady_decode'], ['healthy', 'first_token'], ['hangs', 'first_token'], ['dies', 'steady_decode']]) {
      const r = row(ref as string, scenario as string)
      expect(r?.verdict).not.toBe('runtime-error')
      expect(r?.samples.length).toBeGreaterThan(0)
    }
  })

  it('leaves no llama.cpp process and no hung child behind', async () => {
    expect(await processesMentioning(`sleep ${marker}`)).toEqual([])
    expect(await processesMentioning(work)).toEqual([])
  })
})
