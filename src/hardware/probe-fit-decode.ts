// Steps 1–3 of the probe fit (probe-fit.ts): attention at depth, decode overhead, per-type streaming rate and per-row
// cost, in-cache rates. Pure.

import { ratesFromFacts } from '../fit/rates.js'
import { kvCells, type ModelGeometry } from '../fit/geometry.js'
import { decodeEstimate } from '../fit/speed.js'
import type { KvDepthCoefficients, MeasuredFact } from '../contracts/hardware.js'
import { factWithValue, nonNegativeLeastSquares } from './facts.js'
import {
  at,
  meanDecodePositions,
  MS_PER_S,
  NS_PER_MS,
  prefillPositions,
  remainder,
  roundsOf,
  solveRounds,
  type DepthPair,
  type Measured,
  type ProbeObservations
} from './probe-obs.js'

/**
 * The per-row split of a type is kept only if the rows explain at most this share of the wide model's weight time;
 * beyond it the two probes disagree more than any row cost can explain (a disturbed run) and the type falls back to
 * a plain streaming rate measured on the wide model.
 */
const MAX_ROW_SHARE_OF_WIDE = 0.5

function fact2(sol: { value: number[] | null; samples: number[][] }, index: number, unit: string, scale = 1): MeasuredFact | null {
  if (!sol.value) return null
  return factWithValue((sol.value[index] as number) * scale, sol.samples.map((s) => (s[index] as number) * scale), unit)
}

/** Δms / (layers × Δpositions) of a pair at a round, ns: the attention cost per attended position per layer. */
function slopeNs(p: DepthPair, g: ModelGeometry, round: number, positions: (depth: number, tokens: number) => number): number {
  const dPos = positions(p.deep_depth, p.tokens) - positions(p.shallow_depth, p.tokens)
  return ((at(p.deep_ms, round) - at(p.shallow_ms, round)) * NS_PER_MS) / (g.attentionLayers * dPos)
}

/**
 * An attention law from the depth pairs of two geometries: the slope per attended position per layer (ns) is
 * x·c₁ + y·c₂ with (x, y) = `columns(g)`, solved non-negative per round. Null when either coefficient is missing.
 */
function fitDepthLaw(
  pairs: { a: DepthPair; b: DepthPair },
  ga: ModelGeometry,
  gb: ModelGeometry,
  columns: (g: ModelGeometry) => [number, number],
  positions: (depth: number, tokens: number) => number,
  units: [string, string]
): [MeasuredFact, MeasuredFact] | null {
  const n = roundsOf(pairs.a.shallow_ms, pairs.a.deep_ms, pairs.b.shallow_ms, pairs.b.deep_ms)
  const sol = solveRounds(n, (i) => nonNegativeLeastSquares([columns(ga), columns(gb)], [slopeNs(pairs.a, ga, i, positions), slopeNs(pairs.b, gb, i, positions)]))
  const first = fact2(sol, 0, units[0])
  const second = fact2(sol, 1, units[1])
  return first && second ? [first, second] : null
}

/** Decode attention law: per position per layer = q·α + kvBytes·β, from two geometries (non-negative). */
export function fitKvDepth(pairs: { a: DepthPair; b: DepthPair }, ga: ModelGeometry, gb: ModelGeometry, kvType: string): KvDepthCoefficients | null {
  const law = fitDepthLaw(pairs, ga, gb, (g) => [g.queryElements, g.kvBytesPerPositionPerLayer(kvType)], meanDecodePositions, [
    'ns/(query element·position·layer)',
    'ns/(KV byte·position·layer)'
  ])
  return law ? { ns_per_query_element_token: law[0], ns_per_kv_byte_token: law[1] } : null
}

/** Prefill attention law: per prompt token per position per layer = heads·a + q·b, from two geometries. */
export function fitPrefillAttention(pairs: { a: DepthPair; b: DepthPair }, ga: ModelGeometry, gb: ModelGeometry): Measured['prefill_attention_coefficients'] {
  const law = fitDepthLaw(pairs, ga, gb, (g) => [g.heads, g.queryElements], prefillPositions, [
    'ns/(head·token·position·layer)',
    'ns/(query element·token·position·layer)'
  ])
  return law ? { ns_per_head_token_position: law[0], ns_per_query_element_token_position: law[1] } : null
}

export interface DecodeFitContext {
  kvKey: string
  kvType: string
  cacheBytes: number
}

/**
 * Overhead, per-type streaming rate and row cost, in-cache rates. Per solve (the median round, then each round):
 *   ovh-L<a>, ovh-L<b>, cached-F16 (all cache-resident)  → fixed cost, per-layer cost, F16's in-cache ms per byte
 *     (the two ovh models differ only in layer count; the cached model adds bytes);
 *   bw-T, bwn-T (same bytes from memory, 4× the rows)     → T's ms per byte and ns per row;
 *   cached-T                                              → T's in-cache rate (its rows included).
 * The attention at depth 0 is subtracted first (its law must be in `measured`). Mutates `measured`.
 */
export function fitDecode(obs: ProbeObservations, geo: (id: string) => ModelGeometry, measured: Measured, ctx: DecodeFitContext): void {
  const shape = { startPos: 0, tokens: obs.decode_tokens, cells: kvCells(obs.decode_tokens), kvKey: ctx.kvKey, kvType: ctx.kvType }
  const r0 = ratesFromFacts(measured, ctx.cacheBytes)
  const attention = (g: ModelGeometry) => decodeEstimate(g, r0, shape).attentionMs
  // Without the overhead pair (a failed ovh model) there is no overhead term; without cached-F16, the pair alone
  // gives the fixed and per-layer terms (its in-cache bytes then count as overhead: an upper bound).
  if (obs.overhead.short_ms.length > 0 && obs.overhead.long_ms.length > 0) {
    const cachedF16 = obs.cached.F16 ?? []
    const models = [
      { g: geo(obs.overhead.short_id), ms: obs.overhead.short_ms },
      { g: geo(obs.overhead.long_id), ms: obs.overhead.long_ms },
      ...(cachedF16.length > 0 ? [{ g: geo('cached-F16'), ms: cachedF16 }] : [])
    ].map((m) => ({ ...m, attention: attention(m.g) }))
    const columns = (g: ModelGeometry) => (models.length === 3 ? [1, g.layers, g.active_bytes_per_token] : [1, g.layers])
    const base = solveRounds(roundsOf(...models.map((m) => m.ms)), (i) =>
      nonNegativeLeastSquares(
        models.map((m) => columns(m.g)),
        models.map((m) => remainder(at(m.ms, i), m.attention))
      )
    )
    measured.fixed_decode_ms = fact2(base, 0, 'ms')
    measured.per_layer_decode_ms = fact2(base, 1, 'ms/layer')
  }

  const r = ratesFromFacts(measured, ctx.cacheBytes)
  // Overhead and attention of a decode step (everything but the weights' bytes and rows).
  const rest = (g: ModelGeometry) => {
    const e = decodeEstimate(g, r, shape)
    return e.overheadMs + e.attentionMs
  }
  const rowNs: Record<string, MeasuredFact> = {}
  // The headline figure: the best effective rate of a wide model's whole weight stream (rows included), what a
  // user compares with a memory benchmark.
  let bestEffective: MeasuredFact | null = null
  for (const [type, wide] of Object.entries(obs.bandwidth)) {
    const gw = geo(`bw-${type}`)
    const narrow = obs.bandwidth_narrow?.[type]
    const gn = narrow ? geo(`bwn-${type}`) : null
    const restW = rest(gw)
    const restN = gn ? rest(gn) : 0
    const effective = solveRounds(wide.length, (i) => (gw.active_bytes_per_token / remainder(at(wide, i), restW)) * MS_PER_S)
    if (effective.value !== null && (!bestEffective || effective.value > bestEffective.value)) {
      bestEffective = factWithValue(effective.value, effective.samples, 'B/s')
    }
    const sol = solveRounds(gn && narrow ? roundsOf(wide, narrow) : wide.length, (i) => {
      const yw = remainder(at(wide, i), restW)
      const plain = [Math.max(1e-15, yw / gw.active_bytes_per_token), 0]
      if (!gn || !narrow) return plain
      const split = nonNegativeLeastSquares(
        [
          [gw.active_bytes_per_token, gw.matrixRowsPerToken],
          [gn.active_bytes_per_token, gn.matrixRowsPerToken]
        ],
        [yw, remainder(at(narrow, i), restN)]
      )
      const plausible = split && (split[0] as number) > 0 && (split[1] as number) * gw.matrixRowsPerToken <= MAX_ROW_SHARE_OF_WIDE * yw
      return plausible ? split : plain
    })
    if (!sol.value) continue
    const bw = (x: number[]) => MS_PER_S / (x[0] as number)
    measured.decode_bandwidth_by_type[type] = factWithValue(bw(sol.value), sol.samples.map(bw), 'B/s')
    rowNs[type] = fact2(sol, 1, 'ns/row', NS_PER_MS)!
  }
  measured.decode_ns_per_row_by_type = rowNs
  if (bestEffective) measured.decode_bandwidth_bytes_per_sec = bestEffective

  // In-cache rates include the rows: what remains after overhead and attention, per byte.
  const cachedByType: Record<string, MeasuredFact> = {}
  for (const [type, series] of Object.entries(obs.cached)) {
    const g = geo(`cached-${type}`)
    const restC = rest(g)
    const sol = solveRounds(series.length, (i) => (g.active_bytes_per_token / remainder(at(series, i), restC)) * MS_PER_S)
    if (sol.value !== null) cachedByType[type] = factWithValue(sol.value, sol.samples, 'B/s')
  }
  measured.decode_cached_bandwidth_by_type = cachedByType
  measured.decode_cached_bandwidth_bytes_per_sec = cachedByType.F16 ?? null
}
