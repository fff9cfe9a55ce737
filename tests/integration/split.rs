//! Large tables as parallel parts (`backup.split-size`, `backup.jobs`): every table of the
//! rich fixture split into block ranges still restores to exactly the source's content; a
//! damaged part fails the drill by name and leaves no scratch behind; a part that cannot be
//! read fails the backup and leaves no object behind.

use firedrill::catalog::manifest::FORMAT_VERSION;
use firedrill::drill::DrillOptions;
use firedrill::testing::SpecBuilder;
use firedrill::{backup, catalog, storage, ErrorKind};
use tokio_util::sync::CancellationToken;

use crate::roundtrip::content_digest;
use crate::support::{self, Env, SourceDb};

/// 20,000 rows, about 1.5 MB: several parts at a 16 KiB split size.
const SMALL_TABLE: &str = "create table t(id int primary key, v text); \
     insert into t select g, md5(g::text) from generate_series(1, 20000) g;";

/// The test spec with every table of at least 16 KiB split, three at a time.
fn split_spec(env: &Env, name: &str, url: &str) -> SpecBuilder {
    env.spec(name, url)
        .backup("split-size", "16KiB")
        .backup("jobs", 3)
}

#[tokio::test]
async fn split_tables_round_trip_exactly() {
    let src = SourceDb::create(&format!(
        "{}\ncreate table wide (id bigint primary key, body text, n numeric, at timestamptz, \
         tags text[], doc jsonb, gone int, twice bigint generated always as (id * 2) stored);\n\
         insert into wide (id, body, n, at, tags, doc, gone) select g, \
           case when g % 7 = 0 then null when g % 5 = 0 then E'tab\\there\\nline \\\\ end' \
           else repeat(md5(g::text), 3) end, g / 3.0, \
           timestamptz '2026-01-01 00:00+00' + g * interval '1 minute', \
           array['a', g::text], jsonb_build_object('g', g), g from generate_series(1, 60000) g;\n\
         alter table wide drop column gone;",
        support::RICH_SQL
    ))
    .await;
    let env = Env::new();
    let spec = env.load_spec(
        &split_spec(&env, "split", &src.url())
            .check("rows", "row-counts")
            .check("schema", "schema"),
    );
    let cancel = CancellationToken::new();
    let b = backup::run(&spec, &cancel)
        .await
        .unwrap_or_else(|e| panic!("{}", e.render()));
    assert!(b.complete(), "replica failed: {:?}", b.replicas);

    let dr = storage::open(spec.destination("dr").unwrap())
        .await
        .unwrap();
    let sets = catalog::list(&dr, "split").await.unwrap();
    let m = &sets[0].manifest;
    assert_eq!(m.format_version, 2);
    assert!(m.format_version <= FORMAT_VERSION);
    let parts: Vec<_> = m.objects.iter().filter_map(|o| o.part.as_ref()).collect();
    let wide: Vec<_> = parts.iter().filter(|p| p.table == "wide").collect();
    assert!(wide.len() >= 3, "wide is split: {parts:#?}");
    assert_eq!(wide[0].first_block, 0);
    assert_eq!(wide.last().unwrap().end_block, None);
    assert!(
        !wide[0].columns.iter().any(|c| c == "twice" || c == "gone"),
        "no generated or dropped column is copied: {:?}",
        wide[0].columns
    );
    // Tables between half the split size and the split size are one part each.
    let whole: Vec<_> = parts
        .iter()
        .filter(|p| p.end_block.is_none() && p.first_block == 0)
        .collect();
    assert!(
        !whole.is_empty() && whole.iter().all(|p| p.table != "wide"),
        "{parts:#?}"
    );
    // Every part is stored (and replicated) encrypted, under its own name.
    for dest in ["primary", "dr"] {
        let files = env.files_in(dest);
        for o in &m.objects {
            let key = format!("split/{}/{}", b.backup_id, o.name);
            assert!(files.contains(&key), "{dest} holds {key}: {files:?}");
        }
    }
    let raw = std::fs::read(
        env.dest("primary")
            .join(format!("split/{}/part-0000.copy.zst.age", b.backup_id)),
    )
    .unwrap();
    assert!(raw.starts_with(b"age-encryption.org/v1"));
    // Rows counted in the parts equal the source's.
    let source = src.client().await;
    let n: i64 = source
        .query_one("select count(*) from wide", &[])
        .await
        .unwrap()
        .get(0);
    let counted = m
        .fingerprint
        .tables
        .iter()
        .find(|t| t.table == "wide")
        .unwrap();
    assert_eq!(counted.rows, n);

    let opts = DrillOptions {
        keep: true,
        ..DrillOptions::default()
    };
    let outcome = support::passed_drill(&spec, &opts).await;
    let url = outcome.kept_url.clone().expect("--keep gives a URL");
    let (restored, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let want = content_digest(&source).await;
    let got = content_digest(&restored).await;
    assert!(want.contains_key("public.wide"), "{want:?}");
    assert_eq!(got, want);
    drop(restored);
    firedrill::scratch::sweep(&spec, &firedrill::pg::PgTools::default())
        .await
        .unwrap();
    env.assert_no_leftovers();
}

#[tokio::test]
async fn split_tables_stay_locked_against_truncate_until_the_backup_ends() {
    let src = SourceDb::create(SMALL_TABLE).await;
    let target =
        firedrill::pg::PgTarget::from_url(&secrecy::SecretString::from(src.url()), "source.url")
            .unwrap();
    let snap = firedrill::source::snapshot::open(&target).await.unwrap();
    let plan = firedrill::method::pg_dump::split::plan(
        &snap.client,
        2,
        snap.server.server_major,
        16 << 10,
    )
    .await
    .unwrap();
    assert!(matches!(plan, firedrill::method::pg_dump::split::Plan::Parts(ref p) if p.len() >= 2));
    let other = src.client().await;
    let err = other
        .batch_execute("set lock_timeout = '200ms'; truncate t")
        .await
        .expect_err("TRUNCATE waits for the backup's share lock");
    let msg = err.as_db_error().map(|d| d.message().to_string());
    assert!(
        msg.as_deref().is_some_and(|m| m.contains("lock timeout")),
        "{msg:?}"
    );
    snap.close().await;
    other.batch_execute("truncate t").await.unwrap();
}

#[tokio::test]
async fn a_damaged_part_fails_the_drill_by_name_and_cleans_up() {
    let src = SourceDb::create(SMALL_TABLE).await;
    let env = Env::new();
    let spec = env.load_spec(&split_spec(&env, "dmg", &src.url()));
    let cancel = CancellationToken::new();
    let b = backup::run(&spec, &cancel).await.unwrap();
    support::corrupted_dr_object_fails_the_drill(
        &env,
        &spec,
        &b.backup_id,
        "part-0001.copy.zst.age",
    )
    .await;
}

#[tokio::test]
async fn a_part_that_cannot_be_read_fails_the_backup_and_leaves_nothing() {
    // Row security hides rows from this role: pg_dump (which skips the split table's data)
    // has no objection, the part's COPY refuses (row_security = off), and the backup must fail
    // whole. pg_dump is still busy with an unlogged table (never split) when the part fails,
    // so it is stopped, and the part's error, not pg_dump's, is the one reported.
    struct DropRole(String);
    impl Drop for DropRole {
        fn drop(&mut self) {
            support::admin_sql(&format!("drop role if exists {}", self.0));
        }
    }
    // Declared before the database so that it is dropped after it.
    let role = DropRole(format!("fd_rls_{}", catalog::layout::random_hex(4)));
    let src = SourceDb::create(&format!(
        "create table t(id int primary key, v text); \
         insert into t select g, md5(g::text) from generate_series(1, 20000) g; \
         alter table t enable row level security; \
         create policy few on t using (id < 10); \
         create unlogged table slow(id int, v text); \
         insert into slow select g, repeat(md5(g::text), 4) from generate_series(1, 400000) g; \
         create role {0} login; grant select on t, slow to {0};",
        role.0
    ))
    .await;
    let url = src.url().replacen("postgres@", &format!("{}@", role.0), 1);
    assert_ne!(url, src.url(), "the test URL names user postgres");
    let env = Env::new();
    let spec = env.load_spec(&split_spec(&env, "rls", &url));
    let err = backup::run(&spec, &CancellationToken::new())
        .await
        .expect_err("a part that cannot be copied fails the backup");
    assert_eq!(err.kind, ErrorKind::Source, "{}", err.render());
    let msg = err.render();
    assert!(msg.contains("public.t blocks"), "{msg}");
    assert!(msg.contains("row-level security"), "{msg}");
    for dest in ["primary", "dr"] {
        let left: Vec<String> = env
            .files_in(dest)
            .into_iter()
            .filter(|f| !f.contains("/.locks/"))
            .collect();
        assert!(left.is_empty(), "{dest} keeps {left:?}");
    }
    drop(src);
}

#[tokio::test]
async fn parts_load_into_a_server_scratch_database_too() {
    let src = SourceDb::create(SMALL_TABLE).await;
    let env = Env::new();
    let prefix = format!("fdsplit{}_", catalog::layout::random_hex(2));
    let spec = env.load_spec(
        &split_spec(&env, "srvsplit", &src.url())
            .scratch_server(&format!("{}/postgres", support::PG), &prefix)
            .check("rows", "row-counts")
            .sql_check("sum", "select sum(id) from t", "== 200010000"),
    );
    let cancel = CancellationToken::new();
    let b = backup::run(&spec, &cancel).await.unwrap();
    assert!(b.replicas.iter().all(|r| r.parity));
    let r = support::passed_drill(&spec, &DrillOptions::default())
        .await
        .report;
    assert_eq!(r.scratch.unwrap().kind, "server");
    let left = support::databases_named_like(&prefix).await;
    assert_eq!(left, 0, "the scratch database was dropped");
}
