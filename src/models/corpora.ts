import { join } from 'node:path'

export type CorpusName = 'smoke' | 'deep' | 'synthetic'

export const CORPUS_NAMES: readonly CorpusName[] = ['smoke', 'deep', 'synthetic']

/**
 * The manifest of a named corpus in the package: corpora/smoke.txt and corpora/deep.txt list real Hub refs.
 * `synthetic` has no fixed manifest (the `synth` command writes one next to the models it generates): null.
 */
export function corpusPath(name: CorpusName, repoRoot: string): string | null {
  if (name === 'synthetic') return null
  return join(repoRoot, 'corpora', `${name}.txt`)
}
