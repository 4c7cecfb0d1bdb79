// GGUF headers → ModelProfile: the facts an estimator needs, computed exactly from tensor dims and types.
// Pure: headers in, data out.

import { GgufError } from '../util/errors.js'
import { TENSOR_GROUPS, type ModelClass, type ModelProfile, type TensorGroup } from '../contracts/profile.js'
import type { GgufHeader, GgufTensorInfo } from './format.js'
import { ggmlTypeByName, ggmlTypeName } from './ggml-types.js'
import { tensorDataBytes, tensorElements, tensorGroup, tensorRowBytes } from './groups.js'
import { ENCODER_ARCHITECTURES, POOLING_RANK, readHparams, type Hparams } from './hparams.js'
import { layerPlan } from './layers.js'
import { splitInfo } from './split.js'

/** KV cache types llama.cpp accepts for --cache-type-k/-v. */
export const KV_CACHE_TYPES = ['f32', 'f16', 'bf16', 'q8_0', 'q4_0', 'q4_1', 'q5_0', 'q5_1', 'iq4_nl'] as const
const F16_BYTES = 2

function sortedRecord(entries: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const k of [...entries.keys()].sort()) out[k] = entries.get(k)!
  return out
}

function add(m: Map<string, number>, k: string, v: number): void {
  m.set(k, (m.get(k) ?? 0) + v)
}

function modelClass(hp: Hparams, names: ReadonlySet<string>): ModelClass {
  const hasClsHead = names.has('cls.weight') || names.has('cls.output.weight')
  if (hp.poolingType === POOLING_RANK || hasClsHead || hp.hasClassifierLabels) return 'reranker'
  if (hp.poolingType !== null && hp.poolingType > 0) return 'embedding'
  if (ENCODER_ARCHITECTURES.has(hp.architecture)) return 'embedding'
  const hasOutputHead = names.has('output.weight') || names.has('lm_head.weight')
  if (!hasOutputHead && hp.causalAttention === false) return 'embedding'
  return 'causal-lm'
}

interface ActiveWeights {
  /** Fraction of the tensor's bytes read per token. */
  byteShare: number
  /** Bytes read per token (for lookups: one row). */
  bytes: number
  /** Matmul parameters used per token (0 for lookups and vectors). */
  matmulParams: number
}

/** What one decoded token reads from a tensor and multiplies with. */
function activeWeights(t: GgufTensorInfo, group: TensorGroup, expertShare: number, tiedOutput: boolean): ActiveWeights {
  const bytes = tensorDataBytes(t)
  const elements = tensorElements(t)
  const isMatrix = t.dims.length >= 2 && (t.dims[1] ?? 1) > 1
  if (group === 'embedding') {
    // A tied output head multiplies with the whole token table once per token (which covers the row lookup).
    if (tiedOutput && t.name === 'token_embd.weight') return { byteShare: 1, bytes, matmulParams: elements }
    const row = tensorRowBytes(t)
    return { byteShare: bytes === 0 ? 0 : row / bytes, bytes: row, matmulParams: 0 }
  }
  const share = group === 'ffn_expert' ? expertShare : 1
  return { byteShare: share, bytes: bytes * share, matmulParams: isMatrix && group !== 'norm' ? elements * share : 0 }
}

/** Headers sorted by split.no, checked to be one complete set. */
function orderedShards(headers: readonly GgufHeader[], source: string): GgufHeader[] {
  if (headers.length === 0) throw new GgufError(source, null, 'no GGUF headers')
  const withNo = headers.map((h, i) => ({ h, ...splitInfo(h, headers.length > 1 ? `${source} shard ${i + 1}` : source) }))
  withNo.sort((a, b) => a.no - b.no)
  const count = withNo[0]!.count
  if (count !== headers.length) throw new GgufError(source, 'key split.count', `says ${count} shards, got ${headers.length}`)
  withNo.forEach((s, i) => {
    if (s.no !== i) throw new GgufError(source, 'key split.no', `shard ${i} is missing (got split.no ${s.no})`)
  })
  return withNo.map((s) => s.h)
}

/** The output head's weight type: output.weight (lm_head), else the token table it is tied to; null without either. */
function outputTypeOf(tensors: readonly { name: string; type: number }[]): string | null {
  const head = tensors.find((t) => t.name === 'output.weight' || t.name === 'lm_head.weight') ?? tensors.find((t) => t.name === 'token_embd.weight')
  return head ? ggmlTypeName(head.type) : null
}

/**
 * Builds the profile of a model from the headers of all its shards (any order) and the total file bytes.
 * `source` names the model in errors.
 */
export function buildProfile(headers: readonly GgufHeader[], fileBytes: number, source = '<gguf>'): ModelProfile {
  const shards = orderedShards(headers, source)
  const hp = readHparams(shards[0]!.metadata, source)
  const tensors = shards.flatMap((h) => h.tensors)
  const names = new Set(tensors.map((t) => t.name))
  const cls = modelClass(hp, names)
  const tiedOutput = cls === 'causal-lm' && !names.has('output.weight') && !names.has('lm_head.weight') && names.has('token_embd.weight')
  const expertShare = hp.expertCount > 0 && hp.expertUsedCount > 0 ? Math.min(1, hp.expertUsedCount / hp.expertCount) : 1

  const byGroup = new Map<string, number>(TENSOR_GROUPS.map((g) => [g, 0]))
  const layerBytes = new Array<number>(Math.max(0, hp.layers)).fill(0)
  const byType = new Map<string, number>()
  const activeByType = new Map<string, number>()
  let tensorBytes = 0
  let paramCount = 0
  let activeBytes = 0
  let matmulParams = 0
  let hasSharedExpertTensors = false
  /** Widest shared-expert up projection of a layer: the shared experts' FFN width (all of them, one tensor). */
  let sharedExpertWidth = 0
  for (const t of tensors) {
    const group = tensorGroup(t.name)
    const bytes = tensorDataBytes(t)
    const typeName = ggmlTypeName(t.type)
    tensorBytes += bytes
    paramCount += tensorElements(t)
    add(byGroup, group, bytes)
    const blk = /^blk\.(\d+)\./.exec(t.name)
    if (blk && Number(blk[1]) < layerBytes.length) layerBytes[Number(blk[1])]! += bytes
    add(byType, typeName, bytes)
    if (group === 'ffn_shared_expert') {
      hasSharedExpertTensors = true
      if (/\.ffn_up_shexp\.weight$/.test(t.name)) sharedExpertWidth = Math.max(sharedExpertWidth, t.dims[1] ?? 0)
    }
    const a = activeWeights(t, group, expertShare, tiedOutput)
    activeBytes += a.bytes
    add(activeByType, typeName, a.bytes)
    matmulParams += a.matmulParams
  }

  const plan = layerPlan(shards[0]!.metadata, hp, names)

  const tokenEmbd = tensors.find((t) => t.name === 'token_embd.weight')
  return {
    architecture: hp.architecture,
    model_class: cls,
    file_type: hp.fileType,
    shards: shards.length,
    file_bytes: fileBytes,
    tensor_bytes: tensorBytes,
    tensor_count: tensors.length,
    param_count: paramCount,
    layers: hp.layers,
    embedding_length: hp.embeddingLength,
    feed_forward_length: hp.feedForwardLength,
    expert_feed_forward_length: hp.expertFeedForwardLength,
    heads: Math.max(0, ...hp.headsPerLayer),
    // Per-layer kv head arrays are summarised by their maximum here; kvBytesPerTokenF16 sums them per layer.
    kv_heads: Math.max(0, ...hp.kvHeadsPerLayer),
    key_length: hp.keyLength,
    value_length: hp.valueLength,
    expert_count: hp.expertCount,
    expert_used_count: hp.expertUsedCount,
    shared_expert_count: hp.sharedExpertCount ?? (hasSharedExpertTensors ? 1 : 0),
    shared_expert_feed_forward_length: sharedExpertWidth,
    vocab_size: hp.vocabSize ?? tokenEmbd?.dims[1] ?? 0,
    context_length: hp.contextLength,
    bytes_by_group: sortedRecord(byGroup) as Record<TensorGroup, number>,
    bytes_by_type: sortedRecord(byType),
    active_bytes_per_token: activeBytes,
    active_bytes_by_type: sortedRecord(activeByType),
    flops_per_token: 2 * matmulParams,
    attention_flops_per_token_per_depth: plan.full_attention_flops_per_position,
    kv_bytes_per_token_f16: (plan.full_k_elements + plan.full_v_elements) * F16_BYTES,
    layer_plan: plan,
    layer_bytes: layerBytes,
    output_type: outputTypeOf(tensors)
  }
}

/** Bytes of `elements` cached K or V elements at a cache type ("f16", "q8_0", …); rows are whole blocks in real models. */
export function kvElementBytes(elements: number, kvType: string): number {
  const lower = kvType.toLowerCase()
  const info = (KV_CACHE_TYPES as readonly string[]).includes(lower) ? ggmlTypeByName(lower) : undefined
  if (!info) throw new GgufError('kv cache type', null, `"${kvType}" is not one of ${KV_CACHE_TYPES.join(', ')}`)
  return (elements * info.typeSize) / info.blockSize
}

/**
 * KV cache bytes per token of context over the full-attention layers at a cache type: the F16 figure rescaled by
 * the type's bytes per element (equal to summing rowBytes(K) + rowBytes(V) per layer).
 */
export function kvBytesPerToken(profile: ModelProfile, kvType: string): number {
  return kvElementBytes(profile.kv_bytes_per_token_f16 / F16_BYTES, kvType)
}
