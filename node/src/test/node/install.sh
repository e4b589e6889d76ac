#!/usr/bin/env bash
# Installs Bastion's JavaScript test tools from their lock files (idempotent).
#
#   node/src/test/node    MCP SDK 1.32.2, conformance 0.1.16, inspector-cli, reference servers
#   node/src/test/node22  Node 22 runtime as the npm package `node` (the suite needs Node >= 22)
#
# Needs only a system Node (20 is fine) with npm and access to the npm registry.
# A folder is skipped when node_modules/.package-lock.json is newer than its package-lock.json
# (and, for node22, the Node 22 binary works). Set FORCE=1 to reinstall anyway.
# The last stdout line is machine-readable:  NODE22=<absolute path of the Node 22 binary>
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tools_dir="$here"
node22_dir="$(cd "$here/../node22" && pwd)"
node22_bin="$node22_dir/node_modules/node/bin/node"

command -v npm >/dev/null || { echo "install.sh: npm not found on PATH" >&2; exit 1; }

up_to_date() { # dir
  local marker="$1/node_modules/.package-lock.json" lock="$1/package-lock.json"
  [[ "${FORCE:-0}" != 1 && -f "$marker" && "$marker" -nt "$lock" ]]
}

node22_ok() {
  [[ -x "$node22_bin" ]] && [[ "$("$node22_bin" --version 2>/dev/null)" == v22.* ]]
}

install_dir() { # dir [extra npm args...]
  local dir="$1"; shift
  echo "install.sh: npm ci in $dir" >&2
  (cd "$dir" && npm ci --no-audit --no-fund "$@" >&2)
  touch "$dir/node_modules/.package-lock.json"
}

if up_to_date "$tools_dir"; then
  echo "install.sh: $tools_dir is up to date" >&2
else
  install_dir "$tools_dir"
fi

if up_to_date "$node22_dir" && node22_ok; then
  echo "install.sh: $node22_dir is up to date" >&2
else
  # The `node` package fetches its platform binary (node-<os>-<arch>) in a preinstall script,
  # so scripts must run for this folder even if the user's npm config disables them.
  install_dir "$node22_dir" --ignore-scripts=false --foreground-scripts
  if ! node22_ok; then
    echo "install.sh: Node 22 binary missing or wrong version at $node22_bin" >&2
    exit 1
  fi
fi

echo "install.sh: Node 22 is $("$node22_bin" --version) at $node22_bin" >&2
echo "install.sh: run the suite with PATH=\"$(dirname "$node22_bin"):\$PATH\" npx conformance ... (from $tools_dir)" >&2
echo "NODE22=$node22_bin"
