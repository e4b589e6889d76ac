#!/usr/bin/env bash
# Code Mode's graded benchmark: 67 scripted episodes played classically and in Code Mode against real
# upstreams (server-everything, server-filesystem, server-memory, the conformance fixture) through a
# real Bastion node, with catalogs of real tools recorded from npm MCP servers; tokens counted with
# jtokkit; every answer graded. Offline. Writes benchmarks/results/<date>-<commit>-codemode.md.
#   benchmarks/codemode.sh [--catalogs 40,96,251,508] [--out FILE]
# Needs: npm ci in node/src/test/node (the live servers and the fixture). MAVEN_OPTS and
# BENCH_NO_BUILD=1 as for run.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [ ! -d node/src/test/node/node_modules/@modelcontextprotocol/server-everything ]; then
  (cd node/src/test/node && npm ci --no-audit --no-fund >&2)
fi
if [ -z "${BENCH_NO_BUILD:-}" ]; then
  mvn -q -B -DskipTests install -pl benchmarks -am >&2
fi
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
args=("$@")
if [[ " $* " != *" --out "* ]]; then
  args+=(--out "benchmarks/results/$(date -u +%Y-%m-%d)-${commit}-codemode.md")
fi
exec java ${BENCH_JAVA_OPTS:--Xmx1g} -Dbench.commit="$commit" \
  -cp "benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)" io.bastion.bench.CodeModeBench "${args[@]}"
