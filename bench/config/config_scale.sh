#!/bin/sh
# Start-up cost of a large configuration: `smppd validate` (time, peak RSS) and the daemon (time
# to "smppd running", its RSS then), for 100,000 routes and for 600,000 clients.
#   bench/config/config_scale.sh [build/release/src/cli/smppd]
# Figures of this machine: bench/README.md, "Configuration size".
set -eu
smppd=${1:-build/release/src/cli/smppd}
here=$(dirname "$0")
dir=$(mktemp -d /tmp/smppd-config-scale-XXXXXX)
trap 'rm -rf "$dir"' EXIT

run() {  # name, generator arguments
  name=$1
  shift
  python3 "$here/gen_config.py" "$@" >"$dir/$name.yaml"
  size=$(stat -c %s "$dir/$name.yaml")
  /usr/bin/time -f "%e %M" -o "$dir/time" "$smppd" validate --config "$dir/$name.yaml" >/dev/null
  read -r seconds kb <"$dir/time"
  echo "$name ($((size / 1024)) KiB of YAML): validate ${seconds} s, peak RSS $((kb / 1024)) MiB"

  start=$(date +%s.%N)
  "$smppd" --config "$dir/$name.yaml" --threads 1 >"$dir/log" 2>&1 &
  pid=$!
  while ! grep -q "smppd running" "$dir/log"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      cat "$dir/log"
      exit 1
    fi
    sleep 0.01
  done
  end=$(date +%s.%N)
  rss=$(awk '/VmRSS/ { print int($2 / 1024) }' "/proc/$pid/status")
  hwm=$(awk '/VmHWM/ { print int($2 / 1024) }' "/proc/$pid/status")
  kill -TERM "$pid"
  wait "$pid" || true
  echo "$name: daemon running after $(echo "$end - $start" | bc) s, RSS ${rss} MiB (peak ${hwm} MiB)"
}

run routes-100k --routes 100000
run clients-600k --routes 10 --clients 600000
