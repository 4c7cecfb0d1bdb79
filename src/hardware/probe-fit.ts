// From probe timings to the measured facts. Pure: observations and the probe models' profiles in, facts out.
//
// Order matters, because each fact is the remainder after the terms already known are taken away:
//   1. attention at depth (decode and prefill): differences between two depths of the same model cancel all else;
//   2. fixed and per-layer overhead: two models that differ only in layer count;
//   3. per-type streaming rate and per-row cost (two widths, same bytes), in-cache rates (probe-fit-decode.ts);
//   4. prefill rate per type: what remains of a 512-token ubatch after attention, output row and overhead;
//   5. MoE routing overhead and expert-matmul efficiency: what a MoE model costs beyond the dense law;
//   6. server overheads: server timings minus llama-bench timings of the same model and positions;
//   7. the recurrent scan: what remains of the Mamba-2 model's prefill after its matmuls, output row and overhead.
// Each value is solved from the median of every series, its samples from each round alone (probe-obs.ts).

import { kvCells } from '../fit/geometry.js'
import { kvKey, ratesFromFacts } from '../fit/rates.js'
import { decodeEstimate, prefillEstimate, prefillKeptTokens } from '../fit/speed.js'
import type { MeasuredFact } from '../contracts/hardware.js'
import { factWithValue, makeFact, nonNegativeLeastSquares } from './facts.js'
import { fitDecode, fitKvDepth, fitPrefillAttention } from './probe-fit-decode.js'
import { AGGREGATE, at, geometryOf, MS_PER_S, NS_PER_MS, remainder, roundsOf, solveRounds, type Measured, type ProbeObservations, type ProbeProfiles } from './probe-obs.js'

export type { DepthPair, ProbeObservations, ProbeProfiles, ServerObservation } from './probe-obs.js'

export interface FitContext {
  kvType: string
  flashAttention: boolean
  cacheBytes: number
}

/**
 * The facts before the fit: F16's raw decode rate (its bytes over the whole step, overhead included: a measured lower
 * bound that the fit replaces) seeds the bandwidth; the prefill rate is set by step 4 or the fit fails.
 */
function emptyMeasured(seed: MeasuredFact): Measured {
  return {
    decode_bandwidth_bytes_per_sec: seed,
    decode_bandwidth_by_type: { F16: seed },
    decode_cached_bandwidth_bytes_per_sec: null,
    decode_cached_bandwidth_by_type: {},
    prefill_flops_per_sec: seed,
    prefill_flops_by_type: {},
    fixed_decode_ms: null,
    per_layer_decode_ms: null,
    decode_ns_per_row_by_type: {},
    kv_depth_ms_per_token_per_layer: {},
    kv_depth_coefficients: {},
    prefill_depth_ms_per_token_per_layer: null,
    prefill_attention_coefficients: null,
    moe_decode_extra_per_layer_ms: null,
    moe_prefill_efficiency_by_type: {},
    ssm_scan_ns_per_state_element_token: null,
    server_decode_overhead_ms: null,
    server_sampler_ns_per_vocab_entry: null,
    server_prompt_overhead_ms: null,
    server_first_token_overhead_ms: null
  }
}

/**
 * A two-term law (ns) evaluated at one geometry, in ms: x·a + y·b for the value and for every round's samples (a law's
 * two coefficients are solved together per round, so their samples pair up by index).
 */
function lawAt([x, a]: [number, MeasuredFact], [y, b]: [number, MeasuredFact], unit: string): MeasuredFact {
  const rounds = Math.min(a.samples.length, b.samples.length)
  const samples = Array.from({ length: rounds }, (_, i) => (x * (a.samples[i] as number) + y * (b.samples[i] as number)) / NS_PER_MS)
  return factWithValue((x * a.value + y * b.value) / NS_PER_MS, samples, unit)
}

/** The per-row split is kept only if rows explain at most this share of the narrow model's matmul time. */
const MAX_ROW_SHARE = 0.5

/** All facts from the observations. `profiles` maps probe model ids (probe-models.ts) to their profiles. */
export function fitProbeFacts(obs: ProbeObservations, profiles: ProbeProfiles, ctx: FitContext): Measured {
  const geo = geometryOf(profiles)
  const key = kvKey(ctx.kvType, ctx.flashAttention)
  // The seed is F16's raw rate, else the first measured type's (a failed bw-F16 costs its own facts only).
  const seedType = ['F16', ...Object.keys(obs.bandwidth).sort()].find((t) => (obs.bandwidth[t]?.length ?? 0) > 0)
  if (!seedType) throw new Error('probe fit: no decode bandwidth was measured (every bw-<type> probe model failed)')
  const measured = emptyMeasured(makeFact([(geo(`bw-${seedType}`).active_bytes_per_token / at(obs.bandwidth[seedType]!, AGGREGATE)) * MS_PER_S], 'B/s'))
  if (seedType !== 'F16') measured.decode_bandwidth_by_type = { [seedType]: measured.decode_bandwidth_bytes_per_sec }

  // 1. Attention at depth (absent when a kv probe model failed: its observations are dropped).
  const kvMeasured = Object.keys(obs.kv_decode).length > 0 || obs.kv_prefill !== null
  const ga = kvMeasured ? geo('kv-a') : null
  const gb = kvMeasured ? geo('kv-b') : null
  for (const [k, pairs] of ga && gb ? Object.entries(obs.kv_decode) : []) {
    const kvType = k.replace('+fa', '')
    const c = fitKvDepth(pairs, ga!, gb!, kvType)
    if (!c) continue
    measured.kv_depth_coefficients![k] = c
    // For people: ms per position per layer of the first geometry under this law, with its per-round noise.
    measured.kv_depth_ms_per_token_per_layer[k] = lawAt(
      [ga!.queryElements, c.ns_per_query_element_token],
      [ga!.kvBytesPerPositionPerLayer(kvType), c.ns_per_kv_byte_token],
      'ms/(position·layer), probe geometry kv-a'
    )
  }
  for (const [k, pairs] of ga && gb ? Object.entries(obs.kv_prefill_by_key ?? {}) : []) {
    const pa = fitPrefillAttention(pairs, ga!, gb!)
    if (pa) (measured.prefill_attention_by_kv ??= {})[k] = pa
  }
  if (obs.kv_prefill && ga && gb) {
    const pa = fitPrefillAttention(obs.kv_prefill, ga, gb)
    measured.prefill_attention_coefficients = pa
    if (pa) {
      measured.prefill_depth_ms_per_token_per_layer = lawAt(
        [ga.heads, pa.ns_per_head_token_position],
        [ga.queryElements, pa.ns_per_query_element_token_position],
        'ms/(token·position·layer), probe geometry kv-a'
      )
    }
  }

  // 2–3. Overhead, streaming rates, row costs, in-cache rates.
  fitDecode(obs, geo, measured, { kvKey: key, kvType: ctx.kvType, cacheBytes: ctx.cacheBytes })
  const decodeShape = { startPos: 0, tokens: obs.decode_tokens, cells: kvCells(obs.decode_tokens), kvKey: key, kvType: ctx.kvType }
  const prefillShape = { startPos: 0, tokens: obs.prefill_tokens, ubatch: obs.prefill_tokens, cells: kvCells(obs.prefill_tokens), outputs: 1 }

  // 4. Prefill per type: of a 512-token ubatch, what remains after attention, output row and overhead is the
  // matmuls' time = FLOPs / rate + rows × tokens × row cost; the narrow and the wide model give both unknowns.
  const rDecode = ratesFromFacts(measured, ctx.cacheBytes)
  const rowCosts: Record<string, MeasuredFact> = {}
  for (const [type, series] of Object.entries(obs.prefill)) {
    const models = [{ g: geo(`pf-${type}`), series }]
    const wide = obs.prefill_wide?.[type]
    if (wide && profiles[`pfw-${type}`]) models.push({ g: geo(`pfw-${type}`), series: wide })
    const terms = models.map(({ g, series: ms }) => {
      const est = prefillEstimate(g, rDecode, prefillShape)
      // The same counts as the estimate's (speed.ts): FLOPs and dot products of the body, with one output row.
      const keep = prefillKeptTokens(g, obs.prefill_tokens, 1, g.ffnParamShare)
      const keepRows = prefillKeptTokens(g, obs.prefill_tokens, 1, g.ffnRowShare)
      const bodyRows = g.matrixRowsPerToken - (g.outputParams > 0 ? g.vocab_size : 0)
      return { ms, rest: est.attentionMs + est.outputMs + est.overheadMs, flops: 2 * Object.values(g.bodyParamsByType).reduce((a, b) => a + b, 0) * keep, rowTokens: bodyRows * keepRows }
    })
    const sol = solveRounds(roundsOf(...terms.map((t) => t.ms)), (i) => {
      const y = terms.map((t) => remainder(at(t.ms, i) * obs.prefill_tokens, t.rest))
      const plain = [Math.max(1e-18, (y[0] as number) / terms[0]!.flops), 0]
      if (terms.length < 2) return plain
      const split = nonNegativeLeastSquares(terms.map((t) => [t.flops, t.rowTokens]), y)
      const plausible = split && (split[0] as number) > 0 && (split[1] as number) * terms[0]!.rowTokens <= MAX_ROW_SHARE * (y[0] as number)
      return plausible ? split : plain
    })
    if (!sol.value) continue
    const rate = (x: number[]) => MS_PER_S / (x[0] as number)
    measured.prefill_flops_by_type[type] = factWithValue(rate(sol.value), sol.samples.map(rate), 'FLOP/s')
    rowCosts[type] = factWithValue((sol.value[1] as number) * NS_PER_MS, sol.samples.map((x) => (x[1] as number) * NS_PER_MS), 'ns/(row·token)')
  }
  measured.prefill_ns_per_row_token_by_type = rowCosts
  const bestPrefill = Object.values(measured.prefill_flops_by_type).sort((x, y) => y.value - x.value)[0]
  // No stand-in figure may reach hardware.json: without one solved prefill rate there is no profile.
  if (!bestPrefill) throw new Error('probe fit: no prefill rate could be solved (every pf-<type> probe model failed or gave no usable time)')
  measured.prefill_flops_per_sec = bestPrefill

  // 5. MoE: decode beyond the dense law per layer (F16 model); per type, the expert matmuls' prefill rate relative
  // to the dense rate, from what remains after attention, output row, overhead and the dense matmuls.
  if (obs.moe) {
    // The MoE facts are not set yet: r is the dense law.
    const r = ratesFromFacts(measured, ctx.cacheBytes)
    if (profiles['moe-F16'] && obs.moe.decode_ms.length > 0) {
      const g = geo('moe-F16')
      const dense = decodeEstimate(g, r, decodeShape).totalMs
      const sol = solveRounds(obs.moe.decode_ms.length, (i) => Math.max(0, (at(obs.moe!.decode_ms, i) - dense) / g.layers))
      if (sol.value !== null) measured.moe_decode_extra_per_layer_ms = factWithValue(sol.value, sol.samples, 'ms/layer')
    }
    const eff: Record<string, MeasuredFact> = {}
    for (const [type, series] of Object.entries(obs.moe.prefill_ms_by_type)) {
      const g = geo(`moe-${type}`)
      const pre = prefillEstimate(g, r, prefillShape)
      const rest = pre.attentionMs + pre.outputMs + pre.overheadMs
      const denseMs = pre.matmulMs * (1 - g.expertParamShare)
      const expertAtDenseRateMs = pre.matmulMs * g.expertParamShare
      const sol = solveRounds(series.length, (i) => {
        const expertMs = remainder(at(series, i) * obs.prefill_tokens, rest + denseMs)
        return Math.min(1, expertAtDenseRateMs / expertMs)
      })
      if (sol.value !== null) eff[type] = factWithValue(sol.value, sol.samples, 'ratio to the dense rate')
    }
    measured.moe_prefill_efficiency_by_type = eff
  }

  // 6. Server overheads: per model, server minus llama-bench; the vocabulary term from the two vocabularies.
  if (obs.server.length > 0) {
    const rounds = Math.min(...obs.server.map((s) => roundsOf(s.server_decode_ms, s.bench_decode_ms)))
    const sol = solveRounds(rounds, (i) =>
      nonNegativeLeastSquares(
        obs.server.map((s) => [1, s.vocab]),
        obs.server.map((s) => at(s.server_decode_ms, i) - at(s.bench_decode_ms, i))
      )
    )
    if (sol.value) {
      measured.server_decode_overhead_ms = factWithValue(sol.value[0] as number, sol.samples.map((s) => s[0] as number), 'ms/token')
      const nsPerEntry = (sol.value[1] as number) * NS_PER_MS
      measured.server_sampler_ns_per_vocab_entry = factWithValue(nsPerEntry, sol.samples.map((s) => (s[1] as number) * NS_PER_MS), 'ns/(vocab entry·token)')
      const promptRounds = Math.min(...obs.server.map((s) => roundsOf(s.server_prompt_ms, s.bench_prompt_ms)))
      const prompt = solveRounds(promptRounds, (i) => {
        const extra = obs.server.map((s) => at(s.server_prompt_ms, i) - at(s.bench_prompt_ms, i) - (s.vocab * nsPerEntry) / NS_PER_MS)
        return Math.max(0, extra.reduce((a, b) => a + b, 0) / extra.length)
      })
      if (prompt.value !== null) measured.server_prompt_overhead_ms = factWithValue(prompt.value, prompt.samples, 'ms')
    }
    const unattributed = obs.server.flatMap((s) => s.unattributed_ms).map((x) => Math.max(0, x))
    if (unattributed.length > 0) measured.server_first_token_overhead_ms = makeFact(unattributed, 'ms')
  }

  // 7. The recurrent scan, per state element and prompt token: the Mamba-2 model's prefill less everything the law
  // already costs (its matmuls at F16's rate, output row, overhead), over its state elements.
  const ssm = obs.ssm
  if (ssm && ssm.prefill_ms.length > 0 && profiles['ssm-F16']) {
    const g = geo('ssm-F16')
    const pre = prefillEstimate(g, ratesFromFacts(measured, ctx.cacheBytes), prefillShape)
    const known = pre.totalMs - pre.stateMs
    const elements = g.recurrentStateElements
    const sol = elements > 0 ? solveRounds(ssm.prefill_ms.length, (i) => (remainder(at(ssm.prefill_ms, i) * obs.prefill_tokens, known) * NS_PER_MS) / (obs.prefill_tokens * elements)) : null
    if (sol && sol.value !== null) measured.ssm_scan_ns_per_state_element_token = factWithValue(sol.value, sol.samples, 'ns/(state element·token)')
  }
  return measured
}
