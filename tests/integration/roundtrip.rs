//! Happy paths through the library: a rich schema survives backup -> replicate -> drill
//! exactly; the backup set on disk has the documented shape; server scratch targets are
//! created, marked and dropped; every example spec parses.

use std::collections::BTreeMap;

use firedrill::catalog::{self, Pick};
use firedrill::drill::DrillOptions;
use firedrill::report::Verdict;
use firedrill::testing::SpecBuilder;
use firedrill::{backup, storage};
use tokio_util::sync::CancellationToken;

use crate::support::{self, Env, SourceDb};

/// RTO and RPO targets and every built-in check.
fn all_checks(spec: SpecBuilder) -> SpecBuilder {
    spec.rto("10m")
        .rpo("1h")
        .check("rows", "row-counts")
        .check("schema", "schema")
        .check("indexes", "amcheck")
        .with("heapallindexed", true)
}

/// md5 of every user table's rows (ordered), every sequence's state and every large object.
pub async fn content_digest(client: &tokio_postgres::Client) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let tables = client
        .query(
            "select format('%I.%I', n.nspname, c.relname) from pg_class c \
             join pg_namespace n on n.oid = c.relnamespace \
             where c.relkind in ('r', 'm') and n.nspname not in ('pg_catalog', 'information_schema') \
             and n.nspname not like 'pg\\_toast%' order by 1",
            &[],
        )
        .await
        .unwrap();
    for row in tables {
        let t: String = row.get(0);
        let sql = format!("select count(*)::text || ':' || coalesce(md5(string_agg(x::text, '|' order by x::text)), '') from {t} x");
        let d: String = client.query_one(&sql, &[]).await.unwrap().get(0);
        out.insert(t, d);
    }
    let seqs = client
        .query(
            "select format('%I.%I', schemaname, sequencename), coalesce(last_value::text, 'null') from pg_sequences order by 1",
            &[],
        )
        .await
        .unwrap();
    for row in seqs {
        out.insert(format!("seq {}", row.get::<_, String>(0)), row.get(1));
    }
    let los = client
        .query(
            "select oid::text, md5(lo_get(oid)) from pg_largeobject_metadata order by 1",
            &[],
        )
        .await
        .unwrap();
    for row in los {
        out.insert(format!("lo {}", row.get::<_, String>(0)), row.get(1));
    }
    out
}

#[tokio::test]
async fn rich_schema_round_trips_exactly_through_the_dr_copy() {
    let src = SourceDb::create(support::RICH_SQL).await;
    let env = Env::new();
    let spec = env.load_spec(&all_checks(env.spec("rich", &src.url())));
    let cancel = CancellationToken::new();

    let b = backup::run(&spec, &cancel)
        .await
        .unwrap_or_else(|e| panic!("{}", e.render()));
    assert!(b.complete(), "replica failed: {:?}", b.replicas);

    // The set on disk: one encrypted object and the manifest, the same in both places.
    for dest in ["primary", "dr"] {
        assert_eq!(
            env.files_in(dest),
            vec![
                format!("rich/{}/data.dump.zst.age", b.backup_id),
                format!("rich/{}/manifest.json", b.backup_id)
            ],
            "in {dest}"
        );
    }
    let dr = storage::open(spec.destination("dr").unwrap())
        .await
        .unwrap();
    let sets = catalog::list(&dr, "rich").await.unwrap();
    assert_eq!(sets.len(), 1);
    let m = &sets[0].manifest;
    assert_eq!(m.source.database, src.name);
    assert!(m
        .fingerprint
        .tables
        .iter()
        .any(|t| t.schema == "Übersicht" && t.table == "Straßen Namen" && t.rows > 0));
    assert!(m.fingerprint.objects["large_objects"] >= 2);
    assert!(m.fingerprint.objects["materialized_views"] >= 1);
    assert!(m.encryption.recipients[0].starts_with("sha256:"));
    let raw = std::fs::read(
        env.dest("dr")
            .join(format!("rich/{}/data.dump.zst.age", b.backup_id)),
    )
    .unwrap();
    assert!(
        raw.starts_with(b"age-encryption.org/v1"),
        "stored bytes are age-encrypted"
    );
    assert!(
        !raw.windows(5).any(|w| w == b"PGDMP"),
        "no plain dump header in the stored bytes"
    );

    let opts = DrillOptions {
        keep: true,
        ..DrillOptions::default()
    };
    let outcome = support::passed_drill(&spec, &opts).await;
    let r = &outcome.report;
    assert_eq!(r.backup.as_ref().unwrap().destination, "dr");
    assert_eq!(r.checks.len(), 3);
    let names: Vec<&str> = r
        .rto
        .as_ref()
        .unwrap()
        .phases
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "locate",
            "provision",
            "fetch+decrypt+decompress",
            "restore",
            "verify"
        ]
    );
    assert!(r.rpo.as_ref().unwrap().seconds >= 0.0);

    // Table by table, the restored data equals the source.
    let url = outcome.kept_url.clone().expect("--keep gives a URL");
    let (restored, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let want = content_digest(&src.client().await).await;
    let got = content_digest(&restored).await;
    assert!(want.len() > 15, "fixture too small: {want:?}");
    assert_eq!(got, want);
    drop(restored);

    let swept = firedrill::scratch::sweep(&spec, &firedrill::pg::PgTools::default())
        .await
        .unwrap();
    assert_eq!(swept.len(), 1);
    assert!(swept[0].removed, "{:?}", swept[0]);
    env.assert_no_leftovers();

    // The JSON report is stored locally and beside the backup set.
    let stored = outcome.stored.unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&stored.json).unwrap()).unwrap();
    assert_eq!(json["format_version"], 1);
    assert_eq!(json["verdict"], "passed");
    assert!(std::fs::read_to_string(&stored.markdown)
        .unwrap()
        .contains("PASSED"));
    let beside = stored.beside_backup.unwrap();
    assert!(env.dest("dr").join(&beside).exists(), "{beside}");
}

#[tokio::test]
async fn corrupted_dr_copy_fails_the_drill_names_the_object_and_cleans_up() {
    let src = SourceDb::create("create table t(id int primary key, v text); insert into t select g, md5(g::text) from generate_series(1, 20000) g;").await;
    let env = Env::new();
    let spec = env.load_spec(&env.spec("corrupt", &src.url()));
    let cancel = CancellationToken::new();
    let b = backup::run(&spec, &cancel).await.unwrap();
    support::corrupted_dr_object_fails_the_drill(&env, &spec, &b.backup_id, "data.dump.zst.age")
        .await;

    // The primary copy is intact and still recovers.
    let opts = DrillOptions {
        from: Some("primary".into()),
        pick: Pick::Id(b.backup_id.clone()),
        ..DrillOptions::default()
    };
    support::passed_drill(&spec, &opts).await;
}

#[tokio::test]
async fn server_scratch_databases_are_marked_dropped_and_foreign_ones_refused() {
    let src = SourceDb::with_rows(500).await;
    let env = Env::new();
    let prefix = format!("fdscr{}_", firedrill::catalog::layout::random_hex(2));
    let spec = env.load_spec(
        &env.spec("srv", &src.url())
            .scratch_server(&format!("{}/postgres", support::PG), &prefix)
            .check("rows", "row-counts")
            .sql_check("count", "select count(*) from t", "== 500"),
    );
    let cancel = CancellationToken::new();
    let b = backup::run(&spec, &cancel).await.unwrap();

    let r = support::passed_drill(&spec, &DrillOptions::default())
        .await
        .report;
    let scratch = r.scratch.unwrap();
    assert_eq!(scratch.kind, "server");
    assert!(scratch.database.starts_with(&prefix));
    let left = support::databases_named_like(&prefix).await;
    assert_eq!(left, 0, "the scratch database was dropped");
    let admin = support::connect("postgres").await;

    // A database with the scratch name but without firedrill's marker is never dropped.
    let name = firedrill::scratch::ServerDatabase::name_for(&prefix, "srv", &b.backup_id);
    admin
        .batch_execute(&format!("create database {name}"))
        .await
        .unwrap();
    let r = support::drill_report(&spec, &DrillOptions::default()).await;
    assert_eq!(r.verdict, Verdict::Error);
    assert!(
        r.reason
            .as_deref()
            .unwrap_or("")
            .contains("no firedrill marker"),
        "{:?}",
        r.reason
    );
    let still: i64 = admin
        .query_one(
            "select count(*) from pg_database where datname = $1",
            &[&name],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(still, 1, "a foreign database must survive");
    admin
        .batch_execute(&format!("drop database {name}"))
        .await
        .unwrap();
}

#[test]
fn every_example_spec_parses() {
    let (_, recipient) = firedrill::pipeline::keys::generate();
    let dir = tempfile::tempdir().unwrap();
    let recipients_file = dir.path().join("recipients.txt").display().to_string();
    std::fs::write(&recipients_file, format!("# test\n{recipient}\n")).unwrap();
    let env = move |name: &str| -> Option<String> {
        match name {
            "ORDERS_DATABASE_URL" => Some("postgres://app:pw@db:5432/orders".into()),
            "FIREDRILL_DEMO_PASSWORD" => Some("pw".into()),
            "FIREDRILL_RECIPIENTS_FILE" => Some(recipients_file.clone()),
            _ => None,
        }
    };
    let mut n = 0;
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/drills")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("@RECIPIENT@", &recipient)
            .replace("@PORT@", "5432")
            .replace("@USER@", "firedrill")
            .replace("@DIR@", "/tmp/demo")
            .replace("@WORK@", "/tmp/demo/clusters");
        let spec = firedrill::spec::parse(&text, &path, &[], &env)
            .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.render()));
        assert!(!spec.checks.is_empty(), "{} shows checks", path.display());
        n += 1;
    }
    assert!(n >= 2, "drills/ holds the full and demo specs");
}

#[tokio::test]
async fn rows_counted_in_the_dump_stream_equal_count_star_and_both_modes_agree() {
    let src = SourceDb::create(support::RICH_SQL).await;
    let out = std::process::Command::new("pg_dump")
        .args(["-h", "127.0.0.1", "-U", "postgres", "-Fc", "-Z0", &src.name])
        .output()
        .unwrap();
    assert!(out.status.success());
    let counted = firedrill::method::pg_dump::archive::count_rows(&out.stdout[..]).unwrap();
    let client = src.client().await;
    let exact = firedrill::source::fingerprint::take(&client, None)
        .await
        .unwrap();
    assert!(exact.tables.len() >= 10);
    for t in &exact.tables {
        assert_eq!(
            counted.get(&(t.schema.clone(), t.table.clone())),
            Some(&t.rows),
            "{}.{}",
            t.schema,
            t.table
        );
    }
    // A truncated archive is an error, never a silent partial count.
    assert!(
        firedrill::method::pg_dump::archive::count_rows(&out.stdout[..out.stdout.len() / 2])
            .is_err()
    );

    // Backups in both modes record the same fingerprint.
    let env = Env::new();
    let cancel = CancellationToken::new();
    let mut fps = Vec::new();
    for mode in ["dump", "query"] {
        let spec = env.load_spec(&env.spec("modes", &src.url()).backup("row-counts", mode));
        let b = backup::run(&spec, &cancel).await.unwrap();
        let dr = storage::open(spec.destination("dr").unwrap())
            .await
            .unwrap();
        let sets = catalog::list(&dr, "modes").await.unwrap();
        let set = sets.iter().find(|s| s.id == b.backup_id).unwrap();
        fps.push(set.manifest.fingerprint.clone());
    }
    assert_eq!(fps[0], fps[1]);
    assert_eq!(fps[0], exact);
}
