#!/usr/bin/env bash
# Code Mode token model: classic tool definitions vs meta-tools + stubs, counted with jtokkit on
# recorded real tools/list fixtures (benchmarks/src/main/resources/codemode). Offline; one second.
#   benchmarks/codemode-tokens.sh > benchmarks/results/codemode-tokens.md
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [ -z "${BENCH_NO_BUILD:-}" ]; then
  mvn -q -B -DskipTests install -pl benchmarks -am >&2
fi
exec java -cp "benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)" io.bastion.bench.CodeModeTokens "$@"
