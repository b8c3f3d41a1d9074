#!/usr/bin/env bash
# Builds the Debian package of smppd from this tree and checks it (./dev package):
#   build/package/smppd_<version>_<arch>.deb
# The build runs on a copy of the tree (dpkg-buildpackage writes next to its source), with the
# git revision handed over (the copy has no .git). Then: lintian with no error, the files and
# conffiles expected, and the unit in it verified by systemd-analyze.
# Nothing here needs root; scripts/test-package-debootstrap.sh installs it in a Debian 12 root.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"

version=$(sed -n 's/^project(smppd VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
changelog=$(dpkg-parsechangelog -S Version)
if [ "$version" != "$changelog" ]; then
  echo "package: CMakeLists.txt says $version, debian/changelog $changelog: add a changelog entry" >&2
  exit 1
fi
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
out=build/package
src=$out/smppd-$version
deb=$out/smppd_${version}_${arch}.deb

start=$(date +%s)
rm -rf "$src"
mkdir -p "$src"
# The tree as it is (changes not committed included), without what builds and tests made.
# Nor secrets left in the Compose folder.
tar -C "$here" --exclude=./build --exclude=./.git --exclude=./var \
  --exclude=./tests/interop/node_modules --exclude=./deploy/compose/.env --exclude='*.key' \
  -cf - . | tar -C "$src" -xf -
revision=$(git -C "$here" describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)
echo "package: building smppd $version ($revision) in $src (the first build takes about 8 minutes on 2 cores)"
(cd "$src" && SMPPD_GIT_REVISION=$revision dpkg-buildpackage -b -us -uc -j"${SMPPD_JOBS:-$(nproc)}" \
  > "$here/$out/build.log" 2>&1) || { tail -n 40 "$out/build.log"; echo "package: build failed ($out/build.log)" >&2; exit 1; }
echo "package: built $deb in $(( $(date +%s) - start )) s"

failed=0
check() {  # check <what> <command...>: runs it, says so when it fails
  local what=$1; shift
  if ! "$@"; then echo "package: FAILED: $what" >&2; failed=1; fi
}

# lintian: no error (warnings and notes are shown).
echo "package: lintian"
check "lintian reports errors" lintian --fail-on error --suppress-tags-from-file /dev/null "$deb"

# What the package holds: the daemon, its configuration as a conffile, the unit; nothing under
# /var (the maintainer scripts make those folders, owned by smppd).
contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
for f in ./usr/bin/smppd ./etc/smppd/smppd.yaml ./lib/systemd/system/smppd.service \
         ./usr/share/doc/smppd/copyright ./usr/share/man/man8/smppd.8.gz; do
  check "$f missing from the package" grep -qx "$f" <<<"$contents"
done
check "the package installs files under /var" bash -c "! grep -q '^./var/' <<<\"\$1\"" _ "$contents"
check "/etc/smppd/smppd.yaml is not a conffile" \
  bash -c "dpkg-deb -I \"\$1\" conffiles | grep -qx /etc/smppd/smppd.yaml" _ "$deb"
check "the package does not depend on adduser" bash -c "dpkg-deb -f \"\$1\" Depends | grep -q adduser" _ "$deb"

# The unit as packaged, its binary taken from the package.
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
dpkg-deb -x "$deb" "$root"
sed "s|/usr/bin/smppd|$root/usr/bin/smppd|g" "$root/lib/systemd/system/smppd.service" > "$root/smppd.service"
verify=$(systemd-analyze verify "$root/smppd.service" 2>&1 || echo "exit $?")
check "systemd-analyze verify: $verify" bash -c "! grep -E 'smppd\.service:[0-9]+:|^exit' <<<\"\$1\"" _ "$verify"
check "the packaged smppd does not run" "$root/usr/bin/smppd" --version
score=$(systemd-analyze security --offline=true "$root/smppd.service" 2>/dev/null | tail -n 1)
echo "package: systemd-analyze security: ${score#→ }"

[ "$failed" -eq 0 ] || exit 1
echo "package: $deb is good"
