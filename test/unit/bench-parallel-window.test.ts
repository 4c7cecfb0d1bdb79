// parallel_decode's pure parts: the concurrent window and aggregate rate from token arrival times, the requests,
// the server's slots; and the token events a streamed completion reports, against a stand-in server.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { RunFailure } from '../../src/bench/failure.js'
import { measureParallelDecode, PARALLEL_ROUND_ATTEMPTS, parallelRequest } from '../../src/bench/parallel-decode.js'
import { concurrentDecodeWindow, NotConcurrentError } from '../../src/bench/parallel-window.js'
import { streamCompletion, type TokenEvent } from '../../src/bench/server-client.js'
import type { ServerRunContext } from '../../src/bench/server-scenarios.js'
import { serverArgs, type LlamaServer } from '../../src/bench/server.js'
import { defaultWorkload } from '../../src/bench/workload.js'

/** A stream whose first token arrives at `first` and one more every `stepMs`, `count` tokens in all. */
function lockstep(first: number, stepMs: number, count: number): TokenEvent[] {
  return Array.from({ length: count }, (_, i) => ({ atMs: first + i * stepMs, tokens: 1 }))
}

describe('concurrentDecodeWindow', () => {
  it('streams in lockstep: the window spans the shared steps and the rate is N tokens a step', () => {
    // 4 streams, first tokens together at 100 ms, a step every 10 ms, 11 tokens each: 10 steps of 4 tokens in 100 ms.
    const w = concurrentDecodeWindow([0, 1, 2, 3].map(() => lockstep(100, 10, 11)))
    expect(w).toMatchObject({ startMs: 100, endMs: 200, windowMs: 100, tokens: 40, tokensPerStream: [10, 10, 10, 10], startSkewMs: 0 })
    expect(w.aggregateTokPerSec).toBeCloseTo(400, 9)
  })

  it('uneven streams: starts at the latest first token, ends at the earliest last token, counts only what lies between', () => {
    const a = lockstep(0, 10, 21) // 0 … 200
    const b = lockstep(35, 10, 14) // 35 … 165
    const c = lockstep(50, 5, 40) // 50 … 245, twice as fast
    const w = concurrentDecodeWindow([a, b, c])
    expect(w.startMs).toBe(50)
    expect(w.endMs).toBe(165)
    expect(w.startSkewMs).toBe(50)
    // (50, 165]: a at 60…160 → 11; b at 55…165 → 12; c at 55…165 → 23.
    expect(w.tokensPerStream).toEqual([11, 12, 23])
    expect(w.aggregateTokPerSec).toBeCloseTo(46 / 0.115, 9)
  })

  it('a token at the window start was made before it; one at the end, inside it', () => {
    const w = concurrentDecodeWindow([
      [{ atMs: 10, tokens: 1 }, { atMs: 20, tokens: 1 }, { atMs: 30, tokens: 1 }],
      [{ atMs: 20, tokens: 1 }, { atMs: 30, tokens: 1 }, { atMs: 40, tokens: 1 }]
    ])
    expect([w.startMs, w.endMs]).toEqual([20, 30])
    expect(w.tokensPerStream).toEqual([1, 1])
  })

  it('an event that carries several tokens (a held-back UTF-8 token) counts them all', () => {
    const w = concurrentDecodeWindow([
      [{ atMs: 0, tokens: 1 }, { atMs: 10, tokens: 2 }, { atMs: 20, tokens: 1 }],
      lockstep(0, 10, 3)
    ])
    expect(w.tokens).toBe(5)
    expect(w.aggregateTokPerSec).toBeCloseTo(250, 9)
  })

  it('fails when the streams ran one after another (an empty window)', () => {
    const run = () => concurrentDecodeWindow([lockstep(0, 10, 5), lockstep(100, 10, 5)])
    expect(run).toThrow(NotConcurrentError)
    expect(run).toThrow(RunFailure)
    expect(run).toThrow(/the 2 streams did not decode together: .* is empty/)
  })

  it('fails when the window holds no token of some stream, and names it', () => {
    // Overlap (40, 45]: stream 1 has a token at 40 only (the boundary), stream 2 none until 50.
    const run = () => concurrentDecodeWindow([lockstep(0, 5, 10), lockstep(40, 10, 3), lockstep(0, 1, 100)])
    expect(run).toThrow(/is 5\.0 ms long and holds no token of stream 2\b/)
  })

  it('fails for a stream without tokens, and for no streams', () => {
    expect(() => concurrentDecodeWindow([lockstep(0, 10, 5), []])).toThrow('parallel_decode: stream 2 delivered no token')
    expect(() => concurrentDecodeWindow([])).toThrow(RunFailure)
  })

  it('fails for streams of the minimum two tokens in lockstep (the window ends at the first second token)', () => {
    const run = () => concurrentDecodeWindow([lockstep(0, 10, 2), lockstep(1, 10, 2)])
    expect(run).toThrow(/holds no token of stream 2/)
  })
})

describe('parallel_decode requests and server', () => {
  it('each stream: a fresh prompt in its own slot, greedy to the end, no prompt cache', () => {
    expect(parallelRequest([11, 12], 3, 64)).toEqual({
      prompt: [11, 12],
      n_predict: 64,
      cache_prompt: false,
      id_slot: 3,
      samplers: ['top_k'],
      top_k: 1,
      seed: 42,
      ignore_eos: true
    })
  })

  it('the server gets -np N when asked, one slot otherwise', () => {
    const w = defaultWorkload({ threads: 2 })
    const np = (args: string[]) => args[args.indexOf('-np') + 1]
    expect(np(serverArgs('/m/a.gguf', w, 40123))).toBe('1')
    expect(np(serverArgs('/m/a.gguf', w, 40123, 4))).toBe('4')
    expect(() => serverArgs('/m/a.gguf', w, 40123, 0)).toThrow(/slots must be an integer ≥ 1/)
  })
})

describe('streamCompletion token events', () => {
  let server: Server
  let baseUrl: string
  beforeAll(async () => {
    // A stand-in /completion: a begin event without tokens, 1 token, then 2 at once (a held-back token), then the
    // final event (no new tokens), each in its own chunk a few ms apart.
    const events = [
      { tokens_predicted: 0, stop: false },
      { tokens_predicted: 1, stop: false },
      { tokens_predicted: 3, stop: false },
      { tokens_predicted: 3, stop: true, timings: { cache_n: 0, prompt_n: 8, prompt_ms: 1, predicted_n: 3, predicted_ms: 2, predicted_per_second: 1000 } }
    ]
    server = createServer((req, res) => {
      req.resume()
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' })
        let i = 0
        const next = () => {
          if (i === events.length) return void res.end()
          res.write(`data: ${JSON.stringify(events[i++])}\n\n`)
          setTimeout(next, 5)
        }
        next()
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    await new Promise((r) => server.close(r))
  })

  it('records every event that added tokens, on the process clock, after the request was sent', async () => {
    const r = await streamCompletion(baseUrl, { prompt: [1] }, 5000)
    expect(r.tokenEvents.map((e) => e.tokens)).toEqual([1, 2])
    const [first, second] = r.tokenEvents as [TokenEvent, TokenEvent]
    expect(first.atMs).toBeGreaterThan(r.sentAtMs)
    expect(second.atMs).toBeGreaterThan(first.atMs)
    expect(first.atMs - r.sentAtMs).toBeCloseTo(r.firstEventMs, 9)
    expect(r.final.predictedN).toBe(3)
  })
})

describe('measureParallelDecode against a stand-in server', () => {
  let server: Server
  let ctx: ServerRunContext
  /** Whether the stand-in delivers a request's whole stream in one chunk (its streams cannot overlap) or a token
   *  every 5 ms; decided per request number. */
  let burst: (request: number) => boolean
  let requests: Array<Record<string, unknown>>
  const timings = { cache_n: 0, prompt_n: 16, prompt_ms: 3, predicted_n: 8, predicted_ms: 35, predicted_per_second: 200 }

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = ''
      req.on('data', (c: Buffer) => (body += c.toString()))
      req.on('end', () => {
        const n = requests.length
        requests.push(JSON.parse(body) as Record<string, unknown>)
        res.writeHead(200, { 'content-type': 'text/event-stream' })
        const events = Array.from({ length: 8 }, (_, i) => `data: ${JSON.stringify({ tokens_predicted: i + 1, stop: i === 7, ...(i === 7 ? { timings } : {}) })}\n\n`)
        if (burst(n)) {
          // Later streams of the round come later, as from a server that took them one after another.
          setTimeout(() => res.end(events.join('')), 10 * (n % 4))
          return
        }
        let i = 0
        const next = () => {
          if (i === events.length) return void res.end()
          res.write(events[i++])
          setTimeout(next, 5)
        }
        next()
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const fake = { baseUrl, logPath: '/nonexistent/llama-server.log', exited: () => null } as unknown as LlamaServer
    ctx = { server: fake, workload: defaultWorkload({ threads: 1, parallel_slots: 4, parallel_prompt_tokens: 16, parallel_decode_tokens: 8 }), vocabSize: 1024, timeoutSec: 10 }
  })
  afterAll(async () => {
    await new Promise((r) => server.close(r))
  })

  it('sends N concurrent streams, each in its own slot with a prompt of its own, and reports the window', async () => {
    requests = []
    burst = () => false
    const m = await measureParallelDecode(ctx, { index: 0 })
    expect(requests.map((r) => r.id_slot).sort()).toEqual([0, 1, 2, 3])
    expect(requests.every((r) => (r.prompt as number[]).length === 16 && r.n_predict === 8 && r.stream === true)).toBe(true)
    expect(new Set(requests.map((r) => JSON.stringify(r.prompt))).size).toBe(4)
    expect(m.breakdown).toMatchObject({ streams: 4, per_stream_tok_s: 200, per_stream_sum_tok_s: 800, prompt_ms: 3, prompt_tokens: 16, retried_rounds: 0 })
    expect(m.value).toBe(m.breakdown?.aggregate_tok_s)
    expect(m.value).toBeGreaterThan(0)
    expect(m.breakdown?.window_ms).toBeGreaterThan(0)
  })

  it('tries a fresh round when the streams of one did not overlap', async () => {
    requests = []
    burst = (n) => n < 4
    const m = await measureParallelDecode(ctx, { index: 0 })
    expect(requests).toHaveLength(8)
    expect(m.breakdown?.retried_rounds).toBe(1)
    // The second round's prompts are not the first's.
    expect(new Set(requests.map((r) => JSON.stringify(r.prompt))).size).toBe(8)
  })

  it(`fails after ${PARALLEL_ROUND_ATTEMPTS} rounds that never overlapped`, async () => {
    requests = []
    burst = () => true
    await expect(measureParallelDecode(ctx, { index: 0 })).rejects.toThrow(/did not decode together: .*; in each of 3 rounds$/)
    expect(requests).toHaveLength(4 * PARALLEL_ROUND_ATTEMPTS)
  })
})
