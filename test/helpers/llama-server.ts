// One llama-server for an e2e test: started with the given flags, its stdout and stderr in a log file, ready when
// /health answers 200, always stopped. For the tests that load models directly rather than through src/bench.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { execa } from 'execa'
import { freePort } from '../../src/bench/server.js'
import { llamaBinDir } from './llama.js'

const READY_TIMEOUT_MS = 60_000

export interface RunningServer {
  base: string
  logPath: string
}

/**
 * Starts llama-server with `args(port)`, waits until it is ready, runs `use`, stops it, and returns what `use`
 * returned; read the log with serverLog.
 */
export async function withLlamaServer<T>(args: (port: number) => string[], logPath: string, use: (s: RunningServer) => Promise<T>): Promise<T> {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const server = execa(join(llamaBinDir(), 'llama-server'), args(port), { reject: false, stdout: { file: logPath, append: true }, stderr: { file: logPath, append: true } })
  let exited = false
  void server.then(() => (exited = true))
  try {
    const deadline = Date.now() + READY_TIMEOUT_MS
    for (;;) {
      if (exited) throw new Error(`llama-server exited before it was ready:\n${(await readFile(logPath, 'utf8')).slice(-2000)}`)
      if (Date.now() > deadline) throw new Error('llama-server not ready in time')
      const ok = await fetch(`${base}/health`, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.status === 200,
        () => false
      )
      if (ok) break
      await new Promise((r) => setTimeout(r, 100))
    }
    return await use({ base, logPath })
  } finally {
    server.kill('SIGTERM')
    await server
  }
}

/** The log of a finished withLlamaServer run. */
export function serverLog(logPath: string): Promise<string> {
  return readFile(logPath, 'utf8')
}
