#!/usr/bin/env bash
# A local Bastion cluster on 127.0.0.1: N real JVMs sharing one PostgreSQL database.
#
#   deploy/cluster.sh start N [--config F] [--db NAME]   fresh database, N nodes; node 1 is the seed
#   deploy/cluster.sh add                                 one more node (seeds: every live node)
#   deploy/cluster.sh leave NODE                          graceful leave: SIGTERM (coordinated shutdown
#                                                         in order: drain, unbind, hand shards off, leave)
#   deploy/cluster.sh leave --management NODE             graceful leave through management HTTP (Leave);
#                                                         on the oldest node its regions stop at once
#                                                         (docs/cluster.md, "What a node loss costs")
#   deploy/cluster.sh down NODE                           mark NODE down through management HTTP
#   deploy/cluster.sh kill NODE                           kill -9 (a crash)
#   deploy/cluster.sh status                              members and upstream owners + pids
#   deploy/cluster.sh stop                                SIGTERM every node, kill -9 after a grace
#
# NODE is a node number (1, 2, ...). Node i listens on
#   HTTP        $BASTION_HTTP_BASE   + i - 1   (default 8081)
#   Artery      $BASTION_ARTERY_BASE + i - 1   (default 25521)
#   management  $BASTION_MGMT_BASE   + i - 1   (default 7627)
# State (pids, ports, logs, node data dirs) lives in ${BASTION_CLUSTER_DIR:-./data/cluster}.
# The config (default deploy/config/cluster-example.yaml) must take its store from the variables this
# script exports: BASTION_DB_URL, BASTION_DB_USER, BASTION_DB_PASSWORD. Cluster host, ports and
# seeds are given to every node on its command line and override the config's `cluster:` block.
#
# Other variables: BASTION_PG_HOST (127.0.0.1), BASTION_PG_PORT (5432), BASTION_PG_USER (postgres),
# BASTION_READY_TIMEOUT seconds per node (120), BASTION_STOP_GRACE seconds (20),
# BASTION_NODE_HEAP (256m), BASTION_JAVA_OPTS (passed to every node's JVM), BASTION_ADMIN_TOKEN (the
# example config's admin.token; `status` sends it to GET /api/v1/cluster when set).
# Uses ./bastion (builds the node once, before any node starts), curl and psql.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HTTP_BASE="${BASTION_HTTP_BASE:-8081}"
ARTERY_BASE="${BASTION_ARTERY_BASE:-25521}"
MGMT_BASE="${BASTION_MGMT_BASE:-7627}"
DIR="${BASTION_CLUSTER_DIR:-$root/data/cluster}"
PG_HOST="${BASTION_PG_HOST:-127.0.0.1}"
PG_PORT="${BASTION_PG_PORT:-5432}"
PG_USER="${BASTION_PG_USER:-postgres}"
READY_TIMEOUT="${BASTION_READY_TIMEOUT:-120}"
STOP_GRACE="${BASTION_STOP_GRACE:-20}"
HEAP="${BASTION_NODE_HEAP:-256m}"
HOST=127.0.0.1

say() { echo "cluster: $*"; }
die() { echo "cluster: error: $*" >&2; exit 1; }
usage() { sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

node_dir() { echo "$DIR/nodes/$1"; }
pid_of() { cat "$(node_dir "$1")/pid" 2>/dev/null; }
alive() { local p; p="$(pid_of "$1")"; [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }
http_port() { echo $((HTTP_BASE + $1 - 1)); }
artery_port() { echo $((ARTERY_BASE + $1 - 1)); }
mgmt_port() { echo $((MGMT_BASE + $1 - 1)); }
address() { echo "pekko://bastion@$HOST:$(artery_port "$1")"; }
all_nodes() { [ -d "$DIR/nodes" ] && ls "$DIR/nodes" 2>/dev/null | sort -n; }
live_nodes() { local n; for n in $(all_nodes); do alive "$n" && echo "$n"; done; }
get() { curl -fsS --max-time 5 "$@"; }

check_node_arg() {
  [[ "${1:-}" =~ ^[0-9]+$ ]] || die "expected a node number, got '${1:-}'"
  [ -d "$(node_dir "$1")" ] || die "node $1 does not exist (nodes: $(all_nodes | tr '\n' ' '))"
}

ensure_build() {
  # ./bastion builds when needed; --help makes it build and exit without starting a node.
  (cd "$root" && ./bastion --help >/dev/null) || die "build failed (run ./bastion --help to see why)"
}

load_env() {
  [ -f "$DIR/cluster.env" ] || die "no cluster in $DIR (run: $0 start N)"
  # shellcheck disable=SC1091
  . "$DIR/cluster.env"
  export BASTION_DB_URL BASTION_DB_USER BASTION_DB_PASSWORD
}

launch() { # node seeds...
  local n="$1"; shift
  local d; d="$(node_dir "$n")"
  mkdir -p "$d/data"
  local args=(--config "$CONFIG" --port "$(http_port "$n")" --data "$d/data"
    --cluster-host "$HOST" --cluster-port "$(artery_port "$n")" --management-port "$(mgmt_port "$n")")
  local s; for s in "$@"; do args+=(--seed "$s"); done
  echo "${args[*]}" > "$d/args"
  http_port "$n" > "$d/http_port"; artery_port "$n" > "$d/artery_port"; mgmt_port "$n" > "$d/mgmt_port"
  (
    cd "$root" || exit 1
    export BASTION_JAVA_OPTS="-Xmx$HEAP ${BASTION_JAVA_OPTS:-}"
    exec setsid ./bastion "${args[@]}" >"$d/log" 2>&1 </dev/null
  ) &
  echo $! > "$d/pid"
  say "node $n starting: pid $(pid_of "$n"), http $(http_port "$n"), artery $(artery_port "$n"), management $(mgmt_port "$n"), log $d/log"
}

wait_ready() { # node
  local n="$1" d; d="$(node_dir "$n")"
  local deadline=$((SECONDS + READY_TIMEOUT))
  while [ $SECONDS -lt $deadline ]; do
    if ! alive "$n"; then
      local rc=""; wait "$(pid_of "$n")" 2>/dev/null; rc=$?
      echo "cluster: error: node $n exited before it was ready (exit code $rc); last lines of $d/log:" >&2
      tail -n 30 "$d/log" >&2
      return 1
    fi
    if get "http://$HOST:$(http_port "$n")/health/ready" >/dev/null 2>&1; then
      say "node $n ready: http://$HOST:$(http_port "$n")/mcp"
      return 0
    fi
    sleep 0.5
  done
  echo "cluster: error: node $n not ready within ${READY_TIMEOUT}s (GET /health/ready on port $(http_port "$n")); last lines of $d/log:" >&2
  tail -n 30 "$d/log" >&2
  return 1
}

create_db() { # name
  command -v psql >/dev/null || die "psql not found; run deploy/ensure-postgres.sh"
  pg_isready -h "$PG_HOST" -p "$PG_PORT" -q 2>/dev/null \
    || die "PostgreSQL does not answer on $PG_HOST:$PG_PORT; run deploy/ensure-postgres.sh"
  PGOPTIONS="--client-min-messages=warning" psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -v ON_ERROR_STOP=1 -q \
    -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" -c "CREATE DATABASE \"$1\"" >/dev/null \
    || die "could not create database $1 on $PG_HOST:$PG_PORT as $PG_USER"
  say "database $1 created on $PG_HOST:$PG_PORT"
}

cmd_start() {
  local count="${1:-}"; shift || true
  [[ "$count" =~ ^[1-9][0-9]*$ ]] || die "start needs a node count, e.g. start 3"
  local config="$root/deploy/config/cluster-example.yaml" db=bastion_local
  while [ $# -gt 0 ]; do
    case "$1" in
      --config) config="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"; shift 2 ;;
      --db) db="$2"; shift 2 ;;
      *) die "unknown option $1" ;;
    esac
  done
  [ -f "$config" ] || die "config $config not found"
  [[ "$db" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "invalid database name '$db'"
  if [ -n "$(live_nodes 2>/dev/null)" ]; then
    die "a cluster is already running in $DIR (nodes $(live_nodes | tr '\n' ' ')); run: $0 stop"
  fi
  rm -rf "$DIR"; mkdir -p "$DIR/nodes"
  create_db "$db"
  cat > "$DIR/cluster.env" <<EOF
CONFIG='$config'
DB='$db'
BASTION_DB_URL='jdbc:postgresql://$PG_HOST:$PG_PORT/$db'
BASTION_DB_USER='$PG_USER'
BASTION_DB_PASSWORD='${BASTION_DB_PASSWORD:-}'
EOF
  load_env
  ensure_build
  local seed="$HOST:$(artery_port 1)"
  # Node 1 first (it forms the cluster and creates the schema), then the others together.
  launch 1 "$seed"
  wait_ready 1 || exit 1
  local n
  for n in $(seq 2 "$count"); do launch "$n" "$seed"; done
  for n in $(seq 2 "$count"); do wait_ready "$n" || exit 1; done
  say "$count node(s) up; state in $DIR"
}

cmd_add() {
  load_env
  local live; live="$(live_nodes)"
  [ -n "$live" ] || die "no live node to join; run: $0 start N"
  local last; last="$(all_nodes | tail -1)"
  local n=$((last + 1)) seeds=() m
  for m in $live; do seeds+=("$HOST:$(artery_port "$m")"); done
  ensure_build
  launch "$n" "${seeds[@]}"
  wait_ready "$n" || exit 1
  echo "$n"
}

# PUT /cluster/members/<address> operation=<op> on a live node's management port (another node first).
management_op() { # op node
  local op="$1" n="$2" via="" m
  for m in $(live_nodes); do [ "$m" != "$n" ] && { via="$m"; break; }; done
  [ -z "$via" ] && alive "$n" && via="$n"
  [ -n "$via" ] || die "no live node to send $op to"
  local url="http://$HOST:$(mgmt_port "$via")/cluster/members/$(address "$n")"
  local out
  out="$(curl -sS --max-time 10 -X PUT -d "operation=$op" -w '\n%{http_code}' "$url" 2>&1)" \
    || die "$op of node $n through node $via failed: $out"
  local code="${out##*$'\n'}"
  [[ "$code" == 2* ]] || die "$op of node $n through node $via ($url): HTTP $code: ${out%$'\n'*}"
  say "$op of node $n ($(address "$n")) accepted by node $via: ${out%$'\n'*}"
}

cmd_leave() {
  local via_management=""
  [ "${1:-}" = "--management" ] && { via_management=1; shift; }
  check_node_arg "${1:-}"; load_env
  local n="$1"
  alive "$n" || die "node $n is not running"
  if [ -n "$via_management" ]; then
    management_op Leave "$n"
  else
    # The JVM only, not its process group: its stdio upstreams are closed by the node itself.
    kill -TERM "$(pid_of "$n")" || die "could not send SIGTERM to node $n"
    say "SIGTERM sent to node $n (pid $(pid_of "$n"))"
  fi
  local deadline=$((SECONDS + 60))
  while alive "$n" && [ $SECONDS -lt $deadline ]; do sleep 0.5; done
  if alive "$n"; then
    die "node $n still running 60s after Leave; last lines of its log:$(echo; tail -n 20 "$(node_dir "$n")/log")"
  fi
  say "node $n left the cluster and exited"
}

cmd_down() {
  check_node_arg "${1:-}"; load_env
  management_op Down "$1"
}

cmd_kill() {
  check_node_arg "${1:-}"
  local n="$1" p; p="$(pid_of "$n")"
  alive "$n" || die "node $n is not running"
  # The node runs in its own process group (setsid): SIGKILL the JVM and the stdio upstreams it
  # started, as when a machine is lost.
  kill -9 -- "-$p" 2>/dev/null || kill -9 "$p"
  while kill -0 "$p" 2>/dev/null; do sleep 0.1; done
  say "node $n (pid $p) killed with SIGKILL"
}

cmd_status() {
  [ -d "$DIR/nodes" ] || die "no cluster in $DIR"
  local n any=""
  printf '%-5s %-8s %-7s %-6s %-6s %s\n' node pid state http artery management
  for n in $(all_nodes); do
    local st=stopped; alive "$n" && st=running
    printf '%-5s %-8s %-7s %-6s %-6s %s\n' "$n" "$(pid_of "$n")" "$st" \
      "$(cat "$(node_dir "$n")/http_port")" "$(cat "$(node_dir "$n")/artery_port")" "$(cat "$(node_dir "$n")/mgmt_port")"
    [ -z "$any" ] && [ "$st" = running ] && any="$n"
  done
  if [ -n "$any" ]; then
    echo "GET /api/v1/cluster on node $any:"
    # With an admin token configured the operator views need it (docs/governance.md); it goes to
    # curl on stdin, not on its command line.
    local auth=""
    [ -n "${BASTION_ADMIN_TOKEN:-}" ] && auth="header = \"Authorization: Bearer $BASTION_ADMIN_TOKEN\""
    local body; body="$(printf '%s\n' "$auth" | get -K - "http://$HOST:$(http_port "$any")/api/v1/cluster" 2>&1)" \
      || { echo "  (failed: $body)"; return 1; }
    if command -v node >/dev/null; then
      node -e '
        const c = JSON.parse(process.argv[1]);
        console.log("  self " + c.self);
        for (const m of c.members || []) console.log("  member   " + m.address + "  " + m.status);
        for (const u of c.upstreams || []) console.log("  upstream " + u.name + "  " + u.state + "  owner " + u.owner);
      ' "$body" 2>/dev/null || echo "  $body"
    else
      echo "  $body"
    fi
  fi
}

cmd_stop() {
  [ -d "$DIR/nodes" ] || { say "nothing to stop in $DIR"; return 0; }
  local n p live=()
  for n in $(live_nodes); do live+=("$n"); kill -TERM "$(pid_of "$n")" 2>/dev/null; done
  [ ${#live[@]} -eq 0 ] && { say "no node running"; return 0; }
  local deadline=$((SECONDS + STOP_GRACE))
  while [ -n "$(live_nodes)" ] && [ $SECONDS -lt $deadline ]; do sleep 0.3; done
  for n in $(live_nodes); do
    p="$(pid_of "$n")"; say "node $n (pid $p) still running after ${STOP_GRACE}s: kill -9"
    kill -9 "$p" 2>/dev/null
    # the JVM runs under setsid: its process group holds the stdio upstreams it started
    kill -9 -- "-$p" 2>/dev/null
  done
  say "stopped node(s) ${live[*]}"
}

cmd="${1:-}"; shift || true
case "$cmd" in
  start) cmd_start "$@" ;;
  add) cmd_add ;;
  leave) cmd_leave "$@" ;;
  down) cmd_down "$@" ;;
  kill) cmd_kill "$@" ;;
  status) cmd_status ;;
  stop) cmd_stop ;;
  -h|--help|help) usage ;;
  *) usage ;;
esac
