// Tensor groups by name, first match wins (the reference system's rules), with three refinements:
// shared experts (`*_shexp`) are read every token so they get their own group instead of counting as routed
// experts; recurrent/SSM mixers (`ssm_*`, RWKV `time_mix_*`, LFM2 `shortconv.*`) are their own group; and the
// embedding/output names are anchored so `token_embd_norm` and `blk.N.attn_output` land where they belong.

import type { TensorGroup } from '../contracts/profile.js'
import { ggmlType } from './ggml-types.js'
import type { GgufTensorInfo } from './format.js'

const RULES: readonly (readonly [TensorGroup, RegExp])[] = [
  // Lookup tables: one row is read per token.
  ['embedding', /^(token_embd|per_layer_token_embd|position_embd|token_types)\.weight$/],
  // LM head and classifier heads (rerankers: cls.weight / cls.output.weight).
  ['output', /^(output|lm_head|cls|cls\.output)\.(weight|bias)$/],
  ['norm', /norm/],
  ['ffn_shared_expert', /_shexp|shared_expert/],
  ['ffn_expert', /_exps\.|_chexps\./],
  ['ssm', /(^|\.)(ssm_|time_mix_|shortconv\.)/],
  ['attention', /attn/],
  ['ffn_dense', /ffn|channel_mix_/],
  ['other', /$/]
]

export function tensorGroup(name: string): TensorGroup {
  for (const [group, re] of RULES) if (re.test(name)) return group
  return 'other'
}

/** Elements of a tensor (product of dims; 1 for a scalar). */
export function tensorElements(t: Pick<GgufTensorInfo, 'dims'>): number {
  return t.dims.reduce((a, b) => a * b, 1)
}

/**
 * Bytes of the tensor's data, exactly from dims and type (not from the gap to the next offset, which includes
 * alignment padding). The reader has already checked the type and block multiple.
 */
export function tensorDataBytes(t: Pick<GgufTensorInfo, 'dims' | 'type'>): number {
  const info = ggmlType(t.type)
  if (!info) throw new RangeError(`unknown GGML type ${t.type}`)
  const rows = t.dims.slice(1).reduce((a, b) => a * b, 1)
  return ((t.dims[0] ?? 1) / info.blockSize) * info.typeSize * rows
}

/** Bytes of one row (dims[0] elements): what a token lookup reads from an embedding table. */
export function tensorRowBytes(t: Pick<GgufTensorInfo, 'dims' | 'type'>): number {
  const info = ggmlType(t.type)
  if (!info) throw new RangeError(`unknown GGML type ${t.type}`)
  return ((t.dims[0] ?? 1) / info.blockSize) * info.typeSize
}
