#!/usr/bin/env bash
# The gRPC face, measured: smppd_grpc_load -> smppd (a listener of type grpc) -> smpp_sink, with
# {to: "+258841234567", from: "MYAPP", text: "Hello"} as client "bench":
#   1. stream: one SendStream, WINDOW messages in flight, as fast as answered
#      (the issue's target: >= 50,000 msg/s accepted over one stream)
#   2. unary: Send calls, CONCURRENCY at once, each followed by the next
#   3. rate: one SendStream at RATE msg/s: latency from the write to its answer
# REPEAT runs of each; every run's line is printed, then the median (min-max) rate.
#
#   bench/grpc_api.sh [BUILD_DIR]   (default build/release; needs smppd, smpp_sink, smppd_grpc_load)
# Environment (defaults in brackets): SMPPD, SINK, LOAD (the binaries), SECONDS_EACH [5],
# REPEAT [3], WINDOW [2000], CONCURRENCY [50], RATE [10000], UPSTREAM_CONNECTIONS [4].
# The client, the sink and smppd share the machine's cores (2 here): say what else ran.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build=${1:-build/release}
smppd=${SMPPD:-$build/src/cli/smppd}
sink=${SINK:-$build/bench/smpp_sink}
load=${LOAD:-$build/bench/smppd_grpc_load}
seconds=${SECONDS_EACH:-5}
repeat=${REPEAT:-3}
window=${WINDOW:-2000}
concurrency=${CONCURRENCY:-50}
rate=${RATE:-10000}
upstream_connections=${UPSTREAM_CONNECTIONS:-4}
for b in "$smppd" "$sink" "$load"; do
  [ -x "$b" ] || { echo "missing $b (cmake --build --preset release --target smppd smpp_sink smppd_grpc_load)" >&2; exit 2; }
done

work=$(mktemp -d /tmp/smppd-grpc-bench-XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# wait_for FILE SED_EXPRESSION: prints the first match within 10 s.
wait_for() {
  local i v
  for i in $(seq 1 400); do
    v=$(sed -n "$2" "$1" 2>/dev/null | head -n 1 || true)
    [ -n "$v" ] && { echo "$v"; return 0; }
    sleep 0.025
  done
  return 1
}

"$sink" --listen 127.0.0.1:0 --window 1000 >"$work/sink.out" 2>&1 &
pids+=("$!")
sink_port=$(wait_for "$work/sink.out" 's/^sink listening on .*:\([0-9]*\)$/\1/p') ||
  { echo "the sink did not start:" >&2; cat "$work/sink.out" >&2; exit 1; }
cat >"$work/smppd.yaml" <<EOF
listeners:
  - name: grpc
    type: grpc
    address: 127.0.0.1:0
clients:
  - system_id: bench
    password: bench-pw
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
logging: { level: info }
EOF
"$smppd" --config "$work/smppd.yaml" >"$work/smppd.log" 2>&1 &
pids+=("$!")
port=$(wait_for "$work/smppd.log" 's/.*listener grpc listening on .*:\([0-9]*\) (gRPC)$/\1/p') ||
  { echo "smppd did not come up:" >&2; tail -n 20 "$work/smppd.log" >&2; exit 1; }
for i in $(seq 1 400); do
  [ "$(grep -c 'upstream sink: .*: bound' "$work/smppd.log" || true)" -ge "$upstream_connections" ] && break
  sleep 0.025
done

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
summary=()
for mode in stream unary rate; do
  rates=()
  for r in $(seq 1 "$repeat"); do
    line=$("$load" --target "127.0.0.1:$port" --mode "$mode" --seconds "$seconds" --window "$window" \
      --concurrency "$concurrency" --rate "$rate")
    echo "$mode #$r: ${line#result }"
    rates+=("$(sed -n 's/.* rate=\([0-9]*\).*/\1/p' <<<"$line")")
  done
  sorted=$(printf '%s\n' "${rates[@]}" | sort -n)
  summary+=("$mode: $(sed -n "$(( (repeat + 1) / 2 ))p" <<<"$sorted") msg/s ($(head -n 1 <<<"$sorted")-$(tail -n 1 <<<"$sorted"))")
done
echo
printf '%s\n' "${summary[@]}"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
