#!/usr/bin/env bash
# ctest bench.loadgen_sink: smpp_sink and smpp_loadgen against each other on loopback for about
# a second each way, with receipts: every submit_sm answered, every receipt matched.
#   1. transceivers, receipts right after the response on the session that submitted (so none
#      overtakes its response: early=0);
#   2. transmitters plus receivers on two loadgen threads, at 20,000 msg/s, receipts 100 ms
#      later (the sink's delayed queue; receipts that reach another session, on another thread,
#      than the one that submitted).
#   loadgen_sink_test.sh SMPP_LOADGEN SMPP_SINK
set -euo pipefail
loadgen=$1
sink=$2
work=$(mktemp -d)
sink_pid=
sinks=0
trap '[ -n "$sink_pid" ] && kill -TERM "$sink_pid" 2>/dev/null; rm -rf "$work"' EXIT

# Each sink writes a file of its own: the shell truncates a reused one only once the new sink's
# process runs, so the previous sink's port could be read from it meanwhile.
start_sink() {
  sinks=$((sinks + 1))
  sink_out="$work/sink$sinks.out"
  "$sink" --listen 127.0.0.1:0 "$@" >"$sink_out" 2>&1 &
  sink_pid=$!
  port=
  for _ in $(seq 1 200); do
    port=$(sed -n 's/^sink listening on .*:\([0-9]*\)$/\1/p' "$sink_out" 2>/dev/null || true)
    [ -n "$port" ] && return 0
    sleep 0.025
  done
  echo "sink did not start"; cat "$sink_out"; exit 1
}

stop_sink() {
  kill -TERM "$sink_pid"
  wait "$sink_pid"
  sink_pid=
  cat "$sink_out"
}

check() {
  cat "$work/loadgen.out"
  grep -q '^result=ok$' "$work/loadgen.out" || { echo "FAIL: result is not ok"; exit 1; }
  grep -Eq '^answered .* unanswered=0$' "$work/loadgen.out" || { echo "FAIL: unanswered"; exit 1; }
  grep -Eq '^receipts .* missing=0 unmatched=0 ' "$work/loadgen.out" ||
    { echo "FAIL: receipts missing"; exit 1; }
  grep -Eq '^sent count=[1-9]' "$work/loadgen.out" || { echo "FAIL: nothing sent"; exit 1; }
}

start_sink --receipt-session same
"$loadgen" "127.0.0.1:$port" --sessions 2 --window 50 --duration 1s --receipts \
  --receipt-wait 3s >"$work/loadgen.out" 2>&1 || true
check
grep -Eq '^receipts .* early=0 ' "$work/loadgen.out" || { echo "FAIL: receipts overtook"; exit 1; }
stop_sink

start_sink --receipt-delay 100ms
"$loadgen" "127.0.0.1:$port" --bind transmitter --sessions 2 --receivers 2 --threads 2 --window 50 \
  --rate 20000 --duration 1s --receipts --receipt-wait 3s >"$work/loadgen.out" 2>&1 || true
check
stop_sink
echo PASS
