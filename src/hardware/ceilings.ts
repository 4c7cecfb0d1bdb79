// Physical ceilings measured without llama.cpp: a plain multi-threaded memory read, swept over buffer sizes from
// well inside the caches to far beyond them, and a peak FMA rate. A tiny C program compiled on the fly with the
// system's cc gives numbers close to the hardware's; without a compiler, Node worker threads summing a typed array give
// a (lower) memory-read figure and no sweep.
//
// The sweep is what sizes the probe and the estimator's cache rule: the kernel's cache size is a label (a 2-vCPU
// slice of a VM reports the host's whole 480 MiB L3 and can stream from about 64–128 MiB of it), while the size at
// which a threaded read falls to the memory rate is what a weight stream actually gets (cacheKnee()).

import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { execa } from 'execa'
import type { CacheSweepPoint, MeasuredFact } from '../contracts/hardware.js'
import { factWithValue, roundSig } from './facts.js'
import { childEnv } from '../util/child-env.js'

/** The memory-read buffer is at least this many times the reported caches, so nearly every byte comes from memory. */
export const MEMREAD_CACHE_MULTIPLE = 4
export const MEMREAD_MIN_BYTES = 512 * 1024 * 1024
/** Bounded so the probe never takes a large share of a small machine's RAM. */
export const MEMREAD_MAX_BYTES = 2 * 1024 * 1024 * 1024
export const MEMREAD_PASSES = 5
/** The sweep's smallest buffer (inside any L2 of all cores together) and its step (√2: two sizes per octave). */
export const SWEEP_MIN_BYTES = 512 * 1024
export const SWEEP_STEP = Math.SQRT2
/** Each timed trial of a size reads at least this many bytes (the buffer again and again), so a trial lasts ms. */
export const SWEEP_TRIAL_BYTES = 256 * 1024 * 1024
/** Trials per size; the fastest counts (interference from other processes only ever slows a trial down). */
export const SWEEP_TRIALS = 5
/**
 * A size is "at the memory rate" when its read rate is within this share above the rate of the largest buffer: the
 * knee is the smallest size from which every larger one is. Run-to-run noise of a threaded read is ~5–10 %; a
 * partly cache-resident stream still reads ≥ 1.4× faster (sweeps of the EPYC and Xeon VMs we run on).
 */
export const KNEE_MARGIN = 0.25
/** FMA chains per thread in the FLOPS kernel; enough to fill the pipelines of current cores. */
const FLOPS_ITERATIONS = 20_000_000
const COMPILE_TIMEOUT_MS = 60_000
const RUN_TIMEOUT_MS = 90_000

// Worker threads first-touch their share of the largest buffer (local pages), then wait at a barrier for each job and
// time it themselves:
// read `words` 64-bit words of their slice `reps` times (8 accumulators, vectorised by -O3; the empty asm keeps the
// compiler from merging repeated passes over unchanged data). Every trial is printed; the parser takes the fastest.
// The FLOPS kernel runs 16 independent FMA chains of 8-wide floats per thread (compiler-vectorised).
const C_SOURCE = String.raw`
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
static size_t max_words; static int n_threads;
/* Volatile: written by main between barriers; without it GCC's static-variable analysis may keep stale copies. */
static volatile size_t cur_words, cur_reps; static volatile int quit; static uint64_t *buf; static volatile uint64_t sink;
static pthread_barrier_t bar; static double t_start[256], t_end[256];
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
static void *reader(void *arg){
  size_t id=(size_t)arg, share=max_words/n_threads;
  for(size_t i=id*share;i<(id+1)*share;i++) buf[i]=i*2654435761u;
  pthread_barrier_wait(&bar);
  for(;;){
    pthread_barrier_wait(&bar);
    if(quit) break;
    size_t per=cur_words/n_threads/8*8, lo=id*per, hi=lo+per;
    uint64_t a0=0,a1=0,a2=0,a3=0,a4=0,a5=0,a6=0,a7=0;
    t_start[id]=now();
    for(size_t r=0;r<cur_reps;r++){
      for(size_t i=lo;i+8<=hi;i+=8){a0+=buf[i];a1+=buf[i+1];a2+=buf[i+2];a3+=buf[i+3];a4+=buf[i+4];a5+=buf[i+5];a6+=buf[i+6];a7+=buf[i+7];}
      __asm__ volatile("" ::: "memory");
    }
    sink+=a0+a1+a2+a3+a4+a5+a6+a7;
    t_end[id]=now();
    pthread_barrier_wait(&bar);
  }
  return NULL;
}
/* The workers time themselves (first start to last end): with as many workers as cores, the main thread may not
   run again until they finish, so its own clock would miss most of the job. */
static double job(size_t words,size_t reps){
  cur_words=words;cur_reps=reps;pthread_barrier_wait(&bar);pthread_barrier_wait(&bar);
  double t0=t_start[0],t1=t_end[0];
  for(int t=1;t<n_threads;t++){if(t_start[t]<t0)t0=t_start[t]; if(t_end[t]>t1)t1=t_end[t];}
  return t1-t0;
}
static long iters;
static void *flopper(void *arg){
  float v[16][8]; for(int j=0;j<16;j++)for(int k=0;k<8;k++)v[j][k]=1.0f+(float)(j+k+(size_t)arg)*1e-7f;
  const float m=0.999999f,c=1e-7f;
  for(long i=0;i<iters;i++) for(int j=0;j<16;j++) for(int k=0;k<8;k++) v[j][k]=v[j][k]*m+c;
  float s=0; for(int j=0;j<16;j++)for(int k=0;k<8;k++)s+=v[j][k]; sink+=(uint64_t)s; return NULL;
}
/* memread SIZES THREADS PASSES FLOPS_ITERS TRIALS TRIAL_BYTES — SIZES: comma-separated bytes, ascending; the last is
   the memory-rate buffer, read PASSES times once; every other size TRIALS times (after one untimed warm-up). */
int main(int argc,char**argv){
  if(argc<7) return 2;
  size_t sizes[128]; int n_sizes=0; char *s=argv[1];
  while(*s && n_sizes<128){sizes[n_sizes++]=strtoull(s,&s,10); if(*s==',') s++;}
  n_threads=atoi(argv[2]); int passes=atoi(argv[3]); iters=atol(argv[4]); int trials=atoi(argv[5]); size_t trial_bytes=strtoull(argv[6],0,10);
  if(n_sizes<1||n_threads<1) return 2;
  if(n_threads>256) n_threads=256;
  size_t largest=sizes[n_sizes-1];
  max_words=largest/8/n_threads/8*8*n_threads; buf=aligned_alloc(64,max_words*8); if(!buf) return 3;
  pthread_t th[256];
  pthread_barrier_init(&bar,0,n_threads+1);
  for(int t=0;t<n_threads;t++) pthread_create(&th[t],0,reader,(void*)(size_t)t);
  pthread_barrier_wait(&bar);
  for(int k=0;k<n_sizes-1;k++){
    size_t words=sizes[k]/8/n_threads/8*8*n_threads; if(words==0) continue;
    size_t reps=trial_bytes/(words*8); if(reps<1) reps=1;
    job(words,1);
    for(int p=0;p<trials;p++){double sec=job(words,reps); printf("sweep %zu %.9f %zu\n",words*8,sec,words*8*reps);}
  }
  for(int p=0;p<passes;p++){double sec=job(max_words,1); printf("read %.6f %zu\n",sec,max_words*8);}
  quit=1; pthread_barrier_wait(&bar);
  for(int t=0;t<n_threads;t++) pthread_join(th[t],0);
  pthread_barrier_destroy(&bar);
  free(buf);
  for(int p=0;p<3;p++){
    double t0=now();
    for(int t=0;t<n_threads;t++) pthread_create(&th[t],0,flopper,(void*)(size_t)t);
    for(int t=0;t<n_threads;t++) pthread_join(th[t],0);
    double t1=now();
    printf("flops %.6f %.0f\n",t1-t0,(double)iters*16*8*2*n_threads);
  }
  return 0;
}
`

export interface Ceilings {
  memoryReadBytesPerSec: MeasuredFact | null
  peakFlopsPerSec: MeasuredFact | null
  /** Read rate by buffer size, all threads (empty without the compiled program). */
  cacheSweep: CacheSweepPoint[]
  method: string
}

/** Pure: the C program's output lines → rates (the sweep's trials grouped by size, fastest kept). */
export function parseCeilingOutput(text: string): { readBytesPerSec: number[]; flopsPerSec: number[]; sweep: CacheSweepPoint[] } {
  const readBytesPerSec: number[] = []
  const flopsPerSec: number[] = []
  const best = new Map<number, number>()
  for (const line of text.split('\n')) {
    const sw = /^sweep (\d+) ([\d.]+) (\d+)$/.exec(line.trim())
    if (sw) {
      const sec = Number(sw[2])
      if (sec > 0) best.set(Number(sw[1]), Math.max(best.get(Number(sw[1])) ?? 0, Number(sw[3]) / sec))
      continue
    }
    const m = /^(read|flops) ([\d.]+) ([\d.e+]+)$/.exec(line.trim())
    if (!m) continue
    const sec = Number(m[2])
    const amount = Number(m[3])
    if (!(sec > 0)) continue
    ;(m[1] === 'read' ? readBytesPerSec : flopsPerSec).push(amount / sec)
  }
  const sweep = [...best.entries()].sort((a, b) => a[0] - b[0]).map(([bytes, rate]) => ({ bytes, read_bytes_per_sec: roundSig(rate) }))
  return { readBytesPerSec, flopsPerSec, sweep }
}

/** Buffer size of the memory-read test for a machine whose caches are reported as `cacheBytes`, with `availableBytes` of RAM. */
export function memreadBytes(cacheBytes: number, availableBytes: number): number {
  const want = Math.max(MEMREAD_MIN_BYTES, cacheBytes * MEMREAD_CACHE_MULTIPLE)
  return Math.min(want, MEMREAD_MAX_BYTES, Math.floor(availableBytes / 4))
}

/**
 * The sweep's sizes: from SWEEP_MIN_BYTES by SWEEP_STEP up to below the memory-read buffer, then that buffer (the
 * memory rate). Rounded to whole KiB so the printed sizes are stable.
 */
export function sweepSizes(memreadBufferBytes: number): number[] {
  const sizes: number[] = []
  for (let s = SWEEP_MIN_BYTES; s < memreadBufferBytes; s *= SWEEP_STEP) sizes.push(Math.round(s / 1024) * 1024)
  sizes.push(memreadBufferBytes)
  return sizes
}

export interface CacheKnee {
  /** Smallest swept size from which every larger one reads at the memory rate (within KNEE_MARGIN); null: none seen. */
  kneeBytes: number | null
  /** The read rate of the largest swept buffer. */
  memoryBytesPerSec: number | null
}

/**
 * Pure: where a threaded read of a growing buffer falls to the memory rate. The memory rate is the largest buffer's
 * (it is several times the reported caches); the knee is the smallest size whose rate, and every larger size's, is
 * within KNEE_MARGIN of it. A sweep that is still faster than the memory rate below its last size has no knee.
 */
export function cacheKnee(sweep: readonly CacheSweepPoint[], memoryBytesPerSec?: number | null): CacheKnee {
  const points = [...sweep].sort((a, b) => a.bytes - b.bytes)
  const memory = memoryBytesPerSec ?? points.at(-1)?.read_bytes_per_sec ?? null
  if (!memory || points.length === 0) return { kneeBytes: null, memoryBytesPerSec: memory }
  let knee: number | null = null
  for (let i = points.length - 1; i >= 0; i--) {
    if ((points[i] as CacheSweepPoint).read_bytes_per_sec > (1 + KNEE_MARGIN) * memory) break
    knee = (points[i] as CacheSweepPoint).bytes
  }
  // A knee at the very last size means nothing smaller was seen at the memory rate: the caches may reach beyond it.
  if (knee !== null && knee === points.at(-1)!.bytes && points.length > 1) return { kneeBytes: null, memoryBytesPerSec: memory }
  return { kneeBytes: knee, memoryBytesPerSec: memory }
}

/**
 * Pure: the knee the probe plans with. A knee within one octave of the one this machine's cached profile found is the
 * same knee seen through the noise (a size near the margin flips between two sweep steps from run to run): keeping the
 * earlier one keeps the plan, and so the probe's files and the estimator's cache rule, stable across refreshes.
 */
export function stableKnee(measuredBytes: number | null, previousBytes: number | null | undefined): number | null {
  if (measuredBytes === null || !previousBytes) return measuredBytes
  return Math.max(measuredBytes, previousBytes) <= 2 * Math.min(measuredBytes, previousBytes) ? previousBytes : measuredBytes
}

export type CacheSource = 'measured' | 'reported' | 'default'

/**
 * The cache size the probe and the estimator use: the measured knee, bounded by the reported size (a label can
 * over-state the usable cache, never under-state the knee by more than one sweep step, so it stays an upper bound);
 * without a knee the reported size; without either the default.
 */
export function effectiveCacheBytes(kneeBytes: number | null, reportedBytes: number, defaultBytes: number): { bytes: number; source: CacheSource } {
  if (kneeBytes !== null && kneeBytes > 0) return { bytes: reportedBytes > 0 ? Math.min(kneeBytes, reportedBytes) : kneeBytes, source: 'measured' }
  if (reportedBytes > 0) return { bytes: reportedBytes, source: 'reported' }
  return { bytes: defaultBytes, source: 'default' }
}

/** A ceiling is the fastest pass: interference from other processes only ever slows a pass down. */
function ceilingFact(values: number[], unit: string): MeasuredFact | null {
  if (values.length === 0) return null
  return factWithValue(Math.max(...values), values, unit)
}

async function compileProbe(workDir: string): Promise<string | null> {
  const hash = createHash('sha256').update(C_SOURCE).digest('hex').slice(0, 12)
  const exe = join(workDir, `memread-${hash}`)
  if (existsSync(exe)) return exe
  await mkdir(workDir, { recursive: true })
  const src = join(workDir, `memread-${hash}.c`)
  await writeFile(src, C_SOURCE)
  for (const cc of ['cc', 'gcc', 'clang']) {
    const flags = ['-O3', '-march=native', '-pthread', '-o', exe, src]
    const r = await execa(cc, flags, { reject: false, timeout: COMPILE_TIMEOUT_MS, env: childEnv('build'), extendEnv: false }).catch(() => null)
    if (r && r.exitCode === 0 && existsSync(exe)) return exe
    // -march=native is unknown to some compilers (Apple clang on arm64 before 15); retry without it.
    const r2 = await execa(cc, flags.filter((f) => f !== '-march=native'), { reject: false, timeout: COMPILE_TIMEOUT_MS, env: childEnv('build'), extendEnv: false }).catch(() => null)
    if (r2 && r2.exitCode === 0 && existsSync(exe)) return exe
  }
  return null
}

// The worker sums a Float64Array of its own; the main thread times the slowest worker of each pass.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const a = new Float64Array(workerData.words)
for (let i = 0; i < a.length; i++) a[i] = i & 1023
parentPort.on('message', () => {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0
  const n = a.length - 3
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i += 4) { s0 += a[i]; s1 += a[i + 1]; s2 += a[i + 2]; s3 += a[i + 3] }
  const t1 = process.hrtime.bigint()
  parentPort.postMessage({ ns: Number(t1 - t0), sum: s0 + s1 + s2 + s3 })
})
parentPort.postMessage({ ready: true })
`

async function nodeMemread(bytes: number, threads: number): Promise<number[]> {
  const words = Math.floor(bytes / 8 / threads)
  const workers = Array.from({ length: threads }, () => new Worker(WORKER_SOURCE, { eval: true, workerData: { words } }))
  try {
    await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r))))
    const rates: number[] = []
    for (let p = 0; p < MEMREAD_PASSES; p++) {
      const t0 = process.hrtime.bigint()
      await Promise.all(
        workers.map((w) => {
          const done = new Promise((r) => w.once('message', r))
          w.postMessage('go')
          return done
        })
      )
      const sec = Number(process.hrtime.bigint() - t0) / 1e9
      rates.push((words * 8 * threads) / sec)
    }
    return rates
  } finally {
    await Promise.all(workers.map((w) => w.terminate()))
  }
}

/**
 * Measures the ceilings and the cache sweep; `workDir` caches the compiled program. `cacheBytes` is the reported
 * cache size (it sizes the memory-rate buffer, never the result). Never throws: a failed part is null or empty.
 */
export async function measureCeilings(opts: {
  workDir: string
  threads: number
  cacheBytes: number
  availableBytes: number
  log: (line: string) => void
}): Promise<Ceilings> {
  const bytes = memreadBytes(opts.cacheBytes, opts.availableBytes)
  const exe = await compileProbe(opts.workDir).catch(() => null)
  if (exe) {
    const args = [sweepSizes(bytes).join(','), String(opts.threads), String(MEMREAD_PASSES), String(FLOPS_ITERATIONS), String(SWEEP_TRIALS), String(SWEEP_TRIAL_BYTES)]
    const r = await execa(exe, args, { reject: false, timeout: RUN_TIMEOUT_MS, env: childEnv('llama'), extendEnv: false }).catch(() => null)
    if (r && r.exitCode === 0) {
      const parsed = parseCeilingOutput(String(r.stdout))
      return {
        memoryReadBytesPerSec: ceilingFact(parsed.readBytesPerSec, 'B/s'),
        peakFlopsPerSec: ceilingFact(parsed.flopsPerSec, 'FLOP/s'),
        cacheSweep: parsed.sweep,
        method: 'cc'
      }
    }
    opts.log(`probe: the compiled memory-read program failed (${r ? `exit ${r.exitCode}` : 'not started'}); using Node workers, without a cache sweep`)
  }
  const rates = await nodeMemread(bytes, opts.threads).catch(() => [])
  return { memoryReadBytesPerSec: ceilingFact(rates, 'B/s'), peakFlopsPerSec: null, cacheSweep: [], method: 'node-workers' }
}
