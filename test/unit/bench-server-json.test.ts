import { describe, expect, it } from '@jest/globals'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { artifactRelative, modelLogDirName, readLogTail } from '../../src/bench/logs.js'
import { failedObservation, RunFailure, toObservation } from '../../src/bench/observation.js'
import { parseCompletionPayload, ServerResponseError, SseDecoder } from '../../src/bench/server-json.js'

// Recorded from the real llama-server (commit de3ff81) on a tiny synthetic model.
const fixture = (name: string) => readFileSync(join(import.meta.dirname, '..', 'fixtures', 'bench', name), 'utf8')

describe('SseDecoder', () => {
  it('splits a recorded stream into its events, whatever the chunking', () => {
    const text = fixture('server-stream-first-token.txt')
    const whole = new SseDecoder().push(text)
    expect(whole).toHaveLength(2)
    for (const size of [1, 7, 100]) {
      const d = new SseDecoder()
      const events: unknown[] = []
      for (let i = 0; i < text.length; i += size) events.push(...d.push(text.slice(i, i + size)))
      expect(events).toEqual(whole)
      expect(d.rest()).toBe('')
    }
  })

  it('skips pings, [DONE] and CRLF line ends', () => {
    const d = new SseDecoder()
    expect(d.push(': ping\r\n\r\ndata: {"a":1}\r\n\r\ndata: [DONE]\n\n')).toEqual([{ a: 1 }])
  })

  it('keeps an unfinished event for the next chunk', () => {
    const d = new SseDecoder()
    expect(d.push('data: {"a":')).toEqual([])
    expect(d.rest()).toBe('data: {"a":')
    expect(d.push('2}\n\n')).toEqual([{ a: 2 }])
  })

  it('rejects an event that is not JSON', () => {
    expect(() => new SseDecoder().push('data: {oops\n\n')).toThrow(ServerResponseError)
  })
})

describe('parseCompletionPayload', () => {
  it('reads the first token event and the final event of a stream', () => {
    const [first, final] = new SseDecoder().push(fixture('server-stream-first-token.txt'))
    expect(parseCompletionPayload(first, 's')).toMatchObject({ tokensPredicted: 1, stop: false })
    const f = parseCompletionPayload(final, 's')
    expect(f.stop).toBe(true)
    expect(f.tokensPredicted).toBe(2)
    expect(f.timings).toMatchObject({ cacheN: 0, promptN: 10, predictedN: 2 })
  })

  it('sees a held-back first token: the only event carries two tokens', () => {
    const events = new SseDecoder().push(fixture('server-stream-held-token.txt'))
    expect(events).toHaveLength(1)
    expect(parseCompletionPayload(events[0], 's')).toMatchObject({ tokensPredicted: 2, stop: true })
  })

  it('reads cache reuse from the reused request', () => {
    const prime = parseCompletionPayload(JSON.parse(fixture('server-prime-response.json')), 'p')
    expect(prime.timings).toMatchObject({ cacheN: 0, promptN: 64 })
    const reuse = parseCompletionPayload(JSON.parse(fixture('server-reuse-response.json')), 'r')
    expect(reuse.timings).toMatchObject({ cacheN: 64, promptN: 8, predictedN: 8 })
    expect(reuse.timings?.predictedPerSecond).toBeCloseTo(7 / (reuse.timings!.predictedMs / 1000), 6)
  })

  it('turns a server error into an error naming its message', () => {
    expect(() => parseCompletionPayload(JSON.parse(fixture('server-error-response.json')), 'POST /completion')).toThrow(
      'POST /completion: server error: Prompt contains invalid tokens'
    )
  })

  it('requires timings on the final response', () => {
    expect(() => parseCompletionPayload({ tokens_predicted: 3, stop: true }, 'x')).toThrow('x: final response without timings')
    expect(() => parseCompletionPayload({ tokens_predicted: 3, stop: true, timings: { cache_n: 1 } }, 'x')).toThrow(
      'x: timings: prompt_n: expected a number, got undefined'
    )
  })
})

describe('observations', () => {
  const outcome = {
    samples: [10, 30, 11],
    summary: { observed: 10.5, kept: [10, 11], dropped: [30], droppedIndex: 1, spread: 1 / 10.5 },
    breakdown: { ms: 5 },
    warmups: [1],
    stopReason: 'converged' as const,
    error: null
  }

  it('puts the kept samples, the outlier and the median in the observation', () => {
    expect(toObservation('prefill', outcome, ['logs/a.log'])).toEqual({
      scenario: 'prefill',
      unit: 'tok/s',
      observed: 10.5,
      samples: [10, 11],
      dropped_samples: [30],
      spread: 1 / 10.5,
      breakdown: { ms: 5 },
      error: null,
      logs: ['logs/a.log'],
      repeats: 3
    })
  })

  it('turns a runtime failure into an error with the log tail, keeping earlier samples', () => {
    const failed = { ...outcome, samples: [10], stopReason: 'error' as const, error: new RunFailure('llama-bench exited with code 1', ['oom']) }
    expect(toObservation('first_token', failed, [])).toMatchObject({
      unit: 'ms',
      observed: null,
      samples: [10],
      spread: null,
      error: { reason: 'llama-bench exited with code 1', log_tail: ['oom'] },
      repeats: 1
    })
  })

  it('rethrows a bug instead of hiding it as a runtime error', () => {
    const bug = new TypeError('x is undefined')
    expect(() => toObservation('prefill', { ...outcome, stopReason: 'error', error: bug }, [])).toThrow(bug)
  })

  it('describes a scenario that never ran', () => {
    expect(failedObservation('kv_warm_reuse', 'llama-server exited with code 1 before it was ready', ['x'], ['l'])).toMatchObject({
      observed: null,
      repeats: 0,
      samples: [],
      error: { reason: 'llama-server exited with code 1 before it was ready', log_tail: ['x'] }
    })
  })
})

describe('logs', () => {
  it('quotes the last lines of a log, without blank lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-logs-'))
    try {
      const path = join(dir, 'a.log')
      writeFileSync(path, Array.from({ length: 50 }, (_, i) => `line ${i + 1}`).join('\n') + '\n\n')
      expect(await readLogTail(path, 3)).toEqual(['line 48', 'line 49', 'line 50'])
      expect(await readLogTail(join(dir, 'missing.log'))).toEqual([])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('names model folders by file name, told apart by their full path', () => {
    const a = modelLogDirName('/models/a/Qwen3 0.6B-Q4_K_M.gguf')
    expect(a).toMatch(/^Qwen3_0\.6B-Q4_K_M-[0-9a-f]{8}$/)
    expect(modelLogDirName('/models/b/Qwen3 0.6B-Q4_K_M.gguf')).not.toBe(a)
    expect(modelLogDirName('/models/a/Qwen3 0.6B-Q4_K_M.gguf')).toBe(a)
  })

  it('records log paths relative to the artifacts dir with forward slashes', () => {
    expect(artifactRelative('/out', '/out/logs/m/prefill/run-01.log')).toBe('logs/m/prefill/run-01.log')
  })
})
