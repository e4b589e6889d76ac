#!/usr/bin/env bash
# The HTTP barrage (docs/fuzzing.md): >= 100,000 generated hostile requests against one Bastion node
# in its own JVM fronting server-everything over stdio; prints counts by category and status, 5xx,
# transport errors, whether the node survived, and its heap after GC before and after.
#   benchmarks/fuzz.sh                                   100,000 requests in 4 rounds (heap after GC between), 16 workers, seed 1
#   benchmarks/fuzz.sh --requests 20000 --seed 7 --concurrency 8 --out /tmp/fuzz.txt
# Exit status 1 when any invariant is broken. BENCH_NO_BUILD=1 skips the build (as run.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [ -z "${BENCH_NO_BUILD:-}" ]; then
  mvn -q -B -DskipTests install -pl benchmarks -am >&2
fi
exec java ${BENCH_JAVA_OPTS:--Xmx1g} -cp "benchmarks/target/classes:$(cat benchmarks/target/classpath.txt)" \
  io.bastion.bench.HttpBarrage "$@"
