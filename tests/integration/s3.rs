//! S3 destinations in two regions against LocalStack (`localstack/up.sh`): full drill from the
//! DR region, loss of the primary bucket, corruption, aborted uploads, Object Lock, and
//! transient and permanent faults injected by a local proxy.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once};
use std::time::Duration;

use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use firedrill::catalog::layout;
use firedrill::drill::{self, DrillOptions};
use firedrill::report::Verdict;
use firedrill::storage;
use firedrill::{backup, ErrorKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

use crate::support::{self, firedrill_with_env, text, Env, SourceDb};
use firedrill::testing::SpecBuilder;

/// About 45 MB of dump, ~7 MB stored: two 5 MiB parts.
const DATA_SQL: &str = "create table t(g int primary key, v text); \
    insert into t select g, md5(g::text) || repeat('x', 100) from generate_series(1, 300000) g;";

pub(crate) fn endpoint() -> String {
    std::env::var("FIREDRILL_S3_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:4566".into())
}

/// LocalStack accepts any static credentials; the instance metadata service is never asked.
pub(crate) fn aws_env() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::env::set_var("AWS_ACCESS_KEY_ID", "test");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "test");
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    });
}

pub(crate) async fn client(region: &str) -> aws_sdk_s3::Client {
    aws_env();
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_string()))
        .load()
        .await;
    let conf = aws_sdk_s3::config::Builder::from(&conf)
        .endpoint_url(endpoint())
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// A bucket with a unique name; `lock` enables Object Lock (and so versioning).
pub(crate) async fn bucket(region: &str, lock: bool) -> String {
    let name = format!("fdtest-{}-{}", region, layout::random_hex(4));
    let c = client(region).await;
    let mut req = c
        .create_bucket()
        .bucket(&name)
        .object_lock_enabled_for_bucket(lock);
    if region != "us-east-1" {
        req = req.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region))
                .build(),
        );
    }
    req.send().await.unwrap_or_else(|e| {
        panic!(
            "LocalStack must answer on {}: start it with `localstack/up.sh` (or run .ci/run): {}",
            endpoint(),
            aws_sdk_s3::error::DisplayErrorContext(&e)
        )
    });
    name
}

async fn keys_in(region: &str, bucket: &str) -> Vec<String> {
    let out = client(region)
        .await
        .list_objects_v2()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    out.contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_string))
        .collect()
}

async fn uploads_in(region: &str, bucket: &str) -> usize {
    let out = client(region)
        .await
        .list_multipart_uploads()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    out.uploads().len()
}

struct S3Case {
    env: Env,
    _db: SourceDb,
    primary: String,
    dr: String,
}

impl S3Case {
    async fn new(dr_lock: bool) -> S3Case {
        aws_env();
        let db = SourceDb::create(DATA_SQL).await;
        let primary = bucket("us-east-1", false).await;
        let dr = bucket("eu-west-1", dr_lock).await;
        S3Case {
            env: Env::new(),
            _db: db,
            primary,
            dr,
        }
    }

    /// Writes the spec and returns its path (see [`S3Case::spec`]).
    fn spec_path(&self, primary_endpoint: Option<&str>, dr_lock: bool) -> std::path::PathBuf {
        self.env.write(&self.builder(primary_endpoint, dr_lock))
    }

    /// The spec, with the primary reached through `primary_endpoint` (a fault proxy) if given.
    fn spec(&self, primary_endpoint: Option<&str>, dr_lock: bool) -> firedrill::spec::DrillSpec {
        self.env.load_spec(&self.builder(primary_endpoint, dr_lock))
    }

    /// The spec's text: a multipart, server-side encrypted primary in us-east-1 and a DR copy
    /// in eu-west-1 (under a day of governance-mode Object Lock with `dr_lock`), drills from
    /// dr with a row-count check.
    fn builder(&self, primary_endpoint: Option<&str>, dr_lock: bool) -> SpecBuilder {
        let ep = endpoint();
        let spec = SpecBuilder::new("s3t")
            .source_url(&self._db.url())
            .recipients(&[&self.env.recipient])
            .destination("primary", &format!("s3://{}/fd", self.primary))
            .with("region", "us-east-1")
            .with("endpoint", primary_endpoint.unwrap_or(&ep))
            .with("part-size", "5MiB")
            .with("concurrency", 2)
            .with("sse", "AES256")
            .destination("dr", &format!("s3://{}/fd", self.dr))
            .with("region", "eu-west-1")
            .with("endpoint", ep.as_str());
        let spec = if dr_lock {
            spec.with_raw("object-lock", "{ mode = \"governance\", days = 1 }")
        } else {
            spec
        };
        spec.drill("from", "dr")
            .drill("identity-file", self.env.key().display().to_string())
            .drill("reports", self.env.reports().display().to_string())
            .drill("work-dir", self.env.work().display().to_string())
            .check("rows", "row-counts")
    }
}

#[tokio::test]
async fn drill_from_the_dr_region_passes_even_without_the_primary() {
    let case = S3Case::new(true).await;
    let spec = case.spec(None, true);
    let cancel = CancellationToken::new();
    let b = backup::run(&spec, &cancel)
        .await
        .unwrap_or_else(|e| panic!("{}", e.render()));
    assert!(b.complete(), "{:?}", b.replicas);

    // Multipart with a CRC32C per part on the primary, and the same bytes in the DR region.
    let key = format!("fd/s3t/{}/data.dump.zst.age", b.backup_id);
    let head = client("us-east-1")
        .await
        .head_object()
        .bucket(&case.primary)
        .key(&key)
        .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    let crc = head.checksum_crc32_c().unwrap_or_default().to_string();
    assert!(
        crc.ends_with("-2"),
        "a two-part upload with CRC32C, got `{crc}`"
    );
    assert_eq!(
        keys_in("eu-west-1", &case.dr).await,
        vec![key.clone(), format!("fd/s3t/{}/manifest.json", b.backup_id)]
    );

    let r = support::passed_drill(&spec, &DrillOptions::default())
        .await
        .report;
    assert!(r.backup.as_ref().unwrap().location.contains(&case.dr));

    // Lose the whole primary bucket: the DR copy alone recovers.
    let c = client("us-east-1").await;
    for k in keys_in("us-east-1", &case.primary).await {
        c.delete_object()
            .bucket(&case.primary)
            .key(k)
            .send()
            .await
            .unwrap();
    }
    c.delete_bucket()
        .bucket(&case.primary)
        .send()
        .await
        .unwrap();
    support::passed_drill(&spec, &DrillOptions::default()).await;
    case.env.assert_no_leftovers();

    // And reading from the lost primary says which bucket is missing.
    let opts = DrillOptions {
        from: Some("primary".into()),
        ..DrillOptions::default()
    };
    let r = support::drill_report(&spec, &opts).await;
    assert_eq!(r.verdict, Verdict::Error);
    let reason = r.reason.unwrap();
    assert!(
        reason.contains(&case.primary) && reason.contains("not found"),
        "{reason}"
    );
}

#[tokio::test]
async fn table_parts_upload_side_by_side_and_restore_from_the_dr_region() {
    let case = S3Case::new(false).await;
    let spec = case.env.load_spec(
        &case
            .builder(None, false)
            .backup("split-size", "8MiB")
            .backup("jobs", 3),
    );
    let cancel = CancellationToken::new();
    let b = backup::run(&spec, &cancel)
        .await
        .unwrap_or_else(|e| panic!("{}", e.render()));
    assert!(b.complete(), "{:?}", b.replicas);
    let keys = keys_in("eu-west-1", &case.dr).await;
    let parts = keys.iter().filter(|k| k.contains("/part-")).count();
    assert!(parts >= 3, "the table is split into parts: {keys:?}");
    assert_eq!(keys, keys_in("us-east-1", &case.primary).await);
    assert_eq!(uploads_in("us-east-1", &case.primary).await, 0);

    let r = support::passed_drill(&spec, &DrillOptions::default())
        .await
        .report;
    assert!(r.backup.as_ref().unwrap().location.contains(&case.dr));
    case.env.assert_no_leftovers();
}

#[tokio::test]
async fn corrupted_dr_object_is_named_and_scratch_cleaned() {
    let case = S3Case::new(false).await;
    let spec = case.spec(None, false);
    let cancel = CancellationToken::new();
    let b = backup::run(&spec, &cancel).await.unwrap();
    let key = format!("fd/s3t/{}/data.dump.zst.age", b.backup_id);
    let c = client("eu-west-1").await;
    let mut bytes = c
        .get_object()
        .bucket(&case.dr)
        .key(&key)
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .to_vec();
    let mid = bytes.len() / 3;
    bytes[mid] ^= 0x10;
    c.put_object()
        .bucket(&case.dr)
        .key(&key)
        .body(bytes.into())
        .send()
        .await
        .unwrap();

    let reason = crate::support::failed_drill_reason(&spec).await;
    assert!(
        reason.contains("data.dump.zst.age") && reason.contains("corrupted"),
        "{reason}"
    );
    assert!(reason.contains(&case.dr), "names the bucket: {reason}");
    case.env.assert_no_leftovers();
}

#[tokio::test]
async fn interrupted_upload_leaves_no_parts_and_no_manifest() {
    let case = S3Case::new(false).await;
    let spec = case.spec(None, false);
    let cancel = CancellationToken::new();
    let run = {
        let cancel = cancel.clone();
        tokio::spawn(async move { backup::run(&spec, &cancel).await })
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while uploads_in("us-east-1", &case.primary).await == 0 {
        assert!(
            !run.is_finished(),
            "the backup ended before a multipart upload was seen"
        );
        assert!(
            tokio::time::Instant::now() < deadline,
            "no multipart upload started"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cancel.cancel();
    let err = run.await.unwrap().unwrap_err();
    assert_eq!(err.kind, ErrorKind::Aborted, "{}", err.render());
    assert_eq!(
        uploads_in("us-east-1", &case.primary).await,
        0,
        "the multipart upload was aborted"
    );
    assert!(keys_in("us-east-1", &case.primary).await.is_empty());
    assert!(keys_in("eu-west-1", &case.dr).await.is_empty());
}

#[tokio::test]
async fn object_locked_backups_cannot_be_deleted() {
    let case = S3Case::new(true).await;
    let spec = case.spec(None, true);
    let b = backup::run(&spec, &CancellationToken::new()).await.unwrap();
    let dr = storage::open(spec.destination("dr").unwrap())
        .await
        .unwrap();
    let key = layout::manifest_key("s3t", &b.backup_id);
    let err = dr.store.delete(&key).await.unwrap_err();
    assert!(
        err.message.contains("Object Lock retention"),
        "{}",
        err.render()
    );
    assert!(err.message.contains(&case.dr), "{}", err.render());
    assert!(dr.store.head(&key).await.unwrap().is_some(), "still there");
}

/// A proxy in front of LocalStack that answers 503 to the first `faults` requests.
async fn fault_proxy(faults: usize) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(AtomicUsize::new(0));
    let upstream = endpoint().trim_start_matches("http://").to_string();
    let counter = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let upstream = upstream.clone();
            tokio::spawn(async move {
                if n < faults {
                    refuse(&mut conn).await;
                } else if let Ok(mut up) = tokio::net::TcpStream::connect(&upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut conn, &mut up).await;
                }
            });
        }
    });
    (format!("http://{addr}"), seen)
}

/// Reads one request (headers and Content-Length body), answers 503 and closes.
async fn refuse(conn: &mut tokio::net::TcpStream) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let header_end = loop {
        let Ok(n) = conn.read(&mut chunk).await else {
            return;
        };
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut have = buf.len() - header_end;
    while have < len {
        match conn.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => have += n,
        }
    }
    let _ = conn
        .write_all(
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )
        .await;
    let _ = conn.shutdown().await;
}

#[tokio::test]
async fn transient_faults_are_retried_and_permanent_ones_reported() {
    let case = S3Case::new(false).await;
    let (proxy, seen) = fault_proxy(3).await;
    let spec = case.spec(Some(&proxy), false);
    let b = backup::run(&spec, &CancellationToken::new())
        .await
        .unwrap_or_else(|e| panic!("{}", e.render()));
    assert!(b.complete());
    assert!(
        seen.load(Ordering::SeqCst) > 3,
        "the proxy carried the retries"
    );
    let r = drill::run(
        &spec,
        &DrillOptions {
            from: Some("primary".into()),
            ..DrillOptions::default()
        },
        &CancellationToken::new(),
    )
    .await
    .unwrap()
    .report;
    assert_eq!(r.verdict, Verdict::Passed, "{:?}", r.reason);

    let (dead, _) = fault_proxy(usize::MAX).await;
    let spec = case.spec(Some(&dead), false);
    let started = std::time::Instant::now();
    let err = backup::run(&spec, &CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Storage, "{}", err.render());
    assert!(
        err.message.contains(&case.primary),
        "names the bucket: {}",
        err.render()
    );
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "retries are bounded"
    );
}

#[tokio::test]
async fn cli_names_bucket_region_and_fix_for_permanent_problems() {
    let case = S3Case::new(false).await;
    let spec = case.spec_path(None, false);
    let spec = spec.to_str().unwrap();
    let creds: &[(&str, &str)] = &[
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ];
    let out = firedrill_with_env(&["backup", spec], creds);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // The DR bucket is gone: list still shows the primary, marks dr, exits 2.
    let out = firedrill_with_env(
        &[
            "list",
            spec,
            "--json",
            "--set",
            "destination.dr.url=s3://fdtest-missing-bucket/fd",
        ],
        creds,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[0]["destinations"]["primary"], "complete", "{rows}");
    assert_eq!(rows[0]["destinations"]["dr"], "unreachable", "{rows}");
    assert!(
        text(&out).contains("bucket `fdtest-missing-bucket` in `eu-west-1` not found"),
        "{}",
        text(&out)
    );

    // A bucket in another region than the spec says.
    let out = firedrill_with_env(
        &["check", spec, "--set", "destination.dr.region=us-east-1"],
        creds,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains(&format!(
            "bucket `{}` is in `eu-west-1`, not in `us-east-1`",
            case.dr
        )),
        "{}",
        text(&out)
    );

    // No credentials anywhere in the default chain.
    let none: &[(&str, &str)] = &[
        ("AWS_ACCESS_KEY_ID", ""),
        ("AWS_SECRET_ACCESS_KEY", ""),
        ("AWS_PROFILE", ""),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_CONFIG_FILE", "/nonexistent/firedrill"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/firedrill"),
    ];
    let out = firedrill_with_env(&["backup", spec], none);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("no AWS credentials found"),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains(&case.primary), "{}", text(&out));

    // An endpoint nobody listens on.
    let out = firedrill_with_env(
        &[
            "backup",
            spec,
            "--set",
            "destination.primary.endpoint=http://127.0.0.1:1",
        ],
        creds,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("the endpoint http://127.0.0.1:1 is unreachable"),
        "{}",
        text(&out)
    );
}

#[tokio::test]
async fn leases_in_s3_admit_one_holder_even_in_an_object_locked_bucket() {
    let case = S3Case::new(true).await;
    let spec = case.spec(None, true);
    for name in ["primary", "dr"] {
        let dest = storage::open(spec.destination(name).unwrap())
            .await
            .unwrap();
        let held = storage::lease::acquire(&dest, "s3t", "drill", Some("x"))
            .await
            .unwrap();
        let err = storage::lease::acquire(&dest, "s3t", "drill", None)
            .await
            .err()
            .expect("held");
        assert!(
            err.message.contains("another drill of `s3t` is running"),
            "{}",
            err.message
        );
        held.release().await;
        let again = storage::lease::acquire(&dest, "s3t", "drill", None)
            .await
            .unwrap();
        again.release().await;
        assert!(
            storage::lease::current(&dest, "s3t", "drill")
                .await
                .unwrap()
                .is_none(),
            "in {name}"
        );
    }
}

#[tokio::test]
async fn prune_deletes_unlocked_sets_and_reports_locked_ones() {
    let case = S3Case::new(true).await;
    let spec = case.spec(None, true);
    let cancel = CancellationToken::new();
    let old = backup::run(&spec, &cancel).await.unwrap();
    let new = backup::run(&spec, &cancel).await.unwrap();
    let policy = firedrill::catalog::retention::Retention {
        keep_last: 1,
        ..Default::default()
    };
    let grace = Duration::from_secs(86400);
    let primary = storage::open(spec.destination("primary").unwrap())
        .await
        .unwrap();
    let p = support::prune(&primary, "s3t", &policy, grace, false).await;
    assert_eq!(p.deleted, vec![old.backup_id.clone()]);
    let dr = storage::open(spec.destination("dr").unwrap())
        .await
        .unwrap();
    let d = support::prune(&dr, "s3t", &policy, grace, false).await;
    assert!(d.deleted.is_empty());
    assert!(
        d.refused[&old.backup_id].contains("Object Lock retention"),
        "{:?}",
        d.refused
    );
    let left: Vec<String> = firedrill::catalog::list(&dr, "s3t")
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(
        left,
        vec![old.backup_id, new.backup_id],
        "locked sets stay listed and complete"
    );
}

/// The report copy a drill stores beside the backup in an Object Lock destination is under
/// the destination's retention (mode and date, at least as long as the backup's), and
/// `report verify SPEC` hashes the cited objects in S3.
#[tokio::test]
async fn report_copies_in_object_locked_destinations_have_retention() {
    let case = S3Case::new(true).await;
    let spec = case.spec(None, true);
    let cancel = CancellationToken::new();
    let b = backup::run(&spec, &cancel).await.unwrap();
    let before = chrono::Utc::now();
    let outcome = drill::run(&spec, &DrillOptions::default(), &cancel)
        .await
        .unwrap();
    assert_eq!(
        outcome.report.verdict,
        Verdict::Passed,
        "{:?}",
        outcome.report.reason
    );
    let copy = outcome
        .stored
        .unwrap()
        .beside_backup
        .expect("a copy beside the backup");
    assert!(
        copy.starts_with(&format!("s3t/{}/drills/", b.backup_id)),
        "{copy}"
    );
    let c = client("eu-west-1").await;
    let retention = |key: String| {
        let c = c.clone();
        let bucket = case.dr.clone();
        async move {
            c.get_object_retention()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .unwrap_or_else(|e| panic!("{}", aws_sdk_s3::error::DisplayErrorContext(&e)))
                .retention
                .expect("a retention")
        }
    };
    let report = retention(format!("fd/{copy}")).await;
    assert_eq!(
        report.mode,
        Some(aws_sdk_s3::types::ObjectLockRetentionMode::Governance)
    );
    let until = report.retain_until_date.expect("a date").secs();
    let day = (before + chrono::Duration::days(1)).timestamp();
    assert!(
        (day - 5..day + 120).contains(&until),
        "retained one day (object-lock days = 1): {until} vs {day}"
    );
    let manifest = retention(format!("fd/{}", layout::manifest_key("s3t", &b.backup_id))).await;
    assert!(
        until >= manifest.retain_until_date.unwrap().secs(),
        "not shorter than the backup's"
    );
    let head = c
        .head_object()
        .bucket(&case.dr)
        .key(format!("fd/{copy}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        head.object_lock_mode(),
        Some(&aws_sdk_s3::types::ObjectLockMode::Governance)
    );
    // A locked report copy cannot be deleted.
    let dr = storage::open(spec.destination("dr").unwrap())
        .await
        .unwrap();
    let err = dr.store.delete(&copy).await.unwrap_err();
    assert!(
        err.message.contains("Object Lock retention"),
        "{}",
        err.render()
    );

    // The cited objects, hashed in the DR bucket.
    let path = case.spec_path(None, true);
    let out = firedrill_with_env(
        &["report", "verify", path.to_str().unwrap(), "--json"],
        &[
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["objects_checked"], 1, "{v}");
}

#[tokio::test]
async fn expired_leases_in_s3_are_taken_over_by_exactly_one_run() {
    let case = S3Case::new(false).await;
    let spec = case.spec(None, true);
    let dest = storage::open(spec.destination("primary").unwrap())
        .await
        .unwrap();
    // The store primitive: `If-Match` on the ETag that was read.
    let k = "s3t/.locks/cas.json";
    dest.store
        .put_lease(k, bytes::Bytes::from_static(b"old"))
        .await
        .unwrap();
    let swap = |to: &'static [u8]| {
        let d = dest.clone();
        async move {
            d.store
                .replace_if_unchanged(k, b"old", bytes::Bytes::from_static(to))
                .await
                .unwrap()
        }
    };
    assert!(swap(b"a").await);
    assert!(!swap(b"b").await, "the second swap from `old` must fail");
    assert_eq!(
        dest.store.get_bytes(k).await.unwrap().as_deref(),
        Some(&b"a"[..])
    );

    // A lease left by a run that died an hour ago; eight runs take it over at once.
    let dead = serde_json::json!({
        "operation": "backup", "holder": "deadhost:1",
        "acquired_at": "2026-01-01T00:00:00Z", "expires_at": "2026-01-01T00:15:00Z"
    });
    dest.store
        .put_lease(
            &storage::lease::key("s3t", "backup"),
            serde_json::to_vec(&dead).unwrap().into(),
        )
        .await
        .unwrap();
    let mut runs = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let d = dest.clone();
        runs.spawn(async move { storage::lease::acquire(&d, "s3t", "backup", None).await });
    }
    let mut won = Vec::new();
    while let Some(r) = runs.join_next().await {
        match r.unwrap() {
            Ok(lease) => won.push(lease),
            Err(e) => assert_eq!(e.kind, firedrill::ErrorKind::Busy, "{}", e.render()),
        }
    }
    assert_eq!(won.len(), 1, "exactly one run takes the expired lease over");
    assert_eq!(won[0].took_over.as_deref(), Some("deadhost:1"));
    won.pop().unwrap().release().await;
}

/// The drill's cost names the bytes read from the DR bucket as cross-region against the drill
/// host's region (`[cost] region`), and prices them with the spec's transfer price.
#[tokio::test]
async fn a_drill_from_another_region_is_priced_as_cross_region_transfer() {
    let case = S3Case::new(false).await;
    let spec = case.env.load_spec(
        &case
            .builder(None, false)
            .raw("[cost]\nregion = \"us-east-1\"\ncurrency = \"USD\"\ntransfer-per-gb = 0.02\n"),
    );
    let cancel = CancellationToken::new();
    let b = backup::run(&spec, &cancel)
        .await
        .unwrap_or_else(|e| panic!("{}", e.render()));
    assert!(b.complete(), "{:?}", b.replicas);
    let r = support::passed_drill(&spec, &DrillOptions::default())
        .await
        .report;
    let cost = r.cost.clone().expect("every drill report has a cost");
    let read = &cost.reads[0];
    assert_eq!(read.destination, "dr");
    assert_eq!(read.region.as_deref(), Some("eu-west-1"));
    assert_eq!(read.cross_region, Some(true));
    let stored: u64 = r
        .backup
        .as_ref()
        .unwrap()
        .objects
        .iter()
        .map(|o| o.size)
        .sum();
    assert_eq!(read.bytes, stored);
    let money = cost.money.clone().expect("prices give money");
    assert_eq!(money.currency, "USD");
    assert_eq!(money.items.len(), 1, "{money:?}");
    assert_eq!(
        money.items[0].amount,
        format!("{:.4}", stored as f64 / 1e9 * 0.02)
    );
    assert!(
        money.items[0].what.contains("cross-region read from dr"),
        "{money:?}"
    );
    let md = firedrill::report::render_markdown(&r);
    assert!(md.contains("## Cost") && md.contains("**Total: "), "{md}");
}
