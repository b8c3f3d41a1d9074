#!/usr/bin/env bash
# Store and forward, measured: smpp_loadgen -> smppd (storage on, SQLite with fsync) -> smpp_sink,
#   1. as fast as answered, with receipts end to end  (target: >= 30,000 msg/s accepted)
#   2. at a fixed RATE (10,000 msg/s), with receipts: acknowledgement latency (target: p99 <= 10 ms)
#   3. the backlog: COUNT messages accepted while the upstream is down, then the sink starts:
#      how fast they are accepted, smppd's memory meanwhile, how fast the backlog drains
# After each, smppd's own line on its commits (transactions = fsyncs) and the bytes on disk.
#
#   bench/store_forward.sh [BUILD_DIR]   (default build/release)
# Environment: DURATION [10s], RATE [10000], COUNT [300000], SESSIONS [4], WINDOW [200],
#   DIR [a new folder under /var/tmp: the database's disk matters — tmpfs does not fsync]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build=${1:-build/release}
loadgen=$build/bench/smpp_loadgen
sink=$build/bench/smpp_sink
smppd=$build/src/cli/smppd
duration=${DURATION:-10s}
rate=${RATE:-10000}
count=${COUNT:-300000}
sessions=${SESSIONS:-4}
window=${WINDOW:-200}
dir=${DIR:-$(mktemp -d /var/tmp/smppd-store-bench-XXXXXX)}
mkdir -p "$dir"
for tool in "$loadgen" "$sink" "$smppd"; do
  [ -x "$tool" ] || { echo "missing $tool (cmake --build --preset release)" >&2; exit 2; }
done
command -v sqlite3 >/dev/null || { echo "needs the sqlite3 command" >&2; exit 2; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

sink_port=$(free_port)
listen_port=$(free_port)
cat >"$dir/smppd.yaml" <<EOF
listeners:
  - name: bench
    type: smpp
    address: 127.0.0.1:$listen_port
    smpp: { window_size: $window }
    max_connections_per_ip: 0
    max_unbound_connections_per_ip: 0
clients:
  - system_id: loadgen
    password: loadgen
upstreams:
  - name: sink
    hosts:
      - address: 127.0.0.1:$sink_port
    bind: { system_id: smppd, password: smppd }
    pool: { min_connections: 4, max_connections: 4 }
    window: { size: 1000 }
    retry: { delay: 100ms, max_delay: 500ms }
routes:
  - match: { destination_addr: "*" }
    upstream: sink
storage:
  enabled: true
  sqlite: { path: $dir/messages.db }
logging: { level: info }
EOF
echo "database: $dir/messages.db ($(df -T "$dir" | awk 'NR==2 {print $2}'))"

start_smppd() {
  rm -f "$dir"/messages.db*
  "$smppd" --config "$dir/smppd.yaml" >"$dir/smppd-$1.log" 2>&1 &
  smppd_pid=$!
  pids+=("$smppd_pid")
  for _ in $(seq 1 200); do grep -q "smppd running" "$dir/smppd-$1.log" && return; sleep 0.025; done
  echo "smppd did not start:" >&2; cat "$dir/smppd-$1.log" >&2; exit 1
}
start_sink() {
  "$sink" --listen "127.0.0.1:$sink_port" >"$dir/sink.out" 2>&1 &
  sink_pid=$!
  pids+=("$sink_pid")
}
stop() {
  kill "$smppd_pid"; wait "$smppd_pid" 2>/dev/null || true
  kill "$sink_pid" 2>/dev/null || true; wait "$sink_pid" 2>/dev/null || true
}
report() {
  local log=$dir/smppd-$1.log
  grep -o "store: [0-9]* transactions.*" "$log" || true
  local bytes messages
  bytes=$(( $(stat -c %s "$dir/messages.db") + $(stat -c %s "$dir/messages.db-wal" 2>/dev/null || echo 0) ))
  messages=$(sqlite3 "$dir/messages.db" "select count(*) from messages")
  echo "on disk: $bytes bytes for $messages messages ($(( bytes / (messages > 0 ? messages : 1) )) bytes a message, indexes included)"
}

echo "== 1. as fast as answered, with receipts ($duration)"
start_sink; start_smppd max
"$loadgen" -s "$sessions" -w "$window" -d "$duration" --receipts "127.0.0.1:$listen_port" |
  grep -E "^(answered|receipts|latency)" || true
stop; report max

echo "== 2. at $rate msg/s, with receipts ($duration)"
start_sink; start_smppd rate
"$loadgen" -s "$sessions" -w "$window" -r "$rate" -d "$duration" --receipts "127.0.0.1:$listen_port" |
  grep -E "^(answered|receipts|latency)" || true
stop; report rate

echo "== 3. backlog: $count messages while the upstream is down, then it comes back"
start_smppd backlog
"$loadgen" -s "$sessions" -w "$window" -n "$count" "127.0.0.1:$listen_port" | grep -E "^answered" || true
echo "smppd $(grep VmRSS /proc/$smppd_pid/status | tr -s ' ') with $(sqlite3 "$dir/messages.db" "select count(*) from messages where state in (1,3)") waiting"
started=$(date +%s.%N)
start_sink
while [ "$(sqlite3 "$dir/messages.db" "select count(*) from messages where state in (1, 3)")" != 0 ]; do
  sleep 0.1
done
ended=$(date +%s.%N)
python3 -c "print(f'drained $count in {$ended - $started:.2f} s: {$count / ($ended - $started):,.0f} msg/s')"
echo "smppd peak $(grep VmHWM /proc/$smppd_pid/status | tr -s ' ')"
stop; report backlog
