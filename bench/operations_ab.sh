#!/usr/bin/env bash
# What metrics and tracing cost the message path: two smppd side by side, each in front of its
# own smpp_sink, one plain and one with the metrics endpoint and tracing at 1 % (spans sent to a
# local OTLP/HTTP receiver that answers 200), and smpp_loadgen runs against each in turn
# (4 sessions, window 200, as fast as answered, without then with receipts), ROUNDS times, so
# that a noisy spell of the machine falls on both. Prints each run and the means.
#
#   bench/operations_ab.sh [BUILD_DIR]        (default build/release)
#   ROUNDS [4]  DURATION [4s]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${1:-build/release}
rounds=${ROUNDS:-4}
duration=${DURATION:-4s}
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# The OTLP receiver: takes every POST, answers {}.
collector=$(free_port)
python3 - "$collector" >/dev/null 2>&1 <<'PY' &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"{}")
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
pids+=($!)
start() {  # NAME EXTRA_YAML
  local sink listen
  sink=$(free_port)
  listen=$(free_port)
  "$build/bench/smpp_sink" --listen "127.0.0.1:$sink" --window 1000 --receipt-session same \
    >"$work/sink-$1.out" 2>&1 &
  pids+=($!)
  cat >"$work/$1.yaml" <<Y
listeners: [{name: bench, type: smpp, address: "127.0.0.1:$listen", smpp: {window_size: 200},
             max_connections_per_ip: 0, max_unbound_connections_per_ip: 0}]
clients: [{system_id: loadgen, password: loadgen}]
upstreams: [{name: sink, hosts: [{address: "127.0.0.1:$sink"}], bind: {system_id: smppd, password: smppd},
             pool: {min_connections: 4, max_connections: 4}, window: {size: 1000}}]
routes: [{match: {destination_addr: "*"}, upstream: sink}]
logging: {level: warn}
$2
Y
  "$build/src/cli/smppd" --config "$work/$1.yaml" >"$work/$1.log" 2>&1 &
  pids+=($!)
  eval "port_$1=$listen"
}
start plain ""
start traced "metrics: {prometheus: {address: \"127.0.0.1:0\"}}
tracing: {otlp: {endpoint: \"http://127.0.0.1:$collector\"}, sampling: {ratio: 0.01}}"
sleep 1.5
declare -A sum count
for round in $(seq 1 "$rounds"); do
  for name in plain traced; do
    port_var=port_$name
    for mode in none receipts; do
      flag=
      [ "$mode" = receipts ] && flag=--receipts
      rate=$("$build/bench/smpp_loadgen" "127.0.0.1:${!port_var}" --system-id loadgen \
        --password loadgen -s 4 -w 200 -d "$duration" $flag 2>&1 |
        sed -n 's/^answered .* rate=\([0-9]*\).*/\1/p')
      echo "round $round $name receipts=$mode: ${rate:-0} msg/s"
      sum[$name-$mode]=$(( ${sum[$name-$mode]:-0} + ${rate:-0} ))
      count[$name-$mode]=$(( ${count[$name-$mode]:-0} + 1 ))
    done
  done
done
for mode in none receipts; do
  p=$(( sum[plain-$mode] / count[plain-$mode] ))
  t=$(( sum[traced-$mode] / count[traced-$mode] ))
  awk -v p="$p" -v t="$t" -v m="$mode" \
    'BEGIN {printf "receipts=%s: plain %d msg/s, metrics+tracing 1%% %d msg/s (%+.1f%%)\n", m, p, t, (t - p) * 100 / p}'
done
