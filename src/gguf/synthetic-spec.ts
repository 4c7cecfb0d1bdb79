// The synthetic model spec: what the GGUF writer is asked for (geometry per architecture family), the kinds of
// tensor fill, and the Mamba-2 defaults. Types, the architecture list and one pure helper; synthetic-layout.ts
// checks a spec and synthetic-architectures.ts lays it out.

import type { TensorSpec } from './encode.js'
import type { GgufKv } from './format.js'

/** `general.architecture` values the writer knows, spelled as llama.cpp's LLM_ARCH_NAMES (src/llama-arch.cpp). */
export const SYNTHETIC_ARCHITECTURES = [
  'llama',
  'qwen3moe',
  'qwen2',
  'qwen2moe',
  'gemma3',
  'gpt-oss',
  'deepseek2',
  'mamba2',
  'granitehybrid',
  'qwen3',
  'exaone4',
  'nomic-bert',
  'bert'
] as const
export type SyntheticArchitecture = (typeof SYNTHETIC_ARCHITECTURES)[number]

export interface SyntheticModelSpec {
  architecture: SyntheticArchitecture
  layers: number
  embeddingLength: number
  /** Dense FFN width; 0 for mamba2, which has none. */
  feedForwardLength: number
  /** Attention heads; 0 for mamba2. */
  heads: number
  /**
   * KV heads; 0 for mamba2; of the attention layers only for granitehybrid; 1 for deepseek2 (MLA is stored as MQA);
   * equal to heads for bert and nomic-bert (no GQA: their converters write no head_count_kv).
   */
  kvHeads: number
  /** Defaults to embeddingLength / heads. deepseek2: the value head width (v_head_dim), default nopeDims. */
  headDim?: number
  vocabSize: number
  /** Training context (`context_length`); bert: also the rows of its learned position_embd table. */
  contextLength: number
  expertCount?: number
  expertUsedCount?: number
  /** Per-expert FFN width (qwen3moe, qwen2moe, gpt-oss, deepseek2); defaults to feedForwardLength. */
  expertFeedForwardLength?: number
  /** No output.weight: llama.cpp reuses token_embd as the output head. Default: as the family's real models. */
  tiedEmbeddings?: boolean
  /** Sliding-window width in tokens (gemma3: optional, gpt-oss: required, exaone4: only at 64 layers). */
  slidingWindow?: number
  /** Shared experts per MoE layer (deepseek2); the shared FFN is expertFeedForwardLength × this wide. */
  sharedExpertCount?: number
  /** The shared expert's FFN width (qwen2moe); defaults to feedForwardLength. */
  sharedExpertFeedForwardLength?: number
  /** Leading layers with a dense FFN of feedForwardLength before the MoE layers (deepseek2). */
  leadingDenseLayers?: number
  /** MLA (deepseek2): the compressed KV width cached per token. */
  kvLoraRank?: number
  /** MLA (deepseek2): the rotary part of each query/key head. */
  ropeDims?: number
  /** MLA (deepseek2): the non-rotary part of each query/key head. */
  nopeDims?: number
  /** Mamba-2 (mamba2, granitehybrid): conv kernel width; default 4. */
  ssmConvKernel?: number
  /** Mamba-2: inner width; default 2 × embeddingLength (granitehybrid requires exactly that). */
  ssmInnerSize?: number
  /** Mamba-2: state size per head; default 128. */
  ssmStateSize?: number
  /** Mamba-2: SSM heads (`ssm.time_step_rank`); default ssmInnerSize / 64. */
  ssmTimeStepRank?: number
  /** Mamba-2: B/C groups; default 1. */
  ssmGroupCount?: number
  /** granitehybrid: indices of the attention layers; the others are Mamba-2 layers. */
  attentionLayers?: number[]
  seed: number
}

/**
 * How the writer fills a tensor: random small F16 values (weights), random small F32 values (biases, routers, conv
 * kernels, sinks), or constant F32 ones / minus ones (norm weights, Mamba-2 D / A).
 */
export type TensorFill = 'random-f16' | 'random-f32' | 'ones-f32' | 'minus-ones-f32'

export interface SyntheticTensor extends TensorSpec {
  fill: TensorFill
}

export interface SyntheticLayout {
  metadata: GgufKv[]
  tensors: SyntheticTensor[]
  alignment: number
}

/** Mamba2Model.set_gguf_parameters defaults (conversion/mamba.py): d_conv 4, d_state 128, head_dim 64, n_groups 1. */
const SSM_DEFAULT_CONV_KERNEL = 4
const SSM_DEFAULT_STATE_SIZE = 128
const SSM_DEFAULT_HEAD_DIM = 64

/** The Mamba-2 geometry with the converter's defaults filled in. */
export interface SsmGeometry {
  convKernel: number
  innerSize: number
  stateSize: number
  timeStepRank: number
  groupCount: number
}

export function ssmGeometry(spec: SyntheticModelSpec): SsmGeometry {
  const innerSize = spec.ssmInnerSize ?? 2 * spec.embeddingLength
  return {
    convKernel: spec.ssmConvKernel ?? SSM_DEFAULT_CONV_KERNEL,
    innerSize,
    stateSize: spec.ssmStateSize ?? SSM_DEFAULT_STATE_SIZE,
    timeStepRank: spec.ssmTimeStepRank ?? Math.max(1, Math.floor(innerSize / SSM_DEFAULT_HEAD_DIM)),
    groupCount: spec.ssmGroupCount ?? 1
  }
}
