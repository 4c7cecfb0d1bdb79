// parallel_decode's law (fit/speed.ts parallelDecodeEstimate) on the recorded run's models and hardware: one stream
// is the single decode; more streams cost their products at the in-cache rate once that passes the memory stream;
// a MoE model's streams read more experts.
import { describe, expect, test } from '@jest/globals'
import { decodeEstimate, parallelDecodeEstimate, weightStreamMs, type DecodeShape } from '../../src/fit/speed.js'
import { kvCells, modelGeometry } from '../../src/fit/geometry.js'
import { resolveRates } from '../../src/fit/rates.js'
import { recorded } from '../helpers/recorded-run.js'

const r = resolveRates(recorded.hardware)
const shape: DecodeShape = { startPos: 64, tokens: 63, cells: kvCells(1024), kvKey: 'f16', kvType: 'f16' }
const dense = modelGeometry(recorded.models[0]!.profile)

describe('parallelDecodeEstimate', () => {
  test('one stream is the single decode step', () => {
    const one = parallelDecodeEstimate(dense, r, shape, 1)
    const single = decodeEstimate(dense, r, shape)
    expect(one.stepMs).toBeCloseTo(single.totalMs - single.stateMs + one.stateMs, 9)
    expect(one.attentionMs).toBeCloseTo(single.attentionMs, 12)
  })

  test('N streams: attention N times, the overhead once, the weights the slower of one memory stream and N in-cache passes', () => {
    const n = 8
    const par = parallelDecodeEstimate(dense, r, shape, n)
    const single = decodeEstimate(dense, r, shape)
    expect(par.attentionMs).toBeCloseTo(n * single.attentionMs, 9)
    expect(par.overheadMs).toBeCloseTo(single.overheadMs, 12)
    const inCache = Object.entries(dense.active_bytes_by_type).reduce((s, [t, b]) => s + (n * b * 1e3) / r.cachedBandwidth(t).value, 0)
    expect(par.weightsMs).toBeCloseTo(Math.max(weightStreamMs(dense, r).ms, inCache), 9)
    // More streams never make a step cheaper, and the aggregate grows less than linearly once compute-bound.
    expect(par.stepMs).toBeGreaterThan(parallelDecodeEstimate(dense, r, shape, 2).stepMs)
  })

  test("a MoE model's streams route to more experts: the step reads more bytes than one token's active experts", () => {
    const moe = modelGeometry({ ...recorded.models[0]!.profile })
    const asMoe = { ...moe, expert_count: 8, expert_used_count: 2, expertParamShare: 0.6 }
    const dense4 = parallelDecodeEstimate({ ...asMoe, expert_count: 0, expert_used_count: 0 }, r, shape, 4)
    const moe4 = parallelDecodeEstimate(asMoe, r, shape, 4)
    const stream = weightStreamMs(asMoe, r).ms
    // 4 streams × 2 used of 8 experts: all 8 read, 4× one token's expert bytes.
    expect(Math.max(moe4.weightsMs, stream * (0.4 + 0.6 * 4))).toBeCloseTo(moe4.weightsMs, 9)
    expect(moe4.weightsMs).toBeGreaterThanOrEqual(dense4.weightsMs)
  })
})
