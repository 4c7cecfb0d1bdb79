// predict(): a model's memory fit and the four scenarios on a machine, from the GGUF profile and the probe's facts.
// Pure and deterministic. The scenario shapes mirror how src/bench measures them (llama-bench for steady_decode and
// prefill, llama-server for first_token and kv_warm_reuse), so each estimate predicts the number that is observed.

import { type HardwareProfile } from '../contracts/hardware.js'
import { type Prediction, type ScenarioPrediction } from '../contracts/prediction.js'
import { type ModelProfile } from '../contracts/profile.js'
import { SCENARIO_IDS, SCENARIO_UNITS, type ScenarioId } from '../contracts/scenarios.js'
import { parallelShape, type Workload } from '../contracts/workload.js'
import { kvCells, llamaUbatch, modelGeometry, slidingCells } from './geometry.js'
import { estimatedMemory, memoryFit } from './memory.js'
import { kvKey, resolveRates } from './rates.js'
import { parallelDecodeEstimate, samplerMs, serverTokenOverheadMs, type DecodeShape, type PrefillShape } from './speed.js'
import { speedLaw, type SplitDecodeEstimate, type SplitPrefillEstimate } from './split-speed.js'

import { factNoise } from './fact-noise.js'

/**
 * Model error on top of the facts' own noise, as a fraction each way: the part of the error the probe's spread
 * cannot show (geometry the probe models do not cover exactly). Kept small so ranges stay informative.
 */
export const MODEL_ERROR_FRACTION = 0.05
/** Tokens the server keeps beyond a request (the slot's last sampled token), as in src/bench. */
const SERVER_SLACK_TOKENS = 1
/** Rows of logits llama-bench and the server compute at the end of a prompt: the last token's. */
const PROMPT_OUTPUT_ROWS = 1

function round(x: number, digits = 4): number {
  if (!Number.isFinite(x) || x === 0) return x
  return Number(x.toPrecision(digits + 2))
}

/** The widest half-range of a time: a profile measured on a very busy machine says "about ×0.5–1.5", no more. */
export const MAX_RANGE_HALF = 0.5

/** ±(spread/2 + model error) around a time, at most ±MAX_RANGE_HALF; a rate's range is the reciprocal. */
function timeRange(ms: number, spread: number): [number, number] {
  const half = Math.min(MAX_RANGE_HALF, spread / 2 + MODEL_ERROR_FRACTION)
  return [ms * (1 - half), ms * (1 + half)]
}

function tokPerSec(name: ScenarioId, msPerToken: number, spread: number, breakdown: Record<string, number>): ScenarioPrediction {
  const [lo, hi] = timeRange(msPerToken, spread)
  return {
    scenario: name,
    unit: SCENARIO_UNITS[name],
    predicted: round(1000 / msPerToken),
    predicted_range: [round(1000 / hi), round(1000 / lo)],
    breakdown: Object.fromEntries(Object.entries(breakdown).map(([k, v]) => [k, round(v)]))
  }
}

function milliseconds(name: ScenarioId, ms: number, spread: number, breakdown: Record<string, number>): ScenarioPrediction {
  const [lo, hi] = timeRange(ms, spread)
  return {
    scenario: name,
    unit: SCENARIO_UNITS[name],
    predicted: round(ms),
    predicted_range: [round(lo), round(hi)],
    breakdown: Object.fromEntries(Object.entries(breakdown).map(([k, v]) => [k, round(v)]))
  }
}

/**
 * The memory fit and the scenario estimates, each estimate with the measured facts whose noise moves it most
 * (fact-noise.ts): a row resting on a fact noisier than the tolerance is inconclusive, not judged.
 */
export function predict(profile: ModelProfile, hardware: HardwareProfile, workload: Workload): Prediction {
  const base = estimate(profile, hardware, workload)
  if (base.scenarios.length === 0) return base
  const noise = factNoise(base, hardware, (hw) => estimate(profile, hw, workload))
  return { ...base, scenarios: base.scenarios.map((s) => (noise.get(s.scenario)?.length ? { ...s, fact_noise: noise.get(s.scenario)! } : s)) }
}

/** An estimate the speed law cannot make for this placement: the scenario is not predicted, with the reason. */
class NotModelled extends Error {}

function estimate(profile: ModelProfile, hardware: HardwareProfile, workload: Workload): Prediction {
  const fit = memoryFit(profile, hardware, workload)
  const memory = estimatedMemory(fit)
  const notPredicted: Prediction['not_predicted'] = {}
  if (fit.status === 'does-not-fit') {
    for (const s of SCENARIO_IDS) notPredicted[s] = `does not fit: ${fit.reason}`
    return { fit, memory, scenarios: [], not_predicted: notPredicted }
  }
  if (!hardware.measured) {
    for (const s of SCENARIO_IDS) notPredicted[s] = 'no speed facts: a memory-only run measures none'
    return { fit, memory, scenarios: [], not_predicted: notPredicted }
  }
  const g = modelGeometry(profile)
  const w = workload
  // Where each layer runs (fit/split-speed.ts): one device → the single-device law; layers on the CPU and GPUs, or
  // on several GPUs → the split law. A placement or an estimate it cannot make is the scenarios' not_predicted.
  const law = speedLaw(profile, hardware, w, g)
  if (!law.law) {
    for (const s of SCENARIO_IDS) notPredicted[s] = law.reason
    return { fit, memory, scenarios: [], not_predicted: notPredicted }
  }
  const L = law.law
  const dec = (s: DecodeShape): SplitDecodeEstimate => {
    const o = L.decode(s)
    if (!o.estimate) throw new NotModelled(o.reason)
    return o.estimate
  }
  const pre = (s: PrefillShape): SplitPrefillEstimate => {
    const o = L.prefill(s)
    if (!o.estimate) throw new NotModelled(o.reason)
    return o.estimate
  }
  const modelled = (ids: ScenarioId[], fn: () => void): void => {
    try {
      fn()
    } catch (err) {
      if (!(err instanceof NotModelled)) throw err
      for (const id of ids) notPredicted[id] = err.message
    }
  }
  // The server's and sampler's costs: the facts of the device that holds the output (the profile's measured).
  const r = resolveRates(hardware)
  const key = kvKey(w.kv_type, w.flash_attention)
  const scenarios: ScenarioPrediction[] = []
  const generates = profile.model_class === 'causal-lm'
  // The sliding layers' window cache at a context (llama.cpp's n_ubatch is at most n_batch and the context).
  const swa = (context: number): number => slidingCells(context, g.slidingWindow, llamaUbatch(w.ubatch, w.batch, context))

  // prefill: llama-bench -p P -d D (context D + P, cells padded): the prompt appended to D cached tokens, logits for
  // the last row.
  const prefillDepth = w.prefill_depth ?? 0
  const prefillContext = prefillDepth + w.prefill_tokens
  modelled(['prefill'], () => {
    const benchPrefill = pre({ startPos: prefillDepth, tokens: w.prefill_tokens, ubatch: w.ubatch, cells: kvCells(prefillContext), slidingCells: swa(prefillContext), outputs: PROMPT_OUTPUT_ROWS, kvKey: key })
    scenarios.push(
      tokPerSec('prefill', benchPrefill.totalMs / w.prefill_tokens, benchPrefill.spread, {
        prefill_ms: benchPrefill.totalMs,
        matmul_ms: benchPrefill.matmulMs,
        attention_ms: benchPrefill.attentionMs,
        output_ms: benchPrefill.outputMs,
        overhead_ms: benchPrefill.overheadMs,
        ...(benchPrefill.stateMs > 0 ? { state_ms: benchPrefill.stateMs } : {}),
      ...(L.split ? { handoff_ms: benchPrefill.handoffMs, bus_ms: benchPrefill.busMs } : {}),
        ...(prefillDepth > 0 ? { depth_tokens: prefillDepth } : {})
      })
    )
  })

  if (!generates) {
    const why = `${profile.model_class} model: llama.cpp does not generate tokens with it`
    notPredicted.steady_decode = why
    notPredicted.first_token = why
    notPredicted.kv_warm_reuse = why
    notPredicted.parallel_decode = why
  } else {
    // steady_decode: llama-bench -n N -d D (context D + N).
    modelled(['steady_decode'], () => {
      const steady = dec({ startPos: w.decode_depth, tokens: w.decode_tokens, cells: kvCells(w.decode_depth + w.decode_tokens), slidingCells: swa(w.decode_depth + w.decode_tokens), kvKey: key, kvType: w.kv_type })
      scenarios.push(
        tokPerSec('steady_decode', steady.totalMs, steady.spread, {
          ms_per_token: steady.totalMs,
          weights_ms: steady.weightsMs,
          attention_ms: steady.attentionMs,
          overhead_ms: steady.overheadMs,
          ...(steady.stateMs > 0 ? { state_ms: steady.stateMs } : {}),
        ...(L.split ? { handoff_ms: steady.handoffMs } : {}),
          depth_tokens: w.decode_depth
        })
      )
    })

    const serverCells = kvCells(w.context_tokens)
    const serverSliding = swa(w.context_tokens)
    const perToken = serverTokenOverheadMs(g, r)
    const sampler = samplerMs(g, r)

    // first_token: the server's prompt_ms (prefill, then sampling the first token) + the client-side rest.
    modelled(['first_token'], () => {
      const ftPrefill = pre({ startPos: 0, tokens: w.first_token_prompt_tokens, ubatch: w.ubatch, cells: serverCells, slidingCells: serverSliding, outputs: PROMPT_OUTPUT_ROWS, kvKey: key })
      const promptMs = ftPrefill.totalMs + r.serverPromptOverheadMs.value + sampler
      const unattributed = r.serverFirstTokenOverheadMs.value
      const firstDecode = dec({ startPos: w.first_token_prompt_tokens, tokens: 1, cells: serverCells, slidingCells: serverSliding, kvKey: key, kvType: w.kv_type })
      const ftTotal = promptMs + unattributed
      const ftSpread = (ftPrefill.spread * ftPrefill.totalMs + r.serverFirstTokenOverheadMs.spread * unattributed + r.serverPromptOverheadMs.spread * r.serverPromptOverheadMs.value) / ftTotal
      scenarios.push(
        milliseconds('first_token', ftTotal, ftSpread, {
          prefill_ms: promptMs,
          unattributed_ms: unattributed,
          // The decode step after the first token, for comparison with the observed first_decode_ms; not part of
          // the total (in this build the first token comes from the prompt's logits).
          first_decode_ms: firstDecode.totalMs + perToken.ms
        })
      )
    })

    // kv_warm_reuse: the reused request's decode rate; its first token comes from the prompt, so the timed steps
    // evaluate positions P+S … P+S+D−2 (D−1 of them).
    modelled(['kv_warm_reuse'], () => {
      const reusePos = w.warm_prefix_tokens + w.warm_suffix_tokens
      const steps = Math.max(1, w.warm_decode_tokens - 1)
      const reuse = dec({ startPos: reusePos, tokens: steps, cells: serverCells, slidingCells: serverSliding, kvKey: key, kvType: w.kv_type })
      const suffix = pre({ startPos: w.warm_prefix_tokens, tokens: w.warm_suffix_tokens, ubatch: w.ubatch, cells: serverCells, slidingCells: serverSliding, outputs: PROMPT_OUTPUT_ROWS, kvKey: key })
      const reuseMs = reuse.totalMs + perToken.ms
      scenarios.push(
        tokPerSec('kv_warm_reuse', reuseMs, (reuse.spread * reuse.totalMs + perToken.spread * perToken.ms) / reuseMs, {
          ms_per_token: reuseMs,
          weights_ms: reuse.weightsMs,
          attention_ms: reuse.attentionMs,
          overhead_ms: reuse.overheadMs,
          server_ms: perToken.ms,
          suffix_prefill_ms: suffix.totalMs + r.serverPromptOverheadMs.value + sampler,
          depth_tokens: reusePos + SERVER_SLACK_TOKENS - 1
        })
      )
    })
    // parallel_decode: N slots of llama-server (-np N, context / N cells each), N streams of a P-token prompt each
    // decoding D tokens; the aggregate rate while all decode together. Each stream's first token comes from its
    // prompt, so the timed steps evaluate positions P … P+D−2. A step samples one token per stream; the server's
    // fixed per-token cost is per step (one loop iteration serves every slot).
    if (L.split) {
      notPredicted.parallel_decode = 'parallel_decode of a model split across devices is not modelled (the split law costs one stream)'
    } else {
      const par = parallelShape(w)
      const slotContext = Math.floor(w.context_tokens / par.slots)
      const parSteps = Math.max(1, par.decodeTokens - 1)
      const step = parallelDecodeEstimate(g, r, { startPos: par.promptTokens, tokens: parSteps, cells: kvCells(slotContext), slidingCells: swa(slotContext), kvKey: key, kvType: w.kv_type }, par.slots)
      const serverStepMs = r.serverDecodeOverheadMs.value + par.slots * sampler
      const stepMs = step.stepMs + serverStepMs
      const perTokenMs = stepMs / par.slots
      const parSpread = (step.spread * step.stepMs + perToken.spread * serverStepMs) / stepMs
      scenarios.push(
        tokPerSec('parallel_decode', perTokenMs, parSpread, {
          step_ms: stepMs,
          streams: par.slots,
          per_stream_tok_s: 1000 / stepMs,
          weights_ms: step.weightsMs,
          attention_ms: step.attentionMs,
          overhead_ms: step.overheadMs,
          ...(step.stateMs > 0 ? { state_ms: step.stateMs } : {}),
          server_ms: serverStepMs
        })
      )
    }
  }
  scenarios.sort((a, b) => SCENARIO_IDS.indexOf(a.scenario) - SCENARIO_IDS.indexOf(b.scenario))
  return { fit, memory, scenarios, not_predicted: notPredicted }
}
