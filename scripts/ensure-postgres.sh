#!/usr/bin/env bash
# Makes sure the tests can start a throwaway PostgreSQL: installs Debian's `postgresql`
# package when it is missing (as root), unless LOBU_TEST_POSTGRES_URL names a server
# or a Docker engine can run one through testcontainers.
set -euo pipefail

if [ -n "${LOBU_TEST_POSTGRES_URL:-}" ]; then
  exit 0
fi
if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null; then
  exit 0
fi
if docker info >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "ensure-postgres: installing Debian's postgresql package for the tests" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    exit 0
  fi
  echo "ensure-postgres: apt-get installed postgresql, but no initdb appeared" >&2
  exit 1
fi
cat >&2 <<'TXT'
ensure-postgres: the tests need PostgreSQL and none was found. Either
  - install it: sudo apt-get install -y postgresql   (Debian/Ubuntu), or
  - point the tests at a server: export LOBU_TEST_POSTGRES_URL=postgresql://user:pw@host:5432/postgres
TXT
exit 1
