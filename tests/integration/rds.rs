//! RDS drills against moto (the RDS control plane; `localstack/up.sh` starts it). moto's
//! instances have no database, so connections go to the local PostgreSQL through the
//! documented `FIREDRILL_RDS_CONNECT_OVERRIDE`; everything else goes through the real SDK.

use std::sync::Once;

use aws_sdk_rds::types::Tag;
use firedrill::drill::DrillOptions;
use firedrill::report::Verdict;
use firedrill::{backup, catalog, storage};
use tokio_util::sync::CancellationToken;

use crate::support::{self, Env, SourceDb};
use firedrill::testing::SpecBuilder;

const MOTO: &str = "http://127.0.0.1:5055";

pub(crate) fn rds_env() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::env::set_var("AWS_ACCESS_KEY_ID", "test");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "test");
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        std::env::set_var(firedrill::scratch::rds::CONNECT_OVERRIDE, "127.0.0.1:5432");
        std::env::set_var("FDTEST_RDS_PASSWORD", "unused-with-trust-auth");
    });
}

pub(crate) async fn rds(region: &str) -> aws_sdk_rds::Client {
    rds_env();
    firedrill::aws::rds_client(region, Some(MOTO)).await
}

/// A source instance in us-east-1 (moto), named uniquely.
pub(crate) async fn source_instance(tag: &str) -> String {
    let id = format!("fdtest-{tag}-{}", firedrill::catalog::layout::random_hex(3));
    rds("us-east-1")
        .await
        .create_db_instance()
        .db_instance_identifier(&id)
        .engine("postgres")
        .engine_version("15.4")
        .db_instance_class("db.t3.micro")
        .allocated_storage(20)
        .master_username("postgres")
        .master_user_password("unused-password")
        .backup_retention_period(7)
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "moto must answer on {MOTO}: start it with `localstack/up.sh` (or run .ci/run): {}",
                aws_sdk_rds::error::DisplayErrorContext(&e)
            )
        });
    id
}

/// Identifiers of the firedrill scratch instances of `drill` in `region`.
async fn scratch_instances(region: &str, drill: &str) -> Vec<String> {
    let out = rds(region)
        .await
        .describe_db_instances()
        .send()
        .await
        .unwrap();
    out.db_instances()
        .iter()
        .filter(|i| {
            i.tag_list()
                .iter()
                .any(|t| t.key() == Some("firedrill") && t.value() == Some(drill))
        })
        .filter_map(|i| i.db_instance_identifier().map(str::to_string))
        .collect()
}

/// An RDS spec of `drill` for database `db` of `instance`: snapshots copied to eu-west-1,
/// drills into a scratch instance in eu-west-1 with `scratch` options added or replaced, an
/// RPO of 1h and, last, a check that `t` has 500 rows.
pub(crate) fn rds_spec(
    env: &Env,
    drill: &str,
    instance: &str,
    db: &str,
    scratch: &[(&str, &str)],
) -> SpecBuilder {
    let mut rds = toml::Table::new();
    for (k, v) in [
        ("region", "eu-west-1"),
        ("endpoint", MOTO),
        ("instance-class", "db.t3.micro"),
        ("user", "postgres"),
        ("password-env", "FDTEST_RDS_PASSWORD"),
        ("wait-timeout", "2m"),
    ]
    .iter()
    .chain(scratch)
    {
        rds.insert((*k).into(), (*v).into());
    }
    let mut scratch = toml::Table::new();
    scratch.insert("rds".into(), rds.into());
    SpecBuilder::new(drill)
        .source("kind", "rds")
        .source("instance", instance)
        .source("region", "us-east-1")
        .source("endpoint", MOTO)
        .source("database", db)
        .source("copy-to", vec!["eu-west-1"])
        .folder("primary", &env.dest("primary"))
        .folder("dr", &env.dest("dr"))
        .drill("from", "dr")
        .drill("reports", env.reports().display().to_string())
        .drill("work-dir", env.work().display().to_string())
        .drill("scratch", scratch)
        .rpo("1h")
        .sql_check("rows", "select count(*) from t", "== 500")
}

pub(crate) const SOURCE_SQL: &str =
    "create table t(id int primary key); insert into t select generate_series(1, 500);";

#[tokio::test]
async fn snapshot_drill_in_the_dr_region_passes_and_deletes_the_instance() {
    let db = SourceDb::create(SOURCE_SQL).await;
    let env = Env::new();
    let instance = source_instance("snap").await;
    let drill_name = format!("rds-snap-{}", firedrill::catalog::layout::random_hex(2));
    let spec = env.load_spec(&rds_spec(&env, &drill_name, &instance, &db.name, &[]));
    let cancel = CancellationToken::new();

    let b = backup::run(&spec, &cancel)
        .await
        .unwrap_or_else(|e| panic!("{}", e.render()));
    assert!(b.complete());
    let dr = storage::open(spec.destination("dr").unwrap())
        .await
        .unwrap();
    let sets = catalog::list(&dr, &drill_name).await.unwrap();
    let m = &sets[0].manifest;
    assert_eq!(m.method.kind, "rds-snapshot");
    let snaps = &m.rds.as_ref().unwrap().snapshots;
    assert_eq!(
        snaps.iter().map(|s| s.region.as_str()).collect::<Vec<_>>(),
        ["us-east-1", "eu-west-1"]
    );
    // The copy really exists in the DR region, tagged as firedrill's.
    let copy = rds("eu-west-1")
        .await
        .describe_db_snapshots()
        .db_snapshot_identifier(&snaps[1].id)
        .send()
        .await
        .unwrap();
    assert_eq!(copy.db_snapshots().len(), 1);

    let r = support::passed_drill(&spec, &DrillOptions::default())
        .await
        .report;
    let names: Vec<&str> = r.phases.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "locate",
            "restore request",
            "instance available",
            "first connection",
            "verify",
            "negative-controls"
        ]
    );
    // The controls are timed, but not part of the RTO; an RDS restore reads no object
    // firedrill stored, so its data-path control does not apply.
    let rto = r.rto.as_ref().unwrap();
    assert_eq!(rto.phases.last().unwrap().name, "verify");
    let integrity = &r.negative_controls.as_ref().unwrap().controls[0];
    assert_eq!(integrity.control, "integrity");
    assert_eq!(
        integrity.status,
        firedrill::verify::ControlStatus::NotApplicable
    );
    assert_eq!(r.scratch.as_ref().unwrap().kind, "rds");
    assert!(r.cleanup.as_ref().unwrap().removed);
    assert!(
        scratch_instances("eu-west-1", &drill_name).await.is_empty(),
        "the scratch instance was deleted"
    );
    assert_eq!(r.rpo.unwrap().recovery_point, m.snapshot_at);
}

#[tokio::test]
async fn point_in_time_drill_reports_rpo_from_latest_restorable_time() {
    let db = SourceDb::create(SOURCE_SQL).await;
    let env = Env::new();
    let instance = source_instance("pitr").await;
    let drill_name = format!("rds-pitr-{}", firedrill::catalog::layout::random_hex(2));
    let spec = env.load_spec(&rds_spec(
        &env,
        &drill_name,
        &instance,
        &db.name,
        &[("restore", "latest-restorable"), ("region", "us-east-1")],
    ));
    let cancel = CancellationToken::new();
    backup::run(&spec, &cancel).await.unwrap();
    let latest = rds("us-east-1")
        .await
        .describe_db_instances()
        .db_instance_identifier(&instance)
        .send()
        .await
        .unwrap()
        .db_instances()[0]
        .latest_restorable_time()
        .map(|t| t.secs())
        .expect("moto reports LatestRestorableTime");

    let r = support::passed_drill(&spec, &DrillOptions::default())
        .await
        .report;
    let rpo = r.rpo.unwrap();
    assert!(
        (rpo.recovery_point.timestamp() - latest).abs() <= 1,
        "{} vs {latest}",
        rpo.recovery_point
    );
    assert!(scratch_instances("us-east-1", &drill_name).await.is_empty());
}

#[tokio::test]
async fn failing_check_still_deletes_and_unknown_snapshot_creates_nothing() {
    let db = SourceDb::create(SOURCE_SQL).await;
    let env = Env::new();
    let instance = source_instance("fail").await;
    let drill_name = format!("rds-fail-{}", firedrill::catalog::layout::random_hex(2));
    // The row check (added last) expects one row too many.
    let spec = env
        .load_spec(&rds_spec(&env, &drill_name, &instance, &db.name, &[]).with("expect", "== 501"));
    let cancel = CancellationToken::new();
    let b = backup::run(&spec, &cancel).await.unwrap();

    let r = support::drill_report(&spec, &DrillOptions::default()).await;
    assert_eq!(r.verdict, Verdict::Failed);
    assert_eq!(r.checks[0].actual, "500");
    assert!(r.cleanup.unwrap().removed);
    assert!(scratch_instances("eu-west-1", &drill_name).await.is_empty());

    // The DR copy disappears: the drill cannot run (exit 2) and creates no instance.
    let dr = storage::open(spec.destination("dr").unwrap())
        .await
        .unwrap();
    let m = &catalog::list(&dr, &drill_name).await.unwrap()[0].manifest;
    let copy = m
        .rds
        .as_ref()
        .unwrap()
        .in_region("eu-west-1")
        .unwrap()
        .id
        .clone();
    rds("eu-west-1")
        .await
        .delete_db_snapshot()
        .db_snapshot_identifier(&copy)
        .send()
        .await
        .unwrap();
    let r = support::drill_report(&spec, &DrillOptions::default()).await;
    assert_eq!(r.verdict, Verdict::Error);
    assert_eq!(r.verdict.exit_code(), 2);
    let reason = r.reason.unwrap();
    assert!(
        reason.contains(&copy) && reason.contains("eu-west-1"),
        "{reason}"
    );
    assert!(r.scratch.is_none());
    assert!(scratch_instances("eu-west-1", &drill_name).await.is_empty());
    assert_eq!(b.backup_id, m.backup_id);
}

#[tokio::test]
async fn cleanup_sweeps_old_tagged_instances_and_leaves_untagged_ones() {
    let env = Env::new();
    let drill_name = format!("rds-sweep-{}", firedrill::catalog::layout::random_hex(2));
    let c = rds("eu-west-1").await;
    let make = |id: String, tag: Option<String>| {
        let c = c.clone();
        async move {
            c.create_db_instance()
                .db_instance_identifier(&id)
                .engine("postgres")
                .db_instance_class("db.t3.micro")
                .allocated_storage(20)
                .master_username("postgres")
                .master_user_password("unused-password")
                .set_tags(tag.map(|v| vec![Tag::builder().key("firedrill").value(v).build()]))
                .send()
                .await
                .unwrap();
            id
        }
    };
    let suffix = firedrill::catalog::layout::random_hex(2);
    let tagged = make(
        format!("firedrill-{drill_name}-old"),
        Some(drill_name.clone()),
    )
    .await;
    let untagged = make(format!("firedrill-untagged-{suffix}"), None).await;
    let other = make(
        format!("firedrill-other-{suffix}"),
        Some("another-drill".into()),
    )
    .await;

    let spec = env.load_spec(&rds_spec(
        &env,
        &drill_name,
        "unused",
        "postgres",
        &[("ttl", "0s")],
    ));
    let swept = firedrill::scratch::sweep(&spec, &firedrill::pg::PgTools::default())
        .await
        .unwrap();
    assert_eq!(swept.len(), 1, "{swept:?}");
    assert!(
        swept[0].removed && swept[0].detail.contains(&tagged),
        "{swept:?}"
    );
    let left: Vec<String> = c
        .describe_db_instances()
        .send()
        .await
        .unwrap()
        .db_instances()
        .iter()
        .filter_map(|i| i.db_instance_identifier().map(str::to_string))
        .collect();
    assert!(!left.contains(&tagged));
    assert!(
        left.contains(&untagged) && left.contains(&other),
        "{left:?}"
    );
    for id in [untagged, other] {
        c.delete_db_instance()
            .db_instance_identifier(id)
            .skip_final_snapshot(true)
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn check_finds_the_instance_and_names_a_missing_one() {
    let env = Env::new();
    let instance = source_instance("check").await;
    let path = env.write(&rds_spec(&env, "rds-check", &instance, "postgres", &[]));
    let spec = path.to_str().unwrap();
    let vars: &[(&str, &str)] = &[
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ];
    let out = crate::support::firedrill_with_env(&["check", spec], vars);
    assert_eq!(out.status.code(), Some(0), "{}", crate::support::text(&out));
    assert!(
        crate::support::text(&out).contains(&format!("RDS instance `{instance}` in `us-east-1`"))
    );
    let out = crate::support::firedrill_with_env(
        &[
            "check",
            spec,
            "--set",
            "source.instance=fdtest-no-such-instance",
        ],
        vars,
    );
    assert_eq!(out.status.code(), Some(2), "{}", crate::support::text(&out));
    assert!(
        crate::support::text(&out).contains("fdtest-no-such-instance"),
        "{}",
        crate::support::text(&out)
    );
}

#[tokio::test]
async fn prune_deletes_the_snapshots_of_pruned_rds_backups_in_every_region() {
    let db = SourceDb::create(SOURCE_SQL).await;
    let env = Env::new();
    let instance = source_instance("prune").await;
    let drill_name = format!("rds-prune-{}", firedrill::catalog::layout::random_hex(2));
    let spec = env.load_spec(&rds_spec(&env, &drill_name, &instance, &db.name, &[]));
    let cancel = CancellationToken::new();
    let old = backup::run(&spec, &cancel).await.unwrap();
    backup::run(&spec, &cancel).await.unwrap();
    let primary = storage::open(spec.destination("primary").unwrap())
        .await
        .unwrap();
    let old_set = catalog::list(&primary, &drill_name)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(old_set.id, old.backup_id);
    let policy = firedrill::catalog::retention::Retention {
        keep_last: 1,
        ..Default::default()
    };
    let method = firedrill::method::of(&spec);
    let out = firedrill::catalog::prune::prune(
        &primary,
        &drill_name,
        &policy,
        std::time::Duration::from_secs(86400),
        Some(method.holdings()),
        false,
        &Default::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        out.deleted,
        vec![old.backup_id.clone()],
        "{:?}",
        out.refused
    );
    for s in &old_set.manifest.rds.unwrap().snapshots {
        let found = rds(&s.region)
            .await
            .describe_db_snapshots()
            .db_snapshot_identifier(&s.id)
            .send()
            .await;
        let gone = match found {
            Ok(o) => o.db_snapshots().is_empty(),
            Err(_) => true,
        };
        assert!(gone, "snapshot {} in {} deleted", s.id, s.region);
    }
}

#[tokio::test]
async fn a_failed_rds_backup_leaves_no_snapshot_behind() {
    let env = Env::new();
    let instance = source_instance("leak").await;
    let drill_name = format!("rds-leak-{}", firedrill::catalog::layout::random_hex(2));
    // The emulator refuses this copy (it has no such KMS key): the backup fails mid-way.
    let spec = env.load_spec(
        &rds_spec(&env, &drill_name, &instance, "postgres", &[]).set_raw(
            "source",
            "copy-to",
            "[{ region = \"eu-west-1\", kms-key-id = \"alias/no-such-key\" }]",
        ),
    );
    let err = backup::run(&spec, &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(
        err.message.contains("cannot copy snapshot"),
        "{}",
        err.render()
    );
    let left = rds("us-east-1")
        .await
        .describe_db_snapshots()
        .db_instance_identifier(&instance)
        .send()
        .await
        .unwrap();
    let ours: Vec<_> = left
        .db_snapshots()
        .iter()
        .filter(|s| {
            s.db_snapshot_identifier()
                .is_some_and(|i| i.starts_with("firedrill-"))
        })
        .collect();
    assert!(ours.is_empty(), "{ours:?}");
    let dr = storage::open(spec.destination("dr").unwrap())
        .await
        .unwrap();
    assert!(
        catalog::list(&dr, &drill_name).await.unwrap().is_empty(),
        "no manifest"
    );
}
