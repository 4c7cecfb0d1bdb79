// What a child process may see of our environment. The action runs on self-hosted machines with tokens in its
// environment (INPUT_GITHUB-TOKEN, INPUT_HF-TOKEN, ACTIONS_RUNTIME_TOKEN, HF_TOKEN…), and its children include the
// user's estimator — the code under test — and llama.cpp built from a pinned source. Each child gets an allow-list:
// what any process needs (PATH, HOME, locale, temp dirs), what the GPU runtimes and math libraries read, what a
// compiler build reads (the build only), and the names the user lists for the estimator. A name that looks like a
// secret is never passed, even when listed.

export type ChildKind =
  /** llama-bench, llama-server, llama-quantize, and the probe's own programs. */
  | 'llama'
  /** cmake and the compilers (setup-llama, the probe's memory-read program). */
  | 'build'
  /** The external estimator (`estimator-command`). */
  | 'estimator'

const COMMON_NAMES = new Set([
  'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'TZ', 'TERM', 'TMPDIR', 'TMP', 'TEMP',
  // The runner finds and ends a job's leftover processes by this mark.
  'RUNNER_TRACKING_ID',
  'LD_LIBRARY_PATH', 'DYLD_LIBRARY_PATH', 'DYLD_FALLBACK_LIBRARY_PATH', 'XDG_RUNTIME_DIR',
  // Windows needs these to start any process.
  'SYSTEMROOT', 'SYSTEMDRIVE', 'WINDIR', 'COMSPEC', 'PATHEXT', 'USERPROFILE', 'APPDATA', 'LOCALAPPDATA', 'PROGRAMDATA'
])
/** GPU runtimes (CUDA, ROCm/HIP, Metal, Vulkan, SYCL), ggml's own switches, and the threading and BLAS libraries. */
const RUNTIME_PREFIXES = [
  'LC_', 'CUDA_', 'NVIDIA_', 'CUDNN_', 'NCCL_', 'HIP_', 'ROCM_', 'ROCR_', 'HSA_', 'GPU_', 'MTL_', 'METAL_', 'VK_',
  'VULKAN_', 'SYCL_', 'ONEAPI_', 'ZE_', 'GGML_', 'OMP_', 'KMP_', 'GOMP_', 'OPENBLAS_', 'MKL_', 'BLIS_'
]
const BUILD_NAMES = new Set(['CC', 'CXX', 'CFLAGS', 'CXXFLAGS', 'CPPFLAGS', 'LDFLAGS', 'MAKEFLAGS', 'CUDACXX', 'CUDAHOSTCXX', 'SDKROOT', 'DEVELOPER_DIR', 'MACOSX_DEPLOYMENT_TARGET'])
const BUILD_PREFIXES = ['CMAKE_', 'PKG_CONFIG', 'NVCC_', 'CCACHE_', 'NINJA_', 'npm_config_', 'NPM_CONFIG_']
/** setup-llama fetches the pinned source with npm: it needs the proxy and certificate settings, as any download does. */
const NETWORK_NAMES = new Set(['GIT_SSL_CAINFO', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy', 'NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR'])

/** Names never passed to a child, whoever lists them: tokens and credentials, the runner's own variables. */
const SECRET_NAME = /TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|AUTH/i
const RUNNER_NAME = /^(ACTIONS_|INPUT_|GITHUB_TOKEN$|RUNNER_TOKEN|HF_|HUGGING_?FACE)/i
/** llama.cpp reads LLAMA_ARG_* as flags: one left in the environment would silently change what is measured. */
const CHANGES_LLAMA = /^LLAMA_ARG_/

/** Why `name` may never reach a child, or null when it may. */
export function forbiddenReason(name: string): string | null {
  if (RUNNER_NAME.test(name)) return 'the runner and the Hub token are not passed to child processes'
  if (SECRET_NAME.test(name)) return 'it looks like a secret (token, key, password); secrets are not passed to child processes'
  return null
}

function allowed(rawName: string, kind: ChildKind, extra: ReadonlySet<string>): boolean {
  // Windows spells its variables as it likes (Path, SystemRoot, windir) and matches them case-insensitively.
  const name = process.platform === 'win32' ? rawName.toUpperCase() : rawName
  if (forbiddenReason(name) !== null || CHANGES_LLAMA.test(name)) return false
  if (COMMON_NAMES.has(name) || RUNTIME_PREFIXES.some((p) => name.startsWith(p))) return true
  if (kind === 'build' && (BUILD_NAMES.has(name) || NETWORK_NAMES.has(name) || BUILD_PREFIXES.some((p) => name.startsWith(p)))) return true
  return kind === 'estimator' && extra.has(rawName)
}

/**
 * The environment a child of `kind` starts with (pass it with execa's `extendEnv: false`). `extra`: names the user
 * lists for the estimator (`estimator-env`).
 */
export function childEnv(kind: ChildKind, opts: { env?: NodeJS.ProcessEnv; extra?: readonly string[] } = {}): Record<string, string> {
  const extra = new Set(opts.extra ?? [])
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(opts.env ?? process.env)) {
    if (v !== undefined && allowed(k, kind, extra)) out[k] = v
  }
  return out
}
