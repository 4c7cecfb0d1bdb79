// The layer plan: which layers llama.cpp builds as full attention, sliding-window attention or recurrent layers, and
// what each caches, derived from the header as the pinned llama.cpp's loader derives it. Pure.
//
// Where each rule comes from (llama.cpp src/):
// - sliding layers: each architecture's load_arch_hparams (models/<arch>.cpp) sets swa_type and calls
//   load_swa_pattern(n, dense_first) (llama-model.cpp), which takes `{arch}.attention.sliding_window_pattern` (a
//   per-layer array, or a number) over the architecture's default; llama_hparams::set_swa_pattern marks layer il
//   sliding when il % n < n − 1 (dense_first: when il % n != 0), every layer when n is 0.
// - recurrent layers: llm_arch_is_recurrent (every layer) and the hybrids of llm_arch_is_hybrid (llama-arch.cpp),
//   each with its own rule (head_count_kv 0, recurrent_layers / full_attention_interval, …); the caches take their
//   layers by the filters of llama_model::create_memory.
// - cached widths: llama_kv_cache's constructor stores K of n_embd_k_gqa(il) and, except for MLA, V of
//   n_embd_v_gqa(il) per cell (V padded to the widest layer without flash attention); llama_memory_recurrent stores
//   n_embd_r() + n_embd_s() f32 per layer and sequence (llama-hparams.cpp).

import type { LayerPlan } from '../contracts/profile.js'
import type { GgufValue } from './format.js'
import { numbers, type Hparams } from './hparams.js'
import { LLAMA_ARCHITECTURES } from './llama-architectures.js'

type Meta = Record<string, GgufValue>

/** When an architecture has sliding layers, from the window key (`window`, 0 when absent) and the layer count. */
interface SwaRule {
  /** load_swa_pattern's default period; null when the pattern comes only from the per-layer array key. */
  period: number | null
  denseFirst?: boolean
  active: (windowKey: number | null, layers: number) => boolean
  /** n_swa when the key is absent. */
  defaultWindow?: number
  /** n_swa whatever the key says (smallthinker). */
  fixedWindow?: number
}

const always = (): boolean => true
const keyPositive = (w: number | null): boolean => w !== null && w > 0

/** Architectures with sliding-window layers and llama.cpp's rule for each (models/<arch>.cpp, load_arch_hparams). */
const SWA_RULES: Readonly<Record<string, SwaRule>> = {
  gemma2: { period: 2, active: always, defaultWindow: 4096 },
  gemma3: { period: 6, active: keyPositive },
  gemma3n: { period: 5, active: always },
  'gemma-embedding': { period: 6, active: always },
  cohere2: { period: 4, active: always },
  cohere2moe: { period: 4, denseFirst: true, active: always },
  'gpt-oss': { period: 2, active: always },
  olmo2: { period: 4, active: keyPositive },
  // A window key of 0 turns llama4's chunked attention off; otherwise chunks are 8192 tokens whatever the key says.
  llama4: { period: 4, active: (w) => w !== 0, fixedWindow: 8192 },
  afmoe: { period: 4, active: keyPositive },
  mellum: { period: 4, active: keyPositive },
  plamo3: { period: 8, active: keyPositive },
  smallthinker: { period: 4, denseFirst: true, active: keyPositive, fixedWindow: 4096 },
  laguna: { period: 4, denseFirst: true, active: keyPositive },
  'muse-glimmer': { period: 4, active: always },
  // LFM2 makes every attention layer sliding when it has a window.
  lfm2: { period: 0, active: keyPositive },
  'exaone-moe': { period: 4, active: always, defaultWindow: 128 },
  // llama.cpp turns sliding layers on for exaone4 only at 64 layers (its 32B).
  exaone4: { period: 4, active: (_w, layers) => layers === 64, defaultWindow: 4096 },
  gemma4: { period: null, active: always },
  granite_swa: { period: null, active: always },
  mimo2: { period: null, active: always },
  step35: { period: null, active: always },
  maple: { period: null, active: always },
  spark2_5: { period: null, active: always }
}

/**
 * Architectures whose converters write a sliding_window key that llama.cpp ignores: phi3 ("Phi SWA is currently
 * disabled"), deepseek2-ocr (its decoder attends the whole context). Every layer attends the context.
 */
const SWA_IGNORED: ReadonlySet<string> = new Set(['phi3', 'deepseek2-ocr'])

/** llm_arch_is_recurrent: every layer is recurrent. */
const RECURRENT_ARCHITECTURES: ReadonlySet<string> = new Set(['mamba', 'mamba2', 'rwkv6', 'rwkv6qwen2', 'rwkv7', 'arwkv7'])

type HybridRule = 'kv-zero' | 'nemotron' | 'both' | 'interval'
/** llm_arch_is_hybrid, with how each marks its recurrent layers (models/<arch>.cpp) and create_memory's filters. */
const HYBRID_RULES: Readonly<Record<string, HybridRule>> = {
  jamba: 'kv-zero',
  plamo2: 'kv-zero',
  granitehybrid: 'kv-zero',
  lfm2: 'kv-zero',
  lfm2moe: 'kv-zero',
  'kimi-linear': 'kv-zero',
  'kimi-k3': 'kv-zero',
  bailingmoe3: 'kv-zero',
  // Layers with a feed-forward width are plain MLP layers: neither attention nor state.
  nemotron_h: 'nemotron',
  nemotron_h_moe: 'nemotron',
  // Every layer runs attention and an SSM side by side.
  'falcon-h1': 'both',
  qwen3next: 'interval',
  qwen35: 'interval',
  qwen35moe: 'interval',
  qwen4exp: 'interval',
  'minimax-01': 'interval'
}

/** Architectures llama.cpp runs without a KV cache at all (create_memory returns no memory): encoders, diffusion. */
const NO_MEMORY_ARCHITECTURES: ReadonlySet<string> = new Set([
  'bert',
  'jina-bert-v2',
  'jina-bert-v3',
  'nomic-bert',
  'nomic-bert-moe',
  'neo-bert',
  'eurobert',
  'wavtokenizer-dec',
  'modern-bert',
  'gemma-embedding',
  'dream',
  'llada',
  'llada-moe',
  'rnd1'
])

/** full_attention_interval when the header has none (models/<arch>.cpp): every 4th layer attends, minimax-01's every 8th. */
const DEFAULT_FULL_ATTENTION_INTERVAL: Readonly<Record<string, number>> = { 'minimax-01': 8 }

/** Architectures whose caches llama.cpp builds by rules this plan does not model (shared KV layers, own caches). */
const UNMODELLED: Readonly<Record<string, string>> = {
  gemma3n: 'layers that reuse an earlier layer\'s KV cache counted as caching their own',
  gemma4: 'layers that reuse an earlier layer\'s KV cache counted as caching their own',
  deepseek4: 'its compressed and indexer caches costed as a plain KV cache',
  deepseek32: 'its indexer key cache left out',
  'glm-dsa': 'its indexer key cache left out',
  dots3note: 'its indexer key cache left out',
  'minimax-m3': 'its indexer key cache left out',
  hy_v4: 'its indexer key cache left out',
  nanbeige: 'its looped layers (num_loops) counted once, though llama.cpp caches every loop',
  dflash: 'its draft stages\' caches costed as plain attention'
}

/** A plan with no layers of any kind: the base the plan is built on (and an upgraded report's plan). */
export function emptyLayerPlan(): LayerPlan {
  return {
    full_attention_layers: 0,
    sliding_attention_layers: 0,
    sliding_window: 0,
    recurrent_layers: 0,
    full_k_elements: 0,
    full_v_elements: 0,
    sliding_k_elements: 0,
    sliding_v_elements: 0,
    v_elements_max: 0,
    full_query_elements: 0,
    sliding_query_elements: 0,
    full_attention_flops_per_position: 0,
    sliding_attention_flops_per_position: 0,
    recurrent_state_elements: 0,
    ssm_inner_size: 0,
    ssm_conv_channels: 0,
    dense_ffn_layers: 0,
    attention_sink_layers: 0,
    mla_kv_lora_rank: 0,
    assumptions: []
  }
}

/** `tensorNames`: the model's tensor names (dense feed-forward layers are counted from them). */
export function layerPlan(meta: Meta, hp: Hparams, tensorNames: Iterable<string> = []): LayerPlan {
  const arch = hp.architecture
  const key = (k: string): string => `${arch}.${k}`
  const scalar = (k: string): number | null => numbers(meta[key(k)])?.[0] ?? null
  const assumptions: string[] = []
  const n = hp.layers
  // MTP (next-token prediction) layers sit after the trunk and are not part of the model's own caches.
  const trunk = Math.max(0, n - (scalar('nextn_predict_layers') ?? 0))

  // Sliding layers.
  const windowKey = scalar('attention.sliding_window')
  const rule = SWA_RULES[arch]
  let window = 0
  const sliding = new Array<boolean>(n).fill(false)
  if (rule && rule.active(windowKey, trunk)) {
    window = rule.fixedWindow ?? windowKey ?? rule.defaultWindow ?? 0
    const explicit = numbers(meta[key('attention.sliding_window_pattern')])
    if (explicit && explicit.length === n) explicit.forEach((v, i) => (sliding[i] = v !== 0))
    else {
      const period = explicit?.length === 1 ? explicit[0]! : rule.period
      if (period === null) assumptions.push(`${arch}: no per-layer sliding_window_pattern in the header; every layer costed as full attention`)
      else for (let il = 0; il < n; il++) sliding[il] = period === 0 || (rule.denseFirst ? il % period !== 0 : il % period < period - 1)
    }
    if (window === 0) sliding.fill(false)
  } else if (!rule && windowKey !== null && windowKey > 0 && !SWA_IGNORED.has(arch) && !NO_MEMORY_ARCHITECTURES.has(arch) && !UNMODELLED[arch]) {
    assumptions.push(`${arch}: has a sliding_window of ${windowKey} but its layer pattern is not known here; every layer costed as full attention (an upper bound)`)
  }

  // Recurrent layers.
  const ff = numbers(meta[key('feed_forward_length')])
  const ffAt = (il: number): number => (ff && ff.length === n ? ff[il]! : (ff?.[0] ?? 0))
  const recurrent = new Array<boolean>(n).fill(false)
  const attends = new Array<boolean>(n).fill(true)
  const hybrid = HYBRID_RULES[arch]
  if (RECURRENT_ARCHITECTURES.has(arch)) {
    recurrent.fill(true)
    attends.fill(false)
  } else if (hybrid === 'kv-zero') {
    for (let il = 0; il < n; il++) {
      recurrent[il] = (hp.kvHeadsPerLayer[il] ?? 0) === 0
      attends[il] = !recurrent[il]
    }
  } else if (hybrid === 'nemotron') {
    for (let il = 0; il < n; il++) {
      const mlp = ffAt(il) !== 0
      recurrent[il] = il < trunk && (hp.kvHeadsPerLayer[il] ?? 0) === 0 && !mlp
      attends[il] = !recurrent[il] && !mlp
    }
  } else if (hybrid === 'both') {
    recurrent.fill(true)
  } else if (hybrid === 'interval') {
    const listed = numbers(meta[key('attention.recurrent_layers')])
    const interval = scalar('full_attention_interval') ?? DEFAULT_FULL_ATTENTION_INTERVAL[arch] ?? 4
    for (let il = 0; il < n; il++) {
      const marked = listed && listed.length === n ? listed[il] !== 0 : listed?.length === 1 ? listed[0] !== 0 : (il + 1) % interval !== 0
      // These architectures' caches take trunk layers only (create_memory's filters: il < n_layer()).
      recurrent[il] = il < trunk && marked
      attends[il] = !marked
    }
  } else if (hp.headsPerLayer.every((h) => h === 0)) {
    // An architecture this plan does not know, with recurrent keys and no attention heads (readHparams checked).
    recurrent.fill(true)
    attends.fill(false)
    assumptions.push(`${arch}: not a recurrent architecture known here; every layer costed as a Mamba-style recurrent layer`)
  }
  if (NO_MEMORY_ARCHITECTURES.has(arch)) attends.fill(false)
  // MTP layers: outside the caches of plain models and of the interval hybrids (il < n_layer() filters); the other
  // hybrids' attention filter (!is_recr) keeps them.
  if (!hybrid || hybrid === 'interval') for (let il = trunk; il < n; il++) attends[il] = false
  if (UNMODELLED[arch]) assumptions.push(`${arch}: ${UNMODELLED[arch]}`)
  if (!LLAMA_ARCHITECTURES.has(arch)) {
    assumptions.push(`${arch}: not an architecture the pinned llama.cpp loads; its layers costed as attention over the whole context with the feed-forward its tensors have`)
  }

  // Cached widths per layer.
  const heads0 = hp.headsPerLayer[0] ?? 0
  const defaultHead = heads0 > 0 ? Math.floor(hp.embeddingLength / heads0) : 0
  const keyFull = scalar('attention.key_length') ?? defaultHead
  const valueFull = scalar('attention.value_length') ?? defaultHead
  const keySwa = scalar('attention.key_length_swa') ?? keyFull
  const valueSwa = scalar('attention.value_length_swa') ?? valueFull
  const mla = (scalar('attention.key_length_mla') ?? 0) > 0 && (scalar('attention.value_length_mla') ?? 0) > 0
  const plan: LayerPlan = {
    ...emptyLayerPlan(),
    recurrent_layers: recurrent.filter(Boolean).length,
    mla_kv_lora_rank: mla ? (scalar('attention.kv_lora_rank') ?? 0) : 0,
    assumptions
  }
  for (let il = 0; il < n; il++) {
    const kvHeads = hp.kvHeadsPerLayer[il] ?? 0
    const swa = sliding[il]!
    const k = kvHeads * (swa ? keySwa : keyFull)
    const v = mla ? 0 : kvHeads * (swa ? valueSwa : valueFull)
    // llama.cpp sizes V padding over every layer of the model (n_embd_v_gqa_max), cached or not.
    plan.v_elements_max = Math.max(plan.v_elements_max, v)
    if (!attends[il] || kvHeads === 0) continue
    const heads = hp.headsPerLayer[il] ?? 0
    const q = heads * (swa ? keySwa : keyFull)
    // QKᵀ over the key width and AV over the value width (MLA: over the latent, which the absorbed graph multiplies).
    const flops = 2 * (q + heads * (mla ? plan.mla_kv_lora_rank : v / Math.max(1, kvHeads)))
    if (swa) {
      plan.sliding_attention_flops_per_position += flops
      plan.sliding_attention_layers++
      plan.sliding_k_elements += k
      plan.sliding_v_elements += v
      plan.sliding_query_elements += q
    } else {
      plan.full_attention_layers++
      plan.full_attention_flops_per_position += flops
      plan.full_k_elements += k
      plan.full_v_elements += v
      plan.full_query_elements += q
    }
  }
  plan.layer_kinds = Array.from({ length: n }, (_, il) => {
    const cached = attends[il] && (hp.kvHeadsPerLayer[il] ?? 0) > 0
    if (recurrent[il]) return cached ? 'B' : 'R'
    return !cached ? '-' : sliding[il] ? 'S' : 'F'
  }).join('')
  if (plan.sliding_attention_layers > 0) plan.sliding_window = window
  const denseLayers = new Set<string>()
  const sinkLayers = new Set<string>()
  for (const name of tensorNames) {
    const m = /^blk\.(\d+)\.(ffn_down|attn_sinks)\.weight$/.exec(name)
    if (m) (m[2] === 'attn_sinks' ? sinkLayers : denseLayers).add(m[1]!)
  }
  plan.dense_ffn_layers = denseLayers.size
  plan.attention_sink_layers = sinkLayers.size
  plan.recurrent_state_elements = plan.recurrent_layers * recurrentStatePerLayer(arch, hp, scalar, heads0, keyFull)
  const inner = scalar('ssm.inner_size') ?? 0
  if (plan.recurrent_layers > 0 && inner > 0) {
    plan.ssm_inner_size = inner
    plan.ssm_conv_channels = convChannels(inner, scalar('ssm.group_count') ?? 0, scalar('ssm.state_size') ?? 0)
  } else if (plan.recurrent_layers > 0) {
    // The probe measures Mamba-2's scan; another recurrent kind's prefill is costed at that rate per state element.
    assumptions.push(`${arch}: its recurrent layers' prefill costed at the Mamba-2 scan's measured rate per state element`)
  }
  return plan
}

/** n_embd_r() + n_embd_s() of llama_hparams: f32 elements of one layer's recurrent state for one sequence. */
function recurrentStatePerLayer(arch: string, hp: Hparams, scalar: (k: string) => number | null, heads: number, keyLength: number): number {
  const embd = hp.embeddingLength
  // Kimi's delta attention (KDA): conv states of Q, K and V over d_conv − 1 positions (3 without a kernel key), and a
  // head_dim² state per head.
  const kda = scalar('kda.head_dim') ?? 0
  if (kda > 0) {
    const dConv = scalar('ssm.conv_kernel') ?? 0
    return 3 * (dConv > 0 ? dConv - 1 : 3) * heads * kda + kda * kda * heads
  }
  // MiniMax-01's lightning attention: a key_length² state per head (n_embd_head_la), no convolution.
  if (arch === 'minimax-01') return keyLength * keyLength * heads
  const wkvHead = scalar('wkv.head_size') ?? 0
  // RWKV: token shift (token_shift_count × embd, default 2) and the WKV state (embd × head size).
  if (wkvHead > 0) return (scalar('token_shift_count') ?? 2) * embd + embd * wkvHead
  const dState = scalar('ssm.state_size') ?? 0
  const dInner = scalar('ssm.inner_size') ?? 0
  const s = dState * dInner
  // LFM2's short convolutions keep l_cache − 1 positions of the embedding.
  const lCache = scalar('shortconv.l_cache') ?? 0
  if (lCache > 0) return embd * (lCache - 1) + s
  // Mamba (1 and 2): the conv state of the kernel's last d_conv − 1 inputs (x, B and C per group), and the SSM state.
  const dConv = scalar('ssm.conv_kernel') ?? 0
  const groups = scalar('ssm.group_count') ?? 0
  return (dConv > 0 ? dConv - 1 : 0) * convChannels(dInner, groups, dState) + s
}

/** A Mamba layer's convolution channels: x (inner) and B and C (state per group). */
function convChannels(inner: number, groups: number, state: number): number {
  return inner + 2 * groups * state
}
