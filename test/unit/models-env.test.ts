import { describe, expect, it } from '@jest/globals'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { corpusPath } from '../../src/models/corpora.js'
import { hfToken, hubCacheDir, hubEndpoint } from '../../src/models/hub-env.js'
import { ProgressReporter, formatDuration, formatProgress } from '../../src/models/progress.js'
import { InputError } from '../../src/util/errors.js'

describe('Hub environment', () => {
  it('finds the cache like huggingface_hub: HF_HUB_CACHE, HF_HOME/hub, XDG, ~/.cache', () => {
    expect(hubCacheDir({ HF_HUB_CACHE: '/a', HF_HOME: '/b' })).toBe('/a')
    expect(hubCacheDir({ HF_HOME: '/b', XDG_CACHE_HOME: '/x' })).toBe('/b/hub')
    expect(hubCacheDir({ XDG_CACHE_HOME: '/x' })).toBe('/x/huggingface/hub')
    expect(hubCacheDir({ HOME: '/home/u' })).toBe('/home/u/.cache/huggingface/hub')
    expect(hubCacheDir({})).toBe(join(homedir(), '.cache', 'huggingface', 'hub'))
  })

  it('takes the endpoint from HF_ENDPOINT without a trailing slash', () => {
    expect(hubEndpoint({})).toBe('https://huggingface.co')
    expect(hubEndpoint({ HF_ENDPOINT: 'https://hf-mirror.com/' })).toBe('https://hf-mirror.com')
  })

  it('prefers the explicit token over HF_TOKEN and never echoes a malformed one', () => {
    expect(hfToken('hf_explicit', { HF_TOKEN: 'hf_env' })).toBe('hf_explicit')
    expect(hfToken('', { HF_TOKEN: 'hf_env' })).toBe('hf_env')
    expect(hfToken(undefined, {})).toBeUndefined()
    let err: unknown
    try {
      hfToken('ghp_secretvalue', {})
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(InputError)
    expect((err as Error).message).toContain('hf-token')
    expect((err as Error).message).not.toContain('secretvalue')
  })

  it('maps corpus names to manifests; synthetic is written by synth', () => {
    expect(corpusPath('smoke', '/pkg')).toBe('/pkg/corpora/smoke.txt')
    expect(corpusPath('deep', '/pkg')).toBe('/pkg/corpora/deep.txt')
    expect(corpusPath('synthetic', '/pkg')).toBeNull()
  })
})

describe('download progress', () => {
  it('shows percent, rate and ETA', () => {
    expect(formatProgress(250e6, 1000e6, 50e6)).toBe('25.0% of 1,000 MB, 50.0 MB/s, ETA 15s')
    expect(formatProgress(5e6, null, 1e6)).toBe('5.00 MB, 1.0 MB/s')
    expect(formatDuration(3725)).toBe('1h 2m')
    expect(formatDuration(65)).toBe('1m 5s')
  })

  it('logs at most once per interval, counting only bytes fetched in this run', () => {
    let t = 0
    const lines: string[] = []
    const p = new ProgressReporter('m.gguf', (l) => lines.push(l), () => t, 100e6, 5_000)
    for (let i = 1; i <= 20; i++) {
      t = i * 1_000
      p.update(100e6 + i * 10e6, 400e6)
    }
    // 20 s of updates, one line per 5 s.
    expect(lines).toHaveLength(4)
    expect(lines[0]).toBe('m.gguf: 37.5% of 400 MB, 10.0 MB/s, ETA 25s')
    p.done(300e6)
    expect(lines.at(-1)).toBe('m.gguf: done, 300 MB in 20s (10.0 MB/s)')
  })
})
