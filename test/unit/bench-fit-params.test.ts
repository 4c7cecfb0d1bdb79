import { describe, expect, test } from '@jest/globals'
import { fitParamsArgs, parseFitPrint } from '../../src/bench/fit-params.js'
import { defaultWorkload } from '../../src/bench/workload.js'

const MiB = 1024 * 1024

describe("llama-fit-params' projection", () => {
  test('reads one line per device and the host, whole MiB as llama.cpp prints them', () => {
    const text = 'CUDA0 900 64 300 \nCUDA1 880 64 120 \nHost 12 0 8 \n'
    expect(parseFitPrint(text)).toEqual([
      { device: 'CUDA0', model_bytes: 900 * MiB, context_bytes: 64 * MiB, compute_bytes: 300 * MiB },
      { device: 'CUDA1', model_bytes: 880 * MiB, context_bytes: 64 * MiB, compute_bytes: 120 * MiB },
      { device: 'Host', model_bytes: 12 * MiB, context_bytes: 0, compute_bytes: 8 * MiB }
    ])
  })

  test('output without a Host line (a crash, another mode) is an error naming the file', () => {
    expect(() => parseFitPrint('-c 4096 -ngl 99\n', 'fit.txt')).toThrow('fit.txt: no "Host" line in its projection')
  })

  test("passes the workload's own flags, one sequence, and the print mode", () => {
    const w = defaultWorkload({ context_tokens: 8192, flash_attention: true, kv_type: 'q8_0' })
    const args = fitParamsArgs('/m.gguf', w)
    expect(args.slice(0, 4)).toEqual(['-m', '/m.gguf', '-c', '8192'])
    expect(args.join(' ')).toContain('-ctk q8_0 -ctv q8_0 -fa on')
    expect(args.slice(-6)).toEqual(['-np', '1', '--fit-print', 'on', '-v', '--log-jsonl'])
  })
})
