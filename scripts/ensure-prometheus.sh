#!/usr/bin/env bash
# Makes sure promtool and the Prometheus server are there for the tests of the alert
# rules (`promtool test rules`) and of the dashboard's queries (a real Prometheus
# scraping the services), and for `make observe`: installs Debian's `prometheus`
# package when they are missing (as root). The package's own service is not started
# (nor left enabled): the tests and `make observe` start their own server on their port.
# Under `make test` (LOBU_REQUIRE_ALL=1) a tool it cannot provide fails the build; run
# by hand elsewhere it only warns, and those tests skip themselves.
set -euo pipefail

have_prometheus() { command -v promtool >/dev/null && command -v prometheus >/dev/null; }

if have_prometheus; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "ensure-prometheus: installing Debian's prometheus package (promtool and the server)" >&2
  apt-get update -qq
  # No recommends: the node exporter is not needed. policy-rc.d keeps the package's
  # service from starting on port 9090 while it installs.
  policy=/usr/sbin/policy-rc.d
  made_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  if [ "$made_policy" = 1 ]; then rm -f "$policy"; fi
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
  if have_prometheus; then
    exit 0
  fi
  echo "ensure-prometheus: apt-get installed prometheus, but no promtool appeared" >&2
  exit 1
fi
cat >&2 <<'TXT'
ensure-prometheus: the alert-rule and dashboard tests need promtool and prometheus,
and none was found.
  Install them with: sudo apt-get install -y --no-install-recommends prometheus
  (Debian/Ubuntu; then `sudo systemctl disable --now prometheus`: the tests start
  their own server), or run `make test` as root so that this script installs them.
TXT
if [ "${LOBU_REQUIRE_ALL:-0}" != 0 ]; then
  echo "  make test runs every test (LOBU_REQUIRE_ALL=1), so it stops here." >&2
  exit 1
fi
echo "  Until then those tests (tests/deploy/test_prometheus_*.py) are skipped." >&2
exit 0
