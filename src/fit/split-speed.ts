// Decode and prefill of a model whose layers llama.cpp spreads over several devices: a partial offload (-ngl below
// the layer count: the first layers in host memory, computed by the CPU) and a layer split over several GPUs
// (-sm layer, -ts). Pure and deterministic. docs/estimator.md, "Partial offload and several GPUs", states the law.
//
// What llama.cpp does, at the pinned build (node-llama-cpp 3.22.1's llama.cpp):
// - Where each layer lives: llama_model::load_tensors (src/llama-model.cpp, "calculate the split points"), as
//   offload.ts computes it. The input layer (token table) always stays on the CPU; the output layer goes where layer
//   n_layer would. With -sm none only main_gpu is used (llama_model_load in src/llama.cpp: "if using single GPU mode,
//   remove all except the main GPU"). -sm row keeps whole layers on the main device's list but splits every matrix
//   by rows over the GPUs (make_gpu_buft_list's split buffer type): tensor parallelism, not modelled here.
// - One sequence runs its layers in order, one device at a time: a device's layers at that device's rates, and at
//   every change of device along the layer order a hand-off (the scheduler's split inputs: the activations copied,
//   the next device started after the previous one's work is complete; ggml_backend_sched_compute_splits in
//   ggml/src/ggml-backend.cpp).
// - The op offload. For an op whose weight is in host memory the scheduler asks the higher-priority backends whether
//   they want to run it (ggml_backend_sched_backend_id_from_cur: `sched->op_offload && src_backend_id ==
//   sched->n_backends - 1 && ggml_backend_buffer_is_host(src->buffer)` → "1.off"), the first one first; CUDA says
//   yes when the op's batch is at least 32 rows (ggml/src/ggml-cuda/ggml-cuda.cu, ggml_backend_cuda_device_offload_op
//   and get_op_batch_size: ne[1] of a MUL_MAT, ne[2] of a MUL_MAT_ID, never a GET_ROWS; GGML_OP_OFFLOAD_MIN_BATCH,
//   default 32). So in a prefill ubatch of ≥ 32 tokens the host-resident layers run on the first GPU, their weights
//   copied over the bus every ubatch (MoE: only the experts the ubatch routes to, "copy only the experts that are
//   used" in ggml_backend_sched_compute_splits), while their KV cache stays in host memory, where its stores run
//   (a set_rows into a host buffer runs on the CPU: 2 hand-offs per such layer, the new K/V rows down and the
//   attended cells up). Below 32 tokens (decode; a short last ubatch) the CPU computes them. With a GPU present the
//   CPU layers' weights are mapped or in the GPU's host buffer, never repacked (make_cpu_buft_list puts the GPU host
//   buffer before the CPU's extra buffer types), which is why the host facts are measured on the GPU build with
//   -ngl 0.
// - Pipeline parallelism (llama_context's constructor: several devices, every layer offloaded, -sm layer, KV
//   offloaded): the ubatches of one llama_decode call overlap across GPUs (one GPU works on ubatch k + 1 while the
//   next works on ubatch k), which only a prompt of several ubatches feels.
//
// Each device's part is the single-device law (speed.ts) on the geometry of the layers it computes; only the
// device that computes the output layer pays the fixed cost of a pass (the others' start is in the hand-off's cost,
// which the probe fits as what remains of a split run after every device's own terms).

import type { HardwareProfile, OffloadFacts } from '../contracts/hardware.js'
import type { ModelProfile } from '../contracts/profile.js'
import type { Workload } from '../contracts/workload.js'
import { offloadDevices } from './devices.js'
import { attendedPositions, F32_BYTES, modelGeometry, type ModelGeometry } from './geometry.js'
import { assignLayers } from './offload.js'
import { ratesFromFacts, resolveRates, type Rates, type Scalar } from './rates.js'
import { decodeEstimate, prefillEstimate, sumSpread, type DecodeEstimate, type DecodeShape, type PrefillEstimate, type PrefillShape, type Term } from './speed.js'

/** The device index of the CPU (host memory) in a placement; GPUs are 0 … n − 1 in llama.cpp's order. */
export const HOST_DEVICE = -1
/** What the estimate calls the CPU. */
export const HOST_DEVICE_NAME = 'CPU'
/** CUDA's op-offload threshold: ops of at least this many rows run on the GPU even with host-resident weights. */
export const OP_OFFLOAD_MIN_BATCH = 32
const MS_PER_S = 1e3

/** Where llama.cpp puts a model's layers for a workload on a machine. */
export interface Placement {
  /** The GPUs llama.cpp uses, by name, in its order (with -sm none only main_gpu); empty on a CPU build. */
  gpus: string[]
  /** Per repeating layer: HOST_DEVICE or the index of its GPU in `gpus`. */
  layers: number[]
  /** The output layer's device. */
  output: number
  /** Weight bytes of each repeating layer (profile.layer_bytes; without it the body split evenly). */
  layerBytes: number[]
  /** One character per layer (profile.layer_plan.layer_kinds: F, S, R, B, -); absent in old profiles. */
  layerKinds?: string
  /** Share of the layers' weight bytes in feed-forward tensors, and in routed experts (whole tensors). */
  ffnBytesShare: number
  expertBytesShare: number
  /** llama.cpp overlaps the ubatches of one call across the GPUs (several GPUs, every layer on them, -sm layer). */
  pipelineParallel: boolean
}

/** A result, or why there is none (the caller's not_predicted reason). */
export type Outcome<K extends string, T> = ({ [k in K]: T } & { reason?: undefined }) | ({ [k in K]: null } & { reason: string })

export const ROW_SPLIT_NOT_MODELLED =
  'split mode row (-sm row) splits every matrix across the GPUs (tensor parallelism): its speed is not modelled'

/**
 * The placement llama.cpp makes for a workload: the GPUs from llama.cpp's own device list (hardware.system.llama_devices,
 * else the probe's GPUs; devices.ts offloadDevices, the memory fit's list), -sm none keeping main_gpu alone, the
 * layers assigned by assignLayers (-ngl, -ts; a negative -ngl offloads every layer, as the memory fit places it).
 * -sm row with layers on a GPU is not modelled.
 */
export function splitPlacement(profile: ModelProfile, hw: HardwareProfile, w: Workload): Outcome<'placement', Placement> {
  const listed = offloadDevices(hw).filter((d) => d.freeBytes > 0 || d.totalBytes > 0)
  const mode = w.split_mode ?? 'layer'
  let gpus = listed
  if (mode === 'none' && listed.length > 0) {
    const main = w.main_gpu ?? 0
    if (main >= listed.length) return { placement: null, reason: `main GPU ${main} does not exist: llama.cpp lists ${listed.length} GPU${listed.length === 1 ? '' : 's'} (it refuses to load)` }
    gpus = [listed[main]!]
  }
  const L = profile.layers
  const offloads = gpus.length > 0 && w.gpu_layers !== 0
  if (offloads && mode === 'row') return { placement: null, reason: ROW_SPLIT_NOT_MODELLED }
  const a = offloads
    ? assignLayers({
        layers: L,
        gpuLayers: w.gpu_layers,
        devices: gpus,
        ...(w.tensor_split && mode === 'layer' ? { tensorSplit: w.tensor_split } : {}),
        host: { freeBytes: hw.system.ram_available_bytes, totalBytes: hw.system.ram_total_bytes }
      })
    : { layers: new Array<number>(L).fill(HOST_DEVICE), output: HOST_DEVICE }
  return { placement: placementOf(profile, gpus.map((g) => g.name), a.layers, a.output, mode) }
}

/** A placement from a layer assignment (the probe's fit builds its own for one GPU). */
export function placementOf(profile: ModelProfile, gpus: readonly string[], layers: readonly number[], output: number, splitMode: 'none' | 'layer' | 'row' = 'layer'): Placement {
  const L = profile.layers
  const g = profile.bytes_by_group
  const given = profile.layer_bytes && profile.layer_bytes.length === L ? profile.layer_bytes : null
  const body = given ? given.reduce((s, b) => s + b, 0) : Math.max(0, profile.tensor_bytes - g.embedding - g.output)
  const layerBytes = given ? [...given] : new Array<number>(L).fill(L > 0 ? body / L : 0)
  const ffn = g.ffn_dense + g.ffn_expert + g.ffn_shared_expert
  return {
    gpus: [...gpus],
    layers: [...layers],
    output,
    layerBytes,
    ...(profile.layer_plan.layer_kinds !== undefined ? { layerKinds: profile.layer_plan.layer_kinds } : {}),
    ffnBytesShare: body > 0 ? Math.min(1, ffn / body) : 0,
    expertBytesShare: body > 0 ? Math.min(1, g.ffn_expert / body) : 0,
    pipelineParallel: gpus.length > 1 && splitMode === 'layer' && output !== HOST_DEVICE && layers.every((d) => d !== HOST_DEVICE)
  }
}

/** The one device holding every layer and the output, or null when they are spread over several. */
export function singleDevice(p: Placement): number | null {
  return p.layers.every((d) => d === p.output) ? p.output : null
}

/**
 * Whether predict needs this law rather than the single-device one with the profile's `measured` facts: on a GPU
 * machine, whenever not every layer sits on one GPU (some on the CPU, or several GPUs). On a CPU build never.
 */
export function usesSplitLaw(p: Placement): boolean {
  if (p.gpus.length === 0) return false
  const single = singleDevice(p)
  return single === null || single === HOST_DEVICE
}

/** The offload facts as the law uses them. */
export interface OffloadRates {
  busBytesPerSec: Scalar
  handoffMs: Scalar
}

/** The rates of every device a placement uses. */
export interface DeviceRates {
  /** The CPU's (measured_host on a GPU machine; `measured` on a CPU build); null when the profile has none. */
  host: Rates | null
  /** Each GPU's, by index in the placement (identical GPUs share the probed GPU's facts). */
  gpus: ReadonlyArray<Rates | null>
  offload: OffloadRates | null
}

export function offloadRates(f: OffloadFacts): OffloadRates {
  return { busBytesPerSec: { value: f.bus_bytes_per_sec.value, spread: f.bus_bytes_per_sec.spread }, handoffMs: { value: f.handoff_ms.value, spread: f.handoff_ms.spread } }
}

/**
 * The device rates of a profile for a placement. Every GPU gets the facts the probe measured on its GPU (the same
 * model of GPU is assumed; `assumptions` says when llama.cpp's list names different ones).
 */
export function deviceRates(hw: HardwareProfile, p: Placement): DeviceRates & { assumptions: string[] } {
  const cache = hw.system.cache_bytes ?? 0
  const cpuBuild = hw.llama.backend.toUpperCase() === 'CPU'
  const host = hw.measured_host ? ratesFromFacts(hw.measured_host, cache) : cpuBuild && hw.measured ? ratesFromFacts(hw.measured, cache) : null
  const gpu = !cpuBuild && hw.measured ? ratesFromFacts(hw.measured, cache) : null
  const names = new Set((hw.system.llama_devices ?? []).filter((d) => p.gpus.includes(d.name)).map((d) => d.description))
  const assumptions = names.size > 1 ? [`the GPUs differ (${[...names].sort().join(', ')}): each is costed with the facts the probe measured on its GPU`] : []
  return { host, gpus: p.gpus.map(() => gpu), offload: hw.measured_offload ? offloadRates(hw.measured_offload) : null, assumptions }
}

/** Named parts of a split estimate: a device's layers, as computed where they ran. */
export interface SplitPart {
  /** The device whose memory holds the layers ('CPU' or the GPU's name). */
  device: string
  /** Where they were computed: the device itself, or the GPU the op offload ran host-resident layers on. */
  computedOn: string
  /** Repeating layers (per ubatch or step). */
  layers: number
  /** Whether the output layer is among them. */
  output: boolean
  ms: number
}

export interface SplitTerms {
  /** Fixed cost of the hand-offs and the activations copied at them, ms. */
  handoffMs: number
  /** Hand-offs (device changes, and the op offload's KV stores), over the whole estimate. */
  handoffs: number
  /** Activation bytes copied at the hand-offs. */
  activationBytes: number
  parts: SplitPart[]
}

export type SplitDecodeEstimate = DecodeEstimate & SplitTerms

export interface SplitPrefillEstimate extends PrefillEstimate, SplitTerms {
  /** The op offload's copies: host-resident weights and the KV rows of their layers, ms. */
  busMs: number
  busBytes: number
  /** Time the pipelining of ubatches across GPUs saves (0 without it); totalMs is net of it. */
  pipelineSavedMs: number
}

/** A prefill shape with what the split adds: the KV cache type (its rows cross the bus) and n_batch (a call). */
export interface SplitPrefillShape extends PrefillShape {
  /** KV cache type (default f16). */
  kvType?: string
  /** Tokens per llama_decode call (n_batch): ubatches pipeline within a call. Absent: the whole prompt. */
  batch?: number
}

/** A term with the spread of its fact. */

const noFixed = (r: Rates): Rates => ({ ...r, fixedDecodeMs: { value: 0, spread: 0 } })

/** Layer kinds of a placement's layers: F full, S sliding, R recurrent, B both, - none (absent: as the model's mix). */
interface KindCounts {
  full: number
  sliding: number
  recurrent: number
}

function kindCounts(g: ModelGeometry, p: Placement, layers: readonly number[]): KindCounts {
  if (p.layerKinds !== undefined && p.layerKinds.length >= g.layers) {
    let full = 0
    let sliding = 0
    let recurrent = 0
    for (const il of layers) {
      const k = p.layerKinds[il] ?? '-'
      if (k === 'F' || k === 'B') full++
      if (k === 'S') sliding++
      if (k === 'R' || k === 'B') recurrent++
    }
    return { full, sliding, recurrent }
  }
  const share = g.layers > 0 ? layers.length / g.layers : 0
  return { full: g.attentionLayers * share, sliding: g.slidingLayers * share, recurrent: g.recurrentLayers * share }
}

/** Bytes of the output head (0 without one). */
const headBytes = (g: ModelGeometry): number => (g.outputParams > 0 ? g.outputBytes : 0)

/**
 * The geometry of some of a model's layers (and the output head when `output`), for the single-device terms: the
 * body's bytes and parameters by the layers' share of the weight bytes, rows and per-layer counts by their number,
 * attention and state by the layers' kinds. The last layer's row selection (only the rows with logits go through its
 * feed-forward) belongs to the part that holds the last layer.
 */
export function partGeometry(g: ModelGeometry, p: Placement, layers: readonly number[], output: boolean): ModelGeometry {
  const total = p.layerBytes.reduce((s, b) => s + b, 0)
  const bytes = layers.reduce((s, il) => s + (p.layerBytes[il] ?? 0), 0)
  const n = layers.length
  const byCount = g.layers > 0 ? n / g.layers : 0
  const f = total > 0 ? bytes / total : byCount
  const head = headBytes(g)
  const active: Record<string, number> = {}
  for (const [t, b] of Object.entries(g.active_bytes_by_type)) {
    const h = t === g.outputType ? Math.min(b, head) : 0
    active[t] = f * (b - h) + (output ? h : 0)
  }
  const rows: Record<string, number> = {}
  for (const [t, r] of Object.entries(g.matrixRowsByType)) {
    const h = t === g.outputType && g.outputParams > 0 ? g.vocab_size : 0
    rows[t] = byCount * (r - h) + (output ? h : 0)
  }
  const params = Object.fromEntries(Object.entries(g.bodyParamsByType).map(([t, v]) => [t, f * v]))
  const kinds = kindCounts(g, p, layers)
  const stateShare = g.recurrentLayers > 0 ? kinds.recurrent / g.recurrentLayers : 0
  const last = layers.includes(g.layers - 1)
  const working = f * Math.max(0, g.workingSetBytes - head) + (output ? head : 0)
  return {
    ...g,
    layers: n,
    active_bytes_by_type: active,
    active_bytes_per_token: Object.values(active).reduce((s, b) => s + b, 0),
    tensor_bytes: working,
    workingSetBytes: working,
    bodyParamsByType: params,
    matrixRowsByType: rows,
    matrixRowsPerToken: Object.values(rows).reduce((s, r) => s + r, 0),
    outputParams: output ? g.outputParams : 0,
    outputBytes: output ? g.outputBytes : 0,
    ffnParamShare: last ? g.ffnParamShare : 0,
    ffnRowShare: last ? g.ffnRowShare : 0,
    attentionLayers: kinds.full,
    slidingLayers: kinds.sliding,
    recurrentLayers: kinds.recurrent,
    recurrentStateBytes: g.recurrentStateBytes * stateShare,
    recurrentStateElements: g.recurrentStateElements * stateShare
  }
}

/** One run of consecutive layers computed on one device, as the law costs it. */
interface Group {
  /** Where the layers live (HOST_DEVICE or a GPU) and where they are computed. */
  resident: number
  computed: number
  layers: number[]
  output: boolean
}

/** Groups layers by (resident, computed) device, in the order they first appear; the output joins its device's group. */
function groups(p: Placement, computedOn: (il: number) => number, outputComputed: number): Group[] {
  const out: Group[] = []
  const find = (resident: number, computed: number): Group => {
    let grp = out.find((x) => x.resident === resident && x.computed === computed)
    if (!grp) out.push((grp = { resident, computed, layers: [], output: false }))
    return grp
  }
  p.layers.forEach((d, il) => find(d, computedOn(il)).layers.push(il))
  find(p.output, outputComputed).output = true
  return out
}

const deviceName = (p: Placement, d: number): string => (d === HOST_DEVICE ? HOST_DEVICE_NAME : (p.gpus[d] ?? `GPU${d}`))

/** Device changes along a sequence of compute devices. */
function changes(seq: readonly number[]): number {
  let n = 0
  for (let i = 1; i < seq.length; i++) if (seq[i] !== seq[i - 1]) n++
  return n
}

function checkPlacement(g: ModelGeometry, p: Placement): string | null {
  if (p.layers.length !== g.layers) return `the placement has ${p.layers.length} layers, the model ${g.layers}`
  return null
}

/** The rates of a compute device, or why there are none. */
function ratesOf(rates: DeviceRates, d: number): Outcome<'rates', Rates> {
  if (d === HOST_DEVICE) {
    return rates.host
      ? { rates: rates.host }
      : { rates: null, reason: 'no facts of the CPU on this GPU machine (hardware.measured_host): the profile was probed before partial offload was measured; probe again (--refresh)' }
  }
  const r = rates.gpus[d]
  return r ? { rates: r } : { rates: null, reason: `no measured facts for GPU ${d}` }
}

const NO_OFFLOAD_FACTS = 'no offload facts (hardware.measured_offload: the hand-off cost and the bus bandwidth): the profile was probed before they were measured; probe again (--refresh)'

/** Activation bytes a hand-off copies per token (f32 rows of the embedding width). */
const rowBytes = (g: ModelGeometry): number => g.embedding_length * F32_BYTES

/**
 * Average time per decoded token with the layers where `p` puts them: each device's layers at its rates (weights
 * streamed, per-layer overhead, attention over the KV positions of its layers, recurrent state), the output layer on
 * its device with the pass's fixed cost, and a hand-off at every change of device (fixed cost + one token's
 * activations over the bus). A decode step is one token: below the op offload's threshold, the CPU computes the
 * host-resident layers. With every layer and the output on one device it is decodeEstimate with that device's rates.
 */
export function splitDecodeEstimate(g: ModelGeometry, p: Placement, rates: DeviceRates, s: DecodeShape): Outcome<'estimate', SplitDecodeEstimate> {
  const bad = checkPlacement(g, p)
  if (bad) return { estimate: null, reason: bad }
  const single = singleDevice(p)
  if (single !== null) {
    const r = ratesOf(rates, single)
    if (!r.rates) return { estimate: null, reason: r.reason }
    const e = decodeEstimate(g, r.rates, s)
    const name = deviceName(p, single)
    return { estimate: { ...e, handoffMs: 0, handoffs: 0, activationBytes: 0, parts: [{ device: name, computedOn: name, layers: g.layers, output: true, ms: e.totalMs }] } }
  }
  if (!rates.offload) return { estimate: null, reason: NO_OFFLOAD_FACTS }
  const parts: SplitPart[] = []
  const terms = { weights: [] as Term[], overhead: [] as Term[], attention: [] as Term[], state: [] as Term[] }
  for (const grp of groups(p, (il) => p.layers[il]!, p.output)) {
    const r = ratesOf(rates, grp.computed)
    if (!r.rates) return { estimate: null, reason: r.reason }
    const e = decodeEstimate(partGeometry(g, p, grp.layers, grp.output), grp.output ? r.rates : noFixed(r.rates), s)
    terms.weights.push({ ms: e.weightsMs, spread: e.spread })
    terms.overhead.push({ ms: e.overheadMs, spread: e.spread })
    terms.attention.push({ ms: e.attentionMs, spread: e.spread })
    terms.state.push({ ms: e.stateMs, spread: e.spread })
    parts.push({ device: deviceName(p, grp.resident), computedOn: deviceName(p, grp.computed), layers: grp.layers.length, output: grp.output, ms: e.totalMs })
  }
  const handoffs = changes([...p.layers, p.output])
  const activationBytes = handoffs * rowBytes(g)
  const handoff = handoffTerm(rates.offload, handoffs, activationBytes)
  const sums = [terms.weights, terms.overhead, terms.attention, terms.state].map(sumSpread)
  const total = sumSpread([...sums, handoff])
  return {
    estimate: {
      totalMs: total.ms,
      weightsMs: sums[0]!.ms,
      overheadMs: sums[1]!.ms,
      attentionMs: sums[2]!.ms,
      stateMs: sums[3]!.ms,
      spread: total.spread,
      handoffMs: handoff.ms,
      handoffs,
      activationBytes,
      parts
    }
  }
}

/** Fixed cost per hand-off and the activations over the bus. */
function handoffTerm(o: OffloadRates, count: number, bytes: number): Term {
  const fixed = count * o.handoffMs.value
  const copy = bytes > 0 ? (bytes / o.busBytesPerSec.value) * MS_PER_S : 0
  return sumSpread([
    { ms: fixed, spread: o.handoffMs.spread },
    { ms: copy, spread: o.busBytesPerSec.spread }
  ])
}

/** One ubatch of a prefill. */
interface Ubatch {
  start: number
  n: number
  outputs: number
}

function ubatches(s: PrefillShape): Ubatch[] {
  const out: Ubatch[] = []
  for (let done = 0; done < s.tokens; ) {
    const n = Math.min(s.ubatch, s.tokens - done)
    out.push({ start: s.startPos + done, n, outputs: done + n >= s.tokens ? s.outputs : 0 })
    done += n
  }
  return out
}

/** Bytes of one cached position of a layer of a kind (K and V rows at the cache type), and of its state. */
function cacheRowBytes(g: ModelGeometry, kind: string, kvType: string): { full: number; sliding: number; state: number } {
  const perStateLayer = g.recurrentLayers > 0 ? g.recurrentStateBytes / g.recurrentLayers : 0
  return {
    full: kind === 'F' || kind === 'B' ? g.kvBytesPerPositionPerLayer(kvType) : 0,
    sliding: kind === 'S' ? g.slidingKvBytesPerPositionPerLayer(kvType) : 0,
    state: kind === 'R' || kind === 'B' ? perStateLayer : 0
  }
}

/** The kind of a layer; without layer kinds, the model's most common cached kind (every layer alike). */
function kindOf(g: ModelGeometry, p: Placement, il: number): string {
  if (p.layerKinds !== undefined && p.layerKinds.length >= g.layers) return p.layerKinds[il] ?? '-'
  if (g.attentionLayers >= Math.max(g.slidingLayers, g.recurrentLayers) && g.attentionLayers > 0) return 'F'
  if (g.slidingLayers >= g.recurrentLayers && g.slidingLayers > 0) return 'S'
  return g.recurrentLayers > 0 ? 'R' : '-'
}

/** What one ubatch costs, per compute stage (in order) and in bus traffic. */
interface UbatchCost {
  /** Stage per compute device in order of first use: its ms (hand-offs into it included) and spread. */
  stages: Array<{ device: number; ms: number; spread: number }>
  matmul: Term[]
  attention: Term[]
  state: Term[]
  output: Term[]
  overhead: Term[]
  parts: Array<SplitPart>
  handoffs: number
  activationBytes: number
  busBytes: number
  handoff: Term
  bus: Term
}

function ubatchCost(g: ModelGeometry, p: Placement, rates: DeviceRates, s: SplitPrefillShape, u: Ubatch): Outcome<'cost', UbatchCost> {
  const L = g.layers
  // The op offload: with a GPU in the scheduler, host-resident layers run on its first GPU from 32 rows up.
  const offload = p.gpus.length > 0 && u.n >= OP_OFFLOAD_MIN_BATCH
  const computedOn = (il: number): number => (p.layers[il] === HOST_DEVICE && offload ? 0 : p.layers[il]!)
  // The output layer multiplies only the rows with logits: offloaded only when they are 32 or more.
  const outputComputed = p.output === HOST_DEVICE && offload && u.outputs >= OP_OFFLOAD_MIN_BATCH ? 0 : p.output
  // The last layer's feed-forward runs for the rows with logits only: under 32 of them it stays on the CPU.
  const lastFfnOnHost = offload && L > 0 && p.layers[L - 1] === HOST_DEVICE && u.outputs < OP_OFFLOAD_MIN_BATCH
  const shape: PrefillShape = { startPos: u.start, tokens: u.n, ubatch: u.n, cells: s.cells, outputs: u.outputs, ...(s.slidingCells !== undefined ? { slidingCells: s.slidingCells } : {}), ...(s.kvKey !== undefined ? { kvKey: s.kvKey } : {}) }
  const cost: UbatchCost = { stages: [], matmul: [], attention: [], state: [], output: [], overhead: [], parts: [], handoffs: 0, activationBytes: 0, busBytes: 0, handoff: { ms: 0, spread: 0 }, bus: { ms: 0, spread: 0 } }
  const stageMs = new Map<number, Term[]>()
  for (const grp of groups(p, computedOn, outputComputed)) {
    const r = ratesOf(rates, grp.computed)
    if (!r.rates) return { cost: null, reason: r.reason }
    const e = prefillEstimate(partGeometry(g, p, grp.layers, grp.output), grp.output ? r.rates : noFixed(r.rates), shape)
    cost.matmul.push({ ms: e.matmulMs, spread: e.spread })
    cost.attention.push({ ms: e.attentionMs, spread: e.spread })
    cost.state.push({ ms: e.stateMs, spread: e.spread })
    cost.output.push({ ms: e.outputMs, spread: e.spread })
    cost.overhead.push({ ms: e.overheadMs, spread: e.spread })
    cost.parts.push({ device: deviceName(p, grp.resident), computedOn: deviceName(p, grp.computed), layers: grp.layers.length, output: grp.output, ms: e.totalMs })
    const list = stageMs.get(grp.computed) ?? []
    list.push({ ms: e.totalMs, spread: e.spread })
    stageMs.set(grp.computed, list)
  }

  // The compute sequence (for the hand-offs between devices) and the op offload's copies.
  const seq: Array<{ device: number; rows: number }> = []
  const push = (device: number, rows: number): void => {
    const prev = seq[seq.length - 1]
    if (prev && prev.device !== device) {
      cost.handoffs++
      cost.activationBytes += rows * rowBytes(g)
    }
    seq.push({ device, rows })
  }
  const kvType = s.kvType ?? 'f16'
  const positions = attendedPositions(u.start + u.n - 1, s.cells)
  const slidingPositions = Math.min(positions, s.slidingCells ?? positions)
  const touched = g.expert_count > 0 && g.expert_used_count > 0 ? Math.min(1, (u.n * g.expert_used_count) / g.expert_count) : 1
  for (let il = 0; il < L; il++) {
    const dev = computedOn(il)
    const last = il === L - 1
    push(dev, u.n)
    if (p.layers[il] !== HOST_DEVICE || !offload) continue
    // A host-resident layer run on the GPU: its weights cross the bus (of the experts, those the ubatch routes to;
    // of the last layer's feed-forward nothing when it stays on the CPU) …
    const b = p.layerBytes[il] ?? 0
    const dense = b * (1 - p.expertBytesShare)
    const experts = b * p.expertBytesShare * touched
    cost.busBytes += last && lastFfnOnHost ? b * (1 - p.ffnBytesShare) : dense + experts
    // … and its cache stays in host memory: the new rows go down for the CPU's store, the attended cells come back.
    const kind = kindOf(g, p, il)
    const rb = cacheRowBytes(g, kind, kvType)
    if (kind !== '-') {
      cost.handoffs += 2
      cost.busBytes += (u.n + positions) * rb.full + (u.n + slidingPositions) * rb.sliding + 2 * rb.state
    }
    if (last && lastFfnOnHost) push(HOST_DEVICE, u.outputs)
  }
  if (outputComputed === 0 && p.output === HOST_DEVICE) cost.busBytes += headBytes(g)
  push(outputComputed, u.outputs)

  const o = rates.offload
  if ((cost.handoffs > 0 || cost.busBytes > 0) && !o) return { cost: null, reason: NO_OFFLOAD_FACTS }
  if (o) {
    cost.handoff = handoffTerm(o, cost.handoffs, cost.activationBytes)
    cost.bus = { ms: cost.busBytes > 0 ? (cost.busBytes / o.busBytesPerSec.value) * MS_PER_S : 0, spread: o.busBytesPerSec.spread }
  }
  // Stages in compute order; hand-offs and copies are charged to the stage they lead into (for the pipeline).
  const order: number[] = []
  for (const x of seq) if (!order.includes(x.device)) order.push(x.device)
  const extra = sumSpread([cost.handoff, cost.bus])
  cost.stages = order.map((d, i) => {
    const t = sumSpread(stageMs.get(d) ?? [])
    const lead = i === 0 ? { ms: 0, spread: 0 } : { ms: extra.ms / Math.max(1, order.length - 1), spread: extra.spread }
    return { device: d, ...sumSpread([t, lead]) }
  })
  if (order.length === 1) cost.stages[0] = { device: order[0]!, ...sumSpread([cost.stages[0]!, extra]) }
  return { cost }
}

/**
 * Prefill of `tokens` prompt tokens from `startPos` in ubatches, with the layers where `p` puts them. Per ubatch:
 * each device's layers at its rates (matmuls, attention, state, per-layer overhead), the output layer on its device
 * with the pass's fixed cost, a hand-off at every change of device (fixed cost + the ubatch's activations over the
 * bus); from 32 tokens up (the op offload) the host-resident layers run on the first GPU, their weights and KV rows
 * copied over the bus every ubatch and two hand-offs per cached layer. Ubatches add up, except that across several
 * GPUs with every layer offloaded consecutive ubatches of one call overlap (pipeline parallelism). With every layer
 * on one GPU, or everything on the CPU of a machine without GPUs, it is prefillEstimate with that device's rates.
 */
export function splitPrefillEstimate(g: ModelGeometry, p: Placement, rates: DeviceRates, s: SplitPrefillShape): Outcome<'estimate', SplitPrefillEstimate> {
  const bad = checkPlacement(g, p)
  if (bad) return { estimate: null, reason: bad }
  const single = singleDevice(p)
  // No op offload on a CPU build, nor when no ubatch reaches its threshold.
  if (single !== null && (single !== HOST_DEVICE || p.gpus.length === 0 || Math.min(s.ubatch, s.tokens) < OP_OFFLOAD_MIN_BATCH)) {
    const r = ratesOf(rates, single)
    if (!r.rates) return { estimate: null, reason: r.reason }
    const e = prefillEstimate(g, r.rates, s)
    const name = deviceName(p, single)
    return {
      estimate: { ...e, handoffMs: 0, handoffs: 0, activationBytes: 0, busMs: 0, busBytes: 0, pipelineSavedMs: 0, parts: [{ device: name, computedOn: name, layers: g.layers, output: true, ms: e.totalMs }] }
    }
  }
  const costs: UbatchCost[] = []
  for (const u of ubatches(s)) {
    const c = ubatchCost(g, p, rates, s, u)
    if (!c.cost) return { estimate: null, reason: c.reason }
    costs.push(c.cost)
  }
  const all = (k: 'matmul' | 'attention' | 'state' | 'output' | 'overhead'): Term => sumSpread(costs.flatMap((c) => c[k]))
  const handoff = sumSpread(costs.map((c) => c.handoff))
  const bus = sumSpread(costs.map((c) => c.bus))
  const parts = new Map<string, SplitPart>()
  for (const part of costs.flatMap((c) => c.parts)) {
    const key = `${part.device}\u0000${part.computedOn}`
    const had = parts.get(key)
    if (had) parts.set(key, { ...had, ms: had.ms + part.ms, layers: Math.max(had.layers, part.layers), output: had.output || part.output })
    else parts.set(key, { ...part })
  }
  const sums = [all('matmul'), all('attention'), all('state'), all('output'), all('overhead')]
  const sequential = sumSpread([...sums, handoff, bus])
  const saved = p.pipelineParallel ? sequential.ms - pipelinedMs(costs, s) : 0
  return {
    estimate: {
      totalMs: sequential.ms - Math.max(0, saved),
      matmulMs: sums[0]!.ms,
      attentionMs: sums[1]!.ms,
      stateMs: sums[2]!.ms,
      outputMs: sums[3]!.ms,
      overheadMs: sums[4]!.ms,
      spread: sequential.spread,
      handoffMs: handoff.ms,
      handoffs: costs.reduce((a, c) => a + c.handoffs, 0),
      activationBytes: costs.reduce((a, c) => a + c.activationBytes, 0),
      busMs: bus.ms,
      busBytes: costs.reduce((a, c) => a + c.busBytes, 0),
      pipelineSavedMs: Math.max(0, saved),
      parts: [...parts.values()]
    }
  }
}

/**
 * The pipelined time of the ubatches: within one call (n_batch tokens) ubatch k enters stage d when stage d has
 * finished ubatch k − 1 and stage d − 1 has finished ubatch k; calls run one after the other.
 */
function pipelinedMs(costs: readonly UbatchCost[], s: SplitPrefillShape): number {
  const perCall = Math.max(1, Math.floor((s.batch ?? Infinity) / Math.max(1, s.ubatch)))
  let total = 0
  for (let first = 0; first < costs.length; first += perCall) {
    const call = costs.slice(first, first + perCall)
    const stages = call[0]!.stages.length
    let prev = new Array<number>(stages).fill(0)
    for (const c of call) {
      const done = new Array<number>(stages).fill(0)
      for (let d = 0; d < stages; d++) done[d] = Math.max(prev[d]!, d > 0 ? done[d - 1]! : 0) + (c.stages[d]?.ms ?? 0)
      prev = done
    }
    total += prev[stages - 1]!
  }
  return total
}

/** What predict needs for a model, workload and machine: the placement, and decode and prefill under it. */
export interface SpeedLaw {
  placement: Placement
  /** Whether the split law applies (usesSplitLaw); false: the single-device law with the profile's `measured`. */
  split: boolean
  /** What the rates assume (GPUs of different models costed with the probed GPU's facts). */
  assumptions: string[]
  decode(s: DecodeShape): Outcome<'estimate', SplitDecodeEstimate>
  prefill(s: PrefillShape): Outcome<'estimate', SplitPrefillEstimate>
}

/**
 * The speed law for a model on a machine with a workload: where the placement keeps every layer on one GPU, or on a
 * CPU build, decodeEstimate/prefillEstimate with resolveRates(hardware) exactly as before (no hand-offs); otherwise
 * the split law. No law (with the reason) for -sm row or a main GPU llama.cpp does not list; a decode or prefill
 * without its facts is an outcome with the reason.
 */
export function speedLaw(profile: ModelProfile, hw: HardwareProfile, w: Workload, g: ModelGeometry = modelGeometry(profile)): Outcome<'law', SpeedLaw> {
  const placed = splitPlacement(profile, hw, w)
  if (!placed.placement) return { law: null, reason: placed.reason }
  const p = placed.placement
  if (!usesSplitLaw(p)) {
    const r = resolveRates(hw)
    const name = deviceName(p, p.output)
    const whole = (ms: number): SplitPart[] => [{ device: name, computedOn: name, layers: g.layers, output: true, ms }]
    return {
      law: {
        placement: p,
        split: false,
        assumptions: [],
        decode: (s) => {
          const e = decodeEstimate(g, r, s)
          return { estimate: { ...e, handoffMs: 0, handoffs: 0, activationBytes: 0, parts: whole(e.totalMs) } }
        },
        prefill: (s) => {
          const e = prefillEstimate(g, r, s)
          return { estimate: { ...e, handoffMs: 0, handoffs: 0, activationBytes: 0, busMs: 0, busBytes: 0, pipelineSavedMs: 0, parts: whole(e.totalMs) } }
        }
      }
    }
  }
  const rates = deviceRates(hw, p)
  return {
    law: {
      placement: p,
      split: true,
      assumptions: rates.assumptions,
      decode: (s) => splitDecodeEstimate(g, p, rates, s),
      prefill: (s) => splitPrefillEstimate(g, p, rates, { ...s, kvType: w.kv_type, batch: w.batch })
    }
  }
}
