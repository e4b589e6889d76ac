#!/bin/sh
# Conformance-suite client shim for upstream OAuth (UpstreamOAuthConformanceTest): the suite appends
# its server URL and sets MCP_CONFORMANCE_SCENARIO / MCP_CONFORMANCE_CONTEXT; the test JVM, listening
# on BASTION_CONFORMANCE_SHIM_PORT, runs a Bastion node with that URL as an OAuth upstream and
# answers 200 when Bastion connected, authorized and called the server; curl -f exits with it.
exec curl -sS -f --max-time 110 --data-urlencode "url=$1" \
  --data-urlencode "scenario=${MCP_CONFORMANCE_SCENARIO:-}" \
  --data-urlencode "context=${MCP_CONFORMANCE_CONTEXT:-}" \
  "http://127.0.0.1:${BASTION_CONFORMANCE_SHIM_PORT}/run"
