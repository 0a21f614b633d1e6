#!/usr/bin/env bash
# Makes sure the browser tests (tests/browser) find a headless Chromium: installs
# Debian's `chromium` package when it is missing (as root). Playwright drives that
# browser directly, so `playwright install` (which downloads one) is never needed.
# Without a browser the browser tests skip themselves, so this never fails the build.
set -euo pipefail

if [ -x /usr/bin/chromium ] || command -v chromium >/dev/null; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "ensure-chromium: installing Debian's chromium package for the browser tests" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
cat >&2 <<'TXT'
ensure-chromium: the browser tests need Chromium at /usr/bin/chromium and none was found.
  Install it with: sudo apt-get install -y chromium   (Debian/Ubuntu)
  Until then the browser tests (tests/browser) are skipped.
TXT
exit 0
