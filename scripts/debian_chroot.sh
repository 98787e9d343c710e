#!/usr/bin/env bash
# A Debian 13 (trixie) tree in a folder, to prove the README's commands on a release this host does not run.
#
#   scripts/debian_chroot.sh build DIR [--backports]   debootstrap trixie (QGIS 3.40; --backports: 3.44)
#   scripts/debian_chroot.sh run DIR COMMAND...        copy this checkout to DIR/src and run COMMAND there
#
# Why a chroot and not a container: this kind of machine runs no Docker engine, and debootstrap reaches the
# same mirror apt already uses. Pitfalls handled here: /proc, /sys, /dev and /dev/pts are bound for the
# command and unmounted in a trap (never rm or du a tree with them bound); the host's CA certificates are
# copied in for pip; PIP_FIND_LINKS and the host's pip cap are not carried in.
# Exit codes: 0 the command passed; 3 the tree could not be built (mirror or network), which is never a pass;
# otherwise the command's own exit code.
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "debian_chroot: needs root (debootstrap, mount)" >&2; exit 2; }
here="$(cd "$(dirname "$0")/.." && pwd)"
action="${1:-}"; dir="${2:-}"
[ -n "$action" ] && [ -n "$dir" ] || { sed -n 2,6p "$0" >&2; exit 2; }
shift 2

mirror() {
  # The mirror apt already uses (deb822 or one-line sources), else deb.debian.org.
  local m
  m="$(grep -rhoE '^URIs: *http[^ ]*/debian/?$' /etc/apt/sources.list.d/ 2>/dev/null | head -n1 | sed 's/^URIs: *//')"
  [ -n "$m" ] || m="$(grep -hoE '^deb +http[^ ]*/debian/? ' /etc/apt/sources.list 2>/dev/null | head -n1 | awk '{print $2}')"
  echo "${m:-http://deb.debian.org/debian}"
}

mounted=()
unmount_all() {
  local i
  for ((i=${#mounted[@]}-1; i>=0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
  mounted=()
}
bind() {
  mkdir -p "$dir$1"
  mount --bind "$1" "$dir$1"; mounted+=("$dir$1")
}

case "$action" in
  build)
    backports=0; [ "${1:-}" = "--backports" ] && backports=1
    command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap
    m="$(mirror)"
    if [ ! -x "$dir/usr/bin/apt-get" ]; then
      echo "[chroot] debootstrap trixie from $m into $dir"
      if ! debootstrap --variant=minbase trixie "$dir" "$m" >"$dir.debootstrap.log" 2>&1; then
        tail -n 20 "$dir.debootstrap.log" >&2
        echo "debian_chroot: could not build the trixie tree from $m (see $dir.debootstrap.log)" >&2
        exit 3
      fi
    fi
    suites="trixie"; [ "$backports" = 1 ] && suites="trixie trixie-backports"
    printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$m" "$suites" >"$dir/etc/apt/sources.list.d/debian.sources"
    rm -f "$dir/etc/apt/sources.list"
    cp -L /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || true
    trap unmount_all EXIT
    bind /proc; bind /sys; bind /dev; bind /dev/pts
    target=""; [ "$backports" = 1 ] && target="-t trixie-backports"
    if ! chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
        bash -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends $target \
                 qgis python3-qgis qgis-providers ca-certificates make git" >"$dir.apt.log" 2>&1; then
      tail -n 20 "$dir.apt.log" >&2
      echo "debian_chroot: apt-get could not install QGIS in $dir (see $dir.apt.log)" >&2
      exit 3
    fi
    chroot "$dir" dpkg-query -W -f='[chroot] ${Package} ${Version}\n' qgis python3 2>/dev/null || true
    ;;
  run)
    [ -x "$dir/usr/bin/qgis_process" ] || [ -x "$dir/usr/bin/qgis_process.bin" ] || {
      echo "debian_chroot: $dir has no QGIS; run '$0 build $dir' first" >&2; exit 3; }
    # A copy of the working tree without this host's build outputs (.venv, demo_out, bench/out).
    # The chroot's own .venv and .venv-pyqt6 are kept between runs; everything else is replaced.
    mkdir -p "$dir/src"
    find "$dir/src" -mindepth 1 -maxdepth 1 ! -name .venv ! -name .venv-pyqt6 -exec rm -rf {} +
    (cd "$here" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) | tar -xf - -C "$dir/src"
    # The host's CA bundle (it may hold a proxy's CA that the chroot's ca-certificates package lacks).
    cp -L /etc/ssl/certs/ca-certificates.crt "$dir/etc/ssl/host-ca-certificates.crt"
    ca=/etc/ssl/host-ca-certificates.crt
    trap unmount_all EXIT
    bind /proc; bind /sys; bind /dev; bind /dev/pts
    set +e
    chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
      QT_QPA_PLATFORM=offscreen DEBIAN_FRONTEND=noninteractive CI="${CI:-}" \
      PIP_CERT=$ca SSL_CERT_FILE=$ca REQUESTS_CA_BUNDLE=$ca PIP_DEFAULT_TIMEOUT=180 \
      bash -c 'cd /src && "$@"' bash "$@"
    rc=$?
    set -e
    exit $rc
    ;;
  *) sed -n 2,6p "$0" >&2; exit 2 ;;
esac
