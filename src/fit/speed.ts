// Decode and prefill times from a model's geometry and the measured rates. Pure.
//
// Every estimate is a sum of named terms, each with the spread of the fact it came from, so the breakdown shows
// where the time goes and the range reflects the noise of the facts actually used (docs/estimator.md).

import { attendedPositions, type ModelGeometry } from './geometry.js'
import type { Rates } from './rates.js'

export interface Term {
  ms: number
  /** Relative noise of the fact behind the term: (max − min) / median of its samples. */
  spread: number
}

const NS_PER_MS = 1e6
const MS_PER_S = 1e3

/**
 * Working sets up to this share of the caches are served from them: the probe measures its in-cache rates there
 * (its cache-resident models are at most this large).
 */
export const CACHE_FULL_HIT_SHARE = 0.5

/**
 * Share of the weight stream served from the caches: all of it up to CACHE_FULL_HIT_SHARE of the caches, where the
 * in-cache rates were measured; none once the working set reaches the caches' size, because a decode step streams
 * the weights cyclically and a cyclic stream larger than an LRU-like cache evicts every line before its reuse (and
 * the last-level cache is shared with other cores, so a stream near its full size already thrashes); linear between.
 */
export function cacheHitShare(workingSetBytes: number, cacheBytes: number): number {
  if (cacheBytes <= 0 || workingSetBytes <= 0) return 0
  const full = CACHE_FULL_HIT_SHARE * cacheBytes
  if (workingSetBytes <= full) return 1
  return Math.max(0, Math.min(1, (cacheBytes - workingSetBytes) / (cacheBytes - full)))
}

/** Terms added up, the spread weighted by each term's time. */
export function sumSpread(terms: readonly Term[]): Term {
  let ms = 0
  let weighted = 0
  for (const t of terms) {
    ms += t.ms
    weighted += t.ms * t.spread
  }
  return { ms, spread: ms > 0 ? weighted / ms : 0 }
}

/**
 * Multiplying with the active weights once (a decode step's matrix-vector products): from memory, each type's bytes
 * at its streaming rate plus its rows at its per-row cost; from the caches, at the type's measured in-cache rate
 * (rows included: the probe's in-cache models are narrow, like every model small enough to be cache-resident).
 */
export function weightStreamMs(g: ModelGeometry, r: Rates): Term {
  const hit = cacheHitShare(g.workingSetBytes, r.cacheBytes)
  const terms: Term[] = []
  for (const [type, bytes] of Object.entries(g.active_bytes_by_type)) {
    if (bytes <= 0) continue
    const bw = r.decodeBandwidth(type)
    if (!(bw.value > 0)) continue
    const rows = g.matrixRowsByType[type] ?? 0
    const row = r.nsPerRow(type)
    const memoryMs = (bytes / bw.value) * MS_PER_S + (rows * row.value) / NS_PER_MS
    const cached = hit > 0 ? r.cachedBandwidth(type) : bw
    const cachedMs = hit > 0 ? (bytes / cached.value) * MS_PER_S : 0
    terms.push({ ms: hit * cachedMs + (1 - hit) * memoryMs, spread: hit * cached.fact.spread + (1 - hit) * Math.max(bw.fact.spread, row.spread) })
  }
  return sumSpread(terms)
}

/** Graph overhead of one forward pass: fixed + per layer (+ the MoE routing ops per layer). */
export function graphOverheadMs(g: ModelGeometry, r: Rates): Term {
  const moe = g.expert_count > 0 ? g.layers * r.moeDecodeExtraPerLayerMs.value : 0
  return sumSpread([
    { ms: r.fixedDecodeMs.value, spread: r.fixedDecodeMs.spread },
    { ms: g.layers * r.perLayerDecodeMs.value, spread: r.perLayerDecodeMs.spread },
    { ms: moe, spread: r.moeDecodeExtraPerLayerMs.spread }
  ])
}

/**
 * Attention of one decoded token: the full-attention layers over `positions` KV positions, the sliding layers over
 * `slidingPositions` (the cells of their window cache in use). Recurrent layers attend nothing; their matrices are
 * weights like any other, their state update is their own term.
 */
export function decodeAttentionMs(g: ModelGeometry, r: Rates, positions: number, kvKey: string, kvType: string, slidingPositions = 0): Term {
  const k = r.kvDepth(kvKey)
  const perPositionNs = g.queryElements * k.perQueryElementNs + g.kvBytesPerPositionPerLayer(kvType) * k.perKvByteNs
  const slidingPerPositionNs = g.slidingQueryElements * k.perQueryElementNs + g.slidingKvBytesPerPositionPerLayer(kvType) * k.perKvByteNs
  const spread = Math.max(0, ...k.facts.map((f) => f.spread))
  return { ms: (g.attentionLayers * positions * perPositionNs + g.slidingLayers * slidingPositions * slidingPerPositionNs) / NS_PER_MS, spread }
}

/**
 * The recurrent layers' state update of one decoded token: each reads and writes its state once (f32), at the measured
 * memory bandwidth. It has no depth: a recurrent layer costs the same at any position.
 */
export function recurrentStateMs(g: ModelGeometry, r: Rates): Term {
  if (g.recurrentStateBytes <= 0) return { ms: 0, spread: 0 }
  const bw = r.decodeBandwidth('F32')
  return bw.value > 0 ? { ms: ((2 * g.recurrentStateBytes) / bw.value) * MS_PER_S, spread: bw.fact.spread } : { ms: 0, spread: 0 }
}

/** Positions a sliding layer attends when the full layers attend `positions`: no more than its cache's cells. */
function slidingPositionsOf(g: ModelGeometry, positions: number, slidingCells: number | undefined): number {
  return g.slidingLayers > 0 ? Math.min(positions, slidingCells ?? positions) : 0
}

export interface DecodeEstimate {
  /** Average ms per decoded token and its parts. */
  totalMs: number
  weightsMs: number
  overheadMs: number
  attentionMs: number
  /** The recurrent layers' state update (0 without recurrent layers). */
  stateMs: number
  spread: number
}

export interface DecodeShape {
  /** Position of the first decoded token (= tokens already in the cache). */
  startPos: number
  tokens: number
  /** KV cache cells of the context. */
  cells: number
  /** Cells of the sliding layers' window cache (slidingCells); absent, they attend as far as the full layers. */
  slidingCells?: number
  kvKey: string
  kvType: string
}

/** Average per-token decode time over `tokens` steps starting at `startPos` (llama-bench tg, the server's decode). */
export function decodeEstimate(g: ModelGeometry, r: Rates, s: DecodeShape): DecodeEstimate {
  const weights = weightStreamMs(g, r)
  const overhead = graphOverheadMs(g, r)
  let positions = 0
  let sliding = 0
  for (let i = 0; i < s.tokens; i++) {
    const p = attendedPositions(s.startPos + i, s.cells)
    positions += p
    sliding += slidingPositionsOf(g, p, s.slidingCells)
  }
  const steps = Math.max(1, s.tokens)
  const attention = decodeAttentionMs(g, r, s.tokens > 0 ? positions / steps : 0, s.kvKey, s.kvType, sliding / steps)
  const state = recurrentStateMs(g, r)
  const total = sumSpread([weights, overhead, attention, state])
  return { totalMs: total.ms, weightsMs: weights.ms, overheadMs: overhead.ms, attentionMs: attention.ms, stateMs: state.ms, spread: total.spread }
}

export interface ParallelDecodeEstimate {
  /** ms of one step that decodes one token of every stream, and its parts. */
  stepMs: number
  /** The weights: read once per step, or each stream's products at the in-cache rate, whichever is slower. */
  weightsMs: number
  overheadMs: number
  /** Every stream's attention over its own positions. */
  attentionMs: number
  stateMs: number
  streams: number
  spread: number
}

/**
 * One step of `streams` sequences decoded together (llama-server's continuous batching, one token of every slot per
 * step), each stream at the positions of `s` in its own cache of `s.cells`. The step multiplies the weights with
 * `streams` columns: the weights cross from memory once, and each column's dot products run at the kernels' own speed,
 * which is what the probe's in-cache decode measures (cachedBandwidth: weights that never leave the caches, rows
 * included). The slower of the two bounds the step: one stream is the single decode (memory), many streams on a
 * CPU become compute-bound. A MoE model's streams route to different experts, so the step reads more of them.
 * Attention and the recurrent state are per stream; the graph's overhead is per step.
 */
export function parallelDecodeEstimate(g: ModelGeometry, r: Rates, s: DecodeShape, streams: number): ParallelDecodeEstimate {
  const single = decodeEstimate(g, r, s)
  const stream = weightStreamMs(g, r)
  // A MoE step reads the experts every stream routes to: up to streams × used of them, at most all (as a prefill
  // ubatch does, ubatchMatmulMs) — relative to one token's active expert bytes, touched / used times more.
  const experts = g.expert_count > 0 && g.expert_used_count > 0
  const expertScale = experts ? (Math.min(1, (streams * g.expert_used_count) / g.expert_count) * g.expert_count) / g.expert_used_count : 1
  const memory: Term = { ms: stream.ms * (1 - g.expertParamShare + g.expertParamShare * expertScale), spread: stream.spread }
  const compute: Term[] = []
  for (const [type, bytes] of Object.entries(g.active_bytes_by_type)) {
    if (bytes <= 0) continue
    const cached = r.cachedBandwidth(type)
    if (cached.value > 0) compute.push({ ms: ((streams * bytes) / cached.value) * MS_PER_S, spread: cached.fact.spread })
  }
  const computeTerm = sumSpread(compute)
  const weights = computeTerm.ms > memory.ms ? computeTerm : memory
  const overhead = graphOverheadMs(g, r)
  const attention: Term = { ms: streams * single.attentionMs, spread: single.attentionMs > 0 ? decodeAttentionMs(g, r, 1, s.kvKey, s.kvType).spread : 0 }
  const state = recurrentStateMs(g, r)
  const stateAll: Term = { ms: streams * state.ms, spread: state.spread }
  const total = sumSpread([weights, overhead, attention, stateAll])
  return { stepMs: total.ms, weightsMs: weights.ms, overheadMs: overhead.ms, attentionMs: attention.ms, stateMs: stateAll.ms, streams, spread: total.spread }
}

export interface PrefillShape {
  startPos: number
  tokens: number
  ubatch: number
  cells: number
  /** Cells of the sliding layers' window cache; absent, they attend as far as the full layers. */
  slidingCells?: number
  /** Rows whose logits are computed (1: only the last prompt token's, as llama-bench and the server do). */
  outputs: number
  /** The KV key (kvKey): flash attention and a quantized cache attend by their own law. Absent: the plain law. */
  kvKey?: string
}

export interface PrefillEstimate {
  totalMs: number
  matmulMs: number
  attentionMs: number
  /** The recurrent layers' scan: every prompt token updates every state element (0 without recurrent layers). */
  stateMs: number
  outputMs: number
  overheadMs: number
  spread: number
}

/**
 * Tokens the body's matrices multiply in a ubatch of n tokens of which `outputs` need logits, averaged over the body:
 * all n, except that llama.cpp drops the rows without logits after the last layer's attention, so that layer's
 * feed-forward runs for `outputs` rows only. Weighted by parameters (`share` = ffnParamShare) it counts FLOPs, by
 * rows (ffnRowShare) dot products.
 */
export function prefillKeptTokens(g: ModelGeometry, n: number, outputs: number, share: number): number {
  return g.layers > 0 && n > 0 ? n * (1 - (share * (1 - Math.min(n, outputs) / n)) / g.layers) : n
}

/**
 * Matmul time of one ubatch of n tokens of which `outputs` need logits: compute at the measured prefill rates, never
 * faster than reading the weights. `stream` is one pass over the active weights (weightStreamMs).
 */
function ubatchMatmulMs(g: ModelGeometry, r: Rates, n: number, outputs: number, stream: Term): Term {
  const keep = prefillKeptTokens(g, n, outputs, g.ffnParamShare)
  const keepRows = prefillKeptTokens(g, n, outputs, g.ffnRowShare)
  const experts = g.expert_count > 0 && g.expert_used_count > 0
  const terms: Term[] = []
  for (const [type, params] of Object.entries(g.bodyParamsByType)) {
    if (params <= 0) continue
    const rate = r.prefillFlops(type)
    if (!(rate.value > 0)) continue
    const flops = 2 * params * keep
    // The expert share of every type runs at that type's measured expert-matmul efficiency, the rest at the dense rate.
    const share = experts ? g.expertParamShare : 0
    const eff = experts ? r.moePrefillEfficiency(type) : { value: 1, spread: 0 }
    const rowCost = r.prefillNsPerRowToken(type)
    // Body rows of this type (the output head's rows are the output term's).
    const rows = (g.matrixRowsByType[type] ?? 0) - (type === g.outputType && g.outputParams > 0 ? g.vocab_size : 0)
    const flopMs = ((flops * (1 - share)) / rate.value + (flops * share) / (rate.value * eff.value)) * MS_PER_S
    const rowMs = (Math.max(0, rows) * keepRows * rowCost.value) / NS_PER_MS
    terms.push({ ms: flopMs + rowMs, spread: Math.max(rate.fact.spread, rowCost.spread, share > 0 ? eff.spread : 0) })
  }
  const compute = sumSpread(terms)
  // A ubatch reads every weight it multiplies with once: the dense part, and of the experts those its tokens route
  // to (all of them once n·used ≥ experts) — relative to one token's active expert bytes, touched/used times more.
  const expertScale = experts ? (Math.min(1, (n * g.expert_used_count) / g.expert_count) * g.expert_count) / g.expert_used_count : 1
  const memMs = stream.ms * (1 - g.expertParamShare + g.expertParamShare * expertScale)
  return memMs > compute.ms ? { ms: memMs, spread: stream.spread } : compute
}

/** Prefill of `tokens` prompt tokens from position `startPos`, in ubatches, logits for `outputs` rows. */
export function prefillEstimate(g: ModelGeometry, r: Rates, s: PrefillShape): PrefillEstimate {
  const matmul: Term[] = []
  const attention: Term[] = []
  const overhead: Term[] = []
  const pa = r.prefillAttentionFor(s.kvKey)
  const paSpread = Math.max(0, ...pa.facts.map((f) => f.spread))
  const perPositionNs = g.heads * pa.perHeadNs + g.queryElements * pa.perQueryElementNs
  // The same for every ubatch: the weights read once, the graph's fixed and per-layer cost.
  const stream = weightStreamMs(g, r)
  const perUbatchOverhead = graphOverheadMs(g, r)
  for (let done = 0; done < s.tokens; ) {
    const n = Math.min(s.ubatch, s.tokens - done)
    const positions = attendedPositions(s.startPos + done + n - 1, s.cells)
    // Logits are computed for the prompt's last rows, which sit in the last ubatch.
    const outputsHere = done + n >= s.tokens ? s.outputs : 0
    matmul.push(ubatchMatmulMs(g, r, n, outputsHere, stream))
    const slidingPerPositionNs = g.heads * pa.perHeadNs + g.slidingQueryElements * pa.perQueryElementNs
    const slidingMs = g.slidingLayers * n * slidingPositionsOf(g, positions, s.slidingCells) * slidingPerPositionNs
    attention.push({ ms: (g.attentionLayers * n * positions * perPositionNs + slidingMs) / NS_PER_MS, spread: paSpread })
    overhead.push(perUbatchOverhead)
    done += n
  }
  // The output head multiplies only the rows that need logits: matrix-vector products, as in a decode step.
  const out = r.decodeBandwidth(g.outputType)
  const outRow = r.nsPerRow(g.outputType)
  const outputMs =
    g.outputParams > 0 && out.value > 0 ? s.outputs * ((g.outputBytes * MS_PER_S) / out.value + (g.vocab_size * outRow.value) / NS_PER_MS) : 0
  const scan = r.ssmScanNsPerStateElement
  const state = { ms: (s.tokens * g.recurrentStateElements * scan.value) / NS_PER_MS, spread: scan.spread }
  const parts = [sumSpread(matmul), sumSpread(attention), { ms: outputMs, spread: out.fact.spread }, sumSpread(overhead), state]
  const total = sumSpread(parts)
  return {
    totalMs: total.ms,
    matmulMs: parts[0]!.ms,
    attentionMs: parts[1]!.ms,
    stateMs: state.ms,
    outputMs,
    overheadMs: parts[3]!.ms,
    spread: total.spread
  }
}

/** The server's extra cost per sampled token: fixed (HTTP loop, slot bookkeeping) + sampling over the vocabulary. */
export function serverTokenOverheadMs(g: ModelGeometry, r: Rates): Term {
  return sumSpread([
    { ms: r.serverDecodeOverheadMs.value, spread: r.serverDecodeOverheadMs.spread },
    { ms: samplerMs(g, r), spread: r.serverSamplerNsPerVocabEntry.spread }
  ])
}

/** The sampler's cost for one token (part of the server's prompt_ms when it samples the first token). */
export function samplerMs(g: ModelGeometry, r: Rates): number {
  return (g.vocab_size * r.serverSamplerNsPerVocabEntry.value) / NS_PER_MS
}
