#!/usr/bin/env bash
# Starts LocalStack (S3 in several regions) for development and tests, then creates the
# example buckets (idempotent). Safe to run when it is already up.
#
#   localstack/up.sh              host mode: a Python venv from requirements.lock, no Docker
#   FIREDRILL_LOCALSTACK=docker localstack/up.sh    the official image via docker compose
#
#   localstack/up.sh --record FILE   also appends to FILE the name of each service this run
#                                    started (`localstack`, `moto`); one already running is
#                                    not listed, so `down.sh --only FILE` leaves it alone
#
# Environment: LOCALSTACK_PORT (4566), FIREDRILL_LOCALSTACK_VENV, FIREDRILL_LOCALSTACK_STATE.
set -euo pipefail

record=/dev/null
case "${1:-}" in
    --record) record="${2:?--record needs a file}"; touch "${record}" ;;
    "") ;;
    *) echo "usage: $0 [--record FILE]" >&2; exit 2 ;;
esac

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
port="${LOCALSTACK_PORT:-4566}"
venv="${FIREDRILL_LOCALSTACK_VENV:-/var/tmp/firedrill-localstack-venv}"
state="${FIREDRILL_LOCALSTACK_STATE:-/var/tmp/firedrill-localstack}"
endpoint="http://127.0.0.1:${port}"
mode="${FIREDRILL_LOCALSTACK:-host}"

healthy() { curl -fsS "${endpoint}/_localstack/health" 2>/dev/null | grep -q '"s3": "\(available\|running\)"'; }

ensure_venv() {
    local want have
    want="$(sha256sum "${here}/requirements.lock" | cut -d' ' -f1)"
    have="$(cat "${venv}/.lock-sha256" 2>/dev/null || true)"
    if [ "${want}" != "${have}" ]; then
        echo "==> installing LocalStack into ${venv} (pinned by localstack/requirements.lock)"
        python3 -m venv "${venv}"
        "${venv}/bin/pip" install --quiet --upgrade pip
        "${venv}/bin/pip" install --quiet -r "${here}/requirements.lock"
        echo "${want}" > "${venv}/.lock-sha256"
    fi
}

mkdir -p "${state}"
if healthy; then
    echo "==> LocalStack already answers on ${endpoint}"
elif [ "${mode}" = "docker" ]; then
    echo "==> starting LocalStack with docker compose"
    LOCALSTACK_PORT="${port}" docker compose -f "${here}/docker-compose.yml" up -d
    echo localstack >> "${record}"
else
    ensure_venv
    echo "==> starting LocalStack in host mode on ${endpoint} (log: ${state}/localstack.log)"
    (
        cd "${state}"
        GATEWAY_LISTEN="127.0.0.1:${port}" SERVICES=s3,sts LOCALSTACK_VOLUME_DIR="${state}/volume" \
            nohup "${venv}/bin/python" -m localstack.runtime.main > "${state}/localstack.log" 2>&1 &
        echo $! > "${state}/pid"
    )
    echo localstack >> "${record}"
fi

for _ in $(seq 1 120); do
    healthy && break
    sleep 0.5
done
if ! healthy; then
    echo "error: LocalStack did not become healthy on ${endpoint}; see ${state}/localstack.log" >&2
    tail -n 30 "${state}/localstack.log" >&2 2>/dev/null || true
    exit 1
fi

# The setup script needs boto3: the host-mode venv has it; docker mode makes a small one.
if [ ! -x "${venv}/bin/python" ] || ! "${venv}/bin/python" -c 'import boto3' 2>/dev/null; then
    python3 -m venv "${venv}"
    "${venv}/bin/pip" install --quiet boto3
fi
"${venv}/bin/python" "${here}/setup.py" --endpoint "${endpoint}"
echo "==> LocalStack ready on ${endpoint}"

# moto for the RDS control plane (LocalStack's free edition has no RDS), pinned by
# moto-requirements.lock, on 127.0.0.1:${MOTO_PORT:-5055}.
moto_port="${MOTO_PORT:-5055}"
moto_venv="${FIREDRILL_MOTO_VENV:-/var/tmp/firedrill-moto-venv}"
if curl -fsS "http://127.0.0.1:${moto_port}/moto-api/" >/dev/null 2>&1; then
    echo "==> moto already answers on 127.0.0.1:${moto_port}"
else
    want="$(sha256sum "${here}/moto-requirements.lock" | cut -d' ' -f1)"
    if [ "$(cat "${moto_venv}/.lock-sha256" 2>/dev/null || true)" != "${want}" ]; then
        echo "==> installing moto into ${moto_venv}"
        python3 -m venv "${moto_venv}"
        "${moto_venv}/bin/pip" install --quiet -r "${here}/moto-requirements.lock"
        echo "${want}" > "${moto_venv}/.lock-sha256"
    fi
    nohup "${moto_venv}/bin/moto_server" -H 127.0.0.1 -p "${moto_port}" > "${state}/moto.log" 2>&1 &
    echo $! > "${state}/moto.pid"
    echo moto >> "${record}"
    for _ in $(seq 1 60); do
        curl -fsS "http://127.0.0.1:${moto_port}/moto-api/" >/dev/null 2>&1 && break
        sleep 0.5
    done
    curl -fsS "http://127.0.0.1:${moto_port}/moto-api/" >/dev/null 2>&1 \
        || { echo "error: moto did not start on 127.0.0.1:${moto_port}; see ${state}/moto.log" >&2; exit 1; }
    echo "==> moto ready on http://127.0.0.1:${moto_port}"
fi
