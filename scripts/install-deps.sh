#!/usr/bin/env bash
# Installs every build and test dependency of smppd that is missing, quietly and idempotently.
# Debian 12 (bookworm) packages through apt, and the npm packages used as test peers.
# Usage: scripts/install-deps.sh [--no-npm] [--package]
#   --no-npm   not the npm test peers
#   --package  also what building and checking the Debian package takes (./dev package)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Packages needed to build smppd and run all of its tests.
APT_PACKAGES=(
  ca-certificates git g++ make cmake ninja-build pkg-config ccache
  clang libclang-rt-14-dev
  libboost1.81-dev libyaml-dev libsqlite3-dev sqlite3 libssl-dev openssl liblua5.4-dev
  libspdlog-dev libfmt-dev libcli11-dev
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  libldap-dev libsystemd-dev systemd libhiredis-dev redis-server
  slapd ldap-utils freeradius
  libgtest-dev libgmock-dev libbenchmark-dev
  tzdata
  nodejs npm
)

npm=yes
for arg in "$@"; do
  case "$arg" in
    --no-npm) npm=no ;;
    --package) APT_PACKAGES+=(debhelper dpkg-dev fakeroot lintian) ;;
    *) echo "install-deps: unknown option $arg" >&2; exit 2 ;;
  esac
done

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
for p in "${APT_PACKAGES[@]}"; do
  # node/npm installed from elsewhere (e.g. NodeSource) are fine as they are.
  if [ "$p" = nodejs ] && command -v node >/dev/null 2>&1; then continue; fi
  if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then continue; fi
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # The tests start their own slapd with a directory of their own: the package must not make
  # one (nor start a system slapd).
  if command -v debconf-set-selections >/dev/null 2>&1; then
    echo 'slapd slapd/no_configuration boolean true' | as_root debconf-set-selections
  fi
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$npm" = yes ]; then
  # Test peers from the npm registry, pinned by tests/interop/package-lock.json.
  if [ ! -d "$here/tests/interop/node_modules/smpp" ] || \
     [ "$here/tests/interop/package-lock.json" -nt "$here/tests/interop/node_modules/.package-lock.json" ]; then
    echo "install-deps: installing npm test peers"
    if ! (cd "$here/tests/interop" && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
      echo "install-deps: npm ci failed in tests/interop (it needs https://registry.npmjs.org;" \
        "behind a TLS-intercepting proxy, set NODE_EXTRA_CA_CERTS to its CA)" >&2
      exit 1
    fi
  fi
fi
