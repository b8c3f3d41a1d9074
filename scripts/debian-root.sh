# Sourced by scripts/test-package-debootstrap.sh and scripts/build-image.sh (root): a fresh
# Debian 12 minbase root filesystem, and running commands in it.
#   new_root DIR     DIR becomes a fresh bookworm minbase root (debootstrap once, then its
#                    tarball, build/package/bookworm-minbase.tar.gz, reused)
#   in_root DIR CMD  runs CMD in DIR (chroot) with /proc, /dev and /sys mounted and DNS, hosts
#                    and this host's extra CA certificates copied in
#   leave_root DIR   unmounts what in_root mounted
#   demo_preflight NAME [DEB]  (as root) sets $deb to DEB or the newest build/package .deb,
#                    and checks that the demo's ports are free on this host; else exits 2
# MIRROR (default http://deb.debian.org/debian) chooses the mirror.

root_tarball=${ROOT_TARBALL:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/package/bookworm-minbase.tar.gz}

new_root() {
  local dir=$1
  leave_root "$dir"
  for m in proc dev sys; do
    if mountpoint -q "$dir/$m" 2>/dev/null; then echo "debian-root: $dir/$m still mounted" >&2; return 1; fi
  done
  # Never into what may still be mounted there.
  rm -rf --one-file-system "$dir"
  mkdir -p "$dir"
  if [ ! -f "$root_tarball" ]; then
    command -v debootstrap >/dev/null || apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
    mkdir -p "$(dirname "$root_tarball")"
    echo "debian-root: debootstrap bookworm (minbase), once: a few minutes"
    debootstrap --variant=minbase bookworm "$dir" "${MIRROR:-http://deb.debian.org/debian}" >/dev/null
    tar -C "$dir" -czf "$root_tarball" .
  else
    tar -C "$dir" -xzf "$root_tarball"
  fi
  # A minbase root has no /etc/hosts: localhost must resolve.
  printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' > "$dir/etc/hosts"
}

in_root() {
  local dir=$1; shift
  mountpoint -q "$dir/proc" || mount -t proc proc "$dir/proc"
  mountpoint -q "$dir/dev" || mount --bind /dev "$dir/dev"
  mountpoint -q "$dir/sys" || mount --bind /sys "$dir/sys"
  cp -L /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || true
  # A TLS-intercepting proxy's CA (as on the machine that ran this), for apt over https.
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    mkdir -p "$dir/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$dir/usr/local/share/ca-certificates/"
  fi
  chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive "$@"
}

leave_root() {
  local dir=$1
  for m in sys dev proc; do
    if mountpoint -q "$dir/$m" 2>/dev/null; then umount -l "$dir/$m"; fi
  done
}

demo_preflight() {
  local name=$1
  [ "$(id -u)" -eq 0 ] || { echo "$name: run as root (chroot)" >&2; exit 2; }
  deb=${2:-$(ls -t build/package/smppd_*.deb 2>/dev/null | head -n 1)}
  [ -f "$deb" ] || { echo "$name: no .deb: run ./dev package first" >&2; exit 2; }
  local port
  for port in 2775 8080 8081 9100; do
    if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
      echo "$name: port $port is taken on this host (the demo listens there)" >&2; exit 2
    fi
  done
}
