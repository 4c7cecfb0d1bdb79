import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

let cachedRoot: string | null = null

/**
 * The model-fit-gate package root (where thresholds.yml, corpora/ and package.json live), found by walking up
 * from this module: the same code runs from src/ under jest and from dist/ when bundled.
 */
export function packageRoot(): string {
  if (cachedRoot) return cachedRoot
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const pkg = join(dir, 'package.json')
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'model-fit-gate') return (cachedRoot = dir)
      } catch {
        // not ours; keep walking
      }
    }
    const up = dirname(dir)
    if (up === dir) throw new Error('model-fit-gate: cannot find the package root (package.json) above ' + fileURLToPath(import.meta.url))
    dir = up
  }
}

export function toolVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version
}

export const defaultThresholdsPath = (): string => join(packageRoot(), 'thresholds.yml')
export const syntheticSpecPath = (): string => join(packageRoot(), 'corpora', 'synthetic.yml')
