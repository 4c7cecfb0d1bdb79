// The workload the scenarios run (and the estimator is asked about). Defaults are sized for the CPU demo: a tiny
// model on a 2-core runner finishes every scenario in seconds, while the shapes still match what users run
// (a 512-token prompt batch, a 4k context).

import { availableParallelism } from 'node:os'
import { DEFAULT_PARALLEL_SLOTS, parallelShape, type Workload } from '../contracts/workload.js'

export { DEFAULT_PARALLEL_SLOTS, parallelShape }
import { InputError } from '../util/errors.js'

/** KV cache types llama.cpp accepts for -ctk/-ctv (common/arg.cpp kv_cache_types). */
export const KV_CACHE_TYPES = ['f32', 'f16', 'bf16', 'q8_0', 'q4_0', 'q4_1', 'iq4_nl', 'q5_0', 'q5_1'] as const

/** KV cache types llama.cpp runs without flash attention (the rest are block-quantized). */
const UNQUANTIZED_KV_TYPES: readonly string[] = ['f32', 'f16', 'bf16']

/**
 * The workload's gpu_layers for `auto`: as many layers as fit. llama.cpp's own -ngl auto (common_fit_params) is what
 * a run resolves it with, per model, before predicting or running anything (resolvedGpuLayers).
 */
export const AUTO_GPU_LAYERS = -1

/** Tokens the server needs beyond a request's prompt and predictions (the slot keeps the last sampled token). */
export const SERVER_CONTEXT_SLACK_TOKENS = 1
/** first_token predicts this many tokens: the first, then one decode step whose time is the first_decode_ms. */
export const FIRST_TOKEN_PREDICT = 2

/**
 * A Workload with CPU-demo defaults, `overrides` applied, validated.
 * - context 4096: a common serving context; its KV cache is small for tiny models.
 * - decode 64 tokens at depth 0: long enough that per-run overhead is noise, short enough for 2 cores.
 * - prefill 512 = one ubatch: the batch shape llama-bench and the estimator both use by default.
 * - first_token 256-token prompt: a chat-turn-sized prompt that keeps the first token under a second on CPU.
 * - warm reuse 512 cached + 64 new tokens, 32 decoded: a follow-up turn on a cached conversation.
 * - threads = the cores Node may use; gpu_layers 99 = everything on the GPU when there is one.
 * - parallel_decode: 4 slots, each stream a 64-token prompt and 64 decoded tokens (a small chat server's load).
 */
export function defaultWorkload(overrides: Partial<Workload> = {}): Workload {
  const w: Workload = {
    context_tokens: 4096,
    kv_type: 'f16',
    decode_depth: 0,
    decode_tokens: 64,
    prefill_tokens: 512,
    prefill_depth: 0,
    first_token_prompt_tokens: 256,
    warm_prefix_tokens: 512,
    warm_suffix_tokens: 64,
    warm_decode_tokens: 32,
    ubatch: 512,
    batch: 2048,
    threads: availableParallelism(),
    gpu_layers: 99,
    flash_attention: false,
    parallel_slots: DEFAULT_PARALLEL_SLOTS,
    parallel_prompt_tokens: 64,
    parallel_decode_tokens: 64,
    ...overrides
  }
  validateWorkload(w)
  return w
}

/**
 * The flags llama-bench and llama-server share for a workload, in one place so both processes always run the same
 * threads, GPU offload, batch shape, KV type and flash-attention setting (flag spellings are the same in both tools).
 */
export function llamaWorkloadFlags(w: Workload): string[] {
  // llama-bench takes -ngl -1 as "all layers", llama-server as "auto": a run resolves auto per model first.
  if (w.gpu_layers === AUTO_GPU_LAYERS) throw new Error('gpu_layers auto must be resolved per model before llama.cpp runs it')
  return [
    '-t', String(w.threads),
    '-ngl', String(w.gpu_layers),
    '-b', String(w.batch),
    '-ub', String(w.ubatch),
    '-ctk', w.kv_type,
    '-ctv', w.kv_type,
    '-fa', w.flash_attention ? 'on' : 'off',
    ...(w.tensor_split ? ['-ts', w.tensor_split.join(',')] : []),
    ...(w.split_mode ? ['-sm', w.split_mode] : []),
    ...(w.main_gpu !== undefined ? ['-mg', String(w.main_gpu)] : [])
  ]
}

/** Throws InputError('workload', field, …) for a workload llama.cpp cannot run as the scenarios need. */
export function validateWorkload(w: Workload, source = 'workload'): void {
  const positive = ['context_tokens', 'decode_tokens', 'prefill_tokens', 'first_token_prompt_tokens', 'warm_prefix_tokens',
    'warm_suffix_tokens', 'warm_decode_tokens', 'ubatch', 'batch', 'threads'] as const
  for (const k of positive) {
    if (!Number.isInteger(w[k]) || w[k] < 1) throw new InputError(source, k, `must be an integer ≥ 1, got ${w[k]}`)
  }
  for (const k of ['decode_depth', 'prefill_depth'] as const) {
    const v = w[k] ?? 0
    if (!Number.isInteger(v) || v < 0) throw new InputError(source, k, `must be an integer ≥ 0, got ${v}`)
  }
  for (const k of ['parallel_slots', 'parallel_prompt_tokens', 'main_gpu'] as const) {
    const v = w[k]
    const min = k === 'main_gpu' ? 0 : 1
    if (v !== undefined && (!Number.isInteger(v) || v < min)) throw new InputError(source, k, `must be an integer ≥ ${min}, got ${v}`)
  }
  if (w.parallel_decode_tokens !== undefined && (!Number.isInteger(w.parallel_decode_tokens) || w.parallel_decode_tokens < 2)) {
    // As warm reuse: the first token comes from the prompt's logits, so at least one decode step must follow.
    throw new InputError(source, 'parallel_decode_tokens', `must be an integer ≥ 2 so at least one decode step is timed, got ${w.parallel_decode_tokens}`)
  }
  if (w.split_mode !== undefined && !['none', 'layer', 'row'].includes(w.split_mode)) {
    throw new InputError(source, 'split_mode', `expected none, layer or row, got "${String(w.split_mode).slice(0, 40)}"`)
  }
  if (!Number.isInteger(w.gpu_layers) || w.gpu_layers < AUTO_GPU_LAYERS) {
    throw new InputError(source, 'gpu_layers', `must be an integer ≥ 0 or auto, got ${w.gpu_layers}`)
  }
  if (w.tensor_split && (w.tensor_split.length === 0 || !w.tensor_split.every((x) => Number.isFinite(x) && x >= 0) || !w.tensor_split.some((x) => x > 0))) {
    throw new InputError(source, 'tensor_split', `must be shares ≥ 0 per GPU, at least one above 0, got ${JSON.stringify(w.tensor_split)}`)
  }
  if (!(KV_CACHE_TYPES as readonly string[]).includes(w.kv_type)) {
    throw new InputError(source, 'kv_type', `unknown KV cache type "${w.kv_type}" (expected one of ${KV_CACHE_TYPES.join(', ')})`)
  }
  if (!UNQUANTIZED_KV_TYPES.includes(w.kv_type) && !w.flash_attention) {
    // llama_init_from_model refuses a quantized V cache with flash attention off (src/llama-context.cpp).
    throw new InputError(source, 'kv_type', `a quantized KV cache (${w.kv_type}) needs flash attention on (llama.cpp refuses it without)`)
  }
  if (w.warm_decode_tokens < 2) {
    // The server's decode rate counts steps after the first token (which comes from the prompt's logits).
    throw new InputError(source, 'warm_decode_tokens', `must be ≥ 2 so at least one decode step is timed, got ${w.warm_decode_tokens}`)
  }
  if (w.ubatch > w.batch) throw new InputError(source, 'ubatch', `${w.ubatch} exceeds batch ${w.batch}`)
  const fits = (field: keyof Workload, tokens: number) => {
    if (tokens > w.context_tokens) {
      throw new InputError(source, field, `needs ${tokens} tokens of context, more than context_tokens ${w.context_tokens}`)
    }
  }
  fits('decode_depth', w.decode_depth + w.decode_tokens)
  fits('prefill_depth', (w.prefill_depth ?? 0) + w.prefill_tokens)
  fits('first_token_prompt_tokens', w.first_token_prompt_tokens + FIRST_TOKEN_PREDICT + SERVER_CONTEXT_SLACK_TOKENS)
  fits('warm_prefix_tokens', w.warm_prefix_tokens + w.warm_suffix_tokens + w.warm_decode_tokens + SERVER_CONTEXT_SLACK_TOKENS)
}

/**
 * parallel_decode's streams must fit their slots: llama-server gives each of its -np slots context / slots cells (no
 * unified KV cache by default). Checked only where parallel_decode runs: a small context is fine for the others.
 */
export function validateParallel(w: Workload, source = 'workload'): void {
  const par = parallelShape(w)
  const perSlot = Math.floor(w.context_tokens / par.slots)
  if (par.promptTokens + par.decodeTokens + SERVER_CONTEXT_SLACK_TOKENS > perSlot) {
    throw new InputError(source, 'parallel_prompt_tokens', `a parallel_decode stream needs ${par.promptTokens + par.decodeTokens + SERVER_CONTEXT_SLACK_TOKENS} tokens, more than each of the ${par.slots} slots' ${perSlot} (context_tokens / parallel_slots)`)
  }
}

/** A timed window grows to at most this many times the workload's own count (a bound on the run's time). */
export const MAX_WINDOW_SCALE = 8

/**
 * Decode token counts that make each timed decode window last at least `minWindowS` at the predicted rates (tok/s;
 * parallel_decode's is the aggregate of all streams), never fewer than the workload's, at most MAX_WINDOW_SCALE times
 * them and within the context. Only the counts that change are returned. Prefill keeps its prompt: a longer prompt
 * is another workload (its attention spans more positions), so its window is the prompt the user asked for.
 */
export function sizedWindows(w: Workload, rates: Partial<Record<'steady_decode' | 'kv_warm_reuse' | 'parallel_decode', number>>, minWindowS: number): Partial<Workload> {
  const out: Partial<Workload> = {}
  if (!(minWindowS > 0)) return out
  const grow = (count: number, rate: number | undefined, room: number): number => {
    if (!(rate !== undefined && rate > 0)) return count
    const wanted = Math.ceil(minWindowS * rate)
    return Math.max(count, Math.min(wanted, MAX_WINDOW_SCALE * count, room))
  }
  const decode = grow(w.decode_tokens, rates.steady_decode, w.context_tokens - w.decode_depth)
  if (decode !== w.decode_tokens) out.decode_tokens = decode
  const warmRoom = w.context_tokens - w.warm_prefix_tokens - w.warm_suffix_tokens - SERVER_CONTEXT_SLACK_TOKENS
  const warm = grow(w.warm_decode_tokens, rates.kv_warm_reuse, warmRoom)
  if (warm !== w.warm_decode_tokens) out.warm_decode_tokens = warm
  const par = parallelShape(w)
  const slotRoom = Math.floor(w.context_tokens / par.slots) - par.promptTokens - SERVER_CONTEXT_SLACK_TOKENS
  // Each stream decodes its count while all decode together: the window lasts count / (aggregate / streams).
  const parallel = grow(par.decodeTokens, rates.parallel_decode !== undefined ? rates.parallel_decode / par.slots : undefined, slotRoom)
  if (parallel !== par.decodeTokens) out.parallel_decode_tokens = parallel
  return out
}
