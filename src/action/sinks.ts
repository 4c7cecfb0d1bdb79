import { existsSync } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import * as core from '@actions/core'
import { DefaultArtifactClient } from '@actions/artifact'
import type { ArtifactSink, SummarySink } from '../contracts/edges.js'

/** The artifact service refused the name: another job, shard or attempt of this workflow run already used it. */
export class ArtifactNameTakenError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ArtifactNameTakenError'
  }
}

/** upload-artifact v4's answer to a name taken in the same run (HTTP 409 from CreateArtifact). */
export function isNameTaken(err: unknown): boolean {
  return /\b409\b|Conflict|already exists/i.test(err instanceof Error ? err.message : String(err))
}

/** Uploads through @actions/artifact; outside Actions (no runtime token) it says so and skips. */
export function actionsArtifactSink(env: NodeJS.ProcessEnv = process.env): ArtifactSink {
  return {
    async upload(name, files, rootDir) {
      if (!env.ACTIONS_RUNTIME_TOKEN || !env.ACTIONS_RESULTS_URL) {
        return { uploaded: false, message: 'artifact upload skipped: not running inside GitHub Actions (no ACTIONS_RUNTIME_TOKEN)' }
      }
      const client = new DefaultArtifactClient()
      const r = await client.uploadArtifact(name, files, rootDir).catch((err: unknown) => {
        throw isNameTaken(err) ? new ArtifactNameTakenError(err instanceof Error ? err.message : String(err)) : err
      })
      return { uploaded: true, message: `uploaded artifact ${name} (${files.length} files, id ${r.id ?? '?'}, ${r.size ?? '?'} bytes)` }
    }
  }
}

/** The job summary; outside Actions (no GITHUB_STEP_SUMMARY) the caller is told it was not written. */
export function actionsSummarySink(env: NodeJS.ProcessEnv = process.env): SummarySink & { available: boolean } {
  return {
    available: Boolean(env.GITHUB_STEP_SUMMARY),
    async write(markdown) {
      if (!env.GITHUB_STEP_SUMMARY) return
      await core.summary.addRaw(markdown, true).write()
    }
  }
}

/** Every file under dir, for the artifact (reports, logs). */
export async function filesUnder(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return []
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...(await filesUnder(p)))
    else if (entry.isFile() && (await stat(p)).size > 0 && !entry.name.endsWith('.tmp')) out.push(p)
  }
  return out.sort()
}
