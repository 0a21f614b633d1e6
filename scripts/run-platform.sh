#!/usr/bin/env bash
# `make run`: Kafka in the background (so it can be stopped and started on its own),
# then the mail sink and the services under honcho. Ctrl-C stops all of it.
set -euo pipefail
cd "$(dirname "$0")/.."

mkdir -p var/mail
deploy/local/kafka.sh start
trap 'deploy/local/kafka.sh stop' EXIT

cat <<TXT

  lobu is starting:
    directory      http://127.0.0.1:8001/docs   (search, edit alliances)
    surveys        http://127.0.0.1:8002/docs   (yearly survey; answer form /umfrage/<token>)
    events         http://127.0.0.1:8003/docs   (Aktionstag: programme, registration)
    notifications  http://127.0.0.1:8004/docs   (delivery log)
    Kafka          127.0.0.1:9092               (deploy/local/kafka.sh stop|start|status)
    mail sink      SMTP 127.0.0.1:1025 -> var/mail/*.eml

  A token for the Servicebüro:      .venv/bin/lobu token --role admin
  A token for one alliance:         .venv/bin/lobu token --role alliance --alliance-id ID

  Ctrl-C stops everything.

TXT
.venv/bin/honcho start -f Procfile -e deploy/local/run.env
