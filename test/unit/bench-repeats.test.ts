import { describe, expect, it } from '@jest/globals'
import {
  checkRepeatPolicy,
  runRepeats,
  stopDecision,
  summarizeSamples,
  type Measurement,
  type RepeatPolicy,
  type RunId
} from '../../src/bench/repeats.js'

const policy = (p: Partial<RepeatPolicy> = {}): RepeatPolicy => ({ min: 3, max: 7, targetSpread: 0.1, budgetSec: 300, warmup: 1, ...p })

/** A measure function that returns the given values in order and advances a fake clock by `secEach` per run. */
function scripted(values: number[], secEach = 1) {
  let now = 0
  const calls: RunId[] = []
  const measure = async (run: RunId): Promise<Measurement> => {
    calls.push(run)
    now += secEach * 1000
    const v = values[calls.length - 1]
    if (v === undefined) throw new Error('asked for more runs than scripted')
    return { value: v, breakdown: { ms: v * 10 } }
  }
  return { measure, calls, nowMs: () => now }
}

describe('summarizeSamples', () => {
  it('keeps steady samples as they are', () => {
    expect(summarizeSamples([100, 104, 98], 0.1)).toEqual({ observed: 100, kept: [100, 104, 98], dropped: [], droppedIndex: null, spread: 0.06 })
  })

  it('drops one outlier when that brings the spread to the target', () => {
    const s = summarizeSamples([100, 60, 102, 101], 0.1)
    expect(s.dropped).toEqual([60])
    expect(s.droppedIndex).toBe(1)
    expect(s.kept).toEqual([100, 102, 101])
    expect(s.observed).toBe(101)
    expect(s.spread).toBeCloseTo(2 / 101, 10)
  })

  it('drops a high outlier as readily as a low one', () => {
    expect(summarizeSamples([50, 51, 90], 0.1).dropped).toEqual([90])
  })

  it('keeps everything when dropping one sample would not be enough', () => {
    const s = summarizeSamples([100, 60, 130, 101], 0.1)
    expect(s.dropped).toEqual([])
    expect(s.kept).toHaveLength(4)
    expect(s.spread).toBeCloseTo(70 / 100.5, 10)
  })

  it('never drops from two samples', () => {
    expect(summarizeSamples([100, 200], 0.1)).toMatchObject({ dropped: [], observed: 150 })
  })
})

describe('stopDecision', () => {
  it('always makes the minimum number of runs', () => {
    expect(stopDecision([100, 100], 1, 1, policy())).toBeNull()
    expect(stopDecision([100, 100], 999, 1, policy())).toBeNull()
  })

  it('stops as soon as the spread is at the target', () => {
    expect(stopDecision([100, 105, 110], 3, 1, policy())).toBe('converged')
    expect(stopDecision([100, 120, 140], 3, 1, policy())).toBeNull()
  })

  it('counts the outlier rule when judging the spread', () => {
    expect(stopDecision([100, 200, 101], 3, 1, policy())).toBe('converged')
  })

  it('stops at the maximum', () => {
    expect(stopDecision([100, 150, 200, 130], 4, 1, policy({ max: 4 }))).toBe('max-repeats')
  })

  it('stops when the next run would overrun the budget', () => {
    expect(stopDecision([100, 150, 200], 50, 9, policy({ budgetSec: 60 }))).toBeNull()
    expect(stopDecision([100, 150, 200], 50, 11, policy({ budgetSec: 60 }))).toBe('budget')
  })
})

describe('runRepeats', () => {
  it('discards the warm-up and stops when the samples agree', async () => {
    const s = scripted([500, 100, 101, 99, 1000])
    const out = await runRepeats(s.measure, policy(), s.nowMs)
    expect(out.warmups).toEqual([500])
    expect(out.samples).toEqual([100, 101, 99])
    expect(out.stopReason).toBe('converged')
    expect(out.summary?.observed).toBe(100)
    expect(s.calls).toEqual([
      { index: 0, warmup: true, number: 1 },
      { index: 1, warmup: false, number: 1 },
      { index: 2, warmup: false, number: 2 },
      { index: 3, warmup: false, number: 3 }
    ])
  })

  it('keeps measuring a noisy scenario until the maximum', async () => {
    const s = scripted([1, 100, 150, 200, 120, 180])
    const out = await runRepeats(s.measure, policy({ max: 5 }), s.nowMs)
    expect(out.samples).toEqual([100, 150, 200, 120, 180])
    expect(out.stopReason).toBe('max-repeats')
    expect(out.summary?.spread).toBeCloseTo(100 / 150, 10)
  })

  it('stops at the minimum when dropping one outlier settles the spread', async () => {
    const s = scripted([1, 100, 130, 101, 102])
    const out = await runRepeats(s.measure, policy(), s.nowMs)
    expect(out.stopReason).toBe('converged')
    expect(out.samples).toEqual([100, 130, 101])
    expect(out.summary).toMatchObject({ kept: [100, 101], dropped: [130], observed: 100.5 })
  })

  it('stops at the time budget, judged by the injected clock', async () => {
    // 10 s per run, 45 s budget: warm-up + 3 runs = 40 s; a 5th run would end at 50 s.
    const s = scripted([1, 100, 150, 200, 120, 180], 10)
    const out = await runRepeats(s.measure, policy({ budgetSec: 45 }), s.nowMs)
    expect(out.samples).toEqual([100, 150, 200])
    expect(out.stopReason).toBe('budget')
  })

  it('takes the breakdown medians from the kept runs only', async () => {
    const s = scripted([1, 100, 60, 102, 101])
    const out = await runRepeats(s.measure, policy({ min: 4 }), s.nowMs)
    expect(out.summary?.dropped).toEqual([60])
    expect(out.breakdown).toEqual({ ms: 1010 })
  })

  it('returns a failure with the samples measured before it instead of throwing', async () => {
    const boom = new Error('llama-bench exited with code 1')
    let n = 0
    const out = await runRepeats(
      async () => {
        if (++n === 3) throw boom
        return { value: 100 }
      },
      policy(),
      () => 0
    )
    expect(out.stopReason).toBe('error')
    expect(out.error).toBe(boom)
    expect(out.samples).toEqual([100])
  })

  it('rejects a measurement that is not a number', async () => {
    const out = await runRepeats(async () => ({ value: Number.NaN }), policy({ warmup: 0 }), () => 0)
    expect(out.stopReason).toBe('error')
    expect(String(out.error)).toContain('not a finite number')
  })
})

describe('checkRepeatPolicy', () => {
  it('rejects impossible policies', () => {
    expect(() => checkRepeatPolicy(policy({ min: 0 }))).toThrow('repeat.min')
    expect(() => checkRepeatPolicy(policy({ min: 4, max: 3 }))).toThrow('repeat.max')
    expect(() => checkRepeatPolicy(policy({ budgetSec: 0 }))).toThrow('repeat.budgetSec')
    expect(() => checkRepeatPolicy(policy({ targetSpread: -1 }))).toThrow('repeat.targetSpread')
    expect(() => checkRepeatPolicy(policy({ warmup: 1.5 }))).toThrow('repeat.warmup')
  })
})
