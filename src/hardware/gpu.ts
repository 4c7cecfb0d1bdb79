// GPUs as the vendor tools describe them. Pure parsers for nvidia-smi (CSV), rocm-smi (JSON) and macOS
// system_profiler (JSON); detectGpus() runs whichever tools exist through an injected command runner. A tool that
// is absent or prints something unexpected contributes no GPUs: a CPU-only machine has an empty list.

import type { GpuInfo } from '../contracts/hardware.js'

const MIB = 1024 * 1024

/** The query detectGpus() sends to nvidia-smi; the parser expects exactly these columns in this order. */
export const NVIDIA_SMI_ARGS = [
  '--query-gpu=name,memory.total,memory.free,driver_version,compute_cap',
  '--format=csv,noheader,nounits'
] as const
export const ROCM_SMI_ARGS = ['--showproductname', '--showmeminfo', 'vram', '--showdriverversion', '--json'] as const
export const SYSTEM_PROFILER_ARGS = ['SPDisplaysDataType', '-json'] as const

function numberOrNull(text: string | undefined): number | null {
  if (text === undefined) return null
  const n = Number(text.trim())
  return Number.isFinite(n) && text.trim() !== '' ? n : null
}

function textOrNull(text: string | undefined): string | null {
  const t = text?.trim()
  return t && !/^\[?N\/A\]?$/i.test(t) ? t : null
}

/** `nvidia-smi --query-gpu=name,memory.total,memory.free,driver_version,compute_cap --format=csv,noheader,nounits`. */
export function parseNvidiaSmiCsv(text: string): GpuInfo[] {
  const gpus: GpuInfo[] = []
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue
    const cols = line.split(',').map((c) => c.trim())
    if (cols.length < 4 || !cols[0]) continue
    const total = numberOrNull(cols[1])
    const free = numberOrNull(cols[2])
    gpus.push({
      name: cols[0],
      memory_total_bytes: total === null ? null : total * MIB,
      memory_free_bytes: free === null ? null : free * MIB,
      driver: textOrNull(cols[3]),
      compute_capability: textOrNull(cols[4])
    })
  }
  return gpus
}

type Obj = Record<string, unknown>
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/** The tools' JSON, or null when a tool printed something else (an error text, a truncated dump): no GPU then. */
function parseJsonOrNull(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return null
  }
}

/** Finds a value whose key matches `pattern` (rocm-smi's key spellings differ between versions). */
function findKey(o: Obj, pattern: RegExp): string | undefined {
  for (const [k, v] of Object.entries(o)) if (pattern.test(k) && (typeof v === 'string' || typeof v === 'number')) return String(v)
  return undefined
}

/** `rocm-smi --showproductname --showmeminfo vram --showdriverversion --json`: one object per "cardN". */
export function parseRocmSmiJson(text: string): GpuInfo[] {
  const parsed = parseJsonOrNull(text)
  if (!isObj(parsed)) return []
  const system = isObj(parsed.system) ? parsed.system : {}
  const driver = textOrNull(findKey(system, /driver version/i))
  const gpus: GpuInfo[] = []
  for (const key of Object.keys(parsed).filter((k) => /^card\d+$/.test(k)).sort()) {
    const card = parsed[key]
    if (!isObj(card)) continue
    const name = textOrNull(findKey(card, /card series|card model|product name/i)) ?? key
    const total = numberOrNull(findKey(card, /vram total memory/i))
    const used = numberOrNull(findKey(card, /vram total used memory/i))
    gpus.push({
      name,
      memory_total_bytes: total,
      memory_free_bytes: total !== null && used !== null ? total - used : null,
      driver: textOrNull(findKey(card, /driver version/i)) ?? driver,
      compute_capability: textOrNull(findKey(card, /gfx version/i))
    })
  }
  return gpus
}

/** "16 GB", "1536 MB" → bytes. */
function parseSizeWords(text: string | undefined): number | null {
  const m = text ? /([\d.]+)\s*([KMGT])B/i.exec(text) : null
  if (!m) return null
  const exp = { K: 1, M: 2, G: 3, T: 4 }[(m[2] as string).toUpperCase() as 'K' | 'M' | 'G' | 'T']
  return Math.round(Number(m[1]) * 1024 ** exp)
}

/**
 * `system_profiler SPDisplaysDataType -json`. Apple silicon GPUs share the system RAM and list no VRAM, so their
 * memory is null here and the fit uses available RAM; discrete GPUs in Intel Macs list spdisplays_vram.
 */
export function parseSystemProfilerJson(text: string): GpuInfo[] {
  const parsed = parseJsonOrNull(text)
  const list = isObj(parsed) ? parsed.SPDisplaysDataType : undefined
  if (!Array.isArray(list)) return []
  const gpus: GpuInfo[] = []
  for (const d of list) {
    if (!isObj(d)) continue
    const name = textOrNull(findKey(d, /^sppci_model$/)) ?? textOrNull(findKey(d, /^_name$/))
    if (!name) continue
    gpus.push({
      name,
      memory_total_bytes: parseSizeWords(findKey(d, /^spdisplays_vram/)),
      memory_free_bytes: null,
      driver: textOrNull(findKey(d, /^spdisplays_metal(family)?$|^sppci_metal/)),
      compute_capability: null
    })
  }
  return gpus
}

/** Runs a command and returns its stdout, or null when it is missing or fails. */
export type CommandRunner = (file: string, args: readonly string[]) => Promise<string | null>

/** GPUs from whichever vendor tool answers first (NVIDIA, then AMD, then macOS). */
export async function detectGpus(run: CommandRunner, os: NodeJS.Platform): Promise<GpuInfo[]> {
  const nvidia = await run('nvidia-smi', NVIDIA_SMI_ARGS)
  if (nvidia) {
    const g = parseNvidiaSmiCsv(nvidia)
    if (g.length > 0) return g
  }
  const rocm = await run('rocm-smi', ROCM_SMI_ARGS)
  if (rocm) {
    const g = parseRocmSmiJson(rocm)
    if (g.length > 0) return g
  }
  if (os === 'darwin') {
    const sp = await run('system_profiler', SYSTEM_PROFILER_ARGS)
    if (sp) return parseSystemProfilerJson(sp)
  }
  return []
}
