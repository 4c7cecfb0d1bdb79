// The map is the code: every src/ folder has a rank (eslint.config.js, docs/architecture.md), and the linter that CI
// runs refuses an import of a higher-ranked folder, or I/O in a pure folder.
import { describe, expect, test } from '@jest/globals'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import { ESLint } from 'eslint'
// @ts-expect-error: the linter's config is plain JavaScript without types
import { FOLDER_RANKS, PURE_FOLDERS } from '../../eslint.config.js'

const root = join(import.meta.dirname, '..', '..')
const eslint = new ESLint({ cwd: root })

async function ruleMessages(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, file) })
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message)
}

describe('the map of the code', () => {
  test('every src/ folder has a rank, and docs/architecture.md lists each one in rank order', () => {
    const folders = readdirSync(join(root, 'src')).filter((f) => statSync(join(root, 'src', f)).isDirectory())
    expect([...folders].sort()).toEqual([...(FOLDER_RANKS as string[])].sort())
    const doc = readFileSync(join(root, 'docs', 'architecture.md'), 'utf8')
    const listed = [...doc.matchAll(/^\| \d+ \| `src\/([a-z]+)\/`/gm)].map((m) => m[1])
    expect(listed).toEqual(FOLDER_RANKS)
  })

  test('a folder importing a higher-ranked folder fails the lint; a lower-ranked one passes', async () => {
    expect(await ruleMessages('src/fit/x.ts', "import { runValidate } from '../pipeline/run.js'\nexport const x = runValidate\n")).toEqual([
      expect.stringMatching(/src\/fit may import only lower-ranked folders/)
    ])
    expect(await ruleMessages('src/pipeline/x.ts', "import { predict } from '../fit/index.js'\nexport const x = predict\n")).toEqual([])
  })

  test('a pure folder doing I/O fails the lint, an edge folder may', async () => {
    const io = "import { readFile } from 'node:fs/promises'\nimport { execa } from 'execa'\nimport * as core from '@actions/core'\nexport const x = [readFile, execa, core]\n"
    for (const folder of PURE_FOLDERS as string[]) expect(await ruleMessages(`src/${folder}/x.ts`, io)).toHaveLength(3)
    expect(await ruleMessages('src/bench/x.ts', io)).toEqual([])
  })

  test('no import cycle between files of src/ (the ranks forbid one between folders)', () => {
    // A plain walk of the relative imports: eslint-plugin-import's no-cycle would add a parser stack for one rule.
    const files: string[] = []
    const walk = (dir: string): void => {
      for (const f of readdirSync(dir)) {
        const p = join(dir, f)
        if (statSync(p).isDirectory()) walk(p)
        else if (p.endsWith('.ts')) files.push(p)
      }
    }
    walk(join(root, 'src'))
    const imports = new Map(
      files.map((f) => [
        f,
        [...readFileSync(f, 'utf8').matchAll(/(?:import|export)[^'"]*?from '(\.[^']+)'/g)].map((m) => normalize(join(dirname(f), m[1]!.replace(/\.js$/, '.ts'))))
      ])
    )
    const cycles: string[] = []
    const state = new Map<string, 'open' | 'done'>()
    const visit = (f: string, path: string[]): void => {
      state.set(f, 'open')
      for (const g of imports.get(f) ?? []) {
        if (state.get(g) === 'open') cycles.push([...path.slice(path.indexOf(g)), g].map((x) => relative(root, x)).join(' → '))
        else if (!state.has(g)) visit(g, [...path, g])
      }
      state.set(f, 'done')
    }
    for (const f of files) if (!state.has(f)) visit(f, [f])
    expect(imports.size).toBeGreaterThan(100)
    expect(cycles).toEqual([])
  })
})
