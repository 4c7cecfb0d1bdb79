// Memory as it is when the run starts, not when the probe ran (possibly days ago, with other models loaded): the
// devices llama.cpp itself lists, with the total and free memory it reads for each (`llama-fit-params
// --list-devices`: for Metal the recommended working-set size, which is what Metal lets a process keep resident, not
// the RAM), and the host's available RAM. The memory fit budgets by these, and the layer split follows them.

import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { HardwareProfile, LlamaDevice } from '../contracts/hardware.js'
import { encodeGgufHeader } from '../gguf/encode.js'
import { ggmlTypeByName } from '../gguf/ggml-types.js'
import { syntheticLayout } from '../gguf/writer.js'
import { readSystemFacts } from './system.js'
import type { CommandRunner } from './gpu.js'
import { breakdownRows, runFitParams } from '../bench/fit-params.js'
import { writeHeaderOnlyCopy } from '../models/header-copy.js'

/** The weight types llama.cpp's CPU backend has repacked layouts for (ggml-cpu/repack.cpp); which it uses depends on the CPU. */
export const REPACK_CANDIDATES = ['Q4_0', 'Q4_K', 'Q5_K', 'Q6_K', 'Q2_K', 'IQ4_NL', 'MXFP4', 'Q8_0'] as const

const MIB = 1024 * 1024

/**
 * `--list-devices` output → devices in llama.cpp's order. Lines: "  CUDA0: NVIDIA H200 (143771 MiB, 143000 MiB free)";
 * "  (none)" on a CPU build. Null when the text has no "Available devices:" header (not the tool's answer).
 */
export function parseListDevices(text: string): LlamaDevice[] | null {
  const lines = text.split(/\r?\n/)
  const start = lines.findIndex((l) => l.trim() === 'Available devices:')
  if (start === -1) return null
  const out: LlamaDevice[] = []
  for (const line of lines.slice(start + 1)) {
    const m = /^\s+([^\s:]+): (.*) \((\d+) MiB, (\d+) MiB free\)\s*$/.exec(line)
    if (m) out.push({ name: m[1]!, description: m[2]!, total_bytes: Number(m[3]) * MIB, free_bytes: Number(m[4]) * MIB })
  }
  return out
}

export interface RuntimeMemory {
  /** null when llama-fit-params is missing or did not answer: the probe's GPU figures stay. */
  llamaDevices: LlamaDevice[] | null
  ramAvailableBytes: number
  /** null: not measured (no llama-fit-params, or it failed: `warnings` says why). */
  repackedTypes: string[] | null
  warnings: string[]
}

/** Reads llama.cpp's device list, the weight types its CPU backend repacks, and the available RAM now. */
export async function readRuntimeMemory(binDir: string, run: CommandRunner): Promise<RuntimeMemory> {
  const sys = await readSystemFacts(run)
  const warnings: string[] = []
  // A bin dir of one's own without the tool: the caller says so once; nothing here to ask llama.cpp.
  if (!existsSync(join(binDir, 'llama-fit-params'))) return { llamaDevices: null, ramAvailableBytes: sys.ramAvailableBytes, repackedTypes: null, warnings }
  const listed = await run(join(binDir, 'llama-fit-params'), ['--list-devices'])
  if (listed === null) warnings.push(`${join(binDir, 'llama-fit-params')} --list-devices did not answer: the probe's GPU figures stand in for llama.cpp's devices`)
  const repackedTypes = await measureRepackedTypes(binDir).catch((err: unknown) => {
    warnings.push(`which weight types the CPU repacks could not be measured (a tied output head's repacked copy is left out of the estimate): ${err instanceof Error ? err.message : String(err)}`)
    return null
  })
  return { llamaDevices: listed === null ? null : parseListDevices(listed), ramAvailableBytes: sys.ramAvailableBytes, repackedTypes, warnings }
}

/** MiB of CPU_REPACK weights in llama-fit-params' memory breakdown, 0 without the row (null: no breakdown at all). */
export function repackedMiB(log: string): number | null {
  const rows = breakdownRows(log)
  return rows === null ? null : (rows.find((r) => r.name === 'CPU_REPACK')?.model ?? 0)
}

/**
 * Which weight types llama.cpp repacks here: per candidate type, a one-layer model whose matrices are of that type
 * (a header-only copy: nothing is written but the header) projected on the CPU; a CPU_REPACK buffer in the
 * breakdown means the type is repacked. About a tenth of a second per type.
 */
export async function measureRepackedTypes(binDir: string): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'model-fit-gate-repack-'))
  try {
    // 2048 × 8192 matrices: megabytes in every type, rows a multiple of 8 as the repacked layouts need.
    const layout = syntheticLayout({ architecture: 'llama', layers: 1, embeddingLength: 2048, feedForwardLength: 8192, heads: 16, kvHeads: 16, vocabSize: 4096, contextLength: 512, seed: 1 })
    const out: string[] = []
    for (const name of REPACK_CANDIDATES) {
      const type = ggmlTypeByName(name)!
      const tensors = layout.tensors.map((t) => ({ name: t.name, dims: t.dims, type: t.dims.length >= 2 ? type.id : t.type }))
      const enc = encodeGgufHeader(layout.metadata, tensors, layout.alignment)
      const path = await writeHeaderOnlyCopy(dir, [{ name: `${name}.gguf`, header: enc.bytes, fileBytes: enc.bytes.length + enc.dataBytes }])
      const log = await runFitParams(binDir, ['-m', path, '-c', '512', '-ngl', '0', '-t', '1', '--fit-print', 'on', '-v', '--log-jsonl'], dir, name)
      if ((repackedMiB(log) ?? 0) > 0) out.push(name)
    }
    return out
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** The profile with the run's memory: available RAM replaced, llama.cpp's devices added. Pure. */
export function withRuntimeMemory(hw: HardwareProfile, rt: RuntimeMemory): HardwareProfile {
  const system = { ...hw.system, ram_available_bytes: rt.ramAvailableBytes }
  if (rt.llamaDevices !== null) system.llama_devices = rt.llamaDevices
  const llama = rt.repackedTypes === null ? hw.llama : { ...hw.llama, repacked_types: rt.repackedTypes }
  return { ...hw, system, llama }
}
