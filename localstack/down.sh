#!/usr/bin/env bash
# Stops the LocalStack started by up.sh (host mode by its pid file, docker mode by compose).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
state="${FIREDRILL_LOCALSTACK_STATE:-/var/tmp/firedrill-localstack}"
if [ "${FIREDRILL_LOCALSTACK:-host}" = "docker" ]; then
    docker compose -f "${here}/docker-compose.yml" down
    exit 0
fi
if [ -f "${state}/moto.pid" ]; then
    kill "$(cat "${state}/moto.pid")" 2>/dev/null || true
    rm -f "${state}/moto.pid"
    echo "==> moto stopped"
fi
if [ -f "${state}/pid" ]; then
    pid="$(cat "${state}/pid")"
    if kill -0 "${pid}" 2>/dev/null; then
        kill "${pid}"
        for _ in $(seq 1 40); do kill -0 "${pid}" 2>/dev/null || break; sleep 0.25; done
        kill -9 "${pid}" 2>/dev/null || true
    fi
    rm -f "${state}/pid"
    echo "==> LocalStack stopped"
else
    echo "==> no LocalStack pid file in ${state}; nothing to stop"
fi
