#!/usr/bin/env bash
# The HTTP face, measured: an HTTP client -> smppd (a listener of type http) -> smpp_sink, with
# POST /v1/messages {"to":"+258841234567","from":"MYAPP","text":"Hello"} over keep-alive, each
#   1. as fast as answered (wrk, a Lua script for method, body and headers): accepted (2xx)
#      requests a second at CONNECTIONS connections (wrk -t THREADS), storage off and storage on
#      (SQLite under DIR, answered once stored)         (the issue's target: >= 50,000 req/s)
#   2. GET /health as fast as answered, storage off: the HTTP layer alone (Beast, the
#      connection's coroutine, the answer), a yardstick of what POST adds
#   3. at a fixed RATE (10,000 req/s), storage off and on: request latency p50/p99/p99.9/max
#      (h2load --h1 --rps with its per-request log; wrk cannot hold a rate and Debian has no
#      wrk2); the clients start 1 ms apart so that their timers are spread over the period:
#      RATE/1000 requests every millisecond, not RATE_CLIENTS at once
#   4. where smppd's CPU goes (when perf works here): perf record -g of smppd during one more
#      run at the best connection count of each mode, shares by kind (kernel, malloc, Beast,
#      Asio, JSON, the gateway...) and the top functions
# Both smppd (each with its own sink) run side by side and the runs alternate between them, so
# that a noisy spell of the machine falls on both columns. Each run notes the load average
# before it, the CPU smppd and the sink used, how busy the machine was and how much the
# hypervisor stole; every non-2xx answer and socket error is counted and flagged under the
# table with the first body of such an answer.
#
#   bench/http_api.sh [BUILD_DIR]             (default build/release; needs smppd and smpp_sink)
# Environment (defaults in brackets):
#   SMPPD [BUILD_DIR/src/cli/smppd]  SINK [BUILD_DIR/bench/smpp_sink]
#   DURATION [5s]  each wrk run          CONNECTIONS ["64 128 256"]   THREADS [2] (wrk -t)
#   REPEAT [2]     runs of each scenario (median (min-max) over them)
#   RATE [10000]   the fixed rate        RATE_SECONDS [10]           RATE_CLIENTS [100]
#   PERF [1]       0: no profile         PERF_SECONDS [4]
#   UPSTREAM_CONNECTIONS [4]  smppd -> sink sessions
#   DIR [a new folder under /var/tmp: the database's disk matters, tmpfs does not fsync]
#   KEEP [empty]   a directory to keep every output in (wrk, h2load logs, perf reports)
# wrk and h2load (Debian packages wrk and nghttp2-client) are installed when missing.
#
# The load generator, the sink and smppd share the machine's cores (2 here): the generator's
# share is not smppd's. Say what else ran when quoting the figures (the load averages are in
# the output).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build=${1:-build/release}
smppd=${SMPPD:-$build/src/cli/smppd}
sink=${SINK:-$build/bench/smpp_sink}
duration=${DURATION:-5s}
read -r -a connections <<<"${CONNECTIONS:-64 128 256}"
threads=${THREADS:-2}
repeat=${REPEAT:-2}
rate=${RATE:-10000}
rate_seconds=${RATE_SECONDS:-10}
rate_clients=${RATE_CLIENTS:-100}
perf_on=${PERF:-1}
perf_seconds=${PERF_SECONDS:-4}
upstream_connections=${UPSTREAM_CONNECTIONS:-4}
for b in "$smppd" "$sink"; do
  [ -x "$b" ] || { echo "missing $b (cmake --build --preset release --target smppd smpp_sink)" >&2; exit 2; }
done
if [ $((rate % rate_clients)) -ne 0 ]; then
  echo "RATE ($rate) must be a multiple of RATE_CLIENTS ($rate_clients)" >&2
  exit 2
fi

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}
# need COMMAND PACKAGE: installs the Debian package when the command is missing.
need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "installing $2 (for $1)" >&2
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get install -y -qq "$2" >/dev/null 2>&1 ||
    { as_root apt-get update -qq && as_root apt-get install -y -qq "$2" >/dev/null; } ||
    { echo "cannot install $2" >&2; exit 2; }
}
need wrk wrk
need h2load nghttp2-client

dir=${DIR:-$(mktemp -d /var/tmp/smppd-http-bench-XXXXXX)}
mkdir -p "$dir"
work=$(mktemp -d /tmp/smppd-http-api-XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && cp -r "$work"/. "$KEEP"/; fi
  rm -rf "$work"
  [ -n "${DIR:-}" ] || rm -rf "$dir"
}
trap cleanup EXIT

# ---- the request
body='{"to":"+258841234567","from":"MYAPP","text":"Hello"}'
auth="Basic $(printf '%s' 'bench:bench-pw' | base64)"
printf '%s' "$body" >"$work/body.json"
# wrk's Lua: the request, a count of answers by status, the first body of a non-2xx answer.
lua() {  # lua METHOD BODY
  cat <<EOF
wrk.method = "$1"
wrk.body = $([ -n "$2" ] && printf "'%s'" "$2" || echo nil)
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "$auth"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) codes = {}; first_error = "" end
function response(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
  if (status < 200 or status > 299) and first_error == "" then
    first_error = status .. " " .. (body or "")
  end
end
function done(summary, latency, requests)
  local all, err = {}, ""
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("codes")) do all[k] = (all[k] or 0) + v end
    if err == "" then err = t:get("first_error") end
  end
  local ok, other, line = 0, 0, ""
  for k, v in pairs(all) do
    line = line .. " " .. k .. "=" .. v
    if k >= 200 and k <= 299 then ok = ok + v else other = other + v end
  end
  io.write("codes" .. line .. "\n")
  io.write(string.format("result ok=%d non2xx=%d seconds=%.3f sock_connect=%d sock_read=%d sock_write=%d sock_timeout=%d\n",
    ok, other, summary.duration / 1e6, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout))
  if err ~= "" then io.write("first_error " .. string.gsub(err, "\n", " ") .. "\n") end
end
EOF
}
lua POST "$body" >"$work/post.lua"
lua GET "" >"$work/get.lua"

# ---- smppd and its sink
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# start MODE (off|on): a sink and smppd in front of it; sets port_MODE, smppd_MODE, sink_MODE.
start() {
  local mode=$1 out=$work/sink-$1.out log=$work/smppd-$1.log i sink_port= port=
  "$sink" --listen 127.0.0.1:0 --window 1000 >"$out" 2>&1 &
  pids+=("$!")
  printf -v "sink_$mode" '%s' "$!"
  for i in $(seq 1 200); do
    sink_port=$(sed -n 's/^sink listening on .*:\([0-9]*\)$/\1/p' "$out" 2>/dev/null || true)
    [ -n "$sink_port" ] && break
    sleep 0.025
  done
  [ -n "$sink_port" ] || { echo "the sink did not start:" >&2; cat "$out" >&2; exit 1; }
  local storage=
  if [ "$mode" = on ]; then
    rm -f "$dir"/messages.db*
    storage="storage: { sqlite: { path: $dir/messages.db } }"
  fi
  cat >"$work/smppd-$mode.yaml" <<EOF
listeners:
  - name: api
    type: http
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
$storage
logging: { level: info }
EOF
  if ! "$smppd" validate --config "$work/smppd-$mode.yaml" >"$work/validate-$mode.out" 2>&1; then
    echo "smppd rejects the generated configuration:" >&2
    cat "$work/validate-$mode.out" >&2
    exit 1
  fi
  "$smppd" --config "$work/smppd-$mode.yaml" >"$log" 2>&1 &
  pids+=("$!")
  printf -v "smppd_$mode" '%s' "$!"
  for i in $(seq 1 400); do
    port=$(sed -n 's/.*listener api listening on .*:\([0-9]*\) (HTTP)$/\1/p' "$log" 2>/dev/null || true)
    if [ -n "$port" ] &&
      [ "$(grep -c 'upstream sink: .*: bound' "$log" || true)" -ge "$upstream_connections" ]; then
      break
    fi
    port=
    sleep 0.025
  done
  [ -n "$port" ] || { echo "smppd ($mode) did not come up:" >&2; tail -n 20 "$log" >&2; exit 1; }
  printf -v "port_$mode" '%s' "$port"
}

# ---- measuring a run
# ticks PID: the CPU time (clock ticks) a process has used. cpu_line: busy, steal, total ticks
# of the machine (/proc/stat).
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
cpu_line() {
  awk '$1 == "cpu" { t = 0; for (i = 2; i <= 9; i++) t += $i; print t - $5 - $6, $9, t }' /proc/stat
}
hz=$(getconf CLK_TCK)
# settle PID...: waits (up to 10 s) until these processes use under 10 % of a core, so that a
# run does not start while the previous one is still being sent on or committed.
settle() {
  local i before after p
  for i in $(seq 1 50); do
    before=0 after=0
    for p in "$@"; do before=$((before + $(ticks "$p"))); done
    sleep 0.2
    for p in "$@"; do after=$((after + $(ticks "$p"))); done
    [ $((after - before)) -le $((hz / 50)) ] && return 0
  done
}
# measure MODE OUT COMMAND...: runs COMMAND (stdout and stderr to OUT), then appends to OUT
#   machine load=... (before) smppd_cores=... sink_cores=... busy_pct=... steal_pct=...
measure() {
  local mode=$1 out=$2
  shift 2
  local sp sk load s0 k0 c0 t0 s1 k1 c1 t1
  sp=$(eval echo "\$smppd_$mode")
  sk=$(eval echo "\$sink_$mode")
  settle "$smppd_off" "$smppd_on" "$sink_off" "$sink_on"
  load=$(cut -d' ' -f1 /proc/loadavg)
  s0=$(ticks "$sp"); k0=$(ticks "$sk"); c0=$(cpu_line); t0=$(date +%s%N)
  "$@" >"$out" 2>&1 || echo "exit status $?" >>"$out"
  s1=$(ticks "$sp"); k1=$(ticks "$sk"); c1=$(cpu_line); t1=$(date +%s%N)
  awk -v s=$((s1 - s0)) -v k=$((k1 - k0)) -v c0="$c0" -v c1="$c1" -v ns=$((t1 - t0)) \
    -v hz="$hz" -v load="$load" 'BEGIN {
      split(c0, a, " "); split(c1, b, " "); total = b[3] - a[3]; if (total <= 0) total = 1
      sec = ns / 1e9
      printf "machine load=%s smppd_cores=%.3f sink_cores=%.3f busy_pct=%.0f steal_pct=%.1f\n",
        load, s / hz / sec, k / hz / sec, 100 * (b[1] - a[1]) / total, 100 * (b[2] - a[2]) / total
    }' >>"$out"
}
# field FILE RECORD KEY: the value of KEY= on the line starting with RECORD.
field() {
  awk -v r="$2" -v k="$3" '$1 == r { for (i = 2; i <= NF; i++) { n = index($i, "=")
    if (substr($i, 1, n - 1) == k) { print substr($i, n + 1); exit } } }' "$1"
}
# us VALUE: wrk's "3.97ms" / "684.00us" / "1.20s" in microseconds.
us() {
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) m = 1; else if (v ~ /ms$/) m = 1e3;
    else if (v ~ /m$/) m = 6e7; else m = 1e6; printf "%.0f", n * m }'
}

# results.tsv, a line a run: kind mode conns run accepted/s non2xx sockerr p50 p99 p99.9 max (us)
# smppd_cores sink_cores busy% steal% load smppd_us_per_request
results=$work/results.tsv
: >"$results"
# per_request CORES RATE: microseconds of CPU a request.
per_request() { awk -v c="${1:-0}" -v r="${2:-0}" 'BEGIN { printf "%.1f", (r > 0 ? c * 1e6 / r : 0) }'; }
# wrk_run KIND MODE CONNECTIONS I LUA PATH: one wrk run; a line in results.tsv.
wrk_run() {
  local kind=$1 mode=$2 c=$3 i=$4 script=$5 path=$6 out=$work/$1-$2-c$3.run$4.out
  local port
  port=$(eval echo "\$port_$mode")
  measure "$mode" "$out" wrk -t "$threads" -c "$c" -d "$duration" --latency -s "$script" \
    "http://127.0.0.1:$port$path"
  local ok secs non2xx sockerr accepted p50 p99 load
  ok=$(field "$out" result ok); secs=$(field "$out" result seconds); non2xx=$(field "$out" result non2xx)
  sockerr=$(awk '$1 == "result" { s = 0; for (i = 2; i <= NF; i++) if ($i ~ /^sock_/) { split($i, a, "="); s += a[2] } print s }' "$out")
  accepted=$(awk -v n="${ok:-0}" -v s="${secs:-0}" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')
  p50=$(us "$(awk '$1 == "50%" {print $2}' "$out")")
  p99=$(us "$(awk '$1 == "99%" {print $2}' "$out")")
  load=$(field "$out" machine load)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t-\t-\t%s\t%s\t%s\t%s\t%s\t%s\n' "$kind" "$mode" "$c" \
    "$i" "$accepted" "${non2xx:-?}" "${sockerr:-?}" "$p50" "$p99" \
    "$(field "$out" machine smppd_cores)" "$(field "$out" machine sink_cores)" \
    "$(field "$out" machine busy_pct)" "$(field "$out" machine steal_pct)" "$load" \
    "$(per_request "$(field "$out" machine smppd_cores)" "$accepted")" >>"$results"
  echo "  $kind storage $mode -c $c #$i: $accepted accepted/s, non-2xx ${non2xx:-?}," \
    "socket errors ${sockerr:-?}; load $load before; smppd $(field "$out" machine smppd_cores)" \
    "cores, machine busy $(field "$out" machine busy_pct)%, stolen $(field "$out" machine steal_pct)%" >&2
  grep -q '^result' "$out" || { echo "    wrk said:" >&2; sed 's/^/    /' "$out" | head -n 5 >&2; }
}
# rate_run MODE I: h2load at RATE for RATE_SECONDS; a line in results.tsv.
rate_run() {
  local mode=$1 i=$2 out=$work/rate-$1.run$2.out log=$work/rate-$1.run$2.log port
  port=$(eval echo "\$port_$mode")
  rm -f "$log"  # h2load appends to its log
  measure "$mode" "$out" h2load --h1 -c "$rate_clients" -t 1 --rps $((rate / rate_clients)) \
    -r 1 --rate-period 1ms -n $((rate * rate_seconds)) -d "$work/body.json" \
    -H 'content-type: application/json' -H "authorization: $auth" --log-file="$log" \
    "http://127.0.0.1:$port/v1/messages"
  # The log: start (us since the epoch), status (-1: failed), microseconds to the end.
  sort -n -k3 "$log" | awk '
    { lat[NR] = $3; if ($2 >= 200 && $2 <= 299) ok++; else bad[$2]++
      if (first == "" || $1 < first) first = $1; if ($1 + $3 > last) last = $1 + $3 }
    function pct(p,  k) { k = int(p * NR + 0.999999); if (k < 1) k = 1; return lat[k] }
    END {
      if (NR == 0) { print "rate count=0"; exit }
      s = ""; for (c in bad) s = s c ":" bad[c] ","
      printf "rate count=%d ok=%d non2xx=%d achieved=%.0f p50=%d p99=%d p999=%d max=%d codes=%s\n",
        NR, ok, NR - ok, NR / ((last - first) / 1e6), pct(0.5), pct(0.99), pct(0.999), lat[NR], s
    }' >>"$out"
  local sockerr
  sockerr=$(awk '$1 == "requests:" { print $10 + $12 + $14 }' "$out")  # failed, errored, timeout
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' rate "$mode" \
    "$rate_clients" "$i" "$(field "$out" rate achieved)" "$(field "$out" rate non2xx)" \
    "${sockerr:-?}" "$(field "$out" rate p50)" "$(field "$out" rate p99)" \
    "$(field "$out" rate p999)" "$(field "$out" rate max)" \
    "$(field "$out" machine smppd_cores)" "$(field "$out" machine sink_cores)" \
    "$(field "$out" machine busy_pct)" "$(field "$out" machine steal_pct)" \
    "$(field "$out" machine load)" \
    "$(per_request "$(field "$out" machine smppd_cores)" "$(field "$out" rate achieved)")" >>"$results"
  echo "  $rate req/s storage $mode #$i: achieved $(field "$out" rate achieved)/s," \
    "p50 $(field "$out" rate p50) p99 $(field "$out" rate p99) p99.9 $(field "$out" rate p999)" \
    "max $(field "$out" rate max) us, non-2xx $(field "$out" rate non2xx), failed ${sockerr:-?};" \
    "load $(field "$out" machine load) before; smppd $(field "$out" machine smppd_cores) cores" >&2
}

echo "== $(date -u +%FT%TZ), $(nproc) cores, $(uptime | sed 's/^ *//'); smppd $smppd" >&2
start off
start on
echo "== storage off: port $port_off; storage on: port $port_on ($dir, $(df -T "$dir" | awk 'NR == 2 {print $2}'))" >&2

# Is there a message path at all? One request each, answered 202.
for mode in off on; do
  port=$(eval echo "\$port_$mode")
  probe=$(curl -sS -m 10 -o "$work/probe-$mode.out" -w '%{http_code}' -H "authorization: $auth" \
    -H 'content-type: application/json' -d "$body" "http://127.0.0.1:$port/v1/messages" 2>&1 || true)
  if [ "$probe" != 202 ]; then
    echo "storage $mode: POST /v1/messages answered $probe: $(cat "$work/probe-$mode.out" 2>/dev/null)" >&2
    exit 1
  fi
done

echo "== POST /v1/messages as fast as answered ($duration, wrk -t $threads)" >&2
for i in $(seq 1 "$repeat"); do
  for c in "${connections[@]}"; do
    wrk_run max off "$c" "$i" "$work/post.lua" /v1/messages
    wrk_run max on "$c" "$i" "$work/post.lua" /v1/messages
  done
done
echo "== GET /health as fast as answered (the HTTP layer alone), storage off" >&2
health_c=${connections[$((${#connections[@]} / 2))]}
for i in $(seq 1 "$repeat"); do
  wrk_run health off "$health_c" "$i" "$work/get.lua" /health
done
echo "== POST /v1/messages at $rate req/s (h2load, $rate_clients connections, ${rate_seconds}s)" >&2
for i in $(seq 1 "$repeat"); do
  rate_run off "$i"
  rate_run on "$i"
done

# ---- the summary
# stats VALUES...: "median (min-max)", or the one value.
stats() {
  printf '%s\n' "$@" | grep -E '^[0-9.]+$' | sort -g | awk '
    { v[NR] = $1 } END {
      if (NR == 0) { print "-"; exit }
      m = v[int((NR + 1) / 2)]
      if (NR == 1) printf "%s\n", m; else printf "%s (%s-%s)\n", m, v[1], v[NR] }'
}
# col KIND MODE CONNS COLUMN: the stats of a column of results.tsv over the runs.
col() {
  # shellcheck disable=SC2046
  stats $(awk -F'\t' -v k="$1" -v m="$2" -v c="$3" -v n="$4" \
    '$1 == k && $2 == m && (c == "" || $3 == c) { print $n }' "$results")
}
median() { col "$@" | cut -d' ' -f1; }
# best MODE: the connection count whose median accepted req/s is highest.
best() {
  local c m best_c= best_m=-1
  for c in "${connections[@]}"; do
    m=$(median max "$1" "$c" 5)
    awk -v a="$m" -v b="$best_m" 'BEGIN { exit !(a > b) }' && { best_c=$c; best_m=$m; }
  done
  echo "$best_c"
}
best_off=$(best off)
best_on=$(best on)

# ---- where the time goes: perf during one more run at the best connection count of each mode
profile() {  # profile MODE CONNS
  local mode=$1 c=$2 sp port data=$work/perf-$1.data
  sp=$(eval echo "\$smppd_$mode")
  port=$(eval echo "\$port_$mode")
  settle "$smppd_off" "$smppd_on" "$sink_off" "$sink_on"
  wrk -t "$threads" -c "$c" -d "$((perf_seconds + 2))s" -s "$work/post.lua" \
    "http://127.0.0.1:$port/v1/messages" >"$work/perf-$mode.wrk" 2>&1 &
  local wrk_pid=$!
  sleep 1
  perf record -F 999 -g -p "$sp" -o "$data" -- sleep "$perf_seconds" >"$work/perf-$mode.record" 2>&1 || true
  wait "$wrk_pid" || true
  perf report -i "$data" --no-children --stdio -g none --sort dso,symbol 2>/dev/null |
    awk '/^ +[0-9.]+%/ { sub(/[ \t]+-[ \t]+-[ \t]*$/, ""); print }' >"$work/perf-$mode.flat"
  echo "smppd, storage $mode, -c $c ($(awk '/^Requests\/sec/ {printf "%.0f req/s", $2}' \
    "$work/perf-$mode.wrk") under perf, $(grep -o '[0-9]* samples' "$work/perf-$mode.record" \
    || echo '? samples')): self time by kind"
  # Each sample's function, by kind: its leading namespace first, then what it names.
  awk '{
      pct = $1 + 0; dso = $2; sym = ""
      for (i = 4; i <= NF; i++) sym = sym (i > 4 ? " " : "") $i
      head = sym; sub(/[<(].*/, "", head)
      if (dso ~ /kernel/) k = "kernel (TCP on loopback, epoll, scheduling)"
      else if (sym ~ /^(_int_malloc|_int_free|malloc|cfree|free|__libc_malloc|__libc_free|malloc_consolidate|unlink_chunk|_int_realloc|realloc|calloc|__libc_calloc|tcache|operator new|operator delete)/) k = "malloc/free"
      else if (dso ~ /sqlite/ || sym ~ /^sqlite3/) k = "SQLite"
      else if (dso ~ /libcrypto/) k = "libcrypto (SHA-256 of the password)"
      else if (sym ~ /pthread_(mutex|rwlock|cond|spin)|__lll_lock|futex/) k = "locks (pthread mutex, rwlock)"
      else if (head ~ /boost::json/) k = "Boost.JSON"
      else if (head ~ /boost::beast/) k = "Boost.Beast"
      else if (head ~ /boost::asio/) k = "Boost.Asio"
      else if (head ~ /smppd::(http|rest|api|auth)::/) k = "smppd HTTP face (http, rest, api, auth)"
      else if (head ~ /smppd::|^smpp::/) k = "smppd gateway, upstream, SMPP"
      else if (sym ~ /beast/) k = "Boost.Beast"
      else if (sym ~ /asio/) k = "Boost.Asio"
      else if (sym ~ /json/) k = "Boost.JSON"
      else if (sym ~ /smpp/) k = "smppd gateway, upstream, SMPP"
      else if (dso ~ /libc|vdso/) k = "libc other (memcpy, clock_gettime, ...)"
      else if (dso ~ /libstdc/ || sym ~ /^std::/) k = "libstdc++, std:: (shared_ptr, function)"
      else k = "other"
      share[k] += pct
    }
    END { for (k in share) printf "  %5.1f%%  %s\n", share[k], k }' "$work/perf-$mode.flat" | sort -rn
  echo "  top functions (self):"
  head -n 15 "$work/perf-$mode.flat" | awk '{ s = ""; for (i = 4; i <= NF; i++) s = s " " $i
    printf "  %7s %-16s%s\n", $1, $2, substr(s, 1, 100) }'
}
perf_text=
if [ "$perf_on" = 1 ] && command -v perf >/dev/null 2>&1 &&
  perf record -o "$work/perf-probe.data" -- true >/dev/null 2>&1; then
  echo "== perf: smppd during one more run at the best connection count of each mode" >&2
  perf_text=$(profile off "$best_off"; echo; profile on "$best_on")
elif [ "$perf_on" = 1 ]; then
  perf_text="no profile: perf is missing or not allowed here (kernel.perf_event_paranoid, or not root)"
fi

rss() { awk '/^VmRSS/ {printf "%.0f MiB", $2 / 1024}' "/proc/$1/status" 2>/dev/null || echo "?"; }
rss_off=$(rss "$smppd_off"); rss_on=$(rss "$smppd_on")
# Stopped here, not by the exit trap: how they end is part of the result, and smppd says what
# its store did (transactions = fsyncs, commit times) as it stops.
stop() {  # stop PID: SIGTERM, then its exit status; forgotten by the exit trap
  local status=0 kept=() p
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || status=$?
  for p in "${pids[@]}"; do [ "$p" = "$1" ] || kept+=("$p"); done
  pids=("${kept[@]}")
  return "$status"
}
alive=
for mode in off on; do
  sp=$(eval echo "\$smppd_$mode")
  if ! kill -0 "$sp" 2>/dev/null; then
    alive="$alive
smppd (storage $mode) died during the runs; its log ends:
$(tail -n 10 "$work/smppd-$mode.log")"
    continue
  fi
  status=0
  stop "$sp" || status=$?
  if [ "$status" -ne 0 ]; then
    alive="$alive
smppd (storage $mode) exited with status $status on SIGTERM; its log ends:
$(tail -n 5 "$work/smppd-$mode.log")"
  fi
done
store_line=$(grep -o 'store: [0-9]* transactions.*' "$work/smppd-on.log" || true)

echo
echo "HTTP API: POST /v1/messages (Basic auth, one recipient, 5 octets of text) over keep-alive;"
echo "wrk -t $threads, $duration each, REPEAT=$repeat: median (min-max) over the runs; $(nproc) cores shared"
echo "by the load generator, smppd (2 workers) and the sink; load averages $(cut -f16 "$results" | sort -g | sed -n '1p;$p' | tr '\n' ' ' | sed 's/ $//;s/ /-/') before the runs"
printf '%-46s %-30s %-30s\n' "" "storage off" "storage on (SQLite)"
for c in "${connections[@]}"; do
  printf '%-46s %-30s %-30s\n' "max: accepted req/s, -c $c" "$(col max off "$c" 5)" "$(col max on "$c" 5)"
done
printf '%-46s %-30s %-30s\n' "max: best -c" "$best_off" "$best_on"
printf '%-46s %-30s %-30s\n' "max at best -c: wrk latency p50 us" "$(col max off "$best_off" 8)" "$(col max on "$best_on" 8)"
printf '%-46s %-30s %-30s\n' "max at best -c: wrk latency p99 us" "$(col max off "$best_off" 9)" "$(col max on "$best_on" 9)"
printf '%-46s %-30s %-30s\n' "max at best -c: smppd CPU, cores" "$(col max off "$best_off" 12)" "$(col max on "$best_on" 12)"
printf '%-46s %-30s %-30s\n' "max at best -c: smppd CPU us a request" "$(col max off "$best_off" 17)" "$(col max on "$best_on" 17)"
printf '%-46s %-30s %-30s\n' "max at best -c: sink CPU, cores" "$(col max off "$best_off" 13)" "$(col max on "$best_on" 13)"
printf '%-46s %-30s %-30s\n' "max at best -c: machine busy %" "$(col max off "$best_off" 14)" "$(col max on "$best_on" 14)"
printf '%-46s %-30s %-30s\n' "GET /health req/s, -c $health_c (HTTP layer)" "$(col health off "$health_c" 5)" "-"
printf '%-46s %-30s %-30s\n' "GET /health: smppd CPU us a request" "$(col health off "$health_c" 17)" "-"
printf '%-46s %-30s %-30s\n' "$rate req/s: achieved req/s" "$(col rate off "" 5)" "$(col rate on "" 5)"
printf '%-46s %-30s %-30s\n' "$rate req/s: latency p50 us" "$(col rate off "" 8)" "$(col rate on "" 8)"
printf '%-46s %-30s %-30s\n' "$rate req/s: latency p99 us" "$(col rate off "" 9)" "$(col rate on "" 9)"
printf '%-46s %-30s %-30s\n' "$rate req/s: latency p99.9 us" "$(col rate off "" 10)" "$(col rate on "" 10)"
printf '%-46s %-30s %-30s\n' "$rate req/s: latency max us" "$(col rate off "" 11)" "$(col rate on "" 11)"
printf '%-46s %-30s %-30s\n' "$rate req/s: smppd CPU, cores" "$(col rate off "" 12)" "$(col rate on "" 12)"
printf '%-46s %-30s %-30s\n' "$rate req/s: smppd CPU us a request" "$(col rate off "" 17)" "$(col rate on "" 17)"
printf '%-46s %-30s %-30s\n' "CPU time stolen by the host, % (max runs)" "$(col max off "" 15)" "$(col max on "" 15)"
printf '%-46s %-30s %-30s\n' "smppd RSS after the runs" "$rss_off" "$rss_on"
echo "storage on, over every run: ${store_line:-smppd logged no store line}"
echo

# Every run with a non-2xx answer or a socket error, with the first such body wrk saw.
bad=$(awk -F'\t' '$6 != "0" || $7 != "0"' "$results")
if [ -n "$bad" ]; then
  echo "errors: runs with non-2xx answers or socket errors (kind storage conns run: non-2xx, socket errors):"
  while IFS=$'\t' read -r kind mode c i _ non2xx sockerr _; do
    if [ "$kind" = rate ]; then
      f=$work/rate-$mode.run$i.out
      echo "  $kind $mode $c #$i: non-2xx $non2xx, failed $sockerr; codes $(field "$f" rate codes);" \
        "$(grep -E '^(requests|status codes):' "$f" | tr '\n' ' ')"
    else
      f=$work/$kind-$mode-c$c.run$i.out
      echo "  $kind $mode -c $c #$i: non-2xx $non2xx, socket errors $sockerr; $(grep -E '^codes' "$f")"
      grep -E '^first_error' "$f" | cut -c1-300 | sed 's/^/    /' || true
      grep -E '^exit status' "$f" | sed 's/^/    wrk /' || true
    fi
  done <<<"$bad"
else
  echo "errors: none: every answer was 2xx and no socket error in any run"
fi
# What smppd logged above info (the start-up lines are info).
for mode in off on; do
  n=$(grep -cE ' (warn|error|critical) ' "$work/smppd-$mode.log" || true)
  if [ "$n" -gt 0 ]; then
    echo "smppd (storage $mode) logged $n warning/error line(s), the first:"
    grep -E ' (warn|error|critical) ' "$work/smppd-$mode.log" | head -n 3 | cut -c1-300 | sed 's/^/  /'
  fi
done
if [ -n "$alive" ]; then echo "$alive"; fi

m_off=$(median max off "$best_off" 5)
m_on=$(median max on "$best_on" 5)
p99_off=$(median rate off "" 9)
p99_on=$(median rate on "" 9)
awk -v off="$m_off" -v on="$m_on" -v p_off="$p99_off" -v p_on="$p99_on" -v r="$rate" 'BEGIN {
  printf "target: >= 50,000 accepted POST /v1/messages a second, storage off: %d: %s\n", off,
    (off >= 50000 ? "met" : "not met")
  printf "target: >= 50,000 accepted POST /v1/messages a second, storage on: %d: %s\n", on,
    (on >= 50000 ? "met" : "not met")
  printf "at %d req/s: p99 %.2f ms storage off, %.2f ms storage on (the design: p99 < 10 ms): %s, %s\n",
    r, p_off / 1000, p_on / 1000, (p_off < 10000 ? "met" : "not met"), (p_on < 10000 ? "met" : "not met")
}'
if [ -n "$perf_text" ]; then
  echo
  echo "where smppd's CPU goes (perf record -F 999 -g -p smppd, ${perf_seconds}s):"
  echo "$perf_text"
fi
