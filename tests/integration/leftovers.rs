//! A drill leaves nothing behind and is not held up by what it finds: objects that are not
//! regular files, a killed drill's decrypted data, a running drill's scratch database,
//! multipart uploads of a killed backup.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use crate::spawned::Spawned;
use crate::support::{admin_value, databases_named_like, firedrill, text, Env, SourceDb, PG};

/// Runs the firedrill binary with `args`, killed and failed after `limit`: a run that hangs
/// fails the test instead of hanging it.
async fn firedrill_within(limit: Duration, args: &[&str]) -> Output {
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_firedrill"))
        .args(args)
        .env("FIREDRILL_LOG", "info")
        .env_remove("FIREDRILL_IDENTITY")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    match tokio::time::timeout(limit, run).await {
        Ok(out) => out.expect("the firedrill binary runs"),
        Err(_) => panic!(
            "`firedrill {}` did not end within {limit:?}",
            args.join(" ")
        ),
    }
}

/// Runs `firedrill cleanup SPEC` when dropped, so a test that fails (a drill killed at its
/// deadline) leaves no scratch target running. Declare it after the [`Env`].
struct CleanupOnDrop(PathBuf);

impl Drop for CleanupOnDrop {
    fn drop(&mut self) {
        let _ = firedrill(&["cleanup", self.0.to_str().unwrap()]);
    }
}

/// A spec `name` of `db` in `env`, backed up once: its path and the backup id.
fn backed_up(env: &Env, name: &str, db: &SourceDb) -> (PathBuf, String) {
    let spec = env.write(&env.spec(name, &db.url()));
    let out = firedrill(&["backup", spec.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (spec, v["backup_id"].as_str().unwrap().to_string())
}

/// The data object of backup `id` of `name` in destination `dest`.
fn data_object(env: &Env, dest: &str, name: &str, id: &str) -> PathBuf {
    env.dest(dest).join(name).join(id).join("data.dump.zst.age")
}

/// A drill from `dr` whose object is `what` ends at once with exit 1, naming the object and
/// the destination as an unrestorable copy, and leaves no scratch behind.
async fn drill_refuses(env: &Env, spec: &Path, what: &str) {
    let out = firedrill_within(Duration::from_secs(60), &["drill", spec.to_str().unwrap()]).await;
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{what}: {all}");
    assert!(
        all.contains("data.dump.zst.age") && all.contains("`dr`"),
        "names the object and the destination: {all}"
    );
    assert!(
        all.contains(&format!("{what}, not a regular file"))
            && all.contains("cannot be restored from this copy"),
        "{all}"
    );
    env.assert_no_leftovers();
}

#[tokio::test]
async fn an_object_that_is_a_fifo_or_a_link_fails_the_drill_at_once() {
    let db = SourceDb::create("create table t (id int); insert into t values (1), (2);").await;
    let env = Env::new();
    let (spec, id) = backed_up(&env, "fifo", &db);
    let _cleanup = CleanupOnDrop(spec.clone());
    let object = data_object(&env, "dr", "fifo", &id);

    // A FIFO with no writer: reading it would wait forever.
    std::fs::remove_file(&object).unwrap();
    nix::unistd::mkfifo(
        &object,
        nix::sys::stat::Mode::S_IRUSR | nix::sys::stat::Mode::S_IWUSR,
    )
    .unwrap();
    drill_refuses(&env, &spec, "a FIFO").await;

    // A link, even to the very bytes of the backup, is not an object the backup wrote.
    std::fs::remove_file(&object).unwrap();
    std::os::unix::fs::symlink(data_object(&env, "primary", "fifo", &id), &object).unwrap();
    drill_refuses(&env, &spec, "a symbolic link").await;

    // The intact copy still restores.
    let out = firedrill(&["drill", spec.to_str().unwrap(), "--from", "primary"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

/// A spec `name` of `db` restoring into databases named `prefix...` on the test server, with
/// one sql check `slow` (which must give 1), backed up once: its path.
fn server_scratch_spec(env: &Env, name: &str, db: &SourceDb, prefix: &str, slow: &str) -> PathBuf {
    let spec = env.write(
        &env.spec(name, &db.url())
            .scratch_server(&format!("{PG}/postgres"), prefix)
            .sql_check("slow", slow, "== 1"),
    );
    let out = firedrill(&["backup", spec.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    spec
}

/// Polls `done` every 50 ms until it holds, failing after `limit` or when `child` ends.
async fn wait_for(
    what: &str,
    child: &mut Spawned,
    limit: Duration,
    mut done: impl FnMut() -> bool,
) {
    let deadline = std::time::Instant::now() + limit;
    while !done() {
        assert!(
            child.exited().is_none(),
            "the drill ended before {what}:\n{}",
            child.output()
        );
        assert!(
            std::time::Instant::now() < deadline,
            "no {what} after {limit:?}:\n{}",
            child.output()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn cleanup_leaves_the_scratch_database_of_a_running_drill_alone() {
    let db = SourceDb::with_rows(50).await;
    let env = Env::new();
    let prefix = format!("fdlive{}_", firedrill::catalog::layout::random_hex(2));
    let spec = server_scratch_spec(&env, "live", &db, &prefix, "select 1 from pg_sleep(8)");
    let _cleanup = CleanupOnDrop(spec.clone());
    let spec = spec.to_str().unwrap();

    let mut drill = Spawned::start(&["drill", spec], env.path());
    let scratch = format!("{prefix}live_");
    wait_for(
        "check running in the scratch database",
        &mut drill,
        Duration::from_secs(90),
        || {
            admin_value(&format!(
                "select count(*) from pg_stat_activity where starts_with(datname, '{scratch}') \
             and query like '%pg_sleep%' and pid <> pg_backend_pid()"
            )) != "0"
        },
    )
    .await;

    let out = firedrill(&["cleanup", spec]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("in use by a running drill"), "{said}");
    assert_eq!(databases_named_like(&prefix).await, 1, "{said}");

    let status = drill.wait(Duration::from_secs(120));
    assert_eq!(status.code(), Some(0), "{}", drill.output());
    assert_eq!(
        databases_named_like(&prefix).await,
        0,
        "the drill dropped it"
    );
}

/// Pids of the `pg_restore` processes restoring into a database (not `--version` or
/// `--list`) whose parent is `parent`.
fn pg_restores_of(parent: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid ...`
        let Some((comm, rest)) = stat.split_once(") ") else {
            continue;
        };
        let ppid = rest.split_whitespace().nth(1).and_then(|p| p.parse().ok());
        let restoring = std::fs::read(e.path().join("cmdline"))
            .is_ok_and(|c| String::from_utf8_lossy(&c).contains("--dbname="));
        if comm.ends_with("(pg_restore") && ppid == Some(parent) && restoring {
            out.push(pid);
        }
    }
    out
}

/// Every file below `dir` with whether it holds `needle`.
fn files_below(dir: &Path, needle: &[u8]) -> Vec<(PathBuf, bool)> {
    crate::support::files_below(dir)
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_default();
            let holds = bytes.windows(needle.len()).any(|w| w == needle);
            (p, holds)
        })
        .collect()
}

#[tokio::test]
async fn a_drill_killed_during_its_restore_leaves_no_decrypted_data_on_disk() {
    let canary = format!("plaintext-{}", firedrill::catalog::layout::random_hex(6));
    let db = SourceDb::create(&format!(
        "create table t (id int primary key, v text); \
         insert into t select g, '{canary}' || g from generate_series(1, 400000) g;"
    ))
    .await;
    let env = Env::new();
    let prefix = format!("fdkill{}_", firedrill::catalog::layout::random_hex(2));
    let spec = server_scratch_spec(&env, "kill", &db, &prefix, "select 1");
    let _cleanup = CleanupOnDrop(spec.clone());
    let spec = spec.to_str().unwrap();

    let mut drill = Spawned::start(&["drill", spec], env.path());
    let pid = drill.child.id();
    wait_for(
        "pg_restore restoring",
        &mut drill,
        Duration::from_secs(120),
        || !pg_restores_of(pid).is_empty(),
    )
    .await;
    drill.child.kill().unwrap();
    drill.child.wait().unwrap();

    let left = files_below(&env.work(), canary.as_bytes());
    assert!(
        left.is_empty(),
        "files left in the work dir by the killed drill (path, holds plaintext): {left:?}"
    );

    // Its scratch database is no longer in use: `cleanup` removes it.
    let out = firedrill(&["cleanup", spec]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(databases_named_like(&prefix).await, 0, "{}", text(&out));
}

/// Starts a multipart upload of `key` in `bucket` (us-east-1) with one part, never completed.
async fn unfinished_upload(bucket: &str, key: &str) {
    let c = crate::s3::client("us-east-1").await;
    let id = c
        .create_multipart_upload()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_string();
    c.upload_part()
        .bucket(bucket)
        .key(key)
        .upload_id(&id)
        .part_number(1)
        .body(aws_sdk_s3::primitives::ByteStream::from_static(
            b"parts of a killed backup",
        ))
        .send()
        .await
        .unwrap();
}

/// Keys of the unfinished multipart uploads in `bucket`, sorted.
async fn uploads_in(bucket: &str) -> Vec<String> {
    let out = crate::s3::client("us-east-1")
        .await
        .list_multipart_uploads()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let mut keys: Vec<String> = out
        .uploads()
        .iter()
        .filter_map(|u| u.key().map(str::to_string))
        .collect();
    keys.sort();
    keys
}

/// `prune --json` of `spec`, which must exit 0: the aborted uploads of its one destination.
fn pruned_uploads(spec: &Path) -> Vec<String> {
    let out = firedrill(&["prune", spec.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v[0]["aborted_uploads"]
        .as_array()
        .unwrap_or_else(|| panic!("aborted_uploads in {v:#}"))
        .iter()
        .map(|u| u.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn unfinished_uploads_of_killed_backups_are_aborted_by_prune_and_backup() {
    crate::s3::aws_env();
    let db = SourceDb::with_rows(10).await;
    let env = Env::new();
    let bucket = crate::s3::bucket("us-east-1", false).await;
    let spec_with_grace = |grace: &str| {
        env.write(
            &firedrill::testing::SpecBuilder::new("upl")
                .source_url(&db.url())
                .recipients(&[&env.recipient])
                .destination("primary", &format!("s3://{bucket}/fd"))
                .with("region", "us-east-1")
                .with("endpoint", crate::s3::endpoint().as_str())
                .drill("identity-file", env.key().display().to_string())
                .drill("reports", env.reports().display().to_string())
                .drill("work-dir", env.work().display().to_string())
                .set("backup.retention", "keep-last", 1)
                .set("backup.retention", "orphan-grace", grace),
        )
    };
    let ours = "fd/upl/20261201T000000Z-abcdef/data.dump.zst.age";
    // Another prefix of the bucket, and another spec whose name starts like this one's.
    let others = [
        "elsewhere/upl/x.age",
        "fd/upl2/20261201T000000Z-abcdef/data.age",
    ];
    for key in [ours, others[0], others[1]] {
        unfinished_upload(&bucket, key).await;
    }
    let all: Vec<String> = {
        let mut v = vec![ours.to_string(), others[0].into(), others[1].into()];
        v.sort();
        v
    };

    // Younger than the grace: a backup may still be writing it.
    let spec = spec_with_grace("1h");
    assert!(pruned_uploads(&spec).is_empty());
    assert_eq!(uploads_in(&bucket).await, all);

    // Past the grace, but a backup of the spec holds its lease: left alone.
    let spec = spec_with_grace("0s");
    let primary = firedrill::storage::open(env.load(&spec).destination("primary").unwrap())
        .await
        .unwrap();
    let lease = firedrill::storage::lease::acquire(&primary, "upl", "backup", None)
        .await
        .unwrap();
    assert!(pruned_uploads(&spec).is_empty());
    assert_eq!(uploads_in(&bucket).await, all);
    lease.release().await;

    // Past the grace, no backup running: only this spec's upload is aborted, and reported.
    let aborted = pruned_uploads(&spec);
    assert_eq!(aborted.len(), 1, "{aborted:?}");
    assert!(
        aborted[0].starts_with("upl/20261201T000000Z-abcdef/data.dump.zst.age (started "),
        "{aborted:?}"
    );
    assert_eq!(uploads_in(&bucket).await, others);

    // The next backup aborts one too.
    unfinished_upload(&bucket, ours).await;
    let out = firedrill(&["backup", spec.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(uploads_in(&bucket).await, others, "{}", text(&out));
}
