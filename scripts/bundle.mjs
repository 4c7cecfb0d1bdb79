// Bundles the action (dist/index.js) and the CLI (dist/cli.js) as ESM for node24.
// esbuild stands in for rollup: it bundles the CommonJS trees under @actions/* without plugins.
import { build } from 'esbuild'
import { rmSync } from 'node:fs'

rmSync('dist', { recursive: true, force: true })
const common = {
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  // CommonJS dependencies call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __mfgCreateRequire } from 'node:module'; const require = __mfgCreateRequire(import.meta.url);" }
}
await build({ ...common, entryPoints: ['src/index.ts'], outfile: 'dist/index.js' })
await build({
  ...common,
  entryPoints: ['src/cli.ts'],
  outfile: 'dist/cli.js',
  banner: { js: '#!/usr/bin/env node\n' + common.banner.js }
})
