// System facts: OS, CPU, cores, RAM and the CPU caches. The parsers are pure (text in, numbers out) so they are
// unit-tested on recorded /proc and /sys contents; readSystemFacts() is the thin edge that reads them.

import { readdir, readFile } from 'node:fs/promises'
import { arch, availableParallelism, cpus, freemem, platform, release, totalmem } from 'node:os'
import { join } from 'node:path'
import type { CommandRunner } from './gpu.js'

/** One CPU cache as the kernel describes it (/sys/devices/system/cpu/cpuN/cache/indexM). */
export interface CpuCache {
  level: number
  type: string
  sizeBytes: number
  /** CPUs sharing this cache instance ("0-1", "0,2"): caches listed by several CPUs are counted once. */
  sharedCpuList: string
}

/** What the probe sizes its models from: the bytes a working set must exceed to stream from memory. */
export interface CacheSummary {
  /** Largest cache level present (3 on most x86 servers). */
  lastLevel: number
  /** Bytes of all last-level instances together. */
  lastLevelBytes: number
  /** Bytes of every data/unified cache of every level, each instance once: what a stream can hide in. */
  totalBytes: number
}

/** "32K", "1024K", "32M", "512" → bytes; null when the text is not a size. */
export function parseCacheSize(text: string): number | null {
  const m = /^\s*(\d+)\s*([KMG]?)i?B?\s*$/i.exec(text)
  if (!m) return null
  const unit = (m[2] ?? '').toUpperCase()
  const mult = unit === 'K' ? 1024 : unit === 'M' ? 1024 ** 2 : unit === 'G' ? 1024 ** 3 : 1
  return Number(m[1]) * mult
}

/** Expands a kernel CPU list ("0-3,8,10-11") to CPU numbers. */
export function parseCpuList(text: string): number[] {
  const out: number[] = []
  for (const part of text.trim().split(',')) {
    if (part === '') continue
    const [a, b] = part.split('-')
    const lo = Number(a)
    const hi = b === undefined ? lo : Number(b)
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || hi < lo) continue
    for (let c = lo; c <= hi; c++) out.push(c)
  }
  return out
}

/**
 * Sums caches over all CPUs' cache descriptions, counting each shared instance once (keyed by level, type and the
 * CPUs sharing it). Instruction caches are left out: weights stream through data caches only.
 */
export function summarizeCaches(caches: readonly CpuCache[]): CacheSummary {
  const seen = new Set<string>()
  let lastLevel = 0
  const bytesByLevel = new Map<number, number>()
  for (const c of caches) {
    if (c.type.toLowerCase() === 'instruction') continue
    const key = `${c.level}/${c.type}/${parseCpuList(c.sharedCpuList).join(',')}`
    if (seen.has(key)) continue
    seen.add(key)
    lastLevel = Math.max(lastLevel, c.level)
    bytesByLevel.set(c.level, (bytesByLevel.get(c.level) ?? 0) + c.sizeBytes)
  }
  let totalBytes = 0
  for (const b of bytesByLevel.values()) totalBytes += b
  return { lastLevel, lastLevelBytes: bytesByLevel.get(lastLevel) ?? 0, totalBytes }
}

/**
 * `lscpu` fallback (no sysfs, e.g. some containers): lines like "L3 cache: 32 MiB (1 instance)". lscpu prints the
 * total over instances already.
 */
export function parseLscpuCaches(text: string): CacheSummary {
  let lastLevel = 0
  let lastLevelBytes = 0
  let totalBytes = 0
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*L(\d)([di]?)\s+cache:\s*([\d.]+)\s*([KMG])i?B/i.exec(line)
    if (!m) continue
    if ((m[2] ?? '').toLowerCase() === 'i') continue
    const level = Number(m[1])
    const unit = (m[4] ?? 'K').toUpperCase()
    const bytes = Math.round(Number(m[3]) * (unit === 'K' ? 1024 : unit === 'M' ? 1024 ** 2 : 1024 ** 3))
    totalBytes += bytes
    if (level > lastLevel) {
      lastLevel = level
      lastLevelBytes = bytes
    } else if (level === lastLevel) lastLevelBytes += bytes
  }
  return { lastLevel, lastLevelBytes, totalBytes }
}

/** /proc/meminfo → total and available bytes (null when the keys are missing). */
export function parseMeminfo(text: string): { totalBytes: number; availableBytes: number } | null {
  const kb = (key: string): number | null => {
    const m = new RegExp(`^${key}:\\s+(\\d+)\\s*kB`, 'm').exec(text)
    return m ? Number(m[1]) * 1024 : null
  }
  const total = kb('MemTotal')
  const available = kb('MemAvailable') ?? kb('MemFree')
  return total === null || available === null ? null : { totalBytes: total, availableBytes: available }
}

/**
 * macOS `vm_stat` → bytes available to a new process: free + inactive + speculative pages (the pages macOS hands out
 * without swapping; psutil counts the same). Node's os.freemem() reports only the free pages there, which on a Mac
 * that has been up a while is a small part of what a model can actually use. Null when the text is not vm_stat's.
 */
export function parseVmStat(text: string): number | null {
  const size = /page size of (\d+) bytes/.exec(text)
  if (!size) return null
  const pages = (name: string): number | null => {
    const m = new RegExp(`^Pages ${name}:\\s+(\\d+)\\.?\\s*$`, 'm').exec(text)
    return m ? Number(m[1]) : null
  }
  const free = pages('free')
  if (free === null) return null
  return (free + (pages('inactive') ?? 0) + (pages('speculative') ?? 0)) * Number(size[1])
}

/**
 * macOS `sysctl hw` → the CPU caches. Apple silicon describes each core cluster (perflevel): its L1d per core and its
 * L2 shared by `cpusperl2` cores; Intel Macs give one L1d and L2 per core and one shared L3. Each instance is counted
 * once, as summarizeCaches does from sysfs.
 */
export function parseSysctlCaches(text: string): CacheSummary {
  const v = new Map<string, number>()
  for (const line of text.split(/\r?\n/)) {
    const m = /^(hw\.[\w.]+):\s*(\d+)\s*$/.exec(line.trim())
    if (m) v.set(m[1] as string, Number(m[2]))
  }
  const bytesByLevel = new Map<number, number>()
  const add = (level: number, bytes: number): void => {
    if (bytes > 0) bytesByLevel.set(level, (bytesByLevel.get(level) ?? 0) + bytes)
  }
  const levels = v.get('hw.nperflevels') ?? 0
  if (levels > 0) {
    for (let i = 0; i < levels; i++) {
      const k = (name: string): number => v.get(`hw.perflevel${i}.${name}`) ?? 0
      const cores = k('physicalcpu')
      add(1, k('l1dcachesize') * cores)
      add(2, k('l2cachesize') * Math.ceil(cores / Math.max(1, k('cpusperl2') || cores)))
      add(3, k('l3cachesize') * Math.ceil(cores / Math.max(1, k('cpusperl3') || cores)))
    }
  } else {
    const cores = v.get('hw.physicalcpu') ?? 1
    add(1, (v.get('hw.l1dcachesize') ?? 0) * cores)
    add(2, (v.get('hw.l2cachesize') ?? 0) * cores)
    add(3, v.get('hw.l3cachesize') ?? 0)
  }
  const lastLevel = Math.max(0, ...bytesByLevel.keys())
  let totalBytes = 0
  for (const b of bytesByLevel.values()) totalBytes += b
  return { lastLevel, lastLevelBytes: bytesByLevel.get(lastLevel) ?? 0, totalBytes }
}

/** /proc/cpuinfo "model name" (x86) or "Model"/"Hardware" (ARM) of the first CPU. */
export function parseCpuinfoModel(text: string): string | null {
  const m = /^(?:model name|Model|Hardware)\s*:\s*(.+)$/m.exec(text)
  return m ? (m[1] as string).trim() : null
}

export interface SystemFacts {
  os: string
  arch: string
  cpuModel: string
  cores: number
  ramTotalBytes: number
  ramAvailableBytes: number
  caches: CacheSummary
}

async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8')
  } catch {
    return null
  }
}

/** Reads every CPU's cache descriptions from sysfs (empty on systems without it). */
async function readSysfsCaches(root = '/sys/devices/system/cpu'): Promise<CpuCache[]> {
  const out: CpuCache[] = []
  let cpuDirs: string[]
  try {
    cpuDirs = (await readdir(root)).filter((d) => /^cpu\d+$/.test(d))
  } catch {
    return out
  }
  for (const cpu of cpuDirs) {
    let indexes: string[]
    try {
      indexes = (await readdir(join(root, cpu, 'cache'))).filter((d) => /^index\d+$/.test(d))
    } catch {
      continue
    }
    for (const idx of indexes) {
      const dir = join(root, cpu, 'cache', idx)
      const [level, type, size, shared] = await Promise.all(
        ['level', 'type', 'size', 'shared_cpu_list'].map((f) => readText(join(dir, f)))
      )
      const sizeBytes = size ? parseCacheSize(size) : null
      if (!level || !type || sizeBytes === null) continue
      out.push({ level: Number(level.trim()), type: type.trim(), sizeBytes, sharedCpuList: (shared ?? cpu.slice(3)).trim() })
    }
  }
  return out
}

/**
 * OS, CPU, RAM and caches of this machine: /proc and sysfs on Linux (lscpu when sysfs has no caches), sysctl and
 * vm_stat on macOS. Tools go through `run` so tests and other systems can answer for them.
 */
export async function readSystemFacts(run: CommandRunner, os: NodeJS.Platform = platform()): Promise<SystemFacts> {
  const meminfo = await readText('/proc/meminfo')
  const mem = meminfo ? parseMeminfo(meminfo) : null
  const cpuinfo = await readText('/proc/cpuinfo')
  const cpuModel = (cpuinfo ? parseCpuinfoModel(cpuinfo) : null) ?? cpus()[0]?.model?.trim() ?? 'unknown CPU'
  let caches = summarizeCaches(await readSysfsCaches())
  let available = mem?.availableBytes ?? null
  if (os === 'darwin') {
    const hw = await run('sysctl', ['hw'])
    if (hw && caches.totalBytes === 0) caches = parseSysctlCaches(hw)
    const vm = await run('vm_stat', [])
    available ??= vm ? parseVmStat(vm) : null
  }
  if (caches.totalBytes === 0) {
    const text = await run('lscpu', [])
    if (text) caches = parseLscpuCaches(text)
  }
  return {
    os: `${os} ${release()}`,
    arch: arch(),
    cpuModel,
    cores: availableParallelism(),
    ramTotalBytes: mem?.totalBytes ?? totalmem(),
    ramAvailableBytes: available ?? freemem(),
    caches
  }
}
