#!/usr/bin/env bash
# The message path, measured side by side in one run: smpp_loadgen -> smpp_sink directly, and
# smpp_loadgen -> smppd -> smpp_sink, each
#   1. as fast as answered, without receipts           (target through smppd: >= 100,000 msg/s)
#   2. as fast as answered, with receipts              (target through smppd: >= 50,000 msg/s)
#   3. at a fixed 10,000 msg/s, with receipts: latency (target: p99 added by smppd <= 2 ms);
#      the direct and smppd runs of this one take turns, so that a noisy spell of the machine
#      falls on both columns; a third column runs the same through smpp_relay, a byte relay:
#      what one more process hop costs here before any work (smppd cannot add less)
# Each fixed-rate run also records how much CPU the middle process (smppd, the relay) spent per
# message, and how much of the machine's CPU time the hypervisor stole meanwhile (on a shared
# VM, steal is what makes a run's tail latency a measure of the host rather than of smppd).
# smppd gets a generated configuration: a listener on a free loopback port, one client, one
# upstream whose host is the sink, and a "*" route. Whether smppd has a message path at all is
# found out by a short probe (100 submit_sm); when it does not, the smppd column says so and
# only the direct figures are given. A second probe (100 with receipts) says whether receipts
# come back whole; the runs go ahead either way, and a run that lost or duplicated receipts is
# flagged under the table.
#
#   bench/message_path.sh [BUILD_DIR]          (default build/hr; needs smpp_loadgen, smpp_sink,
#                                               and src/cli/smppd for the smppd column)
# Environment (defaults in brackets):
#   DURATION [5s]  length of each run       REPEAT [1]     runs of each scenario (min/median/max)
#   SESSIONS [4]   loadgen sessions         WINDOW [200]   loadgen window per session
#   RATE [10000]   the fixed-rate run       UPSTREAM_CONNECTIONS [4]  smppd -> sink sessions
#   SMPPD [BUILD_DIR/src/cli/smppd]         KEEP [empty]   a directory to keep every output in
#   SMPPD_EXTRA [empty]  YAML appended to smppd's configuration (e.g. metrics and tracing)
#   RECEIPT_DELAY [0ms]  the sink's --receipt-delay (0: right behind the submit_sm_resp)
#   RECEIPT_SESSION [same]  the sink's --receipt-session in the runs: same (the session that
#                  submitted) or any (round robin over the sessions of the system_id; the probe
#                  checks this case for smppd anyway)
#   QUIET_STEAL [5]  a fixed-rate run counts as quiet when the host stole at most this % of
#                  the CPU time in every 200 ms of it (one clock tick of the two CPUs in 200 ms
#                  is 2.5 %); the target is then also judged over the quiet turns alone (the
#                  direct and the smppd run both quiet), beside (never instead of) the verdict
#                  over all of them
#   HALT_POLL [unset]  on a VM whose guest kernel has the cpuidle-haltpoll driver: the
#                  guest_halt_poll_ns to set for the run (root only; restored at exit). See
#                  "The host and idle CPUs" in bench/README.md: with 0 (as this VM boots; the
#                  kernel's default is 200000), a CPU that goes idle between the fixed rate's
#                  ticks is given back to the host at once, and the host is slow to return it
#   RT [0]         1: run the fixed-rate scenario under SCHED_FIFO (chrt -f 1): generator, sink
#                  and smppd, for that run only (they use well under a core at 10,000 msg/s)
#
# The machine's cores are shared by everything that runs (2 cores here: the generator, smppd
# and the sink compete for them, and with whatever else runs). At a fixed rate the tail latency
# is then mostly time spent waiting for a core behind other processes. Measured directly at
# 10,000 msg/s: on a quiet machine p50 85 us and p99 0.25-0.4 ms under normal scheduling (RT=1
# doubles p50 there); with compilers busy on both cores p99 is 1-4 ms, and RT=1 brings it back
# to about 0.25 ms. Say what else was running when you quote the figures.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build=${1:-build/hr}
loadgen=$build/bench/smpp_loadgen
sink=$build/bench/smpp_sink
relay=$build/bench/smpp_relay
smppd=${SMPPD:-$build/src/cli/smppd}
duration=${DURATION:-5s}
repeat=${REPEAT:-1}
sessions=${SESSIONS:-4}
window=${WINDOW:-200}
rate=${RATE:-10000}
upstream_connections=${UPSTREAM_CONNECTIONS:-4}
rt=${RT:-0}
receipt_delay=${RECEIPT_DELAY:-0ms}
receipt_session=${RECEIPT_SESSION:-same}
quiet_steal=${QUIET_STEAL:-5}
if [ "$rt" = 1 ] && ! chrt -f 1 true 2>/dev/null; then
  echo "RT=1: cannot use SCHED_FIFO here (chrt -f 1 failed): normal scheduling" >&2
  rt=0
fi

for b in "$loadgen" "$sink"; do
  if [ ! -x "$b" ]; then
    echo "missing $b: cmake --build $build --target smpp_loadgen smpp_sink" >&2
    exit 2
  fi
done

halt_poll_file=/sys/module/haltpoll/parameters/guest_halt_poll_ns
halt_poll_before=
if [ -n "${HALT_POLL:-}" ] && [ ! -w "$halt_poll_file" ]; then
  echo "HALT_POLL: cannot write $halt_poll_file (not root, or no cpuidle-haltpoll)" >&2
  exit 2
fi
# The idle policy of the machine's CPUs, said with the figures.
idle_policy() {
  local driver
  driver=$(cat /sys/devices/system/cpu/cpuidle/current_driver 2>/dev/null || echo none)
  if [ -r "$halt_poll_file" ]; then
    echo "cpuidle $driver, guest_halt_poll_ns $(cat "$halt_poll_file")"
  else
    echo "cpuidle $driver"
  fi
}

work=$(mktemp -d /tmp/smppd-message-path-XXXXXX)
pids=()
cleanup() {
  local p
  if [ -n "$halt_poll_before" ]; then echo "$halt_poll_before" >"$halt_poll_file" || true; fi
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && cp -r "$work"/. "$KEEP"/; fi
  rm -rf "$work"
}
trap cleanup EXIT
# Set once the exit trap is there to put it back.
if [ -n "${HALT_POLL:-}" ]; then
  halt_poll_before=$(cat "$halt_poll_file")
  echo "$HALT_POLL" >"$halt_poll_file"
fi

# get FILE RECORD KEY [WHAT]: the value of KEY on the line of RECORD (and what=WHAT).
get() {
  awk -v r="$2" -v k="$3" -v w="${4:-}" '
    $1 == r {
      ok = (w == ""); v = ""
      for (i = 2; i <= NF; i++) {
        n = index($i, "="); key = substr($i, 1, n - 1); val = substr($i, n + 1)
        if (key == "what" && val == w) ok = 1
        if (key == k) v = val
      }
      if (ok && v != "") { print v; exit }
    }' "$1"
}

# stats VALUES...: "median (min-max)" of the numbers, or the one number.
stats() {
  local sorted n
  sorted=$(printf '%s\n' "$@" | grep -v '^$' | sort -g)
  n=$(printf '%s\n' "$sorted" | grep -c . || true)
  [ "$n" -eq 0 ] && { echo "-"; return; }
  local med min max
  med=$(printf '%s\n' "$sorted" | sed -n "$(((n + 1) / 2))p")
  min=$(printf '%s\n' "$sorted" | head -n 1)
  max=$(printf '%s\n' "$sorted" | tail -n 1)
  if [ "$n" -eq 1 ]; then echo "$med"; else echo "$med ($min-$max)"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_listening() {
  local port=$1 i
  for i in $(seq 1 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.025
  done
  return 1
}

# start_sink NAME [RECEIPT_SESSION]: starts a sink, sets sink_pid and sink_port.
start_sink() {
  local out=$work/sink-$1.out
  "$sink" --listen 127.0.0.1:0 --window 1000 --receipt-delay "$receipt_delay" \
    --receipt-session "${2:-$receipt_session}" >"$out" 2>&1 &
  sink_pid=$!
  pids+=("$sink_pid")
  local i
  for i in $(seq 1 200); do
    sink_port=$(sed -n 's/^sink listening on .*:\([0-9]*\)$/\1/p' "$out" 2>/dev/null || true)
    [ -n "$sink_port" ] && return 0
    sleep 0.025
  done
  echo "the sink did not start:" >&2
  cat "$out" >&2
  exit 1
}

# stop PID: ends a process this script started, and forgets it (so that the exit trap never
# signals a pid the system may have given to another process since).
stop() {
  [ -n "$1" ] || return 0
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  local kept=() p
  for p in "${pids[@]}"; do [ "$p" = "$1" ] || kept+=("$p"); done
  pids=("${kept[@]}")
}

# realtime on|off PID...: every thread of these processes to SCHED_FIFO 1, or back.
realtime() {
  local mode=$1 p
  shift
  [ "$rt" = 1 ] || return 0
  for p in "$@"; do
    [ -n "$p" ] || continue
    if [ "$mode" = on ]; then
      chrt -a -f -p 1 "$p" >/dev/null
    else
      chrt -a -o -p 0 "$p" >/dev/null
    fi
  done
}

# scenario NAME PORT ARGS...: REPEAT runs of the loadgen; outputs in $work/NAME.run<i>.out.
scenario() {
  local name=$1 port=$2 i
  shift 2
  for i in $(seq 1 "$repeat"); do run_once "$name" "$i" "$port" "$@"; done
}
# run_once NAME I PORT ARGS...: run I of NAME. $launch (empty, or "chrt -f 1") goes before
# the loadgen.
launch=
run_once() {
  local name=$1 i=$2 port=$3
  shift 3
  $launch "$loadgen" "127.0.0.1:$port" --sessions "$sessions" --window "$window" "$@" \
    >"$work/$name.run$i.out" 2>&1 || true
  echo "  $name #$i: $(grep -E '^(answered|result)' "$work/$name.run$i.out" | tr '\n' ' ')" >&2
}

# figure NAME RECORD KEY [WHAT]: "median (min-max)" over the runs of NAME.
figure() {
  local name=$1 values=() f
  shift
  for f in "$work/$name".run*.out; do
    [ -f "$f" ] || continue
    values+=("$(get "$f" "$@")")
  done
  stats "${values[@]}"
}
# quiet NAME I: whether run I of NAME was quiet: the host stole at most QUIET_STEAL % of the
# CPU time in every 200 ms of it (a run without that figure is not).
quiet() {
  local worst
  worst=$(get "$work/$1.run$2.out" machine steal_worst_pct 2>/dev/null)
  awk -v w="${worst:-100}" -v q="$quiet_steal" 'BEGIN {exit !(w <= q)}'
}
all_ok() {
  local f
  for f in "$work/$1".run*.out; do grep -q '^result=ok' "$f" || return 1; done
}

run_all() {  # run_all PREFIX PORT: the two as-fast-as-answered scenarios
  local prefix=$1 port=$2
  scenario "$prefix-max" "$port" --duration "$duration"
  scenario "$prefix-max-receipts" "$port" --duration "$duration" --receipts
}

# ticks: the CPU time (clock ticks) a process has used; steal: the ticks the hypervisor took
# from this machine's CPUs (the 8th field of /proc/stat's cpu line).
ticks() { [ -n "$1" ] && awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
steal() { awk '$1 == "cpu" {print $9}' /proc/stat; }
# steal_sampler FILE: every 200 ms, appends the steal and total ticks of the machine's CPUs
# (one line: "steal total"), until killed. A run's p99 is the worst 1 % of its messages: a
# burst of some tens of milliseconds stolen is enough to set it, and the share over the whole
# run hides such a burst. The worst 200 ms shows it.
# Without a process per sample: bash's read does both the reading and the waiting.
steal_sampler() {
  local fd cpu user nice system idle iowait irq softirq steal_ticks rest
  exec {fd}<> <(:)
  while :; do
    read -r cpu user nice system idle iowait irq softirq steal_ticks rest </proc/stat
    echo "$steal_ticks $((user + nice + system + idle + iowait + irq + softirq + steal_ticks))"
    read -r -t 0.2 -u "$fd" rest || :
  done >"$1"
}
# measured_run NAME I PORT HOP_PID ARGS...: run_once, then appends to its output how much CPU
# the middle process (HOP_PID: smppd or the relay; empty for direct) used per message answered,
# the share of the machine's CPU time the hypervisor stole during the run, and the largest
# share it stole in any 200 ms of the run: a run with much steal measures the host, not smppd.
measured_run() {
  local name=$1 i=$2 port=$3 hop=$4
  shift 4
  local t0 s0 t1 s1 start end sampler samples=$work/$name.run$i.steal
  : >"$samples"
  steal_sampler "$samples" &
  sampler=$!
  pids+=("$sampler")
  t0=$(ticks "$hop"); s0=$(steal); start=$(date +%s%N)
  run_once "$name" "$i" "$port" "$@"
  t1=$(ticks "$hop"); s1=$(steal); end=$(date +%s%N)
  stop "$sampler"
  local out=$work/$name.run$i.out answered hz
  answered=$(get "$out" answered count)
  hz=$(getconf CLK_TCK)
  awk -v t=$((t1 - t0)) -v s=$((s1 - s0)) -v ns=$((end - start)) -v n="${answered:-0}" \
    -v hz="$hz" -v cpus="$(nproc)" -v hop="$hop" 'BEGIN {
      printf "machine steal_pct=%.1f\n", 100 * (s / hz) / (ns / 1e9 * cpus)
      if (hop != "" && n > 0) printf "hop cpu_us_per_msg=%.1f\n", 1e6 * (t / hz) / n
    }' >>"$out"
  awk 'NR > 1 && $2 > total { w = 100 * ($1 - steal) / ($2 - total); if (w > worst) worst = w }
       { steal = $1; total = $2 }
       END { if (NR >= 2) printf "machine steal_worst_pct=%.1f\n", worst + 0 }' "$samples" \
    >>"$out"
  local hop_cpu= worst
  worst=$(get "$out" machine steal_worst_pct)
  [ -n "$hop" ] && hop_cpu=", the hop used $(get "$out" hop cpu_us_per_msg) us of CPU a message"
  echo "    p99 $(get "$out" latency p99 submit_to_response) us; the host stole" \
    "$(get "$out" machine steal_pct)% of the CPU time (at worst" \
    "${worst:-?}% of a 200 ms)$hop_cpu" >&2
}

# The fixed-rate runs, direct and through smppd taking turns (direct #1, smppd #1, direct #2,
# ...), so that a noisy spell of the machine falls on both columns rather than on one.
# rate_runs DIRECT_PORT SMPPD_PORT (empty: direct only) PIDS-OF-THE-SERVERS...
rate_runs() {
  local direct_port=$1 smppd_port=$2 i
  shift 2
  realtime on "$@"
  [ "$rt" = 1 ] && launch="chrt -f 1"
  for i in $(seq 1 "$repeat"); do
    measured_run direct-rate "$i" "$direct_port" "" --duration "$duration" --rate "$rate" \
      --receipts
    if [ -n "$relay_port" ]; then
      measured_run relay-rate "$i" "$relay_port" "$relay_pid" --duration "$duration" \
        --rate "$rate" --receipts
    fi
    if [ -n "$smppd_port" ]; then
      measured_run smppd-rate "$i" "$smppd_port" "$smppd_pid" --duration "$duration" \
        --rate "$rate" --receipts
    fi
  done
  launch=
  realtime off "$@"
}

echo "== $(date -u +%FT%TZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)," \
  "$(idle_policy)" >&2
echo "== direct: loadgen -> sink" >&2
start_sink direct
direct_pid=$sink_pid
direct_port=$sink_port
# The yardstick: a byte relay in front of the direct sink, for the fixed-rate runs.
relay_port=
relay_pid=
if [ -x "$relay" ]; then
  "$relay" --listen 127.0.0.1:0 --target "127.0.0.1:$direct_port" >"$work/relay.out" 2>&1 &
  relay_pid=$!
  pids+=("$relay_pid")
  for i in $(seq 1 200); do
    relay_port=$(sed -n 's/^relay listening on .*:\([0-9]*\)$/\1/p' "$work/relay.out" 2>/dev/null || true)
    [ -n "$relay_port" ] && break
    sleep 0.025
  done
fi
run_all direct "$direct_port"
smppd_sink_stats=

# ---- through smppd
# start_smppd NAME RECEIPT_SESSION: a sink and smppd in front of it (sink_pid, smppd_pid,
# listen_port); false, with smppd_state saying why, when smppd does not come up.
start_smppd() {
  local name=$1
  start_sink "$name" "$2"
  listen_port=$(free_port)
  local config=$work/smppd-$name.yaml
  cat >"$config" <<EOF
listeners:
  - name: bench
    type: smpp
    address: 127.0.0.1:$listen_port
    smpp: { window_size: $window }
    # every loadgen session comes from 127.0.0.1: the per-address limits are lifted
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
    pool: { min_connections: $upstream_connections, max_connections: $upstream_connections }
    window: { size: 1000 }
routes:
  - match: { destination_addr: "*" }
    upstream: sink
logging: { level: warn }
${SMPPD_EXTRA:-}
EOF
  smppd_pid=
  if ! "$smppd" validate --config "$config" >"$work/smppd-validate.out" 2>&1; then
    smppd_state="smppd rejects the generated configuration:
$(cat "$work/smppd-validate.out")"
    return 1
  fi
  "$smppd" --config "$config" >"$work/smppd-$name.log" 2>&1 &
  smppd_pid=$!
  pids+=("$smppd_pid")
  if ! wait_listening "$listen_port"; then
    smppd_state="smppd did not start listening: $(tail -n 3 "$work/smppd-$name.log")"
    return 1
  fi
  sleep 0.5  # the upstream sessions bind
}
stop_smppd() {
  stop "$smppd_pid"
  stop "$sink_pid"
  smppd_pid=
  sink_pid=
}

rate_done=
smppd_state="smppd not built ($smppd)"
receipts_state=
if [ -x "$smppd" ]; then
  # The probes: does smppd answer submit_sm at all; and do receipts come back whole when the
  # SMSC sends each one at once, on any of smppd's connections (the harsh case).
  if start_smppd probe any; then
    "$loadgen" "127.0.0.1:$listen_port" --count 100 --timeout 5s >"$work/probe.out" 2>&1 || true
    "$loadgen" "127.0.0.1:$listen_port" --count 100 --receipts --timeout 5s --receipt-wait 5s \
      >"$work/probe-receipts.out" 2>&1 || true
    if grep -q '^result=ok' "$work/probe.out"; then
      smppd_state=ok
      if ! grep -q '^result=ok' "$work/probe-receipts.out"; then
        receipts_state="receipts through smppd are not whole when the SMSC sends them at once on any
of smppd's connections (sink --receipt-session any): 100 submit_sm with receipts got
$(grep -E '^(answered|receipts)' "$work/probe-receipts.out" | sed 's/^/  /')"
      fi
    else
      smppd_state="smppd's message path does not work yet; 100 submit_sm got:
$(grep -E '^(bind|answered|status|result)' "$work/probe.out" | sed 's/^/  /')"
    fi
  fi
  stop_smppd
  if [ "$smppd_state" = ok ] && start_smppd runs "$receipt_session"; then
    echo "== through smppd: loadgen -> smppd -> sink" >&2
    run_all smppd "$listen_port"
    echo "== $rate msg/s, direct and through smppd in turn" >&2
    rate_runs "$direct_port" "$listen_port" "$direct_pid" "$relay_pid" "$sink_pid" "$smppd_pid"
    rate_done=1
  fi
  stop_smppd
  smppd_sink_stats=$(grep '^sink stats' "$work/sink-runs.out" 2>/dev/null || true)
fi
if [ -z "$rate_done" ]; then
  echo "== $rate msg/s, direct" >&2
  rate_runs "$direct_port" "" "$direct_pid" "$relay_pid"
fi
stop "$relay_pid"
stop "$direct_pid"
direct_sink_stats=$(grep '^sink stats' "$work/sink-direct.out" || true)

# ---- the table
row() {  # row LABEL SCENARIO RECORD KEY [WHAT]
  local label=$1 s=$2
  shift 2
  printf '%-44s %-28s %-28s %-28s\n' "$label" "$(col "direct-$s" "$@")" \
    "$(col "smppd-$s" "$@")" "$(col "relay-$s" "$@")"
}
col() {  # col SCENARIO RECORD KEY [WHAT]: n/a for smppd when it has no message path
  case "$1" in smppd-*) [ "$smppd_state" != ok ] && { echo "n/a"; return; } ;; esac
  figure "$@"
}

echo
sched=$([ "$rt" = 1 ] && echo "SCHED_FIFO" || echo "normal scheduling")
echo "message path: sessions=$sessions window=$window duration=$duration repeat=$repeat" \
  "receipt_delay=$receipt_delay receipt_session=$receipt_session (median (min-max) over the" \
  "runs); the $rate msg/s runs under $sched; $(idle_policy)"
printf '%-44s %-28s %-28s %-28s\n' "" "loadgen -> sink" "loadgen -> smppd -> sink" \
  "loadgen -> relay -> sink"
row "max, no receipts: answered msg/s" max answered rate
row "max, receipts: answered msg/s" max-receipts answered rate
row "max, receipts: receipts/s" max-receipts receipts rate
row "$rate msg/s: achieved msg/s" rate answered rate
row "$rate msg/s: submit->response p50 us" rate latency p50 submit_to_response
row "$rate msg/s: submit->response p99 us" rate latency p99 submit_to_response
row "$rate msg/s: submit->response p99.9 us" rate latency p99.9 submit_to_response
row "$rate msg/s: submit->receipt p99 us" rate latency p99 submit_to_receipt
row "$rate msg/s: CPU of the hop, us a message" rate hop cpu_us_per_msg
row "$rate msg/s: CPU time stolen by the host, %" rate machine steal_pct
row "$rate msg/s: stolen in the worst 200 ms, %" rate machine steal_worst_pct
echo
for prefix in direct smppd; do
  [ "$prefix" = smppd ] && [ "$smppd_state" != ok ] && continue
  for s in max max-receipts rate; do
    all_ok "$prefix-$s" && continue
    echo "warning: $prefix-$s: not every run ended with result=ok:"
    grep -hE '^(answered|receipts)' "$work/$prefix-$s".run*.out | sed 's/^/  /'
  done
done
if [ -n "$receipts_state" ]; then echo "$receipts_state"; fi
echo "sink (direct runs): ${direct_sink_stats:-?}"
[ "$smppd_state" = ok ] && echo "sink (smppd runs): ${smppd_sink_stats:-?}"
if [ "$smppd_state" = ok ]; then
  p99_direct=$(figure direct-rate latency p99 submit_to_response | cut -d' ' -f1)
  p99_smppd=$(figure smppd-rate latency p99 submit_to_response | cut -d' ' -f1)
  max_plain=$(figure smppd-max answered rate | cut -d' ' -f1)
  max_receipts=$(figure smppd-max-receipts answered rate | cut -d' ' -f1)
  awk -v d="$p99_direct" -v s="$p99_smppd" -v r="$rate" -v m="$max_plain" -v mr="$max_receipts" \
    'BEGIN {
       added = (s - d) / 1000
       verdict = added <= 2 ? "met" : "MISSED"
       printf "target: p99 added by smppd at %d msg/s <= 2 ms: %.3f ms: %s\n", r, added, verdict
       verdict = m >= 100000 ? "met" : "MISSED"
       printf "target: >= 100,000 msg/s through smppd without receipts: %d: %s\n", m, verdict
       verdict = mr >= 50000 ? "met" : "MISSED"
       printf "target: >= 50,000 msg/s through smppd with receipts: %d: %s\n", mr, verdict
     }'
  # The same over the quiet turns alone: those in which the host stole at most QUIET_STEAL %
  # of the CPU time in every 200 ms of both the direct and the smppd run (a turn's runs are
  # next to each other in time). Beside the verdict above, never instead of it: it tells a
  # miss of smppd's from one of the host's.
  quiet_direct=() quiet_smppd=()
  for i in $(seq 1 "$repeat"); do
    if quiet direct-rate "$i" && quiet smppd-rate "$i"; then
      quiet_direct+=("$(get "$work/direct-rate.run$i.out" latency p99 submit_to_response)")
      quiet_smppd+=("$(get "$work/smppd-rate.run$i.out" latency p99 submit_to_response)")
    fi
  done
  q_direct=$(stats "${quiet_direct[@]}" | cut -d' ' -f1)
  q_smppd=$(stats "${quiet_smppd[@]}" | cut -d' ' -f1)
  awk -v d="$q_direct" -v s="$q_smppd" -v n="${#quiet_smppd[@]}" -v r="$repeat" \
    -v q="$quiet_steal" 'BEGIN {
      printf "quiet turns (at most %s%% stolen in every 200 ms of the direct and the smppd run): %d of %d", q, n, r
      if (n == 0) { print ""; exit }
      added = (s - d) / 1000
      printf "; p99 added there %.3f ms: %s\n", added, added <= 2 ? "met" : "MISSED"
    }'
  p99_relay=$(figure relay-rate latency p99 submit_to_response | cut -d' ' -f1)
  if [ "$p99_relay" != "-" ]; then
    awk -v d="$p99_direct" -v r="$p99_relay" 'BEGIN {
      printf "yardstick: a byte relay (one more process hop, no work) adds %.3f ms at p99\n",
        (r - d) / 1000 }'
  fi
else
  echo "through smppd: $smppd_state"
fi
