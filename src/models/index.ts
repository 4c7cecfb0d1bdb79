// Model sources: manifests, Hub resolution (llama.cpp `-hf` rules), the shared Hub cache, header-only remote profiles.
export { parseManifest, parseModelArg, INLINE_SOURCE, type ModelArg, type UrlModelRef } from './manifest.js'
export { cachedModel, resolveModels, type ResolveOptions } from './resolve.js'
export { profileRemote, type ProfileRemoteOptions, type RemoteProfile } from './remote-profile.js'
export { hfToken, hubCacheDir, hubEndpoint, DEFAULT_HF_ENDPOINT } from './hub-env.js'
export { corpusPath, CORPUS_NAMES, type CorpusName } from './corpora.js'
export { HttpByteSource } from './http-source.js'
export { writeHeaderOnlyCopy, keepsSparseFiles } from './header-copy.js'
