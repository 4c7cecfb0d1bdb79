// Memory as it is when the run starts, not when the probe ran (possibly days ago, with other models loaded): the
// devices llama.cpp itself lists, with the total and free memory it reads for each (`llama-fit-params
// --list-devices`: for Metal the recommended working-set size, which is what Metal lets a process keep resident, not
// the RAM), and the host's available RAM. The memory fit budgets by these, and the layer split follows them.

import { join } from 'node:path'
import type { HardwareProfile, LlamaDevice } from '../contracts/hardware.js'
import { readSystemFacts } from './system.js'
import type { CommandRunner } from './gpu.js'

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
}

/** Reads llama.cpp's device list and the available RAM now. */
export async function readRuntimeMemory(binDir: string, run: CommandRunner): Promise<RuntimeMemory> {
  const listed = await run(join(binDir, 'llama-fit-params'), ['--list-devices'])
  const sys = await readSystemFacts(run)
  return { llamaDevices: listed === null ? null : parseListDevices(listed), ramAvailableBytes: sys.ramAvailableBytes }
}

/** The profile with the run's memory: available RAM replaced, llama.cpp's devices added. Pure. */
export function withRuntimeMemory(hw: HardwareProfile, rt: RuntimeMemory): HardwareProfile {
  const system = { ...hw.system, ram_available_bytes: rt.ramAvailableBytes }
  if (rt.llamaDevices !== null) system.llama_devices = rt.llamaDevices
  return { ...hw, system }
}
