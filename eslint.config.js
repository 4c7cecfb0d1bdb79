import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import globals from 'globals'

/**
 * The map of the code (docs/architecture.md): src/ folders from the lowest rank to the highest. A folder may import
 * only folders of a lower rank; data flows one way. contracts/ (rank 0) holds each stage's data shapes and imports nothing.
 */
export const FOLDER_RANKS = ['contracts', 'util', 'gguf', 'models', 'synth', 'llama', 'fit', 'bench', 'compare', 'gate', 'report', 'hardware', 'accuracy', 'pipeline', 'action', 'cli']
/** Folders that take data and return data: no filesystem, process, network or GitHub. */
export const PURE_FOLDERS = ['contracts', 'fit', 'compare', 'gate', 'report']
const IO_MODULES = ['fs', 'fs/promises', 'child_process', 'http', 'https', 'net', 'dgram', 'worker_threads'].flatMap((m) => [m, `node:${m}`])

/** One no-restricted-imports setting per folder: every folder ranked above it, and I/O for the pure ones. */
function foldersRules() {
  return FOLDER_RANKS.map((folder, rank) => {
    const above = FOLDER_RANKS.slice(rank + 1)
    const pure = PURE_FOLDERS.includes(folder)
    return {
      files: [`src/${folder}/**/*.ts`],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            paths: pure ? [...IO_MODULES, 'execa', 'undici'].map((name) => ({ name, message: `src/${folder} is pure (docs/architecture.md): I/O belongs at the edges` })) : [],
            patterns: [
              ...(above.length > 0
                ? [{ group: above.flatMap((f) => [`../${f}`, `../${f}/*`]), message: `src/${folder} may import only lower-ranked folders (docs/architecture.md)` }]
                : []),
              ...(pure ? [{ group: ['@actions/*'], message: `src/${folder} is pure (docs/architecture.md): GitHub belongs at the edges` }] : [])
            ]
          }
        ]
      }
    }
  })
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', 'coverage/**', '.gpu-carry/**', '.gpu-work/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off'
    }
  },
  ...foldersRules()
)
