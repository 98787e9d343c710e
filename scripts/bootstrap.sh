#!/usr/bin/env bash
# Idempotent set-up for a bare Debian 12 (bookworm) or Debian 13 (trixie) machine (root, or sudo available).
# 1. Debian packages (QGIS, GDAL, Xvfb; on 13 also numpy 2 and torch) only when missing.
# 2. .venv with --system-site-packages so QGIS, PyQt5, GDAL and Debian's numpy are visible.
# 3. Pinned Python dependencies, skipped when already satisfied: requirements.txt on both releases, plus
#    requirements-debian12.txt on 12 (numpy<2 and the CPU torch wheel on local disk, Python 3.11 only).
# Why the split: Debian 13 has Python 3.13, where PyPI's torch wheels are CUDA builds that do not import
# without NVIDIA packages, and QGIS there is built against numpy 2; Debian's own python3-torch (CPU) and
# python3-numpy work beside QGIS, so they come from apt and pip must not replace them.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"

release="$(cut -d. -f1 /etc/debian_version 2>/dev/null || true)"
case "$release" in
  12|bookworm*) release=12 ;;
  13|trixie*) release=13 ;;
  *) . /etc/os-release 2>/dev/null || true
     case "${VERSION_CODENAME:-}" in bookworm) release=12 ;; trixie) release=13 ;;
       *) echo "[bootstrap] unknown Debian release '$(cat /etc/debian_version 2>/dev/null)'; trying the Debian 13 set-up" >&2
          release=13 ;; esac ;;
esac

APT_PACKAGES="qgis python3-qgis qgis-providers gdal-bin python3-gdal xvfb python3-scipy python3-matplotlib
              python3-venv fonts-droid-fallback"
PIP_EXTRA=""
if [ "$release" = 13 ]; then
  APT_PACKAGES="$APT_PACKAGES python3-numpy python3-torch"
else
  PIP_EXTRA="requirements-debian12.txt"
fi
missing=""
for p in $APT_PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "[bootstrap] installing Debian $release packages:$missing"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

PY=/usr/bin/python3
if [ ! -x .venv/bin/python ]; then
  echo "[bootstrap] creating .venv (system site packages)"
  $PY -m venv --system-site-packages .venv
fi

stamp=.venv/.requirements.sha256
want="$(cat requirements.txt $PIP_EXTRA pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "[bootstrap] installing Python dependencies (log: .venv/bootstrap-pip.log)"
  log=.venv/bootstrap-pip.log
  if ! { .venv/bin/python -m pip install -q --upgrade "pip>=23" &&
         .venv/bin/python -m pip install -q -r requirements.txt ${PIP_EXTRA:+-r $PIP_EXTRA} &&
         .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e . ; } >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "[bootstrap] pip failed; see $log" >&2
    exit 1
  fi
  echo "$want" > "$stamp"
fi

# PyQt6 from PyPI in its own venv: tests/test_qt6_widgets.py builds the Qt-only widgets under Qt6 (QGIS 4)
bash scripts/pyqt6_venv.sh
