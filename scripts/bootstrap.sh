#!/usr/bin/env bash
# Idempotent set-up for a bare Debian 12 machine (run as root, or with sudo available).
# 1. Debian packages (QGIS, GDAL, Xvfb) only when missing.
# 2. .venv with --system-site-packages so QGIS, PyQt5, GDAL and numpy 1.x are visible.
# 3. Pinned Python dependencies from requirements.txt, skipped when already satisfied.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"

APT_PACKAGES="qgis python3-qgis qgis-providers gdal-bin python3-gdal xvfb python3-scipy python3-matplotlib fonts-droid-fallback"
missing=""
for p in $APT_PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "[bootstrap] installing Debian packages:$missing"
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
want="$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "[bootstrap] installing Python dependencies (log: .venv/bootstrap-pip.log)"
  log=.venv/bootstrap-pip.log
  if ! { .venv/bin/python -m pip install -q --upgrade "pip>=23" &&
         .venv/bin/python -m pip install -q -r requirements.txt &&
         .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e . ; } >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "[bootstrap] pip failed; see $log" >&2
    exit 1
  fi
  echo "$want" > "$stamp"
fi
