#!/usr/bin/env bash
# The whole pipeline on a lent GPU machine (no Node, no network): unpack the Node binary and the llama.cpp source that
# scripts/gpu-pack.sh put in .gpu-carry/, build llama.cpp through our own CLI (setup-llama --source: CUDA when nvcc
# and a GPU are there, else CPU), probe the hardware, run `validate --corpus synthetic`, and leave at most 8 files in
# OUTDIR (one level, none nested): summary.txt, nvidia-smi.txt, hardware.json, report.json, report.md, report.html,
# memory.json (the memory-only run: per-device estimate against llama.cpp's projection) and llama-logs.tar.gz (every
# llama.cpp and step log, and the partial-offload run's report). A failed gate (validate exit 1) is a result, not an
# error.
# Run from the repository root (dist/ must be built). See docs/gpu-check.md.
#
# Usage: scripts/gpu-check.sh OUTDIR
# Env:   GPU_CHECK_STOP_AFTER  unpack | setup | probe: stop after that step (debugging; `setup` also splits the
#                              long build from the rest across two calls, as the build is cached in the work dir)
#        GPU_CHECK_BUDGET_S    seconds the whole script may take (default 690); each step gets what is left, so
#                              the artifacts are still collected when a step runs long
#        GPU_CHECK_WORK        work dir kept between runs: source, build, models (default .gpu-work)
#        GPU_CARRY             where gpu-pack.sh put its files (default .gpu-carry)
set -euo pipefail

t_start=$(date +%s)
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ $# -eq 1 ] || { echo "usage: scripts/gpu-check.sh OUTDIR" >&2; exit 2; }
mkdir -p "$1"
out="$(cd "$1" && pwd)"
carry="${GPU_CARRY:-$root/.gpu-carry}"
work="${GPU_CHECK_WORK:-$root/.gpu-work}"
stop_after="${GPU_CHECK_STOP_AFTER:-}"
budget="${GPU_CHECK_BUDGET_S:-690}"
node_dir=/tmp/mfg-node
case "$stop_after" in '' | unpack | setup | probe) ;; *) echo "GPU_CHECK_STOP_AFTER: expected unpack, setup or probe" >&2; exit 2 ;; esac

cd "$root"
mkdir -p "$work/logs"
summary="$out/summary.txt"
: >"$summary"
note() { echo "$*" | tee -a "$summary"; }
elapsed() { echo $(($(date +%s) - t_start)); }

status=ok     # ok | failed: the script's exit code is 0 for ok (whatever the gate said), 1 for failed
gate="not run"
bin=""

# step NAME CMD... : runs CMD with stdout in logs/NAME.out and stderr appended to logs/NAME.log (earlier runs' logs,
# such as the build's, stay above), within what is left of the budget (a shell function runs without that limit: the
# unpacking ones are short); prints "step NAME <seconds>s rc=<rc>" and returns CMD's exit code.
step() {
  local name="$1"; shift
  local left=$((budget - $(elapsed)))
  if [ "$left" -lt 15 ]; then
    note "step $name skipped: budget of ${budget}s spent"
    return 124
  fi
  local t0 rc=0
  t0=$(date +%s)
  echo "=== $(date -u +%FT%TZ) $*" >>"$work/logs/$name.log"
  if declare -F "$1" >/dev/null; then
    "$@" >"$work/logs/$name.out" 2>>"$work/logs/$name.log" || rc=$?
  else
    timeout --kill-after=20 "$left" "$@" >"$work/logs/$name.out" 2>>"$work/logs/$name.log" || rc=$?
  fi
  note "step $name $(($(date +%s) - t0))s rc=$rc$([ "$rc" -eq 124 ] && echo ' (timed out)')"
  return "$rc"
}

# The stderr of a step's latest run (its log keeps earlier runs above a "===" line each).
latest_log() { awk '/^=== /{ buf = "" } { buf = buf $0 "\n" } END { printf "%s", buf }' "$work/logs/$1.log" 2>/dev/null || true; }
# Tails a failed step's log to stdout (the device tool shows the end of the output).
show_failure() { echo "--- $1: last lines of its log"; latest_log "$1" | tail -n 30; echo "---"; }

collect() {
  set +e
  local items=(logs)
  [ -d "$work/report/logs" ] && items+=(report/logs)
  [ -f "$work/memory-partial/report.json" ] && items+=(memory-partial/report.json)
  [ -f "$work/partial/report.json" ] && items+=(partial/report.json)
  [ -d "$work/cache/hardware/probe-logs" ] && items+=(cache/hardware/probe-logs)
  for f in "$work"/cache/llama.cpp/*.json "$work"/cache/llama.cpp/build-*/CMakeCache.txt; do
    [ -f "$f" ] && items+=("${f#"$work"/}")
  done
  tar -czf "$out/llama-logs.tar.gz" -C "$work" "${items[@]}" 2>/dev/null
  for f in report.json report.md report.html; do [ -f "$work/report/$f" ] && cp "$work/report/$f" "$out/$f"; done
  note "total $(elapsed)s"
  note "gpu-check: $status; gate: $gate; files in $out:"
  local n=0
  for f in "$out"/*; do
    n=$((n + 1))
    note "  $(basename "$f") $(stat -c %s "$f") bytes$([ "$(stat -c %s "$f")" -gt $((16 * 1024 * 1024)) ] && echo ' (over 16 MiB: will not come back)')"
  done
  [ "$n" -le 8 ] || note "gpu-check: WARNING: $n files in $out; only 8 come back"
  [ "$status" = ok ]
}
# Any exit, planned or not (set -e), still collects; an unplanned one counts as a failure.
trap 'rc=$?; [ "$rc" -eq 0 ] || status=failed; collect; exit $?' EXIT

# xz -dc, or Python's lzma where xz is not installed.
unxz_to_stdout() {
  if command -v xz >/dev/null; then xz -dc "$1"
  else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$1"; fi
}

# 0. The machine.
machine_info() {
  set +e
  grep -m1 'model name' /proc/cpuinfo | sed 's/^model name\s*: /cpu: /'
  if grep -qw amx_int8 /proc/cpuinfo; then echo "cpu: has AMX (amx_int8)"; else echo "cpu: no AMX"; fi
  free -g | awk '/^Mem:/ { print "ram: " $2 " GiB" }'
  echo "cmake: $(cmake --version 2>/dev/null | head -n1)"
  echo "ninja: $(ninja --version 2>/dev/null || echo none)"
  echo "c++: $(c++ --version 2>/dev/null | head -n1)"
  local nvcc_bin
  nvcc_bin="$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)"
  echo "nvcc: $("$nvcc_bin" --version 2>/dev/null | grep -i release || echo none)"
  echo "gpu: $(nvidia-smi -L 2>/dev/null | head -n1 | grep . || echo none)"
  return 0
}
note "gpu-check: $(date -u +%FT%TZ) on $(hostname), $(uname -sm), $(nproc) cores, budget ${budget}s"
machine_info | tee -a "$summary"
if command -v nvidia-smi >/dev/null; then nvidia-smi >"$out/nvidia-smi.txt" 2>&1 || true
else echo "nvidia-smi: not found (no NVIDIA driver): the CPU backend is built" >"$out/nvidia-smi.txt"; fi

# 1. Unpack Node (to /tmp) and the source (to the work dir, only when its commit changed: a re-extracted tree would
# have new mtimes and rebuild everything).
unpack_node() {
  mkdir -p "$node_dir/bin"
  unxz_to_stdout "$carry/node.xz" >"$node_dir/bin/node.partial"
  chmod +x "$node_dir/bin/node.partial"
  mv "$node_dir/bin/node.partial" "$node_dir/bin/node"
  "$node_dir/bin/node" --version
}
unpack_source() {
  local want have
  want="$(unxz_to_stdout "$carry/llama.cpp-src.tar.xz" | tar -xO llama.cpp/.llama-commit)"
  have="$(cat "$work/llama.cpp/.llama-commit" 2>/dev/null || true)"
  if [ "$want" = "$have" ]; then echo "source ${want:0:12} already unpacked"; return 0; fi
  rm -rf "$work/llama.cpp"
  unxz_to_stdout "$carry/llama.cpp-src.tar.xz" | tar -x -C "$work"
  echo "source ${want:0:12} unpacked"
}
for f in node.xz llama.cpp-src.tar.xz; do
  [ -f "$carry/$f" ] || { note "gpu-check: $carry/$f is missing (run scripts/gpu-pack.sh and carry .gpu-carry)"; status=failed; exit 1; }
done
step unpack-node unpack_node || { show_failure unpack-node; status=failed; exit 1; }
export PATH="$node_dir/bin:$PATH"
note "node: $(node --version)"
step unpack-source unpack_source || { show_failure unpack-source; status=failed; exit 1; }
note "llama.cpp: $(cat "$work/llama.cpp/.llama-commit")"
[ "$stop_after" = unpack ] && { note "stopped after unpack (GPU_CHECK_STOP_AFTER)"; exit 0; }

if ! node dist/cli.js setup-llama --help 2>/dev/null | grep -q -- '--source'; then
  note "gpu-check: dist/cli.js has no \`setup-llama --source\`: dist/ is stale (run npm run build before carrying)"
  status=failed; exit 1
fi

# 2. Build (the long pole: CUDA for this GPU's arch only, all cores, ninja when installed). Cached in the work dir.
if step setup node dist/cli.js setup-llama --source "$work/llama.cpp" --dir "$work/cache"; then
  bin="$(tail -n 1 "$work/logs/setup.out")"
  note "llama.cpp bin: $bin"
  latest_log setup | grep -E '^(setup-llama: backend|llama\.cpp [0-9a-f]+ )' | tee -a "$summary" || true
  { "$bin/llama-bench" --version 2>&1 | head -n 2; "$bin/llama-bench" --list-devices 2>&1 | head -n 8; } | tee -a "$summary" || true
else
  show_failure setup; status=failed; exit 1
fi
[ "$stop_after" = setup ] && { note "stopped after setup (GPU_CHECK_STOP_AFTER)"; exit 0; }

# 3. Probe the hardware through llama.cpp, measured afresh.
if ! step probe node dist/cli.js probe --out "$out/hardware.json" --refresh --llama-bin "$bin" --cache-dir "$work/cache"; then
  show_failure probe; status=failed; exit 1
fi
[ "$stop_after" = probe ] && { note "stopped after probe (GPU_CHECK_STOP_AFTER)"; exit 0; }

# 4. The gate on the synthetic corpus, with the profile just measured. Exit 1 = the gate failed: a legitimate result.
rm -rf "$work/report"
rc=0
step validate node dist/cli.js validate --corpus synthetic --hardware "$out/hardware.json" \
  --out "$work/report/report.json" --llama-bin "$bin" --cache-dir "$work/cache" || rc=$?
case "$rc" in
  0) gate=passed ;;
  1) gate="FAILED (validate exit 1; see report.md)" ;;
  *) gate="not decided (validate exit $rc)"; status=failed; show_failure validate ;;
esac
latest_log validate | grep -E '^(gate:|  - )' | head -n 20 | tee -a "$summary" || true

# 5. The memory gate on the GPU: every synthetic model's memory per device (CUDA0 and the host) against llama.cpp's
# own projection, nothing run. Its report comes back as memory.json (the 8th file).
rm -rf "$work/memory"
rc=0
step memory node dist/cli.js validate --corpus synthetic --scenarios memory --hardware "$out/hardware.json" \
  --out "$work/memory/report.json" --llama-bin "$bin" --cache-dir "$work/cache" || rc=$?
[ -f "$work/memory/report.json" ] && cp "$work/memory/report.json" "$out/memory.json"
latest_log memory | grep -E "(memory vs llama.cpp's projection|^gate:|^  - )" | head -n 20 | tee -a "$summary" || true
# The same with a partial offload (4 layers on the GPU, the rest and the token table on the CPU): its report goes into
# llama-logs.tar.gz (memory-partial/report.json).
rm -rf "$work/memory-partial"
step memory-partial node dist/cli.js validate --corpus synthetic --scenarios memory --gpu-layers 4 --hardware "$out/hardware.json" \
  --out "$work/memory-partial/report.json" --llama-bin "$bin" --cache-dir "$work/cache" || true
latest_log memory-partial | grep -E "(memory vs llama.cpp's projection|^gate:|^  - )" | head -n 20 | tee -a "$summary" || true

# 6. Speed with a partial offload: one synthetic model (made by step 4) with --gpu-layers 4 of its 8 layers — layers
# 0–4 and the token table on the CPU, 5–7 and the output layer on the GPU, as memory-partial places them — one pass:
# the scenarios measured beside the estimate on a GPU (the split law, fit/split-speed.ts, once predict uses it). Its
# report goes into llama-logs.tar.gz (partial/report.json); one line per scenario into summary.txt.
partial_rows() {
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))
    for (const m of r.models) for (const s of m.scenarios)
      console.log(`partial ${s.scenario}: observed ${s.observed ?? "-"} predicted ${s.predicted ?? "-"} ${s.unit} (${s.verdict}${s.detail && s.detail.reason ? ": " + s.detail.reason.slice(0, 120) : ""})`)
  ' "$1"
}
partial_model="$work/cache/synthetic/dense-w512-l8-Q8_0.gguf"
rm -rf "$work/partial"
if [ -f "$partial_model" ]; then
  step partial node dist/cli.js validate "$partial_model" --gpu-layers 4 --passes 1 --hardware "$out/hardware.json" \
    --out "$work/partial/report.json" --llama-bin "$bin" --cache-dir "$work/cache" || true
  [ -f "$work/partial/report.json" ] && { partial_rows "$work/partial/report.json" | tee -a "$summary" || true; }
else
  note "step partial skipped: $partial_model was not made (the synthetic validate did not run)"
fi
exit 0
