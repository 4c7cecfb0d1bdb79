// Workload scores: how well a model suits a use on this machine, from its memory fit, its context length and the
// predicted speeds. Each workload names the context it needs, the speeds that make it pleasant, and how much memory,
// context and speed weigh; the score is 0–100. Pure.

import type { Prediction } from '../contracts/prediction.js'
import type { ModelProfile } from '../contracts/profile.js'
import type { ScenarioId } from '../contracts/scenarios.js'

export const WORKLOADS = ['chat', 'coding', 'tool_use', 'long_context', 'summarization', 'embedding', 'reranker'] as const
export type WorkloadName = (typeof WORKLOADS)[number]

interface WorkloadSpec {
  /** Model class the workload needs. */
  modelClass: 'causal-lm' | 'embedding' | 'reranker'
  /** Context tokens the use needs (a chat turn history, a code file, a document…). */
  contextTokens: number
  /** Speeds at which the use feels immediate; faster earns no more. */
  targets: Partial<Record<ScenarioId, number>>
  weights: { memory: number; context: number; speed: number }
}

/**
 * Targets are what a person notices: reading speed for chat (~10 tok/s), code and tool calls want snappier decode
 * and first tokens, long documents want fast prefill. Weights sum to 1.
 */
export const WORKLOAD_SPECS: Readonly<Record<WorkloadName, WorkloadSpec>> = {
  chat: { modelClass: 'causal-lm', contextTokens: 4096, targets: { steady_decode: 10, first_token: 1000 }, weights: { memory: 0.3, context: 0.2, speed: 0.5 } },
  coding: { modelClass: 'causal-lm', contextTokens: 16384, targets: { steady_decode: 20, prefill: 500, first_token: 1500 }, weights: { memory: 0.3, context: 0.3, speed: 0.4 } },
  tool_use: { modelClass: 'causal-lm', contextTokens: 8192, targets: { steady_decode: 15, first_token: 800, kv_warm_reuse: 15 }, weights: { memory: 0.3, context: 0.2, speed: 0.5 } },
  long_context: { modelClass: 'causal-lm', contextTokens: 65536, targets: { prefill: 1000, kv_warm_reuse: 8 }, weights: { memory: 0.3, context: 0.5, speed: 0.2 } },
  summarization: { modelClass: 'causal-lm', contextTokens: 32768, targets: { prefill: 800, steady_decode: 8 }, weights: { memory: 0.3, context: 0.4, speed: 0.3 } },
  embedding: { modelClass: 'embedding', contextTokens: 512, targets: { prefill: 1000 }, weights: { memory: 0.4, context: 0.1, speed: 0.5 } },
  reranker: { modelClass: 'reranker', contextTokens: 512, targets: { prefill: 1000 }, weights: { memory: 0.4, context: 0.1, speed: 0.5 } }
}

export interface WorkloadScore {
  workload: WorkloadName
  score: number
  memory: number
  context: number
  speed: number
  note: string
}

const MEMORY_SCORE = { fits: 1, 'fits-with-warning': 0.6, 'does-not-fit': 0 } as const

/** 0–1: how close a prediction is to the target, in the direction that is better. */
function speedScore(scenario: ScenarioId, predicted: number, target: number): number {
  const ratio = scenario === 'first_token' ? target / predicted : predicted / target
  return Math.max(0, Math.min(1, ratio))
}

export function scoreWorkloads(profile: ModelProfile, prediction: Prediction): WorkloadScore[] {
  return WORKLOADS.map((name) => {
    const spec = WORKLOAD_SPECS[name]
    if (profile.model_class !== spec.modelClass) {
      return { workload: name, score: 0, memory: 0, context: 0, speed: 0, note: `needs a ${spec.modelClass} model` }
    }
    const memory = MEMORY_SCORE[prediction.fit.status]
    const context = profile.context_length > 0 ? Math.min(1, profile.context_length / spec.contextTokens) : 0
    const parts: number[] = []
    for (const [scenario, target] of Object.entries(spec.targets) as [ScenarioId, number][]) {
      const p = prediction.scenarios.find((s) => s.scenario === scenario)
      parts.push(p ? speedScore(scenario, p.predicted, target) : 0)
    }
    const speed = parts.length > 0 ? parts.reduce((a, b) => a + b, 0) / parts.length : 0
    const w = spec.weights
    // A model that does not fit cannot serve the workload at all, whatever its other merits.
    const score = memory === 0 ? 0 : Math.round(100 * (w.memory * memory + w.context * context + w.speed * speed))
    const note =
      prediction.fit.status === 'does-not-fit'
        ? `split across ${prediction.fit.machines_for_split} machines (layer split) to run it`
        : context < 1
          ? `context ${profile.context_length} < ${spec.contextTokens} needed`
          : ''
    return { workload: name, score, memory, context: Number(context.toFixed(3)), speed: Number(speed.toFixed(3)), note }
  })
}
