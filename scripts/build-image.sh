#!/usr/bin/env bash
# The container image without a registry (as root): the Dockerfile's image, built with buildah
# from a debootstrapped Debian 12 root and the Debian package instead of pulling debian:12-slim.
#   scripts/build-image.sh [build/package/smppd_<version>_<arch>.deb]
# Makes the image smppd:<version> (podman's and buildah's store), then checks it: with podman
# when containers can run here (the HEALTHCHECK until healthy, `smppd --version`), else in the
# image's root filesystem under chroot (`smppd validate` and the demo up and healthy).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
# shellcheck source=scripts/debian-root.sh
. scripts/debian-root.sh

demo_preflight build-image "${1:-}"
command -v buildah >/dev/null || apt-get install -y -qq --no-install-recommends buildah podman >/dev/null
version=$(dpkg-deb -f "$deb" Version)
image=smppd:$version
rootfs=$here/build/package/image-root
step() { echo "build-image: $*"; }
container=
mount_dir=
cleanup() {
  local d
  if [ -n "$mount_dir" ]; then
    d=$(cat "$mount_dir/tmp/smppd.pid" 2>/dev/null || true)
    if [ -n "$d" ]; then kill -9 "$d" 2>/dev/null || true; fi
    leave_root "$mount_dir"
  fi
  leave_root "$rootfs"
  if [ -n "$container" ]; then buildah rm "$container" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
# Docker's format: OCI images have no HEALTHCHECK.
export BUILDAH_FORMAT=docker

step "the root filesystem: bookworm minbase, the smppd user (uid 10001, as the Dockerfile's), the .deb"
new_root "$rootfs"
in_root "$rootfs" groupadd --system --gid 10001 smppd
in_root "$rootfs" useradd --system --uid 10001 --gid smppd --home-dir /var/lib/smppd --no-create-home \
  --shell /usr/sbin/nologin smppd
cp "$deb" "$rootfs/tmp/smppd.deb"
in_root "$rootfs" apt-get update -qq
# The package's postinst finds the user made above and makes its folders.
in_root "$rootfs" apt-get install -y -qq --no-install-recommends ca-certificates tzdata /tmp/smppd.deb >/dev/null
in_root "$rootfs" apt-get clean
leave_root "$rootfs"
# Not this host's: its resolver, and the extra CAs in_root copied in (a proxy's) with their
# links in the system's bundle, made again without them.
rm -f "$rootfs"/usr/local/share/ca-certificates/*.crt "$rootfs/etc/resolv.conf"
chroot "$rootfs" update-ca-certificates --fresh >/dev/null
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/tmp/* "$rootfs"/usr/share/man/*

step "the image $image (buildah)"
container=$(buildah from scratch)
# Copied with owners and modes as they are (buildah copy would make everything root's, the
# smppd folders included).
target=$(buildah mount "$container")
tar -C "$rootfs" -cf - . | tar -C "$target" -xpf -
buildah umount "$container" >/dev/null
buildah config \
  --user 10001:10001 --workingdir /var/lib/smppd --volume /var/lib/smppd \
  --port 2775 --port 8080 --stop-signal SIGTERM \
  --entrypoint '["smppd"]' --cmd '--config /etc/smppd/smppd.yaml' \
  --healthcheck 'CMD ["smppd", "health", "--config", "/etc/smppd/smppd.yaml", "--timeout", "4000"]' \
  --healthcheck-interval 10s --healthcheck-timeout 5s --healthcheck-start-period 30s --healthcheck-retries 3 \
  --label org.opencontainers.image.title=smppd --label "org.opencontainers.image.version=$version" \
  "$container"
buildah commit --quiet --format docker "$container" "$image" >/dev/null
step "built $image: $(buildah images --format '{{.Size}}' "$image" | head -n 1)"

step "checking it"
# --ulimit host: podman's default raises the descriptor limit, which an unprivileged sandbox
# may refuse.
if podman run --rm --network host --ulimit host "$image" --version > /tmp/smppd-image-version 2>/tmp/smppd-image-run.err; then
  cat /tmp/smppd-image-version
  name=smppd-image-check
  podman rm -f "$name" >/dev/null 2>&1 || true
  podman run -d --name "$name" --network host --ulimit host "$image" >/dev/null
  healthy=
  for _ in $(seq 1 30); do
    if podman healthcheck run "$name" >/dev/null 2>&1; then healthy=1; break; fi
    sleep 1
  done
  podman logs "$name" 2>&1 | tail -n 5
  podman stop -t 30 "$name" >/dev/null; podman rm "$name" >/dev/null
  [ -n "$healthy" ] || { echo "build-image: the container never became healthy" >&2; exit 1; }
  step "the container ran as uid 10001 and became healthy"
else
  step "podman cannot run containers here ($(tail -n 1 /tmp/smppd-image-run.err)); checking the image's root filesystem under chroot instead"
  mount_dir=$(buildah mount "$container")
  in_root "$mount_dir" setpriv --reuid=10001 --regid=10001 --clear-groups smppd --version
  in_root "$mount_dir" setpriv --reuid=10001 --regid=10001 --clear-groups \
    smppd validate --config /etc/smppd/smppd.yaml
  in_root "$mount_dir" sh -c 'cd /var/lib/smppd && echo $$ > /tmp/smppd.pid && exec setpriv --reuid=10001 \
    --regid=10001 --clear-groups smppd --config /etc/smppd/smppd.yaml' > /tmp/smppd-image-demo.log 2>&1 &
  pid=$!
  healthy=
  for _ in $(seq 1 50); do
    # The image's own HEALTHCHECK command.
    if in_root "$mount_dir" smppd health --config /etc/smppd/smppd.yaml --timeout 4000 >/dev/null 2>&1; then healthy=1; break; fi
    sleep 0.2
  done
  kill -TERM "$(cat "$mount_dir/tmp/smppd.pid")"
  wait "$pid" || true
  rm -f "$mount_dir/tmp/smppd.pid"
  leave_root "$mount_dir"
  buildah umount "$container" >/dev/null
  mount_dir=
  [ -n "$healthy" ] || { cat /tmp/smppd-image-demo.log; echo "build-image: the demo never became healthy" >&2; exit 1; }
  step "the image's root filesystem ran smppd validate and the demo (healthy) as uid 10001"
fi
