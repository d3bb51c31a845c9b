#!/usr/bin/env bash
# Idempotent set-up on Debian: system packages (LibreOffice headless + UNO + help pages) and
# the Python packages in a virtual environment. Safe to run again; it only adds what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
SYSTEM_PACKAGES=(python3-venv libreoffice-writer python3-uno libreoffice-help-en-us libreoffice-script-provider-python
                 fonts-liberation2 chromium chromium-driver
                 xvfb dbus-x11 libreoffice-gtk3 python3-pyatspi at-spi2-core xdotool imagemagick
                 libreoffice-calc libreoffice-impress)

missing=()
for pkg in "${SYSTEM_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing system packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating virtual environment $VENV"
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
# torch first and pinned: the CPU wheel of this version is on the machine's disk; left to the
# resolver, sentence-transformers would pull a multi-GB CUDA build.
"$VENV/bin/python" -c "import torch" 2>/dev/null || "$VENV/bin/python" -m pip install -q torch==2.13.0
"$VENV/bin/python" -m pip install -q -e ".[dev]"
# BFCL's data, back ends and checker (the tools environment's `bfcl` suite). bfcl-eval pins
# packages it needs only to call hosted models (numpy 1.26, provider SDKs, faiss), which would
# downgrade ours; its multi-turn back ends import nothing but mpmath, so it goes in without
# its dependencies. Pinned: the data and checker behind the recorded figures.
"$VENV/bin/python" -m pip install -q --no-deps "bfcl-eval==2026.3.23"
"$VENV/bin/python" -m pip install -q "mpmath>=1.3"
"$VENV/bin/python" -c "import lamforge" && echo "setup: ok"
