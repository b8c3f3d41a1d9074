#!/usr/bin/env bash
# Throughput through smppd with a middleware chain against the same smppd without one (issue
# 15: with auth, rate_limit (not hit), address_filter and a transform rule, at least 80 % of the
# chain-less figure). smpp_loadgen -> smppd -> smpp_sink as fast as answered, without receipts,
# as message_path.sh's first scenario; the two configurations run side by side against one sink
# and take turns run by run, so that a noisy spell of the machine falls on both.
#
#   bench/middleware_chain.sh [BUILD_DIR]     (default build/release; needs smpp_loadgen,
#                                              smpp_sink and src/cli/smppd)
# Environment: DURATION [5s], REPEAT [3] (turns), SESSIONS [4], WINDOW [200],
#   UPSTREAM_CONNECTIONS [4], SMPPD [BUILD_DIR/src/cli/smppd], KEEP (a directory for the outputs).
#
# The chain: the client has a rate_limit far above what the generator reaches (every message
# takes a token) and address rules that pass its messages (an allowed source, a blocked
# destination prefix it does not send to); the middleware list names auth, rate_limit,
# address_filter and a transform with two rules: one that rewrites every message's sender and
# TON (its `client` match is a plain literal: a compare), one with the design's regex on the
# destination that every message is matched against and none meets.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build=${1:-build/release}
loadgen=$build/bench/smpp_loadgen
sink=$build/bench/smpp_sink
smppd=${SMPPD:-$build/src/cli/smppd}
duration=${DURATION:-5s}
repeat=${REPEAT:-3}
sessions=${SESSIONS:-4}
window=${WINDOW:-200}
upstream_connections=${UPSTREAM_CONNECTIONS:-4}
for b in "$loadgen" "$sink" "$smppd"; do
  [ -x "$b" ] || { echo "missing $b (cmake --build $build --target smpp_loadgen smpp_sink smppd)" >&2; exit 2; }
done

work=$(mktemp -d /tmp/smppd-middleware-chain-XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && cp -r "$work"/. "$KEEP"/; fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_listening() {
  local i
  for i in $(seq 1 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.025
  done
  return 1
}

"$sink" --listen 127.0.0.1:0 --window 1000 >"$work/sink.out" 2>&1 &
pids+=("$!")
sink_port=
for _ in $(seq 1 200); do
  sink_port=$(sed -n 's/^sink listening on .*:\([0-9]*\)$/\1/p' "$work/sink.out" 2>/dev/null || true)
  [ -n "$sink_port" ] && break
  sleep 0.025
done
[ -n "$sink_port" ] || { cat "$work/sink.out" >&2; exit 1; }

# start NAME CLIENT_EXTRA TOP_EXTRA: an smppd in front of the sink; its port in $port_NAME.
start() {
  local name=$1 port config=$work/smppd-$1.yaml
  port=$(free_port)
  cat >"$config" <<YAML
listeners:
  - name: bench
    type: smpp
    address: 127.0.0.1:$port
    smpp: { window_size: $window }
    max_connections_per_ip: 0
    max_unbound_connections_per_ip: 0
clients:
  - system_id: loadgen
    password: loadgen
$2
upstreams:
  - name: sink
    hosts:
      - address: 127.0.0.1:$sink_port
    bind: { system_id: smppd, password: smppd }
    pool: { min_connections: $upstream_connections, max_connections: $upstream_connections }
    window: { size: 1000 }
routes:
  - match: { destination_addr: "*" }
    upstream: sink
logging: { level: warn }
$3
YAML
  "$smppd" validate --config "$config" >"$work/validate-$name.out" 2>&1 || {
    cat "$work/validate-$name.out" >&2
    exit 1
  }
  "$smppd" --config "$config" >"$work/smppd-$name.log" 2>&1 &
  pids+=("$!")
  wait_listening "$port" || { tail -n 5 "$work/smppd-$name.log" >&2; exit 1; }
  printf -v "port_$name" '%s' "$port"
}

start plain "" ""
# CHAIN_CLIENT / CHAIN_MIDDLEWARE (YAML) replace the chain's client lines and middleware list,
# to take the chain apart when looking for where its cost is.
default_client='    rate_limit: { messages_per_second: 10000000, burst: 10000000 }
    addresses:
      source: { allowed: ["12345", "+49*"] }
      destination: { blocked: ["+1900*"] }'
default_middleware='middleware:
  - type: auth
  - type: rate_limit
  - type: address_filter
  - type: transform
    rules:
      - match: { client: loadgen }
        set: { source_addr: BRAND, source_addr_ton: 5 }
      - match: { destination_addr: "^8[0-9]{8}$" }
        transform: { destination_addr: "+258${destination_addr}" }'
start chain "${CHAIN_CLIENT-$default_client}" "${CHAIN_MIDDLEWARE-$default_middleware}"
sleep 0.5  # the upstream sessions bind

# Both pass messages at all (100 each); that the rules act is for tests/interop/middleware.test.js.
for name in plain chain; do
  port_var=port_$name
  "$loadgen" "127.0.0.1:${!port_var}" --count 100 --timeout 5s >"$work/probe-$name.out" 2>&1 || true
  grep -q '^result=ok' "$work/probe-$name.out" || {
    echo "$name: 100 submit_sm did not all pass:" >&2
    cat "$work/probe-$name.out" >&2
    exit 1
  }
done

rates() {  # rates NAME: the answered rate of each run
  local f
  for f in "$work/$1".run*.out; do
    awk '$1 == "answered" { for (i = 2; i <= NF; i++) if ($i ~ /^rate=/) { sub("rate=", "", $i); print $i } }' "$f"
  done
}
stats() {  # median (min-max)
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "%d (%d-%d)", v[int((NR + 1) / 2)], v[1], v[NR] }'
}

for i in $(seq 1 "$repeat"); do
  for name in plain chain; do
    port_var=port_$name
    "$loadgen" "127.0.0.1:${!port_var}" --sessions "$sessions" --window "$window" \
      --duration "$duration" >"$work/$name.run$i.out" 2>&1 || true
    echo "  $name #$i: $(grep -E '^(answered|result)' "$work/$name.run$i.out" | tr '\n' ' ')" >&2
  done
done

mapfile -t plain < <(rates plain)
mapfile -t chain < <(rates chain)
echo
echo "middleware chain: sessions=$sessions window=$window duration=$duration turns=$repeat" \
  "(median (min-max) answered msg/s); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-40s %s\n' "smppd without a chain" "$(stats "${plain[@]}")"
printf '%-40s %s\n' "smppd with auth, rate_limit, address_filter, transform" "$(stats "${chain[@]}")"
awk -v p="$(printf '%s\n' "${plain[@]}" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')" \
    -v c="$(printf '%s\n' "${chain[@]}" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')" \
  'BEGIN { r = p > 0 ? 100 * c / p : 0
           verdict = (r >= 80) ? "met" : "MISSED"
           printf "target: with the chain >= 80 %% of without: %.1f %%: %s\n", r, verdict }'
