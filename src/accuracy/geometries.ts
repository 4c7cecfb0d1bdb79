// The accuracy benchmark's models: geometries chosen to span what the estimator must generalise over (width
// 256–2048, depth 2–32, GQA ratio 1–8, vocabulary 4k–128k, dense and MoE with 8–64 experts / 2–8 used, every
// synthesizable weight type, one model ≥ 0.7 GB) and to differ from every probe model (the probe fits its facts on
// its own geometries; testing on those would test the fit, not the estimator), and one model of each architecture
// corpora/architectures.yml writes. Pure data.

import type { SynthSpec, SynthModelEntry } from '../synth/spec.js'

const CONTEXT = 8192

const m = (e: Omit<SynthModelEntry, 'context_length' | 'seed'> & { seed?: number }): SynthModelEntry => ({ context_length: CONTEXT, seed: 11, ...e })

export const ACCURACY_MODELS: readonly SynthModelEntry[] = [
  m({ name: 'acc-w256-l2', architecture: 'llama', layers: 2, embedding_length: 256, feed_forward_length: 704, heads: 4, kv_heads: 4, vocab_size: 4096, types: ['F16'] }),
  m({ name: 'acc-w384-l6', architecture: 'llama', layers: 6, embedding_length: 384, feed_forward_length: 1024, heads: 6, kv_heads: 2, vocab_size: 32000, types: ['Q8_0'] }),
  m({ name: 'acc-w512-l10', architecture: 'llama', layers: 10, embedding_length: 512, feed_forward_length: 1408, heads: 8, kv_heads: 1, vocab_size: 8192, types: ['Q4_0'] }),
  m({ name: 'acc-w768-l12', architecture: 'llama', layers: 12, embedding_length: 768, feed_forward_length: 2048, heads: 12, kv_heads: 4, vocab_size: 16384, types: ['Q4_K_M'] }),
  m({ name: 'acc-w896-l14', architecture: 'llama', layers: 14, embedding_length: 896, feed_forward_length: 2432, heads: 7, kv_heads: 1, head_dim: 128, vocab_size: 49152, types: ['Q5_K_M'] }),
  m({ name: 'acc-w2048-l4', architecture: 'llama', layers: 4, embedding_length: 2048, feed_forward_length: 5632, heads: 16, kv_heads: 8, head_dim: 128, vocab_size: 128256, types: ['Q6_K'] }),
  m({ name: 'acc-w640-l32', architecture: 'llama', layers: 32, embedding_length: 640, feed_forward_length: 1728, heads: 10, kv_heads: 2, vocab_size: 4096, types: ['Q8_0'] }),
  m({ name: 'acc-w1536-l22', architecture: 'llama', layers: 22, embedding_length: 1536, feed_forward_length: 4096, heads: 12, kv_heads: 4, head_dim: 128, vocab_size: 65536, types: ['Q8_0'] }),
  m({ name: 'acc-w1280-l3', architecture: 'llama', layers: 3, embedding_length: 1280, feed_forward_length: 3456, heads: 20, kv_heads: 5, vocab_size: 24576, types: ['F16'] }),
  m({ name: 'acc-moe-e8k2', architecture: 'qwen3moe', layers: 4, embedding_length: 640, feed_forward_length: 1536, heads: 10, kv_heads: 2, expert_count: 8, expert_used_count: 2, expert_feed_forward_length: 896, vocab_size: 16384, types: ['Q8_0'] }),
  m({ name: 'acc-moe-e64k8', architecture: 'qwen3moe', layers: 8, embedding_length: 768, feed_forward_length: 2048, heads: 12, kv_heads: 4, expert_count: 64, expert_used_count: 8, expert_feed_forward_length: 256, vocab_size: 32768, types: ['Q4_K_M'] }),
  m({ name: 'acc-moe-e32k4', architecture: 'qwen3moe', layers: 12, embedding_length: 1024, feed_forward_length: 2816, heads: 16, kv_heads: 2, head_dim: 128, expert_count: 32, expert_used_count: 4, expert_feed_forward_length: 512, vocab_size: 65536, types: ['Q5_K_M'] }),
  // Architectures the probe never measures: their layers reuse the probe's facts (attention at depth, weights,
  // expert routing), so these rows test whether the layer plan carries them over (sliding layers over their window,
  // MLA over its latent, recurrent layers at their state's cost).
  m({ name: 'acc-gemma3-swa256', architecture: 'gemma3', layers: 12, embedding_length: 768, feed_forward_length: 2048, heads: 4, kv_heads: 1, head_dim: 256, sliding_window: 256, vocab_size: 16384, types: ['Q8_0'] }),
  m({ name: 'acc-gptoss-swa128', architecture: 'gpt-oss', layers: 6, embedding_length: 640, feed_forward_length: 640, expert_feed_forward_length: 640, expert_count: 16, expert_used_count: 4, heads: 10, kv_heads: 2, head_dim: 64, sliding_window: 128, vocab_size: 8192, types: ['F16'] }),
  m({ name: 'acc-deepseek2-mla', architecture: 'deepseek2', layers: 6, embedding_length: 768, feed_forward_length: 2048, heads: 8, kv_heads: 1, kv_lora_rank: 256, rope_dims: 64, nope_dims: 128, head_dim: 128, leading_dense_layers: 1, expert_count: 16, expert_used_count: 4, expert_feed_forward_length: 384, shared_expert_count: 1, vocab_size: 16384, types: ['Q8_0'] }),
  m({ name: 'acc-qwen2moe-shexp', architecture: 'qwen2moe', layers: 6, embedding_length: 768, feed_forward_length: 2048, expert_feed_forward_length: 384, shared_expert_feed_forward_length: 1536, expert_count: 16, expert_used_count: 4, heads: 12, kv_heads: 4, vocab_size: 16384, types: ['Q8_0'] }),
  m({ name: 'acc-mamba2', architecture: 'mamba2', layers: 8, embedding_length: 768, feed_forward_length: 0, heads: 0, kv_heads: 0, ssm_inner_size: 1536, ssm_state_size: 128, ssm_group_count: 1, vocab_size: 8192, types: ['F16'] }),
  m({ name: 'acc-granitehybrid', architecture: 'granitehybrid', layers: 8, embedding_length: 768, feed_forward_length: 2048, heads: 12, kv_heads: 4, attention_layers: [3, 7], ssm_inner_size: 1536, ssm_state_size: 128, ssm_group_count: 1, vocab_size: 16384, types: ['Q8_0'] }),
  m({ name: 'acc-qwen2-bias', architecture: 'qwen2', layers: 8, embedding_length: 896, feed_forward_length: 2432, heads: 14, kv_heads: 2, vocab_size: 32768, types: ['Q4_K_M'] })
]

export function accuracySpec(): SynthSpec {
  return { version: 1, models: [...ACCURACY_MODELS] }
}
