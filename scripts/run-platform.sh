#!/usr/bin/env bash
# `make run`: Kafka in the background (so it can be stopped and started on its own),
# then the mail sink and the services under honcho. Ctrl-C stops all of it.
# Ports: deploy/local/ports.env, each overridable from the environment.
#   scripts/run-platform.sh --print-env   print the services' port settings and exit
set -euo pipefail
cd "$(dirname "$0")/.."

port_names=()
while IFS='=' read -r name default; do
  case "$name" in '' | \#*) continue ;; esac
  export "$name=${!name:-$default}"
  port_names+=("$name")
done < deploy/local/ports.env

kafka="127.0.0.1:$KAFKA_PORT"
for service in DIRECTORY SURVEYS EVENTS NOTIFICATIONS; do
  export "LOBU_${service}_KAFKA_BOOTSTRAP_SERVERS=$kafka"
  # Where each service's pages are: sign-in redirects and the pages' navigation.
  export "LOBU_${service}_DIRECTORY_URL=http://127.0.0.1:$DIRECTORY_PORT"
  export "LOBU_${service}_SURVEYS_URL=http://127.0.0.1:$SURVEYS_PORT"
  export "LOBU_${service}_EVENTS_URL=http://127.0.0.1:$EVENTS_PORT"
  export "LOBU_${service}_NOTIFICATIONS_URL=http://127.0.0.1:$NOTIFICATIONS_PORT"
done
export KAFKA_BOOTSTRAP_SERVERS="$kafka"  # for `lobu dlq` in the same shell
export LOBU_NOTIFICATIONS_SMTP_PORT="$MAIL_PORT"
export LOBU_SURVEYS_PUBLIC_BASE_URL="http://127.0.0.1:$SURVEYS_PORT"
export LOBU_EVENTS_PUBLIC_URL="http://127.0.0.1:$EVENTS_PORT"

if [ "${1:-}" = "--print-env" ]; then
  for name in "${port_names[@]}"; do echo "$name=${!name}"; done
  env | grep -E '^LOBU_[A-Z]+_(KAFKA_BOOTSTRAP_SERVERS|SMTP_PORT|PUBLIC_BASE_URL|PUBLIC_URL|DIRECTORY_URL|SURVEYS_URL|EVENTS_URL|NOTIFICATIONS_URL)=' | sort
  exit 0
fi

# A port another program holds: say which and how to choose another, before starting
# anything (Kafka would otherwise end in the tail of a Java stack trace).
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
taken=""
for name in "${port_names[@]}"; do
  case "$name" in KAFKA_*) deploy/local/kafka.sh status >/dev/null 2>&1 && continue ;; esac
  if listening "${!name}"; then
    echo "make run: port ${!name} ($name) is taken by another program on 127.0.0.1." >&2
    taken="${taken:-$name}"
  fi
done
if [ -n "$taken" ]; then
  echo "Stop that program, or choose a free port, e.g. $taken=1${!taken} make run" \
    "(all ports: deploy/local/ports.env)." >&2
  exit 1
fi

mkdir -p var/mail
deploy/local/kafka.sh start
trap 'deploy/local/kafka.sh stop' EXIT

cat <<TXT

  lobu is starting:
    directory      http://127.0.0.1:$DIRECTORY_PORT/docs   (search, edit alliances)
    surveys        http://127.0.0.1:$SURVEYS_PORT/docs   (yearly survey; answer form /umfrage/<token>)
    events         http://127.0.0.1:$EVENTS_PORT/docs   (Aktionstag: programme, registration)
    notifications  http://127.0.0.1:$NOTIFICATIONS_PORT/docs   (delivery log)
    Kafka          $kafka               (deploy/local/kafka.sh stop|start|status)
    mail sink      SMTP 127.0.0.1:$MAIL_PORT -> var/mail/*.eml

  A token for the Servicebüro:      .venv/bin/lobu token --role admin
  A token for one alliance:         .venv/bin/lobu token --role alliance --alliance-id ID

  Ports: deploy/local/ports.env (e.g. KAFKA_PORT=19092 make run). Ctrl-C stops everything.

TXT
.venv/bin/honcho start -f Procfile -e deploy/local/run.env
