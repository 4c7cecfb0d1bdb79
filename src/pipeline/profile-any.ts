import { profileFile } from '../gguf/index.js'
import { parseModelArg, profileRemote } from '../models/index.js'
import type { ModelProfile } from '../contracts/profile.js'

/** A MODEL argument → its profile: a local file is read from disk, a Hub ref or URL by ranged reads of its header. */
export async function loadModelProfile(
  arg: string,
  opts: { token?: string; log: (l: string) => void }
): Promise<{ profile: ModelProfile; source: string; bytesRead: number | null }> {
  const ref = parseModelArg(arg, process.cwd())
  if (ref.kind === 'local') {
    const { profile } = await profileFile(ref.path)
    return { profile, source: ref.ref, bytesRead: null }
  }
  const { profile, bytesRead } = await profileRemote(ref, { token: opts.token, log: opts.log })
  opts.log(`${ref.ref}: profiled from ${(bytesRead / 1024 / 1024).toFixed(2)} MiB of header (no download)`)
  return { profile, source: ref.ref, bytesRead }
}
