#!/usr/bin/env bash
# The chaos scenario (docs/cluster.md, "Chaos figures"): 3 real JVMs on PostgreSQL (behind a TCP relay
# the scenario can cut) under steady MCP load over HTTP, through: baseline, add a node, graceful leave
# of a non-owner, graceful leave of the upstream's owner, kill -9 of the owner, a rolling restart of
# every node, a 30 s store outage. Prints one row per phase; the full report (per-second counts,
# failure samples, audit rows) is written to deploy/target/chaos/report.md, node logs beside it.
#
#   deploy/chaos.sh [maven options...]     e.g. deploy/chaos.sh -o -Dmaven.repo.local=/path/to/repository
#
# Needs PostgreSQL on 127.0.0.1:5432 (bash deploy/ensure-postgres.sh), psql and node. Takes about
# 10 minutes. Only a measurement: `mvn test` skips it (it runs only with -Dbastion.chaos=true).
# Knobs (-D...): bastion.chaos.free-clients (4), bastion.chaos.capped-clients (2),
# bastion.chaos.outage-seconds (30), bastion.chaos.failover (hold; or standby, warm_standby,
# active_active: docs/cluster.md), bastion.chaos.leave (sigterm; or management: HTTP Leave).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# Build the node's distribution (jar + lib/) as ./bastion would, with the same Maven options, so
# the nodes start at once.
mvn -q -B -DskipTests install -pl node -am "$@"
status=0
mvn -B test -pl deploy -Dtest=ChaosScenario -Dsurefire.failIfNoSpecifiedTests=false -Dbastion.chaos=true "$@" \
  || status=$?
report=deploy/target/chaos/report.md
if [ -f "$report" ]; then
  cat "$report"
else
  echo "chaos: no report; see deploy/target/surefire-reports/io.bastion.deploy.ChaosScenario-output.txt" >&2
fi
exit "$status"
