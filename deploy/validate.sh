#!/usr/bin/env bash
# Validates everything under deploy/ offline, failing loudly on the first broken part:
#
#   1. hadolint on deploy/container/Dockerfile
#   2. the plain manifests in deploy/kubernetes/ (every *.yaml but kustomization.yaml, whose
#      resources must exist): schema, policy and spec stages of deploy/validate.py
#   3. the Helm chart rendered with each values file in deploy/helm/firedrill/ci/ by Helm's
#      own engine, `helm lint --strict`, then the same three stages
#   4. the negative cases in deploy/tests/invalid/: each must be rejected, for the reason it
#      names, or the checks above prove nothing
#
# The tools come from PyPI, pinned by deploy/requirements.lock, in a venv
# (FIREDRILL_DEPLOY_VENV, default /var/tmp/firedrill-deploy-venv) reinstalled only when the
# lock file changes. The spec stage runs the real firedrill binary: FIREDRILL_BIN, or one
# built here with cargo (CARGO_TARGET_DIR, default /var/tmp/firedrill-target).
# Needs python3 with venv; nothing is downloaded at validation time once the venv exists.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "${here}/.." && pwd)"
venv="${FIREDRILL_DEPLOY_VENV:-/var/tmp/firedrill-deploy-venv}"

die() { printf '\nERROR: %s\n' "$*" >&2; exit 1; }
step() { printf '\n--> %s\n' "$*"; }

# Tools.
want="$(sha256sum "${here}/requirements.lock" | cut -d' ' -f1)"
if [ "$(cat "${venv}/.lock-sha256" 2>/dev/null || true)" != "${want}" ]; then
    echo "==> installing the validation tools into ${venv} (pinned by deploy/requirements.lock)"
    rm -rf "${venv}"
    python3 -m venv "${venv}" || die "python3 -m venv failed: install python3-venv"
    "${venv}/bin/pip" install --quiet --upgrade pip
    "${venv}/bin/pip" install --quiet -r "${here}/requirements.lock" \
        || die "pip install -r deploy/requirements.lock failed"
    echo "${want}" > "${venv}/.lock-sha256"
fi
py="${venv}/bin/python"
"${py}" -c 'import helm_python as h; print("helm SDK", h.helm_sdk_version(), "via helm-python-sdk", h.helm_c_version())' \
    || die "the Helm SDK library does not load"
"${venv}/bin/hadolint" --version
"${venv}/bin/kubernetes-validate" --version

# The firedrill binary for the spec stage, copied so that a later build cannot swap it.
bin_dir="$(mktemp -d)"
trap 'rm -rf "${bin_dir}"' EXIT
if [ -n "${FIREDRILL_BIN:-}" ]; then
    [ -x "${FIREDRILL_BIN}" ] || die "FIREDRILL_BIN=${FIREDRILL_BIN} is not executable"
    cp "${FIREDRILL_BIN}" "${bin_dir}/firedrill"
else
    target="${CARGO_TARGET_DIR:-/var/tmp/firedrill-target}"
    echo "==> cargo build --bin firedrill (CARGO_TARGET_DIR=${target})"
    (cd "${repo}" && CARGO_TARGET_DIR="${target}" cargo build --locked --quiet --bin firedrill) \
        || die "cargo build --bin firedrill failed"
    cp "${target}/debug/firedrill" "${bin_dir}/firedrill"
fi
export FIREDRILL_BIN="${bin_dir}/firedrill"
"${FIREDRILL_BIN}" --version

step "hadolint deploy/container/Dockerfile"
"${venv}/bin/hadolint" --no-color "${here}/container/Dockerfile" || die "hadolint rejects deploy/container/Dockerfile"
echo "  ok   hadolint"

step "plain manifests (deploy/kubernetes)"
cd "${here}"
manifests=()
for f in kubernetes/*.yaml; do
    [ "${f}" = kubernetes/kustomization.yaml ] || manifests+=("${f}")
done
[ "${#manifests[@]}" -gt 0 ] || die "no manifests in deploy/kubernetes"
"${py}" - <<'PY' || die "deploy/kubernetes/kustomization.yaml names a missing file"
import pathlib, sys, yaml
k = yaml.safe_load(pathlib.Path("kubernetes/kustomization.yaml").read_text())
missing = [r for r in k["resources"] if not (pathlib.Path("kubernetes") / r).is_file()]
if missing:
    sys.exit(f"  FAIL kustomization.yaml: missing {missing}")
print(f"  ok   kustomization.yaml: {len(k['resources'])} resources exist")
PY
"${py}" validate.py manifests "${manifests[@]}" || die "the plain manifests are invalid (see FAIL above)"

step "Helm chart (deploy/helm/firedrill)"
shopt -s nullglob
values=(helm/firedrill/ci/*.yaml)
[ "${#values[@]}" -gt 0 ] || die "no values files in deploy/helm/firedrill/ci"
for v in "${values[@]}"; do
    "${py}" validate.py chart helm/firedrill "${v}" 2> >(grep -v 'INFO funcMap' >&2) \
        || die "the chart with ${v} is invalid (see FAIL above)"
done

step "negative cases (deploy/tests/invalid): each must be rejected"
for stage in schema policy spec chart; do
    cases=(tests/invalid/"${stage}"-*.yaml)
    [ "${#cases[@]}" -gt 0 ] || die "no negative case for the ${stage} stage"
    "${py}" validate.py expect-fail "${stage}" "${cases[@]}" 2> >(grep -v 'INFO funcMap' >&2) \
        || die "a negative case was not rejected as expected: the ${stage} check is not checking"
done
expect="$(sed -n 's/^# expect: //p' tests/invalid/Dockerfile.root)"
if out="$("${venv}/bin/hadolint" --no-color tests/invalid/Dockerfile.root)"; then
    die "hadolint accepted tests/invalid/Dockerfile.root"
fi
grep -q "${expect}" <<<"${out}" || die "hadolint rejected tests/invalid/Dockerfile.root, but not with ${expect}: ${out}"
echo "  ok   tests/invalid/Dockerfile.root: rejected by hadolint as expected (${expect})"

printf '\ndeploy/: all checks passed\n'
