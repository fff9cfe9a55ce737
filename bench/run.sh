#!/usr/bin/env bash
# Benchmark firedrill against the plain PostgreSQL tools it wraps.
#
# Usage: bench/run.sh [--s3] [--rebuild] [--baseline-only] [--keep] [--scales "1 4"] [--help]
#
# See bench/README.md for what is measured and the goals.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: bench/run.sh [options]

Options:
  --s3             benchmark S3 destinations on LocalStack instead of local
                   folders (starts LocalStack with localstack/up.sh, creates
                   two fresh buckets and removes them at the end)
  --rebuild        drop and rebuild the benchmark database even if it exists
  --baseline-only  only measure the PostgreSQL/age pipelines, skip firedrill
  --keep           keep the temporary work directory (dumps, spec, reports)
                   and, with --s3, the two buckets
  --scales "1 4"   run the whole benchmark once per scale, on a database of
                   BENCH_ROWS x scale rows each (firedrill_bench, then
                   firedrill_bench_x4, ...), and print every ratio of every
                   scale in one table at the end
  --repeat N       run it N times (per scale) and judge the goals by the
                   median of each ratio; the table shows min and max too
                   (shared machines vary by tens of per cent between runs)
  -h, --help       show this help

Environment:
  PGHOST       PostgreSQL host            (default 127.0.0.1)
  PGPORT       PostgreSQL port            (default 5432)
  PGUSER       PostgreSQL user            (default postgres)
  BENCH_DB     benchmark database name    (default firedrill_bench)
  BENCH_ROWS   rows in the benchmark table (default 4500000, about 750 MB)
  FIREDRILL    firedrill binary           (default target/release/firedrill,
               built with `cargo build --release` when missing; honours
               CARGO_TARGET_DIR)

With --s3:
  LOCALSTACK_PORT      LocalStack port          (default 4566)
  BENCH_S3_PART_MIB    multipart part size, MiB (default 16)
  BENCH_S3_CONCURRENCY parts uploaded at once   (default 4)
  AWS_CLI              aws CLI                  (default: the one in the
                       LocalStack venv, else aws on PATH)
EOF
}

REBUILD=0
BASELINE_ONLY=0
KEEP=0
S3=0
SCALES=""
REPEAT=1
PASS_ON=()
while [ $# -gt 0 ]; do
    case "$1" in
        --scales)
            [ $# -ge 2 ] || { echo "--scales needs a list, e.g. --scales \"1 4\"" >&2; exit 2; }
            SCALES="$2"; shift ;;
        --repeat)
            [ $# -ge 2 ] && [[ "$2" =~ ^[1-9][0-9]*$ ]] || { echo "--repeat needs a whole number >= 1" >&2; exit 2; }
            REPEAT="$2"; shift ;;
        --s3) S3=1; PASS_ON+=("$1") ;;
        --rebuild) REBUILD=1; PASS_ON+=("$1") ;;
        --baseline-only) BASELINE_ONLY=1; PASS_ON+=("$1") ;;
        --keep) KEEP=1; PASS_ON+=("$1") ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=/dev/null
. "$ROOT/bench/lib.sh"

# one_run SCALE RUN: one full run on BENCH_ROWS x SCALE rows, in its own database per scale.
# shellcheck disable=SC2317 # called by bench_scales (bench/lib.sh)
one_run() {
    local rows=$((${BENCH_ROWS:-4500000} * $1)) db="${BENCH_DB:-firedrill_bench}"
    [ "$1" -eq 1 ] || db="${db}_x$1"
    printf '==> scale x%s, run %s of %s: %s rows in %s\n' "$1" "$2" "$REPEAT" "$rows" "$db" >&2
    BENCH_ROWS="$rows" BENCH_DB="$db" bash "$0" ${PASS_ON[@]+"${PASS_ON[@]}"}
}
# --scales / --repeat: one run per scale and repeat, then every goal in one table.
if [ -n "$SCALES" ] || [ "$REPEAT" -gt 1 ]; then
    bench_scales firedrill-bench one_run
fi

export PGHOST="${PGHOST:-127.0.0.1}"
export PGPORT="${PGPORT:-5432}"
export PGUSER="${PGUSER:-postgres}"
BENCH_DB="${BENCH_DB:-firedrill_bench}"
BENCH_ROWS="${BENCH_ROWS:-4500000}"
RESTORE_DB="${BENCH_DB}_restore"

LOCALSTACK_PORT="${LOCALSTACK_PORT:-4566}"
S3_ENDPOINT="http://127.0.0.1:${LOCALSTACK_PORT}"
S3_PART_MIB="${BENCH_S3_PART_MIB:-16}"
S3_CONCURRENCY="${BENCH_S3_CONCURRENCY:-4}"
S3_PRIMARY_REGION="us-east-1"
S3_DR_REGION="eu-west-1"
S3_BUCKETS=()   # "bucket region" pairs to remove on exit


log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
db_exists() {
    [ "$(psql -X -At -d postgres -v name="$1" <<< "SELECT 1 FROM pg_database WHERE datname = :'name'")" = "1" ]
}
drop_db() {
    if db_exists "$1"; then dropdb "$1"; fi
}

# ---------------------------------------------------------------------------
# Prerequisites
# ---------------------------------------------------------------------------

missing=0
need() {
    # need COMMAND HINT
    if ! command -v "$1" >/dev/null 2>&1; then
        printf 'missing: %s (%s)\n' "$1" "$2" >&2
        missing=1
    fi
}
need psql       "apt-get install postgresql-client"
need pg_dump    "apt-get install postgresql-client"
need pg_restore "apt-get install postgresql-client"
need createdb   "apt-get install postgresql-client"
need dropdb     "apt-get install postgresql-client"
need age        "apt-get install age"
need age-keygen "apt-get install age"
need jq         "apt-get install jq"
need awk        "apt-get install gawk"
if [ ! -x /usr/bin/time ] || ! /usr/bin/time -f '%e' true >/dev/null 2>&1; then
    printf 'missing: GNU time at /usr/bin/time (apt-get install time)\n' >&2
    missing=1
fi
if [ "$S3" -eq 1 ]; then
    need curl    "apt-get install curl; localstack/up.sh polls LocalStack with it"
    need python3 "apt-get install python3 python3-venv; localstack/up.sh needs it"
fi
[ "$missing" -eq 0 ] || die "install the missing tools above and re-run"

[[ "$BENCH_ROWS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROWS must be a positive integer, got '$BENCH_ROWS'"
[[ "$BENCH_DB" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "BENCH_DB must be a plain identifier, got '$BENCH_DB'"

psql -X -q -d postgres -c 'SELECT 1' >/dev/null \
    || die "cannot connect to PostgreSQL at $PGHOST:$PGPORT as $PGUSER"

if [ "$S3" -eq 1 ]; then
    [[ "$S3_PART_MIB" =~ ^[1-9][0-9]*$ ]] || die "BENCH_S3_PART_MIB must be a positive integer, got '$S3_PART_MIB'"
    [[ "$S3_CONCURRENCY" =~ ^[1-9][0-9]*$ ]] || die "BENCH_S3_CONCURRENCY must be a positive integer, got '$S3_CONCURRENCY'"

    log "LocalStack: localstack/up.sh"
    LOCALSTACK_PORT="$LOCALSTACK_PORT" "$ROOT/localstack/up.sh" >&2 \
        || die "localstack/up.sh failed"

    # LocalStack accepts any credentials; firedrill and the aws CLI read these.
    export AWS_ACCESS_KEY_ID=test
    export AWS_SECRET_ACCESS_KEY=test
    export AWS_EC2_METADATA_DISABLED=true
    export AWS_DEFAULT_REGION="$S3_PRIMARY_REGION"
    unset AWS_PROFILE AWS_SESSION_TOKEN

    if [ -z "${AWS_CLI:-}" ]; then
        AWS_CLI="${FIREDRILL_LOCALSTACK_VENV:-/var/tmp/firedrill-localstack-venv}/bin/aws"
        [ -x "$AWS_CLI" ] || AWS_CLI="$(command -v aws || true)"
    fi
    [ -n "$AWS_CLI" ] && [ -x "$AWS_CLI" ] \
        || die "aws CLI not found; set AWS_CLI or install awscli into the LocalStack venv"
fi

# ---------------------------------------------------------------------------
# Work directory and cleanup
# ---------------------------------------------------------------------------

WORK="$(mktemp -d "${TMPDIR:-/tmp}/firedrill-bench.XXXXXX")"

aws_s3() { "$AWS_CLI" --endpoint-url "$S3_ENDPOINT" "$@"; }
# remove_bucket BUCKET REGION: aborts unfinished multipart uploads, deletes
# every object, then the bucket. Quiet; never fails.
remove_bucket() {
    local bucket="$1" region="$2" key id
    aws_s3 --region "$region" s3api list-multipart-uploads --bucket "$bucket" \
        --query 'Uploads[].[Key,UploadId]' --output text 2>/dev/null \
        | while IFS=$'\t' read -r key id; do
            [ -n "$id" ] && [ "$key" != "None" ] || continue
            aws_s3 --region "$region" s3api abort-multipart-upload \
                --bucket "$bucket" --key "$key" --upload-id "$id" >/dev/null 2>&1 || true
        done || true
    aws_s3 --region "$region" s3 rb "s3://$bucket" --force >/dev/null 2>&1 || true
    if aws_s3 --region "$region" s3api head-bucket --bucket "$bucket" >/dev/null 2>&1; then
        log "warning: could not remove bucket $bucket"
    fi
}

cleanup() {
    local rc=$?
    drop_db "$RESTORE_DB" >/dev/null 2>&1 || true
    drop_db "${BENCH_DB}_building" >/dev/null 2>&1 || true
    local pair
    for pair in "${S3_BUCKETS[@]}"; do
        if [ "$KEEP" -eq 1 ]; then
            log "bucket kept: s3://${pair% *} (${pair#* }) on $S3_ENDPOINT"
        else
            remove_bucket "${pair% *}" "${pair#* }"
        fi
    done
    if [ "$KEEP" -eq 1 ]; then
        log "work directory kept: $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------
# firedrill binary
# ---------------------------------------------------------------------------

if [ "$BASELINE_ONLY" -eq 0 ]; then
    locate_firedrill
fi

# ---------------------------------------------------------------------------
# (a) Benchmark database
# ---------------------------------------------------------------------------

build_database() {
    local building="${BENCH_DB}_building"
    log "building $BENCH_DB with $BENCH_ROWS rows (this takes a while at the default size)"
    drop_db "$building"
    createdb "$building"
    local start end
    start=$(date +%s.%N)
    bench_generator_sql "$BENCH_ROWS" "$building" | psql -X -q -v ON_ERROR_STOP=1 -d "$building" >/dev/null
    drop_db "$BENCH_DB"
    psql -X -q -v ON_ERROR_STOP=1 -d postgres \
        -c "ALTER DATABASE \"$building\" RENAME TO \"$BENCH_DB\"" >/dev/null
    end=$(date +%s.%N)
    log "built $BENCH_DB in $(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }') s"
}

if [ "$REBUILD" -eq 1 ] || ! db_exists "$BENCH_DB"; then
    build_database
else
    comment="$(psql -X -At -d postgres -v name="$BENCH_DB" \
        <<< "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = :'name'")"
    if [ "$comment" != "firedrill benchmark, rows=$BENCH_ROWS" ]; then
        log "warning: existing $BENCH_DB was not built with BENCH_ROWS=$BENCH_ROWS ('${comment:-no marker}'); use --rebuild to rebuild it"
    fi
    log "using existing $BENCH_DB (pass --rebuild to rebuild it)"
fi

DB_SIZE_BYTES="$(psql -X -At -d postgres -c "SELECT pg_database_size('$BENCH_DB')")"
DB_SIZE_PRETTY="$(psql -X -At -d postgres -c "SELECT pg_size_pretty(pg_database_size('$BENCH_DB'))")"
DB_ROWS="$(psql -X -At -d "$BENCH_DB" -c "SELECT reltuples::bigint FROM pg_class WHERE oid = 'bench_rows'::regclass")"
log "$BENCH_DB: $DB_SIZE_PRETTY, about $DB_ROWS rows"

# ---------------------------------------------------------------------------
# (b) Measurements
# ---------------------------------------------------------------------------

# measure NAME COMMAND...: runs COMMAND under GNU time, prints nothing,
# leaves "<seconds> <peak RSS KiB>" in $WORK/time.NAME. Wall time is taken
# with date +%s.%N (GNU time rounds to 10 ms); peak RSS is the largest
# resident set of any single process in the tree (ru_maxrss of waited-for
# children), in KiB.
measure() {
    local name="$1"; shift
    local start end rc=0
    start=$(date +%s.%N)
    /usr/bin/time -f '%e %M' -o "$WORK/rusage.$name" "$@" || rc=$?
    end=$(date +%s.%N)
    local rss
    rss="$(tail -n 1 "$WORK/rusage.$name" | awk '{ print $2 }')"
    awk -v s="$start" -v e="$end" -v r="${rss:-0}" 'BEGIN { printf "%.3f %d\n", e - s, r }' \
        > "$WORK/time.$name"
    return "$rc"
}
secs() { awk '{ print $1 }' "$WORK/time.$1"; }
rss_kib() { awk '{ print $2 }' "$WORK/time.$1"; }

# Report helpers.
FAILED=0

# shellcheck disable=SC2034 # read by goal() in bench/lib.sh
GOAL_WIDTH=36
row() { printf '%-44s %10s %12s\n' "$1" "$2" "$3"; }

# ---------------------------------------------------------------------------
# S3 benchmark (--s3): the same comparisons through LocalStack buckets
# ---------------------------------------------------------------------------

# write_s3_spec FILE WITH_DR: the benchmark spec with S3 destinations; the dr
# destination (and a drill from it) only when WITH_DR is 1.
write_s3_spec() {
    local file="$1" with_dr="$2" url_host from=primary
    if [[ "$PGHOST" == /* ]]; then
        url_host="$(printf '%s' "$PGHOST" | sed 's|/|%2F|g')"
    else
        url_host="$PGHOST"
    fi
    [ "$with_dr" -eq 1 ] && from=dr
    {
        cat <<EOF
name = "bench"

[source]
url = "postgres://$PGUSER@$url_host:$PGPORT/$BENCH_DB"

[backup]
compression = "zstd:1"
recipients = ["$RECIPIENT"]

[[destination]]
name = "primary"
url = "s3://$S3_PRIMARY/bench"
region = "$S3_PRIMARY_REGION"
endpoint = "$S3_ENDPOINT"
part-size = "${S3_PART_MIB}MiB"
concurrency = $S3_CONCURRENCY
EOF
        if [ "$with_dr" -eq 1 ]; then
            cat <<EOF

[[destination]]
name = "dr"
url = "s3://$S3_DR/bench"
region = "$S3_DR_REGION"
endpoint = "$S3_ENDPOINT"
part-size = "${S3_PART_MIB}MiB"
concurrency = $S3_CONCURRENCY
EOF
        fi
        cat <<EOF

[drill]
from = "$from"
identity-file = "$WORK/key.txt"
scratch = "ephemeral"
reports = "$WORK/reports"

[[check]]
name = "every table restored"
kind = "row-counts"
EOF
    } > "$file"
}

# run_firedrill NAME ARGS...: measures firedrill ARGS, stdout to $WORK/NAME.out,
# stderr to $WORK/NAME.err; prints its stderr and fails when it exits non-zero.
run_firedrill() {
    local name="$1"; shift
    if measure "$name" "$FIREDRILL" "$@" > "$WORK/$name.out" 2> "$WORK/$name.err"; then
        return 0
    fi
    log "  firedrill $* exited non-zero; its stderr:"
    sed 's/^/    /' "$WORK/$name.err" >&2
    return 1
}

# object_bytes S3URL: total size of the objects under S3URL whose key matches
# the awk pattern $2 (all objects when omitted).
object_bytes() {
    aws_s3 s3 ls --recursive "$1" | awk -v pat="${2:-.}" '$4 ~ pat { n += $3 } END { printf "%d\n", n }'
}

run_s3_benchmark() {
    local stamp
    stamp="$(date +%Y%m%d%H%M%S)-$$-$RANDOM"
    S3_PRIMARY="firedrill-bench-$stamp-primary"
    S3_DR="firedrill-bench-$stamp-dr"

    log "creating buckets $S3_PRIMARY ($S3_PRIMARY_REGION) and $S3_DR ($S3_DR_REGION)"
    S3_BUCKETS+=("$S3_PRIMARY $S3_PRIMARY_REGION")
    aws_s3 --region "$S3_PRIMARY_REGION" s3api create-bucket --bucket "$S3_PRIMARY" >/dev/null
    S3_BUCKETS+=("$S3_DR $S3_DR_REGION")
    aws_s3 --region "$S3_DR_REGION" s3api create-bucket --bucket "$S3_DR" \
        --create-bucket-configuration "LocationConstraint=$S3_DR_REGION" >/dev/null

    local hand_url="s3://$S3_PRIMARY/hand/db.dump.age"
    local rss_goal_mib=$(( S3_PART_MIB * S3_CONCURRENCY + 32 ))

    # Timed, but mainly a warm-up: it brings the database into the page cache
    # so every run below starts from the same state.
    log "floor: pg_dump -Fc -Z0 > /dev/null (also warms the page cache)"
    measure floor bash -c 'pg_dump -Fc -Z0 "$1" > /dev/null' _ "$BENCH_DB"
    log "  $(secs floor) s"

    log "hand upload: pg_dump -Fc | age -r RECIPIENT | aws s3 cp - $hand_url"
    age-keygen -o "$WORK/hand-key.txt" 2>/dev/null
    HAND_RECIPIENT="$(age-keygen -y "$WORK/hand-key.txt")"
    measure hand_upload bash -c \
        'set -o pipefail; pg_dump -Fc "$1" | age -r "$2" | "$3" s3 cp - "$4" --endpoint-url "$5" --only-show-errors' \
        _ "$BENCH_DB" "$HAND_RECIPIENT" "$AWS_CLI" "$hand_url" "$S3_ENDPOINT"
    HAND_SIZE_BYTES="$(object_bytes "$hand_url")"
    log "  $(secs hand_upload) s, $(mib "$HAND_SIZE_BYTES") MiB"

    local backup1="skipped" backup2="skipped" drill_status="skipped" rto="" verdict=""
    FIREDRILL_SIZE_BYTES=""
    if [ "$BASELINE_ONLY" -eq 0 ]; then
        log "generating a key and writing the specs"
        RECIPIENT="$("$FIREDRILL" keygen --output "$WORK/key.txt" | tail -n 1)"
        case "$RECIPIENT" in
            age1*) ;;
            *) die "firedrill keygen did not print an age1... recipient (got '$RECIPIENT')" ;;
        esac
        mkdir -p "$WORK/reports"
        write_s3_spec "$WORK/bench-s3-primary.toml" 0
        write_s3_spec "$WORK/bench-s3.toml" 1

        log "firedrill backup, primary only (part-size ${S3_PART_MIB}MiB, concurrency $S3_CONCURRENCY)"
        if run_firedrill backup_primary backup "$WORK/bench-s3-primary.toml"; then
            backup1="ok"
            log "  $(secs backup_primary) s"
        else
            backup1="failed"
        fi

        log "firedrill backup, primary + dr (replication to $S3_DR_REGION)"
        if run_firedrill backup_both backup "$WORK/bench-s3.toml"; then
            backup2="ok"
            FIREDRILL_SIZE_BYTES="$(object_bytes "s3://$S3_DR/bench/" '[.]age$')"
            log "  $(secs backup_both) s, $(mib "$FIREDRILL_SIZE_BYTES") MiB"
        else
            backup2="failed"
        fi
    fi

    log "hand restore: aws s3 cp $hand_url - | age -d | pg_restore into a fresh database"
    drop_db "$RESTORE_DB"
    createdb "$RESTORE_DB"
    measure hand_restore bash -c \
        'set -o pipefail; "$1" s3 cp "$2" - --endpoint-url "$3" --only-show-errors | age -d -i "$4" | pg_restore --no-owner --no-privileges -d "$5"' \
        _ "$AWS_CLI" "$hand_url" "$S3_ENDPOINT" "$WORK/hand-key.txt" "$RESTORE_DB"
    dropdb "$RESTORE_DB"
    log "  $(secs hand_restore) s"

    if [ "$backup2" = "ok" ]; then
        log "firedrill drill --json (from dr, $S3_DR_REGION)"
        if run_firedrill drill drill "$WORK/bench-s3.toml" --json; then
            drill_status="ok"
        else
            drill_status="failed"
        fi
        cp "$WORK/drill.out" "$WORK/drill.json"
        rto="$(jq -r '.rto.total_seconds // .report.rto.seconds // empty' "$WORK/drill.json" 2>/dev/null || true)"
        verdict="$(jq -r '.verdict // empty' "$WORK/drill.json" 2>/dev/null || true)"
        if [ -z "$rto" ]; then
            log "  no .rto.total_seconds in the drill JSON"
            [ "$drill_status" = "ok" ] && drill_status="no RTO in JSON"
        fi
        log "  wall $(secs drill) s, RTO ${rto:-n/a} s, verdict ${verdict:-n/a}"
    fi

    # Report
    # shellcheck disable=SC2034 # read by goal() in bench/lib.sh
    GOAL_WIDTH=48
    echo
    echo "firedrill S3 benchmark (LocalStack)"
    echo "  database   $BENCH_DB on $PGHOST:$PGPORT, $DB_SIZE_PRETTY ($(mib "$DB_SIZE_BYTES") MiB), ~$DB_ROWS rows"
    echo "  endpoint   $S3_ENDPOINT"
    echo "  buckets    primary $S3_PRIMARY ($S3_PRIMARY_REGION)"
    echo "             dr      $S3_DR ($S3_DR_REGION)"
    echo "  multipart  part-size ${S3_PART_MIB}MiB, concurrency $S3_CONCURRENCY (RSS goal ${S3_PART_MIB} x $S3_CONCURRENCY + 32 = $rss_goal_mib MiB)"
    echo "  objects    hand (pg_dump -Fc | age) $(mib "$HAND_SIZE_BYTES") MiB; firedrill (zstd:1 | age) $( [ -n "$FIREDRILL_SIZE_BYTES" ] && echo "$(mib "$FIREDRILL_SIZE_BYTES") MiB" || echo n/a)"
    echo "  cpus       $(nproc 2>/dev/null || echo '?')"
    echo
    printf '%-52s %10s %12s\n' "measurement" "seconds" "peak RSS MiB"
    printf '%-52s %10s %12s\n' "----------------------------------------------------" "----------" "------------"
    srow() { printf '%-52s %10s %12s\n' "$1" "$2" "$3"; }
    srow_m() { srow "$1" "$(secs "$2")" "$(kib_to_mib "$(rss_kib "$2")")"; }
    srow_m "floor: pg_dump -Fc -Z0 > /dev/null" floor
    srow_m "hand upload: pg_dump -Fc | age | aws s3 cp -" hand_upload
    if [ "$backup1" = "ok" ]; then
        srow_m "firedrill backup (primary only)" backup_primary
    else
        srow "firedrill backup (primary only)" "$backup1" "-"
    fi
    if [ "$backup2" = "ok" ]; then
        srow_m "firedrill backup (primary + dr)" backup_both
        if [ "$backup1" = "ok" ]; then
            srow "  minus primary only (replication to dr)" \
                "$(awk -v a="$(secs backup_both)" -v b="$(secs backup_primary)" 'BEGIN { printf "%.3f", a - b }')" "-"
        fi
    else
        srow "firedrill backup (primary + dr)" "$backup2" "-"
    fi
    srow_m "hand restore: aws s3 cp | age -d | pg_restore" hand_restore
    if [ -f "$WORK/time.drill" ]; then
        srow_m "firedrill drill from dr (wall)" drill
        srow "firedrill drill from dr (RTO, .rto.total_seconds)" \
            "$( [ -n "$rto" ] && awk -v r="$rto" 'BEGIN { printf "%.3f", r }' || echo n/a)" "-"
        jq -r '(.report.phases // [])[] | "\(.name)\t\(.seconds)"' "$WORK/drill.json" 2>/dev/null \
            | while IFS=$'\t' read -r phase seconds; do
                srow "  phase $phase" "$(awk -v s="$seconds" 'BEGIN { printf "%.3f", s }')" "-"
            done || true
    else
        srow "firedrill drill from dr" "$drill_status" "-"
    fi

    if [ "$BASELINE_ONLY" -eq 1 ]; then
        echo
        echo "firedrill skipped (--baseline-only); no goals evaluated"
        exit 0
    fi

    echo
    goal "ratio / value" "measured" "goal" "result"
    goal "------------------------------------------------" "----------" "----------" "--------"
    if [ "$backup1" = "ok" ]; then
        check "firedrill backup (primary) / hand upload" \
            "$(ratio "$(secs backup_primary)" "$(secs hand_upload)")" 1.00 x lt
        check "backup (primary) peak RSS (MiB)" "$(kib_to_mib "$(rss_kib backup_primary)")" "$rss_goal_mib" ""
    else
        goal "firedrill backup (primary only)" "$backup1" "" "FAIL"
        FAILED=1
    fi
    if [ "$backup2" = "ok" ]; then
        goal "firedrill backup (primary + dr) / hand upload" \
            "$(ratio "$(secs backup_both)" "$(secs hand_upload)")x" "-" "info"
        check "backup (primary + dr) peak RSS (MiB)" "$(kib_to_mib "$(rss_kib backup_both)")" "$rss_goal_mib" ""
    else
        goal "firedrill backup (primary + dr)" "$backup2" "" "FAIL"
        FAILED=1
    fi
    if [ -n "$rto" ]; then
        check "drill RTO / hand restore" "$(ratio "$rto" "$(secs hand_restore)")" 1.00 x lt
    elif [ "$backup2" = "ok" ]; then
        check "drill RTO / hand restore" "" 1.00 x lt
    fi
    if [ -f "$WORK/time.drill" ]; then
        check "drill peak RSS (MiB)" "$(kib_to_mib "$(rss_kib drill)")" "$rss_goal_mib" ""
    fi
    if [ "$drill_status" != "ok" ] && [ "$drill_status" != "skipped" ]; then
        goal "firedrill drill" "$drill_status" "" "FAIL"
        FAILED=1
    fi

    echo
    if [ "$FAILED" -eq 0 ]; then
        echo "all goals met"
    else
        echo "some goals not met"
    fi
    exit "$FAILED"
}

if [ "$S3" -eq 1 ]; then
    run_s3_benchmark
fi

# Untimed: a local uncompressed custom-format dump for the pg_restore
# baseline. It also warms the page cache so the timed runs below start
# from the same state.
log "preparing an uncompressed dump for the pg_restore baseline (untimed)"
pg_dump -Fc -Z0 -f "$WORK/plain.dump" "$BENCH_DB"
DUMP_SIZE_BYTES="$(stat -c %s "$WORK/plain.dump")"

log "floor: pg_dump -Fc -Z0 > /dev/null"
measure floor bash -c 'pg_dump -Fc -Z0 "$1" > /dev/null' _ "$BENCH_DB"
log "  $(secs floor) s"

log "hand pipeline: pg_dump -Fc | age -r RECIPIENT > file"
age-keygen -o "$WORK/hand-key.txt" 2>/dev/null
HAND_RECIPIENT="$(age-keygen -y "$WORK/hand-key.txt")"
measure hand bash -c 'set -o pipefail; pg_dump -Fc "$1" | age -r "$2" > "$3"' \
    _ "$BENCH_DB" "$HAND_RECIPIENT" "$WORK/hand.dump.age"
HAND_SIZE_BYTES="$(stat -c %s "$WORK/hand.dump.age")"
rm -f "$WORK/hand.dump.age"
log "  $(secs hand) s"

log "baseline restore: pg_restore -j2 into a fresh database"
drop_db "$RESTORE_DB"
createdb "$RESTORE_DB"
measure restore pg_restore -j2 --no-owner --no-privileges --exit-on-error \
    -d "$RESTORE_DB" "$WORK/plain.dump"
dropdb "$RESTORE_DB"
rm -f "$WORK/plain.dump"
log "  $(secs restore) s"

BACKUP_STATUS="skipped"
DRILL_STATUS="skipped"
RTO=""
if [ "$BASELINE_ONLY" -eq 0 ]; then
    log "generating a key and writing the spec"
    RECIPIENT="$("$FIREDRILL" keygen --output "$WORK/key.txt" | tail -n 1)"
    case "$RECIPIENT" in
        age1*) ;;
        *) die "firedrill keygen did not print an age1... recipient (got '$RECIPIENT')" ;;
    esac

    if [[ "$PGHOST" == /* ]]; then
        url_host="$(printf '%s' "$PGHOST" | sed 's|/|%2F|g')"
    else
        url_host="$PGHOST"
    fi
    mkdir -p "$WORK/primary" "$WORK/dr" "$WORK/reports"
    SPEC="$WORK/bench.toml"
    cat > "$SPEC" <<EOF
name = "bench"

[source]
url = "postgres://$PGUSER@$url_host:$PGPORT/$BENCH_DB"

[backup]
compression = "zstd:1"
recipients = ["$RECIPIENT"]

[[destination]]
name = "primary"
url = "file://$WORK/primary"

[[destination]]
name = "dr"
url = "file://$WORK/dr"

[drill]
from = "dr"
identity-file = "$WORK/key.txt"
scratch = "ephemeral"
reports = "$WORK/reports"

[[check]]
name = "every table restored"
kind = "row-counts"
EOF

    log "firedrill backup"
    if measure backup "$FIREDRILL" backup "$SPEC" > "$WORK/backup.out" 2> "$WORK/backup.err"; then
        BACKUP_STATUS="ok"
        log "  $(secs backup) s"
    else
        BACKUP_STATUS="failed"
        log "  firedrill backup failed; its stderr:"
        sed 's/^/    /' "$WORK/backup.err" >&2
    fi

    if [ "$BACKUP_STATUS" = "ok" ]; then
        log "firedrill drill --json"
        if measure drill "$FIREDRILL" drill "$SPEC" --json > "$WORK/drill.json" 2> "$WORK/drill.err"; then
            DRILL_STATUS="ok"
        else
            DRILL_STATUS="failed"
            log "  firedrill drill exited non-zero; its stderr:"
            sed 's/^/    /' "$WORK/drill.err" >&2
        fi
        RTO="$(jq -r '.rto.total_seconds // empty' "$WORK/drill.json" 2>/dev/null || true)"
        if [ -z "$RTO" ]; then
            log "  no .rto.total_seconds in the drill JSON"
            [ "$DRILL_STATUS" = "ok" ] && DRILL_STATUS="no RTO in JSON"
        fi
        log "  wall $(secs drill) s, RTO ${RTO:-n/a} s"
    fi
fi

# ---------------------------------------------------------------------------
# (c) Report
# ---------------------------------------------------------------------------


echo
echo "firedrill benchmark"
echo "  database   $BENCH_DB on $PGHOST:$PGPORT, $DB_SIZE_PRETTY ($(mib "$DB_SIZE_BYTES") MiB), ~$DB_ROWS rows"
echo "  -Z0 dump   $(mib "$DUMP_SIZE_BYTES") MiB; hand pipeline output $(mib "$HAND_SIZE_BYTES") MiB"
echo "  cpus       $(nproc 2>/dev/null || echo '?')"
echo
printf '%-44s %10s %12s\n' "measurement" "seconds" "peak RSS MiB"
printf '%-44s %10s %12s\n' "--------------------------------------------" "----------" "------------"
row "floor: pg_dump -Fc -Z0 > /dev/null"        "$(secs floor)"   "$(kib_to_mib "$(rss_kib floor)")"
row "hand: pg_dump -Fc | age -r KEY > file"     "$(secs hand)"    "$(kib_to_mib "$(rss_kib hand)")"
row "pg_restore -j2 (local -Z0 dump)"           "$(secs restore)" "$(kib_to_mib "$(rss_kib restore)")"
if [ "$BACKUP_STATUS" = "ok" ]; then
    row "firedrill backup"                      "$(secs backup)"  "$(kib_to_mib "$(rss_kib backup)")"
else
    row "firedrill backup" "$BACKUP_STATUS" "-"
fi
if [ -f "$WORK/time.drill" ]; then
    row "firedrill drill (wall)"                "$(secs drill)"   "$(kib_to_mib "$(rss_kib drill)")"
    row "firedrill drill (RTO, .rto.total_seconds)" \
        "$( [ -n "$RTO" ] && awk -v r="$RTO" 'BEGIN { printf "%.3f", r }' || echo n/a)" "-"
else
    row "firedrill drill" "$DRILL_STATUS" "-"
fi

if [ "$BASELINE_ONLY" -eq 1 ]; then
    echo
    echo "firedrill skipped (--baseline-only); no goals evaluated"
    exit 0
fi

echo
goal "ratio / value" "measured" "goal" "result"
goal "------------------------------------" "----------" "----------" "--------"

if [ "$BACKUP_STATUS" = "ok" ]; then
    check "firedrill backup / floor" "$(ratio "$(secs backup)" "$(secs floor)")" 1.10 x
    check "firedrill backup / hand pipeline" "$(ratio "$(secs backup)" "$(secs hand)")" 0.35 x
    check "backup peak RSS (MiB)" "$(kib_to_mib "$(rss_kib backup)")" 64 ""
else
    goal "firedrill backup" "$BACKUP_STATUS" "" "FAIL"
    FAILED=1
fi

if [ -n "$RTO" ]; then
    check "drill RTO / pg_restore -j2" "$(ratio "$RTO" "$(secs restore)")" 1.10 x
elif [ "$BACKUP_STATUS" = "ok" ]; then
    check "drill RTO / pg_restore -j2" "" 1.10 x
fi
if [ -f "$WORK/time.drill" ]; then
    check "drill peak RSS (MiB)" "$(kib_to_mib "$(rss_kib drill)")" 64 ""
fi
if [ "$DRILL_STATUS" != "ok" ] && [ "$DRILL_STATUS" != "skipped" ]; then
    goal "firedrill drill" "$DRILL_STATUS" "" "FAIL"
    FAILED=1
fi

echo
if [ "$FAILED" -eq 0 ]; then
    echo "all goals met"
else
    echo "some goals not met"
fi
exit "$FAILED"
