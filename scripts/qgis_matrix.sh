#!/usr/bin/env bash
# The QGIS version matrix: the README's `make test` on this host's QGIS and inside Debian 13 trees with
# QGIS 3.40 (trixie) and 3.44 (trixie-backports), each a real QGIS with no skipped QGIS test.
#
#   scripts/qgis_matrix.sh [--no-host] [VERSION...]     VERSION: 3.40, 3.44 (default: both)
#
# Trees live in $HYPERSNN_CHROOTS (default /var/tmp/hypersnn-chroots) and are reused. Exit codes: 0 every
# entry passed; 1 a test run failed; 3 a tree could not be built (mirror or network) and nothing failed:
# an unbuilt entry is reported as NOT BUILT, never as a pass.
set -uo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
root="${HYPERSNN_CHROOTS:-/var/tmp/hypersnn-chroots}"
host=1; versions=()
for a in "$@"; do
  case "$a" in --no-host) host=0 ;; 3.40|3.44) versions+=("$a") ;; *) sed -n 2,9p "$0" >&2; exit 2 ;; esac
done
[ ${#versions[@]} -gt 0 ] || versions=(3.40 3.44)
mkdir -p "$root"
declare -a rows; failed=0; unbuilt=0

if [ "$host" = 1 ]; then
  v="$(cd "$here" && .venv/bin/python -c 'from qgis.core import Qgis; print(Qgis.QGIS_VERSION)' 2>/dev/null || echo '?')"
  echo "[matrix] host QGIS $v: make test"
  if (cd "$here" && make test); then rows+=("host QGIS $v: passed"); else rows+=("host QGIS $v: FAILED"); failed=1; fi
fi
for ver in "${versions[@]}"; do
  dir="$root/qgis-$ver"; extra=""; [ "$ver" = 3.44 ] && extra="--backports"
  echo "[matrix] QGIS $ver: building or reusing $dir"
  bash "$here/scripts/debian_chroot.sh" build "$dir" $extra; rc=$?
  if [ $rc -ne 0 ]; then rows+=("QGIS $ver: NOT BUILT (exit $rc; see $dir.*.log)"); unbuilt=1; continue; fi
  got="$(chroot "$dir" dpkg-query -W -f='${Version}' qgis 2>/dev/null)"
  case "$got" in "$ver".*) ;; *) rows+=("QGIS $ver: NOT BUILT (the tree has qgis $got)"); unbuilt=1; continue ;; esac
  echo "[matrix] QGIS $got: make test"
  if bash "$here/scripts/debian_chroot.sh" run "$dir" make test; then rows+=("QGIS $got (Debian 13): passed")
  else rows+=("QGIS $got (Debian 13): FAILED"); failed=1; fi
done
echo "[matrix] summary"
printf '  %s\n' "${rows[@]}"
[ $failed = 1 ] && exit 1
[ $unbuilt = 1 ] && { echo "[matrix] the matrix is incomplete: an entry could not be built" >&2; exit 3; }
exit 0
