// Split GGUF shards as llama.cpp's gguf-split writes them: "<prefix>-00001-of-00003.gguf", with split.no
// (0-based), split.count and split.tensors.count in each shard's metadata (llama.cpp llama_split_path).

import { GgufError } from '../util/errors.js'
import type { GgufHeader } from './format.js'

export const SPLIT_KEY_NO = 'split.no'
export const SPLIT_KEY_COUNT = 'split.count'
export const SPLIT_KEY_TENSORS_COUNT = 'split.tensors.count'
/** gguf-split writes 5 digits; more shards than this cannot be named. */
export const MAX_SPLIT_COUNT = 99_999

const SPLIT_RE = /^(.*)-(\d{5})-of-(\d{5})\.gguf$/

export interface SplitName {
  prefix: string
  /** 1-based, as in the file name. */
  index: number
  count: number
}

/** Parses "dir/model-00002-of-00003.gguf" → {prefix: "dir/model", index: 2, count: 3}; null if not a shard name. */
export function parseSplitName(path: string): SplitName | null {
  const m = SPLIT_RE.exec(path)
  if (!m) return null
  const index = Number(m[2])
  const count = Number(m[3])
  if (count < 1 || index < 1 || index > count) return null
  return { prefix: m[1]!, index, count }
}

export function formatSplitName(prefix: string, index: number, count: number): string {
  if (!Number.isInteger(count) || count < 1 || count > MAX_SPLIT_COUNT) throw new RangeError(`invalid split count ${count}`)
  if (!Number.isInteger(index) || index < 1 || index > count) throw new RangeError(`invalid split index ${index} of ${count}`)
  const pad = (n: number): string => String(n).padStart(5, '0')
  return `${prefix}-${pad(index)}-of-${pad(count)}.gguf`
}

/** All shard paths of a model given its first shard (or the path itself when it is not split). */
export function shardPaths(firstPath: string): string[] {
  const s = parseSplitName(firstPath)
  if (!s) return [firstPath]
  if (s.index !== 1) throw new GgufError(firstPath, null, `is shard ${s.index} of ${s.count}: pass the first shard (-00001-of-…)`)
  const out: string[] = []
  for (let i = 1; i <= s.count; i++) out.push(formatSplitName(s.prefix, i, s.count))
  return out
}

/** split.no / split.count of a header: {index 0, count 1} when the keys are absent (an unsplit file). */
export function splitInfo(header: GgufHeader, source: string): { no: number; count: number } {
  const no = header.metadata[SPLIT_KEY_NO]
  const count = header.metadata[SPLIT_KEY_COUNT]
  if (no === undefined && count === undefined) return { no: 0, count: 1 }
  if (typeof no !== 'number' || !Number.isInteger(no) || no < 0) throw new GgufError(source, `key ${SPLIT_KEY_NO}`, 'must be a non-negative integer')
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_SPLIT_COUNT) {
    throw new GgufError(source, `key ${SPLIT_KEY_COUNT}`, `must be an integer in 1..${MAX_SPLIT_COUNT}`)
  }
  if (no >= count) throw new GgufError(source, `key ${SPLIT_KEY_NO}`, `${no} is not below split.count ${count}`)
  return { no, count }
}
