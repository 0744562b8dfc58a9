#!/usr/bin/env bash
# Chromium from Debian's packages, for the evidence report's browser test
# (tests/unit/test_evidence_browser.py and tests/e2e/test_evidence.py render report.html in
# it). Installed the way tools/image/build.sh installs its tools: apt-get, as root, only
# when missing; here and on a fresh CI machine alike. Prints the browser's path.
set -euo pipefail

log() { printf '[chromium] %s\n' "$*" >&2; }

for name in chromium chromium-browser; do
  if command -v "$name" >/dev/null; then command -v "$name"; exit 0; fi
done
if [ "$(id -u)" != 0 ]; then
  log "chromium is missing: install it (apt-get install chromium) or run as root"
  exit 1
fi
log "installing chromium from Debian's packages"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core >/dev/null
command -v chromium
