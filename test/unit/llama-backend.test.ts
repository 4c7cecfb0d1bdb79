import { describe, expect, it } from '@jest/globals'
import { chooseBackend, cmakeFlagsFor } from '../../src/llama/backend.js'

describe('choosing the llama.cpp backend to build', () => {
  it('builds CUDA only when nvcc and an NVIDIA GPU are both present', () => {
    expect(chooseBackend({ platform: 'linux', hasNvcc: true, hasNvidiaGpu: true }).backend).toBe('cuda')
    const noGpu = chooseBackend({ platform: 'linux', hasNvcc: true, hasNvidiaGpu: false })
    expect(noGpu.backend).toBe('cpu')
    expect(noGpu.why).toMatch(/no NVIDIA GPU/)
    expect(chooseBackend({ platform: 'linux', hasNvcc: false, hasNvidiaGpu: true }).backend).toBe('cpu')
  })
  it('builds Metal on macOS', () => {
    expect(chooseBackend({ platform: 'darwin', hasNvcc: false, hasNvidiaGpu: false }).backend).toBe('metal')
  })
  it('honours an explicit backend and refuses an unknown one', () => {
    expect(chooseBackend({ platform: 'linux', hasNvcc: false, hasNvidiaGpu: false }, 'cuda').backend).toBe('cuda')
    expect(() => chooseBackend({ platform: 'linux', hasNvcc: false, hasNvidiaGpu: false }, 'rocm')).toThrow(/unknown backend "rocm"/)
  })
  it('passes the backend switch to cmake and never downloads (no curl)', () => {
    expect(cmakeFlagsFor('cuda')).toEqual(expect.arrayContaining(['-DGGML_CUDA=ON', '-DLLAMA_CURL=OFF']))
    expect(cmakeFlagsFor('metal')).toContain('-DGGML_METAL=ON')
    expect(cmakeFlagsFor('cpu')).toEqual(expect.arrayContaining(['-DGGML_CUDA=OFF', '-DGGML_METAL=OFF']))
  })
})
