#!/usr/bin/env bash
# Stops the LocalStack and moto started by up.sh (host mode by their pid files, docker mode by
# compose).
#
#   localstack/down.sh               stops both
#   localstack/down.sh --only FILE   stops only the services FILE lists (written by
#                                    `up.sh --record FILE`): what that run started itself
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
state="${FIREDRILL_LOCALSTACK_STATE:-/var/tmp/firedrill-localstack}"

stop_localstack=yes
stop_moto=yes
case "${1:-}" in
    --only)
        only="${2:?--only needs the file up.sh --record wrote}"
        grep -qx localstack "${only}" 2>/dev/null || stop_localstack=no
        grep -qx moto "${only}" 2>/dev/null || stop_moto=no
        ;;
    "") ;;
    *) echo "usage: $0 [--only FILE]" >&2; exit 2 ;;
esac
[ "${stop_localstack}" = no ] && echo "==> LocalStack was running before: left running"
[ "${stop_moto}" = no ] && echo "==> moto was running before: left running"

if [ "${FIREDRILL_LOCALSTACK:-host}" = "docker" ]; then
    [ "${stop_localstack}" = yes ] && docker compose -f "${here}/docker-compose.yml" down
    stop_localstack=no
fi
if [ "${stop_moto}" = yes ] && [ -f "${state}/moto.pid" ]; then
    kill "$(cat "${state}/moto.pid")" 2>/dev/null || true
    rm -f "${state}/moto.pid"
    echo "==> moto stopped"
fi
if [ "${stop_localstack}" = no ]; then
    :
elif [ -f "${state}/pid" ]; then
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
