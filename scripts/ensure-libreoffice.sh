#!/usr/bin/env bash
# Makes sure the spreadsheet round-trip test (tests/directory/test_directory_spreadsheet.py)
# finds LibreOffice Calc: installs Debian's `libreoffice-calc` package when `soffice` is
# missing (as root). The test opens the CSV export in Calc with a German locale, saves
# it as CSV again and imports that, as a coordinator with German Excel would.
# Without Calc that test skips itself, so this never fails the build.
set -euo pipefail

if command -v soffice >/dev/null || [ -x /usr/bin/soffice ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "ensure-libreoffice: installing Debian's libreoffice-calc for the spreadsheet test" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    libreoffice-calc >/dev/null
  exit 0
fi
cat >&2 <<'TXT'
ensure-libreoffice: the spreadsheet round-trip test needs LibreOffice Calc (soffice).
  Install it with: sudo apt-get install -y libreoffice-calc   (Debian/Ubuntu)
  Until then that test is skipped.
TXT
exit 0
