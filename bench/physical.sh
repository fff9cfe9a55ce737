#!/usr/bin/env bash
# Benchmark firedrill's physical (pgBackRest) drills against the same restore done by hand,
# and against a logical (pg_dump) drill of the same database.
#
# Usage: bench/physical.sh [--rebuild] [--keep] [--scales "1 4"] [--repeat N] [--help]
#
# See bench/README.md, "Physical drills (bench/physical.sh)", for what is measured and the goals.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: bench/physical.sh [options]

Builds (once, then keeps) a PostgreSQL 15 cluster on a loopback port with a
pgBackRest stanza `bench` of two posix repositories and one full backup in
each, then measures a restore from repo2 by hand, a firedrill physical drill
of it, and a firedrill logical (pg_dump) drill of the same database.

Options:
  --rebuild        rebuild the source cluster and its repositories even if
                   a finished one exists
  --keep           keep this run's folder (specs, keys, logical backups,
                   reports, logs); clusters are stopped all the same
  --scales "1 4"   run once per scale, on BENCH_ROWS x scale rows, each in
                   its own cluster (BENCH_PHYS_DIR/x1, x4, ...), and print
                   every ratio of every scale in one table at the end
  --repeat N       run it N times (per scale) and judge the goals by the
                   median of each ratio; the table shows min and max too
  -h, --help       show this help

Environment:
  BENCH_ROWS          rows of the benchmark table at scale 1
                      (default 4500000, about 710 MB)
  BENCH_PHYS_DIR      where the clusters live (default
                      /var/tmp/firedrill-bench-physical)
  BENCH_PHYS_PORT     port of the source cluster on 127.0.0.1 (default 5499)
  BENCH_PHYS_HAND_PORT  port of the hand-restored cluster (default port + 1)
  BENCH_PHYS_TIMEOUT  deadline of every step, in seconds (default 3600)
  BENCH_PHYS_HAND_FAST  1: the hand-restored cluster also gets the durability
                      settings firedrill starts its scratch clusters with
                      (fsync=off, ...), to isolate firedrill's own overhead
                      (default 0: the restored configuration, as a DBA would)
  PG_BIN              PostgreSQL 15 server binaries
                      (default /usr/lib/postgresql/15/bin)
  PG_OS_USER          OS user of the clusters and repositories (default postgres)
  FIREDRILL           firedrill binary (default target/release/firedrill,
                      built with `cargo build --release` when missing;
                      honours CARGO_TARGET_DIR)
EOF
}

REBUILD=0
KEEP=0
SCALES=""
REPEAT=1
PASS_ON=()
while [ $# -gt 0 ]; do
    case "$1" in
        --scales)
            [ $# -ge 2 ] || { echo "--scales needs a list, e.g. --scales \"1 4\"" >&2; exit 2; }
            SCALES="$2"; shift ;;
        --repeat)
            if [ $# -lt 2 ] || ! [[ "$2" =~ ^[1-9][0-9]*$ ]]; then
                echo "--repeat needs a whole number >= 1" >&2; exit 2
            fi
            REPEAT="$2"; shift ;;
        --rebuild) REBUILD=1; PASS_ON+=("$1") ;;
        --keep) KEEP=1; PASS_ON+=("$1") ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=/dev/null
. "$ROOT/bench/lib.sh"

# one_run SCALE RUN: one full run on BENCH_ROWS x SCALE rows, on the cluster of that scale;
# --rebuild applies to the first run of each scale only.
# shellcheck disable=SC2317 # called by bench_scales (bench/lib.sh)
one_run() {
    local rows=$((${BENCH_ROWS:-4500000} * $1)) args=("${PASS_ON[@]}")
    printf '==> scale x%s, run %s of %s: %s rows\n' "$1" "$2" "$REPEAT" "$rows" >&2
    if [ "$2" -gt 1 ]; then
        args=()
        [ "$KEEP" -eq 1 ] && args+=(--keep)
    fi
    BENCH_ROWS="$rows" BENCH_SCALE="$1" bash "$0" ${args[@]+"${args[@]}"}
}
# --scales / --repeat: one run per scale and repeat, then every goal in one table.
if [ -n "$SCALES" ] || [ "$REPEAT" -gt 1 ]; then
    bench_scales firedrill-bench-physical one_run
fi

BENCH_ROWS="${BENCH_ROWS:-4500000}"
BENCH_SCALE="${BENCH_SCALE:-1}"
BENCH_PHYS_DIR="${BENCH_PHYS_DIR:-/var/tmp/firedrill-bench-physical}"
PORT="${BENCH_PHYS_PORT:-5499}"
HAND_PORT="${BENCH_PHYS_HAND_PORT:-$((PORT + 1))}"
STEP_TIMEOUT="${BENCH_PHYS_TIMEOUT:-3600}"
HAND_FAST="${BENCH_PHYS_HAND_FAST:-0}"
# What firedrill starts every scratch cluster with (src/scratch/ephemeral.rs), for
# BENCH_PHYS_HAND_FAST=1.
FIREDRILL_SCRATCH_SETTINGS="fsync = off
full_page_writes = off
synchronous_commit = off
max_wal_size = '4GB'
checkpoint_timeout = '30min'
maintenance_work_mem = '256MB'"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_OS_USER="${PG_OS_USER:-postgres}"
DB="firedrill_bench"
STANZA="bench"

CDIR="$BENCH_PHYS_DIR/x$BENCH_SCALE"
PGDATA_SRC="$CDIR/pgdata"
PGBR_CONF="$CDIR/pgbackrest.conf"
MARKER="$CDIR/built"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

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
need pgbackrest "apt-get install pgbackrest (2.40 or newer)"
need jq         "apt-get install jq"
need age        "apt-get install age"
need runuser    "apt-get install util-linux"
need timeout    "apt-get install coreutils"
need awk        "apt-get install gawk"
for bin in initdb pg_ctl postgres psql pg_dump pg_restore pg_isready; do
    if [ ! -x "$PG_BIN/$bin" ]; then
        printf 'missing: %s/%s (apt-get install postgresql-15, or set PG_BIN)\n' "$PG_BIN" "$bin" >&2
        missing=1
    fi
done
if [ -x "$PG_BIN/pg_config" ] || command -v pg_config >/dev/null 2>&1; then
    sharedir="$("$PG_BIN/pg_config" --sharedir 2>/dev/null || pg_config --sharedir)"
    if [ ! -f "$sharedir/extension/amcheck.control" ]; then
        printf 'missing: the amcheck extension in %s (apt-get install postgresql-15 / postgresql-contrib)\n' "$sharedir/extension" >&2
        missing=1
    fi
fi
if [ ! -x /usr/bin/time ] || ! /usr/bin/time -f '%e %M' true >/dev/null 2>&1; then
    printf 'missing: GNU time at /usr/bin/time (apt-get install time)\n' >&2
    missing=1
fi
[ "$missing" -eq 0 ] || die "install the missing tools above and re-run"

[ "$(id -u)" -eq 0 ] || die "run as root: initdb, pgbackrest and the clusters run as the $PG_OS_USER OS user (runuser)"
id -u "$PG_OS_USER" >/dev/null 2>&1 || die "the OS user $PG_OS_USER (PG_OS_USER) does not exist"
[[ "$BENCH_ROWS" =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROWS must be a positive integer, got '$BENCH_ROWS'"
[[ "$BENCH_SCALE" =~ ^[1-9][0-9]*$ ]] || die "BENCH_SCALE must be a positive integer, got '$BENCH_SCALE'"
if ! [[ "$PORT" =~ ^[0-9]+$ ]] || ! [[ "$HAND_PORT" =~ ^[0-9]+$ ]]; then
    die "BENCH_PHYS_PORT and BENCH_PHYS_HAND_PORT must be port numbers"
fi
# A scratch cluster's Unix socket lives in its folder, <work-dir>/scratch-<spec>-<8 hex>/, and
# PostgreSQL refuses a socket path longer than 107 bytes.
longest="$CDIR/r.XXXXXX/pw/scratch-bench-physical-00000000/.s.PGSQL.65535"
[ "${#longest}" -le 107 ] \
    || die "BENCH_PHYS_DIR is too long: a scratch cluster's socket path ($longest) would exceed 107 bytes"
[[ "$STEP_TIMEOUT" =~ ^[1-9][0-9]*$ ]] || die "BENCH_PHYS_TIMEOUT must be a whole number of seconds, got '$STEP_TIMEOUT'"
pgbr_version="$(pgbackrest version | awk '{ print $2 }')"
awk -v v="$pgbr_version" 'BEGIN { split(v, p, "."); exit !(p[1] > 2 || (p[1] == 2 && p[2] >= 40)) }' \
    || die "pgbackrest $pgbr_version is too old; firedrill needs 2.40 or newer"

as_pg() { runuser -u "$PG_OS_USER" -- "$@"; }
# psql_at PORT DB SQL: one value (or rows) from a loopback cluster, within 60 s.
psql_at() {
    timeout -k 5 60 "$PG_BIN/psql" -X -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$1" -U postgres -d "$2" -c "$3"
}

# ---------------------------------------------------------------------------
# firedrill binary
# ---------------------------------------------------------------------------

locate_firedrill

# ---------------------------------------------------------------------------
# Cleanup: everything this run started is stopped on exit, Ctrl-C included
# ---------------------------------------------------------------------------

RUN=""            # this run's folder (specs, reports, scratch), under CDIR
SRC_STARTED=0     # 1 when this run started the source cluster
SAMPLER_PID=""    # the VmHWM sampler running beside a drill
SPECS=()          # specs written: `firedrill cleanup` runs on each
MEASURED_PID=""   # GNU time of the step being measured

# stop_measured: SIGTERM to the step being measured (to the `timeout` under GNU time, which
# passes it on to the command: firedrill stops its drill, runuser its pgbackrest), then waits
# 45 s at most for it to end.
# shellcheck disable=SC2317 # run by cleanup
stop_measured() {
    local pid="$MEASURED_PID" children child
    if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
        return 0
    fi
    read -r -a children < "/proc/$pid/task/$pid/children" 2>/dev/null || true
    for child in ${children[@]+"${children[@]}"}; do
        kill -TERM "$child" 2>/dev/null || true
    done
    for _ in $(seq 1 45); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 1
    done
    log "warning: the measured step (pid $pid) is still running"
}

src_running() { as_pg "$PG_BIN/pg_ctl" status -D "$PGDATA_SRC" >/dev/null 2>&1; }

# stop_cluster DATADIR MODE: pg_ctl stop with a deadline; immediate when MODE fails.
stop_cluster() {
    local dir="$1" mode="$2"
    [ -f "$dir/postmaster.pid" ] || return 0
    as_pg "$PG_BIN/pg_ctl" stop -D "$dir" -m "$mode" -w -t 120 >/dev/null 2>&1 \
        || as_pg "$PG_BIN/pg_ctl" stop -D "$dir" -m immediate -w -t 60 >/dev/null 2>&1 \
        || log "warning: could not stop the cluster in $dir"
}

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
    local rc=$? pidfile pid spec pidpath
    trap '' INT TERM
    if [ "$rc" -eq 130 ] || [ "$rc" -eq 143 ]; then
        log "interrupted: stopping what this run started"
    fi
    if [ -n "$SAMPLER_PID" ]; then
        kill "$SAMPLER_PID" 2>/dev/null || true
    fi
    stop_measured
    if [ -n "$RUN" ] && [ -d "$RUN" ]; then
        # A firedrill still running (the signal did not come from the terminal): SIGTERM, which
        # it answers within 30 s, removing its scratch cluster.
        for pidfile in "$RUN"/pid.*; do
            [ -s "$pidfile" ] || continue
            pid="$(cat "$pidfile")"
            if kill -0 "$pid" 2>/dev/null && [ "$(readlink -f "/proc/$pid/exe" 2>/dev/null)" = "$(readlink -f "$FIREDRILL")" ]; then
                log "stopping firedrill (pid $pid)"
                kill -TERM "$pid" 2>/dev/null || true
                for _ in $(seq 1 40); do
                    kill -0 "$pid" 2>/dev/null || break
                    sleep 1
                done
            fi
        done
        for spec in ${SPECS[@]+"${SPECS[@]}"}; do
            timeout -k 5 120 "$FIREDRILL" cleanup "$spec" >/dev/null 2>&1 \
                || log "warning: firedrill cleanup $spec failed"
        done
        # Any cluster still running under this run's folder (the hand restore, a scratch).
        while IFS= read -r pidpath; do
            stop_cluster "$(dirname "$pidpath")" immediate
        done < <(find "$RUN" -name postmaster.pid 2>/dev/null)
    fi
    if [ "$SRC_STARTED" -eq 1 ]; then
        log "stopping the source cluster"
        stop_cluster "$PGDATA_SRC" fast
    fi
    if [ -n "$RUN" ] && [ -d "$RUN" ]; then
        if [ "$KEEP" -eq 1 ]; then
            log "run folder kept: $RUN"
        else
            rm -rf "$RUN"
        fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------
# (a) The source cluster, its stanza and backups (built once, then kept)
# ---------------------------------------------------------------------------

# start_source [POSTGRES OPTIONS]: starts the source cluster (stopped again on exit).
start_source() {
    if "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -t 2; then
        die "something already answers on 127.0.0.1:$PORT; set BENCH_PHYS_PORT to a free port"
    fi
    SRC_STARTED=1
    as_pg "$PG_BIN/pg_ctl" start -w -t 300 -D "$PGDATA_SRC" -l "$CDIR/postgres.log" \
        ${1:+-o "$1"} >/dev/null \
        || die "the source cluster did not start within 300 s; see $CDIR/postgres.log"
}

# pgbr ARGS...: pgbackrest on the bench stanza as the clusters' OS user, within the deadline.
pgbr() {
    timeout --foreground -k 30 "$STEP_TIMEOUT" \
        runuser -u "$PG_OS_USER" -- pgbackrest --config="$PGBR_CONF" --stanza="$STANZA" "$@"
}

build_cluster() {
    log "building the source cluster in $CDIR: $BENCH_ROWS rows, port $PORT"
    if [ -f "$PGDATA_SRC/postmaster.pid" ]; then
        stop_cluster "$PGDATA_SRC" immediate
    fi
    rm -rf "$CDIR"
    mkdir -p "$BENCH_PHYS_DIR"
    chmod 755 "$BENCH_PHYS_DIR"
    mkdir -p "$CDIR/repo1" "$CDIR/repo2" "$CDIR/pgbackrest/log" "$CDIR/pgbackrest/lock" "$CDIR/pgbackrest/spool"
    chown -R "$PG_OS_USER:" "$CDIR"
    chmod 755 "$CDIR"
    local start end
    start=$(date +%s.%N)

    as_pg "$PG_BIN/initdb" -D "$PGDATA_SRC" -U postgres --auth=trust -E UTF8 --locale=C >/dev/null \
        || die "initdb failed"
    cat >> "$PGDATA_SRC/postgresql.conf" <<EOF

# firedrill bench/physical.sh
port = $PORT
listen_addresses = '127.0.0.1'
archive_mode = on
archive_command = 'pgbackrest --config=$PGBR_CONF --stanza=$STANZA archive-push %p'
EOF
    # Two posix repositories stand for two regions; repo2 is the DR copy drills read.
    cat > "$PGBR_CONF" <<EOF
[global]
repo1-path=$CDIR/repo1
repo1-retention-full=1
repo2-path=$CDIR/repo2
repo2-retention-full=1
compress-type=lz4
process-max=2
start-fast=y
log-path=$CDIR/pgbackrest/log
lock-path=$CDIR/pgbackrest/lock
spool-path=$CDIR/pgbackrest/spool
log-level-console=warn
log-level-file=info

[$STANZA]
pg1-path=$PGDATA_SRC
pg1-port=$PORT
EOF
    chown "$PG_OS_USER:" "$PGBR_CONF"
    chmod 640 "$PGBR_CONF"

    # The rows are loaded with archiving off: no backup needs the WAL written before it.
    start_source "-c archive_mode=off"
    psql_at "$PORT" postgres "CREATE DATABASE $DB" >/dev/null
    log "loading $BENCH_ROWS rows (the generator SQL of bench/run.sh)"
    bench_generator_sql "$BENCH_ROWS" "$DB" \
        | timeout --foreground -k 30 "$STEP_TIMEOUT" "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 \
            -h 127.0.0.1 -p "$PORT" -U postgres -d "$DB" >/dev/null \
        || die "loading the benchmark table failed"
    stop_cluster "$PGDATA_SRC" fast
    start_source

    log "pgbackrest stanza-create, check"
    pgbr stanza-create >/dev/null || die "pgbackrest stanza-create failed; see $CDIR/pgbackrest/log"
    pgbr check >/dev/null || die "pgbackrest check failed (archive_command?); see $CDIR/pgbackrest/log and $CDIR/postgres.log"
    local repo t0
    for repo in 1 2; do
        log "pgbackrest backup --repo=$repo --type=full"
        t0=$(date +%s.%N)
        pgbr backup --repo="$repo" --type=full >/dev/null \
            || die "pgbackrest backup --repo=$repo failed; see $CDIR/pgbackrest/log"
        log "  $(awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s"
    done

    # WAL after the backups: a few small writes, each in a segment of its own.
    local i seg=""
    psql_at "$PORT" postgres "CREATE TABLE IF NOT EXISTS bench_wal (n int, at timestamptz)" >/dev/null
    for i in 1 2 3; do
        psql_at "$PORT" postgres "INSERT INTO bench_wal VALUES ($i, now())" >/dev/null
        seg="$(psql_at "$PORT" postgres "SELECT pg_walfile_name(pg_switch_wal())")"
    done
    log "waiting until $seg is archived"
    local deadline=$((SECONDS + 300)) last
    while :; do
        last="$(psql_at "$PORT" postgres "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")"
        if [ -n "$last" ] && [[ ! "$last" < "$seg" ]]; then
            break
        fi
        [ "$SECONDS" -lt "$deadline" ] \
            || die "$seg was not archived within 300 s (last archived: ${last:-none}); see $CDIR/postgres.log"
        sleep 0.5
    done

    printf 'rows=%s\n' "$BENCH_ROWS" > "$MARKER.tmp"
    mv "$MARKER.tmp" "$MARKER"
    end=$(date +%s.%N)
    log "built $CDIR in $(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }') s"
}

if [ "$REBUILD" -eq 1 ] || [ ! -f "$MARKER" ]; then
    build_cluster
elif [ "$(cat "$MARKER")" != "rows=$BENCH_ROWS" ]; then
    log "$CDIR was built with $(cat "$MARKER"), not rows=$BENCH_ROWS: rebuilding"
    build_cluster
else
    log "using the source cluster in $CDIR (pass --rebuild to rebuild it)"
    if src_running; then
        log "the source cluster is already running; it is left running"
    else
        start_source
    fi
fi

DB_SIZE_BYTES="$(psql_at "$PORT" postgres "SELECT pg_database_size('$DB')")"
DB_SIZE_PRETTY="$(psql_at "$PORT" postgres "SELECT pg_size_pretty(pg_database_size('$DB'))")"
EXPECTED_ROWS="$BENCH_ROWS"
PGBR_INFO="$(pgbr info --output=json)"
BACKUP_BYTES="$(jq -r '[.[0].backup[] | select(.database["repo-key"] == 2)] | last | .info.size // empty' <<< "$PGBR_INFO")"
BACKUP_REPO_BYTES="$(jq -r '[.[0].backup[] | select(.database["repo-key"] == 2)] | last | .info.repository.delta // empty' <<< "$PGBR_INFO")"
BACKUP_LABEL="$(jq -r '[.[0].backup[] | select(.database["repo-key"] == 2)] | last | .label // empty' <<< "$PGBR_INFO")"
[ -n "$BACKUP_LABEL" ] || die "pgbackrest info lists no backup in repo2; run with --rebuild"
log "$DB: $DB_SIZE_PRETTY, $EXPECTED_ROWS rows; repo2 backup $BACKUP_LABEL"

# This run's folder: specs, reports, the logical backups and every scratch cluster. The
# clusters' OS user must reach it.
RUN="$(mktemp -d "$CDIR/r.XXXXXX")"
chmod 755 "$RUN"

# ---------------------------------------------------------------------------
# (b) Measurements
# ---------------------------------------------------------------------------

# measure NAME COMMAND...: runs COMMAND under GNU time and the step deadline, its stdout to
# $RUN/NAME.out and stderr to $RUN/NAME.err; leaves "<seconds> <peak RSS KiB>" in
# $RUN/time.NAME. (The redirections are on the command, not on the call: a trap runs with
# the redirections of the function it interrupts.) Wall time from date +%s.%N; peak RSS is
# GNU time's %M: the largest resident set of any single process of the tree.
# COMMAND runs in the background and the script waits for it, so that a signal (Ctrl-C, or
# SIGTERM to the script alone) runs the trap at once; cleanup then stops the step
# (stop_measured) before it removes anything.
measure() {
    local name="$1"; shift
    local start end rc=0 rss
    start=$(date +%s.%N)
    /usr/bin/time -f '%e %M' -o "$RUN/rusage.$name" \
        timeout --foreground -k 30 "$STEP_TIMEOUT" "$@" > "$RUN/$name.out" 2> "$RUN/$name.err" &
    MEASURED_PID=$!
    wait "$MEASURED_PID" || rc=$?
    MEASURED_PID=""
    end=$(date +%s.%N)
    rss="$(awk 'NF == 2 && $2 ~ /^[0-9]+$/ { r = $2 } END { print r + 0 }' "$RUN/rusage.$name")"
    awk -v s="$start" -v e="$end" -v r="$rss" 'BEGIN { printf "%.3f %d\n", e - s, r }' \
        > "$RUN/time.$name"
    return "$rc"
}
secs() { awk '{ print $1 }' "$RUN/time.$1"; }
rss_kib() { awk '{ print $2 }' "$RUN/time.$1"; }
# record NAME SECONDS RSS_KIB: a measurement made of several commands.
record() { printf '%s %s\n' "$2" "$3" > "$RUN/time.$1"; }
sum_secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a + b }'; }
max_kib() { awk -v a="$1" -v b="$2" 'BEGIN { print (a > b ? a : b) }'; }

# The checks of both specs, and the same by hand: the row count, then amcheck's
# bt_index_check (heapallindexed false, firedrill's default) of every btree index that
# firedrill's amcheck check selects, in its order, inside `create extension` / `drop extension`.
CHECK_COUNT_SQL="select count(*) from bench_rows"
AMCHECK_INDEXES_SQL="select n.nspname || '.' || c.relname, bt_index_check(c.oid::regclass, false) from pg_index i \
join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace \
join pg_am a on a.oid = c.relam \
where a.amname = 'btree' and c.relkind = 'i' and i.indisvalid and i.indisready and c.relpersistence <> 't' \
and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_toast%' \
order by 1"

HAND_OK=1
HAND_NOTE=""

# --- hand: pgbackrest restore, start, promotion, checks, stop --------------------------------
hand_pipeline() {
    local dir="$RUN/hand" t0 t1 deadline v out
    mkdir -p "$dir/data" "$dir/tablespaces" "$dir/pgbackrest/log" "$dir/pgbackrest/lock"
    chown -R "$PG_OS_USER:" "$dir"
    chmod 700 "$dir/data" "$dir/tablespaces"

    log "hand: pgbackrest restore --repo=2 (latest) into $dir/data"
    if ! measure hand_restore runuser -u "$PG_OS_USER" -- pgbackrest \
            --config="$PGBR_CONF" --stanza="$STANZA" \
            --log-path="$dir/pgbackrest/log" --lock-path="$dir/pgbackrest/lock" \
            --log-level-console=off --log-level-stderr=warn \
            restore --repo=2 --pg1-path="$dir/data" --tablespace-map-all="$dir/tablespaces" \
            --archive-mode=off --type=default --target-timeline=latest; then
        sed 's/^/    /' "$RUN/hand_restore.err" >&2
        HAND_OK=0; HAND_NOTE="restore failed"; return 0
    fi
    log "  $(secs hand_restore) s"

    log "hand: pg_ctl start -w on port $HAND_PORT, wait until pg_is_in_recovery() is false"
    printf "port = %s\nlisten_addresses = '127.0.0.1'\n" "$HAND_PORT" >> "$dir/data/postgresql.auto.conf"
    if [ "$HAND_FAST" = "1" ]; then
        printf '%s\n' "$FIREDRILL_SCRATCH_SETTINGS" >> "$dir/data/postgresql.auto.conf"
    fi
    t0=$(date +%s.%N)
    if ! measure hand_pgctl runuser -u "$PG_OS_USER" -- "$PG_BIN/pg_ctl" start -w -t "$STEP_TIMEOUT" \
            -D "$dir/data" -l "$dir/postgres.log"; then
        log "  pg_ctl start failed; the end of $dir/postgres.log:"
        tail -n 20 "$dir/postgres.log" | sed 's/^/    /' >&2 || true
        HAND_OK=0; HAND_NOTE="start failed"; return 0
    fi
    deadline=$((SECONDS + STEP_TIMEOUT))
    while :; do
        v="$(psql_at "$HAND_PORT" postgres "select pg_is_in_recovery()" 2>/dev/null || true)"
        [ "$v" = "f" ] && break
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "  not promoted within $STEP_TIMEOUT s"
            HAND_OK=0; HAND_NOTE="no promotion"; return 0
        fi
        sleep 0.2
    done
    t1=$(date +%s.%N)
    record hand_start "$(awk -v s="$t0" -v e="$t1" 'BEGIN { printf "%.3f", e - s }')" "$(rss_kib hand_pgctl)"
    log "  $(secs hand_start) s"

    log "hand: checks with psql (count(*), bt_index_check of every btree index)"
    if ! measure hand_checks "$PG_BIN/psql" -X -At -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$HAND_PORT" \
            -U postgres -d "$DB" \
            -c "$CHECK_COUNT_SQL" \
            -c "create extension if not exists amcheck" \
            -c "$AMCHECK_INDEXES_SQL" \
            -c "drop extension if exists amcheck"; then
        sed 's/^/    /' "$RUN/hand_checks.err" >&2
        HAND_OK=0; HAND_NOTE="checks failed"
    else
        out="$(head -n 1 "$RUN/hand_checks.out")"
        HAND_INDEXES="$(tail -n +2 "$RUN/hand_checks.out" | grep -c . || true)"
        if [ "$out" != "$EXPECTED_ROWS" ]; then
            log "  count(*) is $out, expected $EXPECTED_ROWS"
            HAND_OK=0; HAND_NOTE="row count $out"
        fi
        log "  $(secs hand_checks) s: $out rows, $HAND_INDEXES indexes checked"
    fi

    log "hand: pg_ctl stop -m immediate, remove the folder"
    t0=$(date +%s.%N)
    measure hand_pgstop runuser -u "$PG_OS_USER" -- "$PG_BIN/pg_ctl" stop -m immediate -w -t 120 \
        -D "$dir/data" || log "  warning: pg_ctl stop failed"
    rm -rf "$dir"
    record hand_stop "$(awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN { printf "%.3f", e - s }')" "$(rss_kib hand_pgstop)"
    log "  $(secs hand_stop) s"

    record hand_total \
        "$(sum_secs "$(sum_secs "$(secs hand_restore)" "$(secs hand_start)")" "$(secs hand_checks)")" \
        "$(max_kib "$(max_kib "$(rss_kib hand_restore)" "$(rss_kib hand_start)")" "$(rss_kib hand_checks)")"
}

# --- firedrill ------------------------------------------------------------------------------

# sample_hwm PIDFILE OUT: until the process in PIDFILE ends, writes its VmHWM (KiB) to OUT
# every 0.2 s (the last value read is kept). Waits at most 30 s for PIDFILE.
sample_hwm() {
    local pidfile="$1" out="$2" pid="" i v
    for i in $(seq 1 300); do
        [ -s "$pidfile" ] && { pid="$(cat "$pidfile")"; break; }
        sleep 0.1
    done
    [ -n "$pid" ] || return 0
    local deadline=$((SECONDS + STEP_TIMEOUT + 60))
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
        v="$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)"
        [ -n "$v" ] && printf '%s\n' "$v" > "$out"
        sleep 0.2
    done
}

# run_firedrill NAME ARGS...: measures `firedrill ARGS` (stdout in $RUN/NAME.out, stderr in
# $RUN/NAME.err) and samples firedrill's own VmHWM into $RUN/hwm.NAME.
run_firedrill() {
    local name="$1" rc=0; shift
    rm -f "$RUN/pid.$name" "$RUN/hwm.$name"
    sample_hwm "$RUN/pid.$name" "$RUN/hwm.$name" &
    SAMPLER_PID=$!
    # shellcheck disable=SC2016 # $0 and $@ are the inner shell's
    measure "$name" bash -c 'echo $$ > "$0"; exec "$@"' "$RUN/pid.$name" "$FIREDRILL" "$@" || rc=$?
    wait "$SAMPLER_PID" 2>/dev/null || true
    SAMPLER_PID=""
    if [ "$rc" -ne 0 ]; then
        log "  firedrill $* exited with $rc; the end of its stderr:"
        tail -n 30 "$RUN/$name.err" | sed 's/^/    /' >&2
    fi
    return "$rc"
}
hwm_kib() { cat "$RUN/hwm.$1" 2>/dev/null || echo 0; }

checks_toml() {
    cat <<EOF
[[check]]
name = "every row restored"
sql = "$CHECK_COUNT_SQL"
expect = "== $EXPECTED_ROWS"

[[check]]
name = "indexes intact"
kind = "amcheck"
EOF
}

write_physical_spec() {
    mkdir -p "$RUN/physical/dest" "$RUN/physical/reports" "$RUN/pw"
    chmod 755 "$RUN/physical" "$RUN/pw"
    PHYS_SPEC="$RUN/physical/bench-physical.toml"
    cat > "$PHYS_SPEC" <<EOF
name = "bench-physical"

[source]
kind = "pgbackrest"
url = "postgres://postgres@127.0.0.1:$PORT/$DB"
stanza = "$STANZA"
config = "$PGBR_CONF"
backup = false
wait-timeout = "${STEP_TIMEOUT}s"

[[destination]]
name = "primary"
url = "file://$RUN/physical/dest"

[drill]
from = "repo2"
scratch = "ephemeral"
work-dir = "$RUN/pw"
reports = "$RUN/physical/reports"
run-as = "$PG_OS_USER"
timeout = "${STEP_TIMEOUT}s"

[tools]
bin-dir = "$PG_BIN"

$(checks_toml)
EOF
    SPECS+=("$PHYS_SPEC")
}

write_logical_spec() {
    mkdir -p "$RUN/logical/primary" "$RUN/logical/dr" "$RUN/logical/reports" "$RUN/lw"
    chmod 755 "$RUN/logical" "$RUN/lw"
    RECIPIENT="$("$FIREDRILL" keygen --output "$RUN/logical/key.txt" 2> "$RUN/keygen.err" | tail -n 1)"
    case "$RECIPIENT" in
        age1*) ;;
        *) die "firedrill keygen did not print an age1... recipient (got '$RECIPIENT')" ;;
    esac
    LOG_SPEC="$RUN/logical/bench-logical.toml"
    cat > "$LOG_SPEC" <<EOF
name = "bench-logical"

[source]
url = "postgres://postgres@127.0.0.1:$PORT/$DB"

[backup]
compression = "zstd:1"
recipients = ["$RECIPIENT"]

[[destination]]
name = "primary"
url = "file://$RUN/logical/primary"

[[destination]]
name = "dr"
url = "file://$RUN/logical/dr"

[drill]
from = "dr"
identity-file = "$RUN/logical/key.txt"
scratch = "ephemeral"
work-dir = "$RUN/lw"
reports = "$RUN/logical/reports"
run-as = "$PG_OS_USER"
timeout = "${STEP_TIMEOUT}s"

[tools]
bin-dir = "$PG_BIN"

$(checks_toml)
EOF
    SPECS+=("$LOG_SPEC")
}

# drill_json NAME: RTO and verdict of a drill from its JSON on stdout.
PHYS_RTO=""; PHYS_VERDICT=""; PHYS_STATUS="skipped"
LOG_RTO=""; LOG_VERDICT=""; LOG_STATUS="skipped"; LOG_BACKUP_STATUS="skipped"
rto_of() { jq -r '.rto.total_seconds // empty' "$RUN/$1.out" 2>/dev/null || true; }
verdict_of() { jq -r '.verdict // empty' "$RUN/$1.out" 2>/dev/null || true; }

hand_pipeline

log "firedrill physical drill --json (kind pgbackrest, from repo2)"
write_physical_spec
if run_firedrill phys_drill drill "$PHYS_SPEC" --json; then PHYS_STATUS="ok"; else PHYS_STATUS="failed"; fi
PHYS_RTO="$(rto_of phys_drill)"; PHYS_VERDICT="$(verdict_of phys_drill)"
if [ -z "$PHYS_RTO" ] && [ "$PHYS_STATUS" = "ok" ]; then PHYS_STATUS="no RTO in JSON"; fi
log "  wall $(secs phys_drill) s, RTO ${PHYS_RTO:-n/a} s, verdict ${PHYS_VERDICT:-n/a}, own peak RSS $(kib_to_mib "$(hwm_kib phys_drill)") MiB"

log "firedrill logical backup (pg_dump of the source cluster)"
write_logical_spec
if run_firedrill log_backup backup "$LOG_SPEC"; then
    LOG_BACKUP_STATUS="ok"
    log "  $(secs log_backup) s"
    log "firedrill logical drill --json (from dr)"
    if run_firedrill log_drill drill "$LOG_SPEC" --json; then LOG_STATUS="ok"; else LOG_STATUS="failed"; fi
    LOG_RTO="$(rto_of log_drill)"; LOG_VERDICT="$(verdict_of log_drill)"
    if [ -z "$LOG_RTO" ] && [ "$LOG_STATUS" = "ok" ]; then LOG_STATUS="no RTO in JSON"; fi
    log "  wall $(secs log_drill) s, RTO ${LOG_RTO:-n/a} s, verdict ${LOG_VERDICT:-n/a}"
else
    LOG_BACKUP_STATUS="failed"
fi

# ---------------------------------------------------------------------------
# (c) Report
# ---------------------------------------------------------------------------

FAILED=0
# shellcheck disable=SC2034 # read by goal() in bench/lib.sh
GOAL_WIDTH=40
ROW_WIDTH=56
row() { printf "%-${ROW_WIDTH}s %10s %12s\n" "$1" "$2" "$3"; }
row_m() { row "$1" "$(secs "$2")" "$(kib_to_mib "$(rss_kib "$2")")"; }
fmt3() { awk -v v="$1" 'BEGIN { printf "%.3f", v }'; }
phase_rows() {
    jq -r '(.report.phases // [])[] | "\(.name)\t\(.seconds)"' "$RUN/$1.out" 2>/dev/null \
        | while IFS=$'\t' read -r phase seconds; do
            row "  phase $phase" "$(fmt3 "$seconds")" "-"
        done || true
}
# drill_rows KIND NAME RTO STATUS: the rows of one firedrill drill (wall and tree RSS, RTO,
# phases, own VmHWM), or its status when it did not run.
drill_rows() {
    if [ -f "$RUN/time.$2" ]; then
        row_m "firedrill $1 drill (wall; RSS: process tree)" "$2"
        row "firedrill $1 drill (RTO, .rto.total_seconds)" "$( [ -n "$3" ] && fmt3 "$3" || echo n/a)" "-"
        phase_rows "$2"
        row "firedrill $1 drill, firedrill's own VmHWM" "-" "$(kib_to_mib "$(hwm_kib "$2")")"
    else
        row "firedrill $1 drill" "$4" "-"
    fi
}

echo
echo "firedrill physical drill benchmark (pgBackRest)"
echo "  database   $DB on 127.0.0.1:$PORT, $DB_SIZE_PRETTY ($(mib "$DB_SIZE_BYTES") MiB), $EXPECTED_ROWS rows"
echo "  cluster    $CDIR (stanza $STANZA, repo1 + repo2, lz4, process-max=2)"
echo "  backup     repo2 $BACKUP_LABEL: $(mib "${BACKUP_BYTES:-0}") MiB as backed up, $(mib "${BACKUP_REPO_BYTES:-0}") MiB in the repository"
echo "  pgbackrest $pgbr_version; cpus $(nproc 2>/dev/null || echo '?')"
if [ "$HAND_FAST" = "1" ]; then
    echo "  hand       restored configuration + firedrill's scratch settings (BENCH_PHYS_HAND_FAST=1)"
else
    echo "  hand       restored configuration (firedrill's scratch runs with fsync=off, ...)"
fi
echo
row "measurement" "seconds" "peak RSS MiB"
row "$(printf '%*s' "$ROW_WIDTH" '' | tr ' ' -)" "----------" "------------"
if [ -f "$RUN/time.hand_restore" ]; then
    row_m "hand: pgbackrest restore --repo=2" hand_restore
fi
[ -f "$RUN/time.hand_start" ] && row_m "hand: pg_ctl start -w + wait for promotion" hand_start
[ -f "$RUN/time.hand_checks" ] && row_m "hand: checks (count(*), bt_index_check)" hand_checks
if [ "$HAND_OK" -eq 1 ]; then
    row_m "hand: total (restore + start + checks)" hand_total
    row_m "hand: pg_ctl stop -m immediate + rm (not in total)" hand_stop
else
    row "hand: total" "$HAND_NOTE" "-"
fi
drill_rows physical phys_drill "$PHYS_RTO" "$PHYS_STATUS"
if [ "$LOG_BACKUP_STATUS" = "ok" ]; then
    row_m "firedrill logical backup (not a goal)" log_backup
else
    row "firedrill logical backup" "$LOG_BACKUP_STATUS" "-"
fi
drill_rows logical log_drill "$LOG_RTO" "$LOG_STATUS"

echo
goal "ratio / value" "measured" "goal" "result"
goal "$(printf '%*s' "$GOAL_WIDTH" '' | tr ' ' -)" "----------" "----------" "--------"
if [ "$HAND_OK" -eq 1 ] && [ -n "$PHYS_RTO" ]; then
    check "physical RTO / hand total" "$(ratio "$PHYS_RTO" "$(secs hand_total)")" 1.05 x
else
    check "physical RTO / hand total" "" 1.05 x
fi
if [ -f "$RUN/time.phys_drill" ] && [ "$(hwm_kib phys_drill)" -gt 0 ]; then
    check "physical drill own peak RSS (MiB)" "$(kib_to_mib "$(hwm_kib phys_drill)")" 64 ""
    goal "physical drill tree peak RSS (MiB)" "$(kib_to_mib "$(rss_kib phys_drill)")" "-" "info"
else
    check "physical drill own peak RSS (MiB)" "" 64 ""
fi
if [ -n "$PHYS_RTO" ] && [ -n "$LOG_RTO" ]; then
    goal "physical RTO / logical RTO" "$(ratio "$PHYS_RTO" "$LOG_RTO")x" "-" "info"
fi
if [ "$HAND_OK" -ne 1 ]; then
    goal "hand pipeline" "$HAND_NOTE" "" "FAIL"; FAILED=1
fi
for s in "physical drill|$PHYS_STATUS" "logical backup|$LOG_BACKUP_STATUS" "logical drill|$LOG_STATUS"; do
    if [ "${s#*|}" != "ok" ]; then
        goal "firedrill ${s%%|*}" "${s#*|}" "" "FAIL"; FAILED=1
    fi
done

echo
if [ "$FAILED" -eq 0 ]; then
    echo "all goals met"
else
    echo "some goals not met"
fi
exit "$FAILED"
