import { existsSync } from 'node:fs'
import { join } from 'node:path'

/**
 * The llama.cpp bin dir the e2e tests drive. .ci/run builds it with `setup-llama` and exports
 * MODEL_FIT_GATE_LLAMA_BIN; an e2e test without it fails loudly rather than skipping.
 */
export function llamaBinDir(): string {
  const dir = process.env.MODEL_FIT_GATE_LLAMA_BIN
  if (!dir) throw new Error('MODEL_FIT_GATE_LLAMA_BIN is not set: run `node dist/cli.js setup-llama` and export its bin dir')
  for (const tool of ['llama-bench', 'llama-server', 'llama-quantize']) {
    if (!existsSync(join(dir, tool))) throw new Error(`${tool} not found in ${dir}`)
  }
  return dir
}
