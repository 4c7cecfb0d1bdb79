// Physical ceilings measured without llama.cpp: a plain multi-threaded memory read over a buffer far larger than the
// caches, and a peak FMA rate. A tiny C program compiled on the fly with the system's cc gives numbers close to the
// hardware's; without a compiler, Node worker threads summing a typed array give a (lower) memory-read figure.
// These are context for the report and a sanity check of the llama.cpp-measured bandwidth, not estimator inputs.

import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { execa } from 'execa'
import type { MeasuredFact } from '../types.js'
import { factWithValue } from './facts.js'

/** The read buffer is this many times the caches, so nearly every byte comes from memory. */
export const MEMREAD_CACHE_MULTIPLE = 8
export const MEMREAD_MIN_BYTES = 256 * 1024 * 1024
/** Bounded so the probe never takes a large share of a small machine's RAM. */
export const MEMREAD_MAX_BYTES = 2 * 1024 * 1024 * 1024
export const MEMREAD_PASSES = 7
/** FMA chains per thread in the FLOPS kernel; enough to fill the pipelines of current cores. */
const FLOPS_ITERATIONS = 20_000_000
const COMPILE_TIMEOUT_MS = 60_000
const RUN_TIMEOUT_MS = 60_000

// Each thread sums its slice with 8 independent accumulators (vectorised by -O3); every pass is timed and printed.
// The FLOPS kernel runs 16 independent FMA chains of 8-wide floats per thread (compiler-vectorised).
const C_SOURCE = String.raw`
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
static size_t n_words; static int n_threads; static uint64_t *buf; static volatile uint64_t sink;
static pthread_barrier_t bar;
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
static void *reader(void *arg){
  size_t id=(size_t)arg, per=n_words/n_threads, lo=id*per, hi=lo+per;
  for(size_t i=lo;i<hi;i++) buf[i]=i*2654435761u;
  pthread_barrier_wait(&bar);
  uint64_t a0=0,a1=0,a2=0,a3=0,a4=0,a5=0,a6=0,a7=0;
  for(size_t i=lo;i+8<=hi;i+=8){a0+=buf[i];a1+=buf[i+1];a2+=buf[i+2];a3+=buf[i+3];a4+=buf[i+4];a5+=buf[i+5];a6+=buf[i+6];a7+=buf[i+7];}
  sink+=a0+a1+a2+a3+a4+a5+a6+a7;
  pthread_barrier_wait(&bar);
  return NULL;
}
static long iters;
static void *flopper(void *arg){
  float v[16][8]; for(int j=0;j<16;j++)for(int k=0;k<8;k++)v[j][k]=1.0f+(float)(j+k+(size_t)arg)*1e-7f;
  const float m=0.999999f,c=1e-7f;
  for(long i=0;i<iters;i++) for(int j=0;j<16;j++) for(int k=0;k<8;k++) v[j][k]=v[j][k]*m+c;
  float s=0; for(int j=0;j<16;j++)for(int k=0;k<8;k++)s+=v[j][k]; sink+=(uint64_t)s; return NULL;
}
int main(int argc,char**argv){
  if(argc<5) return 2;
  size_t bytes=strtoull(argv[1],0,10); n_threads=atoi(argv[2]); int passes=atoi(argv[3]); iters=atol(argv[4]);
  n_words=bytes/8/n_threads*n_threads; buf=aligned_alloc(64,n_words*8); if(!buf) return 3;
  pthread_t th[256]; if(n_threads>256) n_threads=256;
  for(int p=0;p<passes;p++){
    pthread_barrier_init(&bar,0,n_threads+1);
    for(int t=0;t<n_threads;t++) pthread_create(&th[t],0,reader,(void*)(size_t)t);
    pthread_barrier_wait(&bar); double t0=now(); pthread_barrier_wait(&bar); double t1=now();
    for(int t=0;t<n_threads;t++) pthread_join(th[t],0);
    pthread_barrier_destroy(&bar);
    printf("read %.6f %zu\n",t1-t0,n_words*8);
  }
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
  method: string
}

/** Pure: the C program's output lines → facts. */
export function parseCeilingOutput(text: string): { readBytesPerSec: number[]; flopsPerSec: number[] } {
  const readBytesPerSec: number[] = []
  const flopsPerSec: number[] = []
  for (const line of text.split('\n')) {
    const m = /^(read|flops) ([\d.]+) ([\d.e+]+)$/.exec(line.trim())
    if (!m) continue
    const sec = Number(m[2])
    const amount = Number(m[3])
    if (!(sec > 0)) continue
    ;(m[1] === 'read' ? readBytesPerSec : flopsPerSec).push(amount / sec)
  }
  return { readBytesPerSec, flopsPerSec }
}

/** Buffer size of the memory-read test for a machine with `cacheBytes` of caches and `availableBytes` of RAM. */
export function memreadBytes(cacheBytes: number, availableBytes: number): number {
  const want = Math.max(MEMREAD_MIN_BYTES, cacheBytes * MEMREAD_CACHE_MULTIPLE)
  return Math.min(want, MEMREAD_MAX_BYTES, Math.floor(availableBytes / 4))
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
    const r = await execa(cc, flags, { reject: false, timeout: COMPILE_TIMEOUT_MS }).catch(() => null)
    if (r && r.exitCode === 0 && existsSync(exe)) return exe
    // -march=native is unknown to some compilers (Apple clang on arm64 before 15); retry without it.
    const r2 = await execa(cc, flags.filter((f) => f !== '-march=native'), { reject: false, timeout: COMPILE_TIMEOUT_MS }).catch(() => null)
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

/** Measures the ceilings; `workDir` caches the compiled program. Never throws: a failed part is null. */
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
    const r = await execa(exe, [String(bytes), String(opts.threads), String(MEMREAD_PASSES), String(FLOPS_ITERATIONS)], {
      reject: false,
      timeout: RUN_TIMEOUT_MS
    }).catch(() => null)
    if (r && r.exitCode === 0) {
      const parsed = parseCeilingOutput(String(r.stdout))
      return {
        memoryReadBytesPerSec: ceilingFact(parsed.readBytesPerSec, 'B/s'),
        peakFlopsPerSec: ceilingFact(parsed.flopsPerSec, 'FLOP/s'),
        method: 'cc'
      }
    }
    opts.log(`probe: the compiled memory-read program failed (${r ? `exit ${r.exitCode}` : 'not started'}); using Node workers`)
  }
  const rates = await nodeMemread(bytes, opts.threads).catch(() => [])
  return { memoryReadBytesPerSec: ceilingFact(rates, 'B/s'), peakFlopsPerSec: null, method: 'node-workers' }
}
