import { InputError } from '../util/errors.js'

/** More shards than this is a typo, not a matrix (GitHub caps a matrix at 256 jobs). */
export const MAX_SHARDS = 256

export interface ShardSpec {
  /** 1-based. */
  index: number
  count: number
}

/** Parses "k/n" (1 ≤ k ≤ n ≤ MAX_SHARDS). `source` names the input or flag in the error. */
export function parseShard(spec: string, source = 'shard'): ShardSpec {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(spec)
  if (!m) throw new InputError(source, null, `expected k/n such as 2/3, got ${JSON.stringify(spec)}`)
  const index = Number(m[1])
  const count = Number(m[2])
  if (count < 1 || count > MAX_SHARDS) throw new InputError(source, null, `shard count must be 1 to ${MAX_SHARDS}, got ${count}`)
  if (index < 1 || index > count) throw new InputError(source, null, `shard index must be 1 to ${count}, got ${index}`)
  return { index, count }
}

/**
 * The items of shard k of n: the distinct refs sorted (code-point order), dealt round-robin, so every ref lands in
 * exactly one shard, shards differ in size by at most one, and the split does not depend on manifest order. Items
 * sharing a ref stay together; the returned items keep their input order.
 */
export function selectShard<T extends { ref: string }>(items: readonly T[], shard: string | ShardSpec, source = 'shard'): T[] {
  const { index, count } = typeof shard === 'string' ? parseShard(shard, source) : shard
  const refs = [...new Set(items.map((i) => i.ref))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  const mine = new Set(refs.filter((_, i) => i % count === index - 1))
  return items.filter((i) => mine.has(i.ref))
}
