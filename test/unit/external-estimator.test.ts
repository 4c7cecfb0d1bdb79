import { describe, expect, it } from '@jest/globals'
import { parseEstimatorOutput } from '../../src/pipeline/external-estimator.js'

describe("an external estimator's output", () => {
  it('is read when it follows the published schema', () => {
    const out = parseEstimatorOutput(
      JSON.stringify({ predictions: [{ ref: 'a', scenario: 'prefill', predicted: 120, predicted_range: [100, 140] }] }),
      'est'
    )
    expect(out).toEqual({ predictions: [{ ref: 'a', scenario: 'prefill', predicted: 120, predicted_range: [100, 140] }] })
  })
  it('reads memory estimates, and refuses one that is not bytes or not a fit verdict, naming the path', () => {
    const memory = { ref: 'a', status: 'fits', weights_bytes: 1e9, context_bytes: 2e8, compute_bytes: 3e8, devices: [{ device: 'CUDA0', weights_bytes: 1e9, context_bytes: 2e8, compute_bytes: 3e8 }] }
    expect(parseEstimatorOutput(JSON.stringify({ predictions: [], memory: [memory] }), 'est').memory).toEqual([memory])
    expect(() => parseEstimatorOutput(JSON.stringify({ predictions: [], memory: [{ ...memory, context_bytes: -1 }] }), 'est')).toThrow(/\$\.memory\[0\]\.context_bytes: must be >= 0/)
    expect(() => parseEstimatorOutput(JSON.stringify({ predictions: [], memory: [{ ...memory, status: 'maybe' }] }), 'est')).toThrow(/\$\.memory\[0\]\.status/)
  })
  it('is refused with the JSON path of the offending value', () => {
    const bad = (v: unknown) => () => parseEstimatorOutput(JSON.stringify(v), 'est --x')
    expect(bad({ predictions: [{ ref: 'a', scenario: 'prefill', predicted: 'fast' }] })).toThrow(/est --x: \$\.predictions\[0\]\.predicted: must be number/)
    expect(bad({ predictions: [{ ref: 'a', scenario: 'decode', predicted: 3 }] })).toThrow(/\$\.predictions\[0\]\.scenario/)
    expect(bad({ preds: [] })).toThrow(/\$: must have required property 'predictions'/)
    expect(bad({ predictions: [{ ref: 'a', scenario: 'prefill', predicted: 3, predicted_range: [4, 5] }] })).toThrow(/\$\.predictions\[0\]\.predicted_range: must contain predicted/)
    expect(() => parseEstimatorOutput('not json', 'est')).toThrow(/est: stdout: not JSON/)
  })
})
