// Before the e2e tests: make sure a llama.cpp build exists, as the README promises that `npm test` alone works on
// a fresh machine. MODEL_FIT_GATE_LLAMA_BIN wins; else `setup-llama` (cached by commit) builds or finds it.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'

export default async function globalSetup(globalConfig) {
  if (process.env.MODEL_FIT_GATE_LLAMA_BIN) return
  const selected = globalConfig.selectProjects
  if (Array.isArray(selected) && !selected.includes('e2e')) return
  if (!existsSync('dist/cli.js')) {
    console.warn('global-setup: dist/cli.js is missing (run `npm run build`); e2e tests will report the missing llama.cpp')
    return
  }
  const out = execFileSync(process.execPath, ['dist/cli.js', 'setup-llama'], { stdio: ['ignore', 'pipe', 'inherit'] })
  process.env.MODEL_FIT_GATE_LLAMA_BIN = out.toString().trim().split('\n').pop()
}
