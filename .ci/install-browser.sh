#!/usr/bin/env bash
# What the report's browser test needs: Debian's chromium and Playwright for Python to drive it.
# Idempotent. Never runs `playwright install` (it downloads browser builds, which this network refuses).
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq chromium >/dev/null
fi
python -c "import playwright.sync_api" 2>/dev/null || pip install -q playwright
