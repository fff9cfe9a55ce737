# shellcheck shell=bash
# Shell helpers shared by the benchmark scripts (sourced, not run).

# bench_generator_sql ROWS DB: the SQL that fills the benchmark table
# `bench_rows` with ROWS rows (fixed seed, three indexes, vacuumed and
# analyzed) and marks database DB as built with ROWS rows. bench/run.sh and
# bench/physical.sh both feed it to psql connected to DB, so both benchmarks
# measure the same data.
bench_generator_sql() {
    local rows="$1" db="$2"
    cat <<SQL
SET synchronous_commit = off;
SET maintenance_work_mem = '256MB';
SELECT setseed(0.25);

CREATE TABLE bench_rows (
    id          bigint        NOT NULL,
    created_at  timestamptz   NOT NULL,
    account_id  integer       NOT NULL,
    amount      numeric(12,2) NOT NULL,
    note        text          NOT NULL,
    attrs       jsonb         NOT NULL
);

INSERT INTO bench_rows (id, created_at, account_id, amount, note, attrs)
SELECT g,
       timestamptz '2024-01-01 00:00:00+00' + random() * interval '700 days',
       1 + floor(random() * 200000)::int,
       round((random() * 10000)::numeric, 2),
       substr(md5(random()::text), 1, 5 + floor(random() * 16)::int),
       jsonb_build_object('n', floor(random() * 1000)::int,
                          't', substr(md5(random()::text), 1, 5))
FROM generate_series(1, $rows) AS g;

ALTER TABLE bench_rows ADD CONSTRAINT bench_rows_pkey PRIMARY KEY (id);
CREATE INDEX bench_rows_account_id_idx ON bench_rows (account_id);
CREATE INDEX bench_rows_created_at_idx ON bench_rows (created_at);

VACUUM (ANALYZE) bench_rows;
COMMENT ON DATABASE "$db" IS 'firedrill benchmark, rows=$rows';
SQL
}

# Report helpers. goal and check print rows of the goal table, GOAL_WIDTH
# wide; check sets FAILED=1 when a goal is missed.
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
kib_to_mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "" }'; }
goal() { printf "%-${GOAL_WIDTH}s %10s %10s %8s\n" "$1" "$2" "$3" "$4"; }
# check LABEL VALUE LIMIT UNIT [lt]: prints a goal row, PASS when
# VALUE <= LIMIT (VALUE < LIMIT with lt)
check() {
    local label="$1" value="$2" limit="$3" unit="$4" op="${5:-le}" result shown
    shown="$value$unit"
    if [ -z "$value" ]; then
        result="FAIL"; shown="n/a"
    elif awk -v v="$value" -v l="$limit" -v op="$op" \
            'BEGIN { exit !(op == "lt" ? v < l : v <= l) }'; then
        result="PASS"
    else
        result="FAIL"
    fi
    # shellcheck disable=SC2034 # the caller's
    [ "$result" = "PASS" ] || FAILED=1
    goal "$label" "$shown" "$( [ "$op" = lt ] && echo '<' || echo '<=') $limit$unit" "$result"
}
# bench_goal_rows SCALE FILE: the "label  measured  goal  result" rows of the
# goal table in FILE (a run's output), as "SCALE|label|value|goal".
bench_goal_rows() {
    awk -v s="$1" '
        /^ratio \/ value/ { on = 1; next }
        on && /^-/ { next }
        on && NF == 0 { on = 0 }
        on {
            # Columns are apart by two or more spaces; a label has single spaces.
            n = split($0, f, /  +/)
            v = f[2]; gsub(/x$/, "", v)
            print s "|" f[1] "|" v "|" (n >= 4 ? f[3] : "")
        }' "$2"
}

# bench_summary RESULTS REPEAT: one table of every goal of every scale in
# RESULTS (rows of bench_goal_rows), judged by the median over the REPEAT
# runs, min and max beside it. Returns 1 when a goal is missed.
bench_summary() {
    local results="$1" repeat="$2" status=0
    local scale label vals goal n median min max limit op result
    echo
    echo "all scales (median of $repeat run(s); min and max beside it)"
    printf '%-6s %-36s %9s %9s %9s %10s %7s\n' "scale" "ratio / value" "median" "min" "max" "goal" "result"
    while IFS='|' read -r scale label; do
        vals="$(awk -F'|' -v s="$scale" -v l="$label" '$1 == s && $2 == l { print $3 }' "$results" | sort -g)"
        goal="$(awk -F'|' -v s="$scale" -v l="$label" '$1 == s && $2 == l { print $4; exit }' "$results")"
        n="$(printf '%s\n' "$vals" | grep -c .)"
        median="$(printf '%s\n' "$vals" | awk -v n="$n" 'NR == int((n + 1) / 2) { print }')"
        min="$(printf '%s\n' "$vals" | head -n 1)"; max="$(printf '%s\n' "$vals" | tail -n 1)"
        limit="${goal##* }"; limit="${limit%x}"
        op="${goal%% *}"
        if [ -z "$goal" ] || [ "$goal" = "-" ]; then
            result="info"
        elif [ -z "$median" ] || ! [[ "$median" =~ ^[0-9.]+$ ]]; then
            result="FAIL"; status=1
        elif awk -v v="$median" -v l="$limit" -v op="$op" 'BEGIN { exit !(op == "<" ? v < l : v <= l) }'; then
            result="PASS"
        else
            result="FAIL"; status=1
        fi
        printf '%-6s %-36s %9s %9s %9s %10s %7s\n' "$scale" "$label" "$median" "$min" "$max" "$goal" "$result"
    done < <(awk -F'|' '!seen[$1 "|" $2]++ { print $1 "|" $2 }' "$results")
    return "$status"
}

# locate_firedrill: sets FIREDRILL to an absolute path: $FIREDRILL when given, else
# $CARGO_TARGET_DIR (or $ROOT/target)/release/firedrill, built with cargo when missing.
# Needs ROOT, log and die.
locate_firedrill() {
    if [ -n "${FIREDRILL:-}" ]; then
        [ -x "$FIREDRILL" ] || die "FIREDRILL=$FIREDRILL is not an executable file"
    else
        local target_dir="${CARGO_TARGET_DIR:-target}"
        case "$target_dir" in
            /*) ;;
            *) target_dir="$ROOT/$target_dir" ;;
        esac
        FIREDRILL="$target_dir/release/firedrill"
        if [ ! -x "$FIREDRILL" ]; then
            command -v cargo >/dev/null 2>&1 || die "cargo not found; install Rust or set FIREDRILL"
            log "building firedrill (cargo build --release)"
            (cd "$ROOT" && cargo build --release)
            [ -x "$FIREDRILL" ] || die "build finished but $FIREDRILL does not exist"
        fi
    fi
    FIREDRILL="$(cd "$(dirname "$FIREDRILL")" && pwd)/$(basename "$FIREDRILL")"
    log "firedrill: $FIREDRILL"
}

# bench_scales NAME RUN_ONE: for every scale of $SCALES (default 1) and every repeat of
# $REPEAT, `RUN_ONE SCALE RUN` runs the benchmark once (a child printing its tables); then
# every goal of every scale in one table, judged by the median over the repeats. Exits with
# bench_summary's status.
bench_scales() {
    local name="$1" run_one="$2" results dbs out scale run status=0
    results="$(mktemp "${TMPDIR:-/tmp}/$name-results.XXXXXX")"
    dbs="$(mktemp "${TMPDIR:-/tmp}/$name-dbs.XXXXXX")"
    for scale in ${SCALES:-1}; do
        case "$scale" in ''|*[!0-9]*) echo "scale \`$scale\` is not a whole number" >&2; exit 2 ;; esac
        # shellcheck disable=SC2153 # REPEAT and SCALES are the calling script's options
        for run in $(seq 1 "$REPEAT"); do
            out="$(mktemp "${TMPDIR:-/tmp}/$name-x${scale}.XXXXXX")"
            "$run_one" "$scale" "$run" | tee "$out" || true
            bench_goal_rows "x$scale" "$out" >> "$results"
            grep -E '^  database' "$out" | sed "s/^/x$scale /" | head -n 1 >> "$dbs"
            rm -f "$out"
        done
    done
    bench_summary "$results" "$REPEAT" || status=$?
    sort -u "$dbs"
    rm -f "$results" "$dbs"
    exit "$status"
}
