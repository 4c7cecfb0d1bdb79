// Materialises the probe plan as GGUF files in the cache, each written directly in its weight type by src/gguf's
// writer (no llama-quantize: the values of the weights do not matter to speed or memory, and quantizing K-quants
// costs minutes on a small machine). Files are named by a hash of what they contain and written to a temp name then
// renamed (by the writer), so a cached file is complete. A model that cannot be written is a failure of that part,
// returned beside the others: the probe goes on without it.

import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { writeSyntheticGguf } from '../gguf/writer.js'
import { errorMessage } from '../util/errors.js'
import { stableStringify } from '../util/json.js'
import type { ProbeModelSpec } from './probe-models.js'

/** Bumped when the files made from the same spec would differ (writer changed). */
const PROBE_FILE_FORMAT = 2
const HASH_CHARS = 16

function hashOf(value: unknown): string {
  return createHash('sha256').update(stableStringify({ value, format: PROBE_FILE_FORMAT })).digest('hex').slice(0, HASH_CHARS)
}

/** A probe model that could not be made. */
export interface ProbeFileFailure {
  id: string
  stage: 'write'
  reason: string
}

/**
 * Paths of every probe model that could be made (by id), made if missing by `writers` writers at once; the others
 * as failures. Deterministic: the same models give the same paths and failures in the same order.
 */
export async function ensureProbeFiles(
  models: readonly ProbeModelSpec[],
  opts: { dir: string; log: (line: string) => void; writers?: number }
): Promise<{ paths: Map<string, string>; failures: ProbeFileFailure[] }> {
  await mkdir(opts.dir, { recursive: true })
  const results: ({ path: string } | ProbeFileFailure)[] = new Array(models.length)
  let nextIndex = 0
  const writer = async (): Promise<void> => {
    for (let i = nextIndex++; i < models.length; i = nextIndex++) {
      const m = models[i]!
      const path = join(opts.dir, `m-${hashOf(m.source)}-${m.type}.gguf`)
      if (!existsSync(path)) {
        opts.log(`probe: writing probe model ${m.id} (${m.source.layers} layers × ${m.source.embeddingLength}, ${m.type})`)
        try {
          await writeSyntheticGguf(m.source, path)
        } catch (err) {
          results[i] = { id: m.id, stage: 'write', reason: errorMessage(err) }
          opts.log(`probe: WARNING: could not write ${m.id}: ${errorMessage(err)}`)
          continue
        }
      }
      results[i] = { path }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, opts.writers ?? 1) }, writer))
  const paths = new Map<string, string>()
  const failures: ProbeFileFailure[] = []
  results.forEach((r, i) => ('path' in r ? paths.set(models[i]!.id, r.path) : failures.push(r)))
  return { paths, failures }
}
