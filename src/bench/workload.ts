// The workload the scenarios run (and the estimator is asked about). Defaults are sized for the CPU demo: a tiny
// model on a 2-core runner finishes every scenario in seconds, while the shapes still match what users run
// (a 512-token prompt batch, a 4k context).

import { availableParallelism } from 'node:os'
import type { Workload } from '../contracts/workload.js'
import { InputError } from '../util/errors.js'

/** KV cache types llama.cpp accepts for -ctk/-ctv (common/arg.cpp kv_cache_types). */
export const KV_CACHE_TYPES = ['f32', 'f16', 'bf16', 'q8_0', 'q4_0', 'q4_1', 'iq4_nl', 'q5_0', 'q5_1'] as const

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
 * - threads = the cores Node may use; gpuLayers 99 = everything on the GPU when there is one.
 */
export function defaultWorkload(overrides: Partial<Workload> = {}): Workload {
  const w: Workload = {
    contextTokens: 4096,
    kvType: 'f16',
    decodeDepth: 0,
    decodeTokens: 64,
    prefillTokens: 512,
    firstTokenPromptTokens: 256,
    warmPrefixTokens: 512,
    warmSuffixTokens: 64,
    warmDecodeTokens: 32,
    ubatch: 512,
    batch: 2048,
    threads: availableParallelism(),
    gpuLayers: 99,
    flashAttention: false,
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
  return [
    '-t', String(w.threads),
    '-ngl', String(w.gpuLayers),
    '-b', String(w.batch),
    '-ub', String(w.ubatch),
    '-ctk', w.kvType,
    '-ctv', w.kvType,
    '-fa', w.flashAttention ? 'on' : 'off'
  ]
}

/** Throws InputError('workload', field, …) for a workload llama.cpp cannot run as the scenarios need. */
export function validateWorkload(w: Workload, source = 'workload'): void {
  const positive = ['contextTokens', 'decodeTokens', 'prefillTokens', 'firstTokenPromptTokens', 'warmPrefixTokens',
    'warmSuffixTokens', 'warmDecodeTokens', 'ubatch', 'batch', 'threads'] as const
  for (const k of positive) {
    if (!Number.isInteger(w[k]) || w[k] < 1) throw new InputError(source, k, `must be an integer ≥ 1, got ${w[k]}`)
  }
  if (!Number.isInteger(w.decodeDepth) || w.decodeDepth < 0) {
    throw new InputError(source, 'decodeDepth', `must be an integer ≥ 0, got ${w.decodeDepth}`)
  }
  if (!Number.isInteger(w.gpuLayers) || w.gpuLayers < 0) {
    throw new InputError(source, 'gpuLayers', `must be an integer ≥ 0, got ${w.gpuLayers}`)
  }
  if (!(KV_CACHE_TYPES as readonly string[]).includes(w.kvType)) {
    throw new InputError(source, 'kvType', `unknown KV cache type "${w.kvType}" (expected one of ${KV_CACHE_TYPES.join(', ')})`)
  }
  if (w.warmDecodeTokens < 2) {
    // The server's decode rate counts steps after the first token (which comes from the prompt's logits).
    throw new InputError(source, 'warmDecodeTokens', `must be ≥ 2 so at least one decode step is timed, got ${w.warmDecodeTokens}`)
  }
  if (w.ubatch > w.batch) throw new InputError(source, 'ubatch', `${w.ubatch} exceeds batch ${w.batch}`)
  const fits = (field: keyof Workload, tokens: number) => {
    if (tokens > w.contextTokens) {
      throw new InputError(source, field, `needs ${tokens} tokens of context, more than contextTokens ${w.contextTokens}`)
    }
  }
  fits('decodeDepth', w.decodeDepth + w.decodeTokens)
  fits('prefillTokens', w.prefillTokens)
  fits('firstTokenPromptTokens', w.firstTokenPromptTokens + FIRST_TOKEN_PREDICT + SERVER_CONTEXT_SLACK_TOKENS)
  fits('warmPrefixTokens', w.warmPrefixTokens + w.warmSuffixTokens + w.warmDecodeTokens + SERVER_CONTEXT_SLACK_TOKENS)
}
