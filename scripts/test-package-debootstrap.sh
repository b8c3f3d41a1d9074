#!/usr/bin/env bash
# The Debian package on a fresh Debian 12 (as root; documented in README "Packaging"):
#   scripts/test-package-debootstrap.sh [build/package/smppd_<version>_<arch>.deb]
# In a debootstrapped bookworm root: installs the .deb with apt (its Depends from the mirror),
# checks the user, folders and conffile, runs `smppd validate` on the shipped configuration,
# starts the demo as the smppd user, binds to it and sends a message whose receipt comes back
# (the npm `smpp` client of tests/interop, from this host: the root shares its network), stops
# it with SIGTERM; then upgrades (a copy of the package with a higher version), removes and
# purges, checking what each keeps. Needs root, debootstrap and the network (the mirror).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
# shellcheck source=scripts/debian-root.sh
. scripts/debian-root.sh

demo_preflight test-package "${1:-}"

root=$here/build/package/root
work=$(mktemp -d)
pid=
# smppd's own pid (the root shares this host's pid space): written by the shell that becomes it.
daemon_pid() { cat "$root/tmp/smppd.pid" 2>/dev/null || true; }
cleanup() {
  local d
  d=$(daemon_pid)
  if [ -n "$d" ]; then kill -9 "$d" 2>/dev/null || true; fi
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  leave_root "$root"
  rm -rf "$work"
}
trap cleanup EXIT
step() { echo "test-package: $*"; }
fail() { echo "test-package: FAILED: $*" >&2; exit 1; }

start=$(date +%s)
new_root "$root"
cp "$deb" "$root/tmp/smppd.deb"
step "apt install ./smppd.deb in a fresh bookworm root"
in_root "$root" apt-get update -qq
in_root "$root" apt-get install -y -qq --no-install-recommends /tmp/smppd.deb > "$work/apt.log" 2>&1 ||
  { tail -n 30 "$work/apt.log"; fail "apt-get install"; }

step "the user, its folders, the conffile"
in_root "$root" id smppd >/dev/null || fail "no smppd user"
for d in /var/lib/smppd /var/log/smppd; do
  owner=$(in_root "$root" stat -c '%U:%G %a' "$d")
  [ "$owner" = "smppd:smppd 750" ] || fail "$d is $owner"
done
in_root "$root" dpkg-query -W -f='${Conffiles}\n' smppd | grep -q '/etc/smppd/smppd.yaml' ||
  fail "/etc/smppd/smppd.yaml is not a conffile"
in_root "$root" test -f /lib/systemd/system/smppd.service || fail "no unit"
# Enabled: the link systemd starts it from at boot (made by deb-systemd-helper without systemd).
in_root "$root" test -L /etc/systemd/system/multi-user.target.wants/smppd.service || fail "the service is not enabled"
in_root "$root" smppd --version | tee "$work/version"
grep -q "revision unknown" "$work/version" && fail "the package does not know its revision"

step "smppd validate on the shipped configuration (as smppd)"
in_root "$root" setpriv --reuid=smppd --regid=smppd --init-groups \
  smppd validate --config /etc/smppd/smppd.yaml || fail "validate"

step "the demo: started as smppd, ready, a message and its receipt, SIGTERM"
in_root "$root" sh -c 'cd /var/lib/smppd && echo $$ > /tmp/smppd.pid && exec setpriv --reuid=smppd \
  --regid=smppd --init-groups smppd --config /etc/smppd/smppd.yaml' > "$work/smppd.log" 2>&1 &
pid=$!
ready=
for _ in $(seq 1 100); do
  if in_root "$root" smppd health --config /etc/smppd/smppd.yaml >/dev/null 2>&1; then ready=1; break; fi
  sleep 0.2
done
[ -n "$ready" ] || { cat "$work/smppd.log"; fail "the demo never became ready"; }
node - <<'JS' || { cat "$work/smppd.log"; fail "the demo did not carry a message"; }
const smpp = require(process.cwd() + '/tests/interop/node_modules/smpp');
const s = smpp.connect({ url: 'smpp://127.0.0.1:2775' });
const timer = setTimeout(() => { console.error('no receipt within 10 s'); process.exit(1); }, 10000);
s.bind_transceiver({ system_id: 'demo', password: 'demo' }, (pdu) => {
  if (pdu.command_status !== 0) { console.error('bind refused', pdu.command_status); process.exit(1); }
  s.submit_sm({ destination_addr: '4915112345678', source_addr: 'TEST', short_message: 'from the .deb',
    registered_delivery: 1 }, (r) => {
    if (r.command_status !== 0) { console.error('submit refused', r.command_status); process.exit(1); }
    console.log('test-package: accepted as', r.message_id);
  });
});
s.on('deliver_sm', (pdu) => {
  s.send(pdu.response());
  console.log('test-package: receipt:', String(pdu.short_message.message || pdu.short_message));
  clearTimeout(timer);
  s.unbind(() => { s.close(); process.exit(0); });
});
JS
kill -TERM "$(daemon_pid)"
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
kill -0 "$pid" 2>/dev/null && fail "smppd did not stop on SIGTERM"
wait "$pid" || fail "smppd exited with $?"
pid=
rm -f "$root/tmp/smppd.pid"
grep -q "shutting down" "$work/smppd.log" || fail "no shutdown in the log"
in_root "$root" test -s /var/lib/smppd/messages.db || fail "the store is not in /var/lib/smppd"

step "upgrade: the configuration edited locally and the data stay"
echo "# edited by the test" >> "$root/etc/smppd/smppd.yaml"
touch "$root/var/log/smppd/kept"
mkdir -p "$work/deb" && dpkg-deb -R "$deb" "$work/deb"
sed -i 's/^Version: .*/&+upgrade1/' "$work/deb/DEBIAN/control"
dpkg-deb -b "$work/deb" "$root/tmp/smppd-upgrade.deb" >/dev/null
in_root "$root" dpkg -i /tmp/smppd-upgrade.deb > "$work/upgrade.log" 2>&1 || { cat "$work/upgrade.log"; fail "upgrade"; }
in_root "$root" dpkg-query -W -f='${Version}\n' smppd | grep -q '+upgrade1' || fail "not upgraded"
grep -q "# edited by the test" "$root/etc/smppd/smppd.yaml" || fail "the upgrade replaced the edited configuration"
[ -s "$root/var/lib/smppd/messages.db" ] && [ -f "$root/var/log/smppd/kept" ] || fail "the upgrade lost data"

step "remove keeps the configuration and the data; purge deletes them"
in_root "$root" apt-get remove -y -qq smppd > "$work/remove.log" 2>&1 || { cat "$work/remove.log"; fail "remove"; }
[ ! -e "$root/usr/bin/smppd" ] || fail "remove left the binary"
[ -f "$root/etc/smppd/smppd.yaml" ] && [ -s "$root/var/lib/smppd/messages.db" ] && [ -f "$root/var/log/smppd/kept" ] ||
  fail "remove deleted the configuration or the data"
in_root "$root" dpkg --purge smppd > "$work/purge.log" 2>&1 || { cat "$work/purge.log"; fail "purge"; }
for p in /etc/smppd /var/lib/smppd /var/log/smppd; do [ ! -e "$root$p" ] || fail "purge left $p"; done

step "passed in $(( $(date +%s) - start )) s"
