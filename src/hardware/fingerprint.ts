// Which measurements are interchangeable: the same device (CPU model, cores, RAM, GPUs), the same llama.cpp build
// and backend, the same thread count. Pure.

import { createHash } from 'node:crypto'
import type { GpuInfo } from '../contracts/hardware.js'
import { stableStringify } from '../util/json.js'

/** RAM is rounded to this many bytes: the kernel's reserved memory wobbles between boots, the device does not. */
const RAM_ROUNDING_BYTES = 1024 ** 3
/** Hex characters of the fingerprint: short enough for file names, far from colliding among one user's machines. */
const FINGERPRINT_HEX_CHARS = 16
/** Bumped when the probe's method changes so that old cached profiles are re-measured. */
export const PROBE_METHOD_VERSION = 2

export interface FingerprintInput {
  os: string
  arch: string
  cpuModel: string
  cores: number
  ramTotalBytes: number
  gpus: readonly GpuInfo[]
  llamaCommit: string
  backend: string
  threads: number
}

/** A stable id of (device, llama.cpp build, backend, threads); the probe cache is keyed by it. */
export function deviceFingerprint(f: FingerprintInput): string {
  const key = {
    method: PROBE_METHOD_VERSION,
    // The OS kernel release changes with updates; only the platform name identifies the device class.
    os: f.os.split(' ')[0],
    arch: f.arch,
    cpuModel: f.cpuModel,
    cores: f.cores,
    ramGiB: Math.round(f.ramTotalBytes / RAM_ROUNDING_BYTES),
    gpus: f.gpus.map((g) => ({ name: g.name, memoryTotalBytes: g.memory_total_bytes })),
    llamaCommit: f.llamaCommit,
    backend: f.backend,
    threads: f.threads
  }
  return createHash('sha256').update(stableStringify(key)).digest('hex').slice(0, FINGERPRINT_HEX_CHARS)
}
