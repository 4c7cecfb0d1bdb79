// The checkpoint of a resumable run: each model's rows are written to the output directory as soon as they are final
// (one file per model, atomically), under the identity of what they were measured with — machine fingerprint,
// llama.cpp build, workload, estimator and scenarios. `--resume` (input `resume`) reuses the rows of a model whose
// file carries the same identity, so a run killed at model 40 of 60 measures only the last 20.

import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { HardwareProfile } from '../contracts/hardware.js'
import type { ModelReport } from '../contracts/report.js'
import type { ScenarioId } from '../contracts/scenarios.js'
import type { Workload } from '../contracts/workload.js'
import { writeFileAtomic } from '../util/fs.js'
import { stableStringify } from '../util/json.js'
import type { Estimator } from './estimator.js'

const sha = (text: string): string => createHash('sha256').update(text).digest('hex')

/**
 * Rows worth keeping: the model was run (or judged without running: does not fit, not predicted). A model that failed
 * to download, or was not started for the run's own reasons (time, disk), is measured again by the next run.
 */
export function measured(m: ModelReport): boolean {
  if (m.error !== null) return false
  return !m.scenarios.some((r) => /^(download|resolve|profile): |^not (started|run): |\(the run was cancelled\)$/.test(r.detail.reason ?? ''))
}

export interface CheckpointStore {
  save(model: ModelReport): Promise<void>
  /** The rows of the given models that the checkpoint holds under the same identity. */
  load(refs: readonly string[]): Promise<Map<string, ModelReport>>
}

export function checkpointStore(
  dir: string,
  what: { hardware: HardwareProfile; workload: Workload; estimator: Estimator; scenarios: readonly ScenarioId[]; toolVersion: string; passes?: number }
): CheckpointStore {
  const identity = sha(
    stableStringify({
      fingerprint: what.hardware.fingerprint,
      llama: { commit: what.hardware.llama.commit, backend: what.hardware.llama.backend },
      workload: what.workload,
      estimator: { name: what.estimator.name, command: what.estimator.command },
      scenarios: [...what.scenarios],
      tool: what.toolVersion,
      // Rows merged from another number of passes are not this run's rows (one pass: the identity of older runs).
      ...(what.passes && what.passes > 1 ? { passes: what.passes } : {})
    })
  )
  const fileOf = (ref: string): string => join(dir, `${sha(ref).slice(0, 16)}.json`)
  return {
    async save(model) {
      if (measured(model)) await writeFileAtomic(fileOf(model.ref), stableStringify({ identity, model }))
    },
    async load(refs) {
      const out = new Map<string, ModelReport>()
      for (const ref of refs) {
        // Another machine, build, workload, estimator or tool version, or a file that is not ours or is cut short:
        // the model is measured again.
        try {
          const saved = JSON.parse(await readFile(fileOf(ref), 'utf8')) as { identity?: unknown; model?: ModelReport }
          const rows = saved?.model?.scenarios
          if (saved?.identity === identity && saved.model?.ref === ref && Array.isArray(rows) && rows.every((r) => typeof r?.verdict === 'string') && measured(saved.model)) {
            out.set(ref, saved.model)
          }
        } catch {
          // No checkpoint for this model (or an unreadable one).
        }
      }
      return out
    }
  }
}
