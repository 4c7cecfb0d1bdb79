import { existsSync } from 'node:fs'
import { execa } from 'execa'
import { childEnv } from '../util/child-env.js'

export type LlamaBackend = 'cpu' | 'cuda' | 'metal'
export const LLAMA_BACKENDS: readonly LlamaBackend[] = ['cpu', 'cuda', 'metal']

/** C/C++ compiler flags that keep ggml's AMX kernels out of an x86-64 build (see cmakeFlagsFor). */
export const NO_AMX_FLAGS = '-mno-amx-tile -mno-amx-int8 -mno-amx-bf16'

/**
 * cmake flags per backend and host CPU architecture (`process.arch`). Everything backend-specific stays here; the
 * rest of the code is backend-neutral. Each flag is one argv element (no shell): `-DCMAKE_C_FLAGS=-mno-a -mno-b`.
 */
export function cmakeFlagsFor(backend: LlamaBackend, arch: string): string[] {
  const common = [
    '-DCMAKE_BUILD_TYPE=Release',
    '-DBUILD_SHARED_LIBS=OFF',
    '-DLLAMA_CURL=OFF',
    // The server's web UI is never used here, and provisioning it downloads from Hugging Face at build time.
    '-DLLAMA_USE_PREBUILT_UI=OFF',
    '-DLLAMA_BUILD_TESTS=OFF',
    '-DLLAMA_BUILD_EXAMPLES=OFF',
    '-DLLAMA_BUILD_TOOLS=ON',
    '-DLLAMA_BUILD_SERVER=ON'
  ]
  if (arch === 'x64') {
    // -march=native compiles ggml-cpu's AMX kernels where the CPU has AMX, and they crash (SIGSEGV) in prompt processing
    // on AMX Xeons at this commit (ggml-org/llama.cpp#20824); that crash, not AMX's weight repacking, is why they are off.
    common.push(`-DCMAKE_C_FLAGS=${NO_AMX_FLAGS}`, `-DCMAKE_CXX_FLAGS=${NO_AMX_FLAGS}`)
  }
  switch (backend) {
    case 'cuda':
      // Native arch: build for the GPU on this runner only (minutes instead of an hour for all archs).
      return [...common, '-DGGML_CUDA=ON', '-DCMAKE_CUDA_ARCHITECTURES=native']
    case 'metal':
      return [...common, '-DGGML_METAL=ON', '-DGGML_METAL_EMBED_LIBRARY=ON']
    case 'cpu':
      return [...common, '-DGGML_METAL=OFF', '-DGGML_CUDA=OFF']
  }
}

export interface BackendProbe {
  platform: NodeJS.Platform
  hasNvcc: boolean
  hasNvidiaGpu: boolean
}

/** Pure choice: Metal on macOS; CUDA only when nvcc AND an NVIDIA GPU are present (nvcc alone builds code no GPU runs). */
export function chooseBackend(probe: BackendProbe, override?: string): { backend: LlamaBackend; why: string } {
  if (override) {
    if (!(LLAMA_BACKENDS as readonly string[]).includes(override)) {
      throw new Error(`MODEL_FIT_GATE_BACKEND: unknown backend "${override}" (expected ${LLAMA_BACKENDS.join(', ')})`)
    }
    return { backend: override as LlamaBackend, why: 'set by MODEL_FIT_GATE_BACKEND' }
  }
  if (probe.platform === 'darwin') return { backend: 'metal', why: 'macOS' }
  if (probe.hasNvcc && probe.hasNvidiaGpu) return { backend: 'cuda', why: 'nvcc and an NVIDIA GPU found' }
  if (probe.hasNvcc) return { backend: 'cpu', why: 'nvcc found but no NVIDIA GPU visible (nvidia-smi -L)' }
  return { backend: 'cpu', why: 'no GPU toolchain found' }
}

async function succeeds(cmd: string, args: string[]): Promise<string | null> {
  try {
    const r = await execa(cmd, args, { timeout: 20_000, reject: false, env: childEnv('build'), extendEnv: false })
    return r.exitCode === 0 ? String(r.stdout) : null
  } catch {
    return null
  }
}

export async function probeBackend(): Promise<BackendProbe> {
  const nvcc =
    (await succeeds('nvcc', ['--version'])) !== null ||
    existsSync('/usr/local/cuda/bin/nvcc') ||
    (process.env.CUDA_PATH ? existsSync(`${process.env.CUDA_PATH}/bin/nvcc`) : false)
  const smi = await succeeds('nvidia-smi', ['-L'])
  return { platform: process.platform, hasNvcc: nvcc, hasNvidiaGpu: smi !== null && /GPU \d+:/.test(smi) }
}
