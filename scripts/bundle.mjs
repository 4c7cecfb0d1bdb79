// Bundles the action (dist/index.js) and the CLI (dist/cli.js) as ESM for node24.
// esbuild stands in for rollup: it bundles the CommonJS trees under @actions/* without plugins.
import { build } from 'esbuild'
import esbuildPluginLicense from 'esbuild-plugin-license'
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'

/**
 * A package's license and license text from its installed root (node_modules/NAME): the plugin reads the package.json
 * nearest to each bundled file, which for some packages is a nested package.json under dist without either.
 */
function fromRoot(dep) {
  const root = join('node_modules', dep.packageJson.name)
  const pkg = existsSync(join(root, 'package.json')) ? JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) : {}
  const file = existsSync(root) ? readdirSync(root).find((f) => /^(licen[sc]e|copying)/i.test(f)) : undefined
  return {
    license: dep.packageJson.license ?? pkg.license ?? 'license not stated',
    text: dep.licenseText.trim() || (file ? readFileSync(join(root, file), 'utf8').trim() : '') || '(the package ships no license file)'
  }
}

/**
 * The licenses of every package the bundle holds, written beside it by esbuild-plugin-license (which collects them from
 * the files esbuild actually loads, not from a hand list): name, version, license, and the package's license text.
 */
function licenses(file) {
  return esbuildPluginLicense({
    banner: '/*! <%= pkg.name %> v<%= pkg.version %> | <%= pkg.license %> | third-party licenses: ' + file + ' */',
    thirdParty: {
      output: {
        file,
        template: (deps) =>
          `Third-party software bundled in this file's sibling, with its licenses (${deps.length} packages).\n\n` +
          deps
            .map((d) => {
              const { license, text } = fromRoot(d)
              return `${d.packageJson.name}@${d.packageJson.version} — ${license}\n\n${text}\n`
            })
            .join('\n' + '-'.repeat(80) + '\n\n')
      }
    }
  })
}

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
await build({ ...common, entryPoints: ['src/index.ts'], outfile: 'dist/index.js', plugins: [licenses('dist/index.licenses.txt')] })
await build({
  ...common,
  entryPoints: ['src/cli.ts'],
  outfile: 'dist/cli.js',
  banner: { js: '#!/usr/bin/env node\n' + common.banner.js },
  plugins: [licenses('dist/cli.licenses.txt')]
})
