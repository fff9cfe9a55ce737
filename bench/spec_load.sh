#!/usr/bin/env bash
# How loading a drill spec scales with its number of [[check]]s.
#
# Usage: bench/spec_load.sh [SMALL LARGE]   (default 10000 100000 checks)
#        SPEC_LOAD_RUNS=N (default 3) loads of each spec; the fastest counts
#
# Generates two specs, loads each with `firedrill check --offline` (parse, --set, ${VAR},
# validation; nothing is contacted) and prints seconds and peak RSS of both and their
# ratios. Loading is linear when the time ratio is about LARGE / SMALL; the script exits 1
# when the time ratio is above twice that (a quadratic step gives about its square).
# See bench/README.md.
set -euo pipefail

SMALL="${1:-10000}"
LARGE="${2:-100000}"
RUNS="${SPEC_LOAD_RUNS:-3}"
for n in "$SMALL" "$LARGE"; do
    case "$n" in ''|*[!0-9]*|0) echo "check counts must be whole numbers >= 1, got \`$n\`" >&2; exit 2 ;; esac
done
case "$RUNS" in ''|*[!0-9]*|0) echo "SPEC_LOAD_RUNS must be a whole number >= 1, got \`$RUNS\`" >&2; exit 2 ;; esac
[ "$LARGE" -gt "$SMALL" ] || { echo "LARGE ($LARGE) must be more than SMALL ($SMALL)" >&2; exit 2; }

die() { echo "spec_load.sh: $*" >&2; exit 2; }
[ -x /usr/bin/time ] || die "GNU time is needed at /usr/bin/time (apt-get install time)"
command -v awk >/dev/null 2>&1 || die "awk is needed (apt-get install gawk)"

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
if [ -n "${FIREDRILL:-}" ]; then
    [ -x "$FIREDRILL" ] || die "FIREDRILL=$FIREDRILL is not an executable file"
else
    target_dir="${CARGO_TARGET_DIR:-target}"
    case "$target_dir" in /*) ;; *) target_dir="$ROOT/$target_dir" ;; esac
    FIREDRILL="$target_dir/release/firedrill"
    if [ ! -x "$FIREDRILL" ]; then
        command -v cargo >/dev/null 2>&1 || die "cargo not found; install Rust or set FIREDRILL"
        echo "building firedrill (cargo build --release)" >&2
        (cd "$ROOT" && cargo build --release)
        [ -x "$FIREDRILL" ] || die "build finished but $FIREDRILL does not exist"
    fi
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/firedrill-spec-load.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A valid spec with `n` sql checks whose names share a long prefix (as generated specs do).
write_spec() {
    local n="$1" path="$2"
    cat > "$path" <<EOF
name = "spec-load"
[source]
url = "postgres://bench@127.0.0.1:5432/bench"
[backup]
recipients = ["age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"]
[[destination]]
name = "primary"
url = "file://$WORK/primary"
[drill]
identity-file = "$WORK/key.txt"
work-dir = "$WORK/work"
EOF
    awk -v n="$n" 'BEGIN {
        for (i = 0; i < n; i++)
            printf "[[check]]\nname = \"rows in t%06d\"\nsql = \"select count(*) from t\"\nexpect = \">= 1\"\n", i
    }' >> "$path"
}

# "seconds peak-RSS-KiB" of loading the spec at $1: the fastest of RUNS loads (wall clock,
# nanoseconds), the peak RSS as GNU time reports it.
measure() {
    local best="" rss=0 i t0 t1 s k
    for i in $(seq 1 "$RUNS"); do
        t0="$(date +%s.%N)"
        if ! /usr/bin/time -o "$WORK/time.txt" -f '%M' "$FIREDRILL" check --offline "$1" > "$WORK/check.txt" 2>&1; then
            cat "$WORK/check.txt" >&2
            die "firedrill check --offline $1 failed"
        fi
        t1="$(date +%s.%N)"
        s="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
        k="$(tail -n 1 "$WORK/time.txt")"
        if [ -z "$best" ] || awk -v a="$s" -v b="$best" 'BEGIN { exit !(a < b) }'; then best="$s"; fi
        [ "$k" -gt "$rss" ] && rss="$k"
    done
    echo "$best $rss"
}

echo "firedrill: $FIREDRILL"
echo "each spec loaded $RUNS times: the fastest load, the largest peak RSS"
printf '%-28s %10s %10s %14s\n' "spec" "size MiB" "seconds" "peak RSS MiB"
declare -A secs rss
for n in "$SMALL" "$LARGE"; do
    spec="$WORK/checks-$n.toml"
    write_spec "$n" "$spec"
    read -r s k < <(measure "$spec")
    secs[$n]="$s"; rss[$n]="$k"
    printf '%-28s %10.1f %10.3f %14.1f\n' "$n checks" \
        "$(awk -v b="$(stat -c %s "$spec")" 'BEGIN { print b / 1048576 }')" \
        "$s" "$(awk -v k="$k" 'BEGIN { print k / 1024 }')"
done

scale="$(awk -v a="$SMALL" -v b="$LARGE" 'BEGIN { printf "%.1f", b / a }')"
time_ratio="$(awk -v a="${secs[$SMALL]}" -v b="${secs[$LARGE]}" 'BEGIN { printf "%.1f", b / (a > 0.001 ? a : 0.001) }')"
rss_ratio="$(awk -v a="${rss[$SMALL]}" -v b="${rss[$LARGE]}" 'BEGIN { printf "%.1f", b / a }')"
echo
echo "checks x$scale: seconds x$time_ratio, peak RSS x$rss_ratio (linear: about x$scale)"
if awk -v r="$time_ratio" -v s="$scale" 'BEGIN { exit !(r <= 2 * s) }'; then
    echo "PASS: loading grows linearly"
else
    echo "FAIL: loading grows faster than the number of checks (x$time_ratio for x$scale)"
    exit 1
fi
