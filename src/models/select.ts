// Picks the GGUF file(s) of a Hub repo for a quant tag the way llama.cpp's `-hf owner/repo:TAG` does
// (common/download.cpp at the pinned commit: find_best_model, get_gguf_split_info, get_split_files).

/** A file of a Hub repo, as the tree listing gives it. */
export interface HubFile {
  /** Path inside the repo (may contain folders, e.g. `Q4_K_M/model-00001-of-00002.gguf`). */
  path: string
  size: number
  /** sha256 of the content: the LFS oid. null for files stored in git itself (their oid is a git sha1). */
  sha256: string | null
  /** The name the blob gets in the cache: the LFS oid, else the git oid (what huggingface_hub uses). */
  blobId: string
}

export interface SplitInfo {
  /** Path without `.gguf` and without `-0000i-of-0000n` (folders included). */
  prefix: string
  /** Upper-cased quant tag at the end of the prefix (`Q4_K_M`), or '' when there is none. */
  tag: string
  index: number
  count: number
}

/** Tags tried, in order, when the ref names none (llama.cpp's defaults). */
export const DEFAULT_QUANT_TAGS = ['Q4_K_M', 'Q8_0'] as const

// Companion files that sit next to models but are not one: projectors, importance matrices, draft heads.
const COMPANION_MARKERS = ['mmproj', 'imatrix', 'mtp-', 'eagle3-', 'dflash-', 'dspark-'] as const
const SPLIT_RE = /^(.+)-([0-9]{5})-of-([0-9]{5})$/i
const TAG_RE = /[-.]([A-Z0-9_]+)$/i
const GGUF_SUFFIX = '.gguf'

export function splitInfo(path: string): SplitInfo | null {
  if (!path.endsWith(GGUF_SUFFIX)) return null
  let prefix = path.slice(0, -GGUF_SUFFIX.length)
  let index = 1
  let count = 1
  const split = SPLIT_RE.exec(prefix)
  if (split) {
    prefix = split[1] as string
    index = Number(split[2])
    count = Number(split[3])
  }
  const tag = TAG_RE.exec(prefix)
  return { prefix, tag: tag ? (tag[1] as string).toUpperCase() : '', index, count }
}

/** A model GGUF, not a companion (llama.cpp looks at the file name only, case-sensitively). */
export function isModelGguf(path: string): boolean {
  if (!path.endsWith(GGUF_SUFFIX)) return false
  const name = path.slice(path.lastIndexOf('/') + 1)
  return COMPANION_MARKERS.every((marker) => !name.includes(marker))
}

function isLaterShard(path: string): boolean {
  const info = splitInfo(path)
  return info !== null && info.count > 1 && info.index !== 1
}

/**
 * The first model file (in listing order) whose path contains the tag followed by `.` or `-`, compared
 * case-insensitively, skipping shards other than the first. Without a tag: Q4_K_M, then Q8_0, then the first
 * model GGUF. null when nothing matches. (llama.cpp builds the regex from the raw tag; we match it literally.)
 */
export function findBestModel<T extends { path: string }>(files: readonly T[], tag: string | undefined): T | null {
  const tags = tag ? [tag] : [...DEFAULT_QUANT_TAGS]
  for (const t of tags) {
    const pattern = new RegExp(`${escapeRegExp(t)}[.-]`, 'i')
    const hit = files.find((f) => isModelGguf(f.path) && pattern.test(f.path) && !isLaterShard(f.path))
    if (hit) return hit
  }
  if (!tag) return files.find((f) => isModelGguf(f.path) && !isLaterShard(f.path)) ?? null
  return null
}

/** All shards of the split GGUF `primary` belongs to, shard 1 first; just `[primary]` when it is not split. */
export function splitFiles<T extends { path: string }>(files: readonly T[], primary: T): T[] {
  const info = splitInfo(primary.path)
  if (!info || info.count <= 1) return [primary]
  const shards = files
    .map((f) => ({ f, s: splitInfo(f.path) }))
    .filter(({ s }) => s !== null && s.count === info.count && s.prefix === info.prefix)
    .sort((a, b) => (a.s as SplitInfo).index - (b.s as SplitInfo).index)
    .map(({ f }) => f)
  return shards
}

/** The shard file names a split GGUF must have, given shard 1's path (for checking the listing is complete). */
export function expectedShardPaths(primaryPath: string): string[] {
  const info = splitInfo(primaryPath)
  if (!info || info.count <= 1) return [primaryPath]
  const pad = (n: number): string => String(n).padStart(5, '0')
  return Array.from({ length: info.count }, (_, i) => `${info.prefix}-${pad(i + 1)}-of-${pad(info.count)}${GGUF_SUFFIX}`)
}

/** The quant tags a repo offers (shard 1 / single files only), for "no match" messages. */
export function availableTags(files: readonly { path: string }[]): string[] {
  const tags = new Set<string>()
  for (const f of files) {
    if (!isModelGguf(f.path) || isLaterShard(f.path)) continue
    const tag = splitInfo(f.path)?.tag
    if (tag) tags.add(tag)
  }
  return [...tags].sort()
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
