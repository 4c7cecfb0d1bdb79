// llama.cpp's own account of its memory, parsed from the stderr of llama-bench (-v) or llama-server (-lv 4):
//   load_tensors:   CPU_Mapped model buffer size =   102.04 MiB
//   load_tensors:   CPU_REPACK model buffer size =    12.38 MiB   (a copy of some weights in another layout)
//   llama_kv_cache:        CPU KV buffer size =    16.00 MiB
//   llama_memory_recurrent:        CPU RS buffer size =     1.50 MiB
//   sched_reserve:        CPU compute buffer size =   147.01 MiB
//   llama_context:        CPU  output buffer size =     0.02 MiB
// (the server prefixes a timestamp and level, "0.00.055.236 I "). Buffers on several devices (CPU_Mapped + CUDA0,
// CUDA0 + CUDA_Host) are summed per kind. The CPU's extra buffer types hold copies: CPU_REPACK (repacked quants,
// MXFP4) and AMX (F16 and quants in AMX tiles) hold a second layout of some tensors (ggml-cpu's extra_buffer_types)
// while the mapped buffer spans the file's range around them, so they are summed apart. Pure: text in, numbers out; compare/memory-check.ts sets the
// memory estimate beside them.

import type { LlamaBufferKind, LlamaBufferSizes } from '../contracts/observation.js'

export type { LlamaBufferSizes } from '../contracts/observation.js'

const UNIT: Readonly<Record<string, number>> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 }
const LINE = /\b([A-Za-z0-9_]+)\s+(model|KV|RS|compute|output) buffer size\s*=\s*([\d.]+)\s*(B|KiB|MiB|GiB)\b/
/** Buffer names of the CPU backend's extra buffer types (ggml-cpu: "CPU_REPACK", "AMX", "CPU_KLEIDIAI", …). */
const EXTRA_MODEL_BUFFER = /^(CPU_REPACK|AMX|CPU_AMX|CPU_KLEIDIAI|KLEIDIAI)$/i

/** Sums the buffer lines of one load (the last load when a log holds several, e.g. a restarted server). */
export function parseLlamaBufferSizes(text: string): LlamaBufferSizes {
  let buffers: LlamaBufferSizes['buffers'] = []
  let sawCompute = false
  for (const line of text.split(/\r?\n/)) {
    // llama-bench prints "compute buffer size is … matches expectation" at teardown: not a new allocation.
    if (/buffer size is/.test(line)) continue
    const m = LINE.exec(line)
    if (!m) continue
    const device = m[1] as string
    const base = ({ model: 'model', KV: 'kv', RS: 'rs', compute: 'compute', output: 'output' } as const)[m[2] as 'model' | 'KV' | 'RS' | 'compute' | 'output']
    const kind: LlamaBufferKind = base === 'model' && EXTRA_MODEL_BUFFER.test(device) ? 'repacked_model' : base
    // A model buffer after a compute buffer starts a new load: keep only the latest.
    if (kind === 'model' && sawCompute) {
      buffers = []
      sawCompute = false
    }
    if (kind === 'compute') sawCompute = true
    buffers.push({ device, kind, bytes: Math.round(Number(m[3]) * (UNIT[m[4] as string] ?? 1)) })
  }
  const sum = (kind: LlamaBufferSizes['buffers'][number]['kind']): number | null => {
    const b = buffers.filter((x) => x.kind === kind)
    return b.length === 0 ? null : b.reduce((s, x) => s + x.bytes, 0)
  }
  return {
    model_bytes: sum('model'),
    repacked_model_bytes: sum('repacked_model'),
    kv_bytes: sum('kv'),
    rs_bytes: sum('rs'),
    compute_bytes: sum('compute'),
    output_bytes: sum('output'),
    buffers
  }
}

/** Whether a log held any buffer line at all (a server that died before loading, or a log without -lv 4, has none). */
export function hasBufferSizes(s: LlamaBufferSizes): boolean {
  return s.buffers.length > 0
}
