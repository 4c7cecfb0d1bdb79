import { homedir } from 'node:os'
import { join } from 'node:path'
import { InputError } from '../util/errors.js'

/** The public Hub; HF_ENDPOINT points the tool at a mirror (or at the tests' local hub). */
export const DEFAULT_HF_ENDPOINT = 'https://huggingface.co'

/** Hub tokens all start with this; @huggingface/hub rejects anything else, so we say so first. */
const HF_TOKEN_PREFIX = 'hf_'

type Env = Readonly<Record<string, string | undefined>>

/**
 * The Hugging Face token: the explicit value (action input `hf-token`, CLI option) or HF_TOKEN.
 * The caller masks it (core.setSecret) before anything is logged; this module never logs or writes it.
 */
export function hfToken(explicit?: string | null, env: Env = process.env): string | undefined {
  const token = (explicit ?? '').trim() || (env.HF_TOKEN ?? '').trim() || (env.HUGGING_FACE_HUB_TOKEN ?? '').trim()
  if (!token) return undefined
  // The message must not echo the token: it may be a real secret pasted into the wrong input.
  if (!token.startsWith(HF_TOKEN_PREFIX)) throw new InputError('hf-token', null, `a Hugging Face token starts with "${HF_TOKEN_PREFIX}"`)
  return token
}

/** HF_ENDPOINT without a trailing slash, else the public Hub. */
export function hubEndpoint(env: Env = process.env): string {
  const value = (env.HF_ENDPOINT ?? '').trim() || DEFAULT_HF_ENDPOINT
  return value.replace(/\/+$/, '')
}

/** The shared Hub cache, resolved the way huggingface_hub does: HF_HUB_CACHE, HF_HOME/hub, XDG, ~/.cache. */
export function hubCacheDir(env: Env = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE
  if (env.HUGGINGFACE_HUB_CACHE) return env.HUGGINGFACE_HUB_CACHE
  if (env.HF_HOME) return join(env.HF_HOME, 'hub')
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'huggingface', 'hub')
  return join(env.HOME || homedir(), '.cache', 'huggingface', 'hub')
}
