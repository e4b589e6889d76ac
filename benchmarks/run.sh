#!/usr/bin/env bash
# Runs the Bastion benchmarks side by side and writes benchmarks/results/<date>-<commit>.md.
#   benchmarks/run.sh            the full measurement (~10–20 minutes on 2 cores)
#   benchmarks/run.sh --smoke    every scenario for ~2 s at tiny rates (CI; numbers meaningless)
# Other options: see benchmarks/README.md (e.g. --scenarios direct,nginx,bastion --rate 2000).
# Optional comparisons: `apt-get install -y nginx` and `(cd benchmarks/tools && npm ci)`; without
# them those rows say SKIPPED.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [ -z "${BENCH_NO_BUILD:-}" ]; then
  mvn -q -B -DskipTests install -pl benchmarks -am >&2
fi
exec java ${BENCH_JAVA_OPTS:--Xmx1g} -cp "benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)" \
  io.bastion.bench.BenchmarkMain "$@"
