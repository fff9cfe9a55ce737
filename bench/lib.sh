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
