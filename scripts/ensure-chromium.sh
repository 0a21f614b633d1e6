#!/usr/bin/env bash
# Makes sure the browser tests (tests/browser) find a headless Chromium: installs
# Debian's `chromium` package when it is missing (as root). Playwright drives that
# browser directly, so `playwright install` (which downloads one) is never needed.
# Under `make test` (LOBU_REQUIRE_ALL=1) a browser it cannot provide fails the build;
# run by hand elsewhere it only warns, and the browser tests skip themselves.
set -euo pipefail

have_chromium() { [ -x /usr/bin/chromium ] || command -v chromium >/dev/null; }

if have_chromium; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "ensure-chromium: installing Debian's chromium package for the browser tests" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  if have_chromium; then
    exit 0
  fi
  echo "ensure-chromium: apt-get installed chromium, but no /usr/bin/chromium appeared" >&2
  exit 1
fi
cat >&2 <<'TXT'
ensure-chromium: the browser tests need Chromium at /usr/bin/chromium and none was found.
  Install it with: sudo apt-get install -y chromium   (Debian/Ubuntu),
  or run `make test` as root so that this script installs it.
TXT
if [ "${LOBU_REQUIRE_ALL:-0}" != 0 ]; then
  echo "  make test runs every test (LOBU_REQUIRE_ALL=1), so it stops here." >&2
  exit 1
fi
echo "  Until then the browser tests (tests/browser) are skipped." >&2
exit 0
