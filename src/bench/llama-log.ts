// llama.cpp's own account of its memory, parsed from the stderr of llama-bench (-v) or llama-server (-lv 4):
//   load_tensors:   CPU_Mapped model buffer size =   102.04 MiB
//   llama_kv_cache:        CPU KV buffer size =    16.00 MiB
//   sched_reserve:        CPU compute buffer size =   147.01 MiB
//   llama_context:        CPU  output buffer size =     0.02 MiB
// (the server prefixes a timestamp and level, "0.00.055.236 I "). Buffers on several devices (CPU_Mapped +
// CPU_REPACK, CUDA0 + CUDA_Host) are summed per kind. Pure: text in, numbers out; compare/memory-check.ts sets the
// memory estimate beside them.

import type { LlamaBufferSizes } from '../contracts/observation.js'

export type { LlamaBufferSizes } from '../contracts/observation.js'

const UNIT: Readonly<Record<string, number>> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 }
const LINE = /\b([A-Za-z0-9_]+)\s+(model|KV|compute|output) buffer size\s*=\s*([\d.]+)\s*(B|KiB|MiB|GiB)\b/

/** Sums the buffer lines of one load (the last load when a log holds several, e.g. a restarted server). */
export function parseLlamaBufferSizes(text: string): LlamaBufferSizes {
  let buffers: LlamaBufferSizes['buffers'] = []
  let sawCompute = false
  for (const line of text.split(/\r?\n/)) {
    // llama-bench prints "compute buffer size is … matches expectation" at teardown: not a new allocation.
    if (/buffer size is/.test(line)) continue
    const m = LINE.exec(line)
    if (!m) continue
    const kind = ({ model: 'model', KV: 'kv', compute: 'compute', output: 'output' } as const)[m[2] as 'model' | 'KV' | 'compute' | 'output']
    // A model buffer after a compute buffer starts a new load: keep only the latest.
    if (kind === 'model' && sawCompute) {
      buffers = []
      sawCompute = false
    }
    if (kind === 'compute') sawCompute = true
    buffers.push({ device: m[1] as string, kind, bytes: Math.round(Number(m[3]) * (UNIT[m[4] as string] ?? 1)) })
  }
  const sum = (kind: LlamaBufferSizes['buffers'][number]['kind']): number | null => {
    const b = buffers.filter((x) => x.kind === kind)
    return b.length === 0 ? null : b.reduce((s, x) => s + x.bytes, 0)
  }
  return { model_bytes: sum('model'), kv_bytes: sum('kv'), compute_bytes: sum('compute'), output_bytes: sum('output'), buffers }
}

/** Whether a log held any buffer line at all (a server that died before loading, or a log without -lv 4, has none). */
export function hasBufferSizes(s: LlamaBufferSizes): boolean {
  return s.buffers.length > 0
}
