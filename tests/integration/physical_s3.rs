//! A pgBackRest repository on S3 (LocalStack, `localstack/up.sh`) in another region than the
//! posix repo1, encrypted, its S3 key, secret and cipher passphrase given only as
//! `PGBACKREST_REPO2_*` environment variables: `check`, `backup`, `list` and drills from it
//! (restore and WAL replay from the bucket, as the scratch cluster's OS user) work; the drill
//! leaves the bucket as it was and writes no secret anywhere; what cannot read the bucket is
//! named (exit 2), a segment missing from it fails the drill naming the segment (exit 1).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::physical::{archive_now, PITR};
use crate::physical_s3_refusal::Refusing;
use crate::physical_s3_repo::{S3_PATH, S3_SECRET_VAR};
use crate::physical_support::{PhysicalSource, CIPHER_PASS_VAR};
use crate::support::{firedrill_with_env, text, Env};

const PASS: &str = "s3-cipher-passphrase-7f3a9c";

/// The source with rows 1..3 backed up (one backup per repository) and row 10 archived after;
/// the time is taken after row 10's commit, two seconds before its segment was archived.
async fn backed_up(env: &Env, name: &str) -> (PhysicalSource, PathBuf, DateTime<Utc>) {
    let src = PhysicalSource::start_s3(PASS).await;
    let spec = env.write(&src.spec(env, name).drill("from", "repo2").sql_check(
        "replayed",
        "select count(*) from t where n = 10",
        "== 1",
    ));
    let c = src.with_table_t().await;
    let secrets = src.secret_env();
    let out = firedrill_with_env(&["backup", spec.to_str().unwrap()], &pairs(&secrets));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let repos: Vec<u64> = src.backups().iter().map(|b| b.0).collect();
    assert_eq!(repos, [1, 2], "one backup per repository");
    c.batch_execute("insert into t values (10)").await.unwrap();
    let committed = Utc::now();
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    archive_now(&src).await;
    (src, spec, committed)
}

/// The secret variables as `firedrill_with_env` takes them.
fn pairs<'a>(vars: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    vars.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// `check` names the S3 repository's status; a `latest` drill from it replays the archive
/// from the bucket (`--repo=2` in the restore_command), as does a `--random-within` drill; a
/// time after the last commit the bucket holds is refused saying the window; the bucket's
/// objects are the same before and after; no secret is in firedrill's output, the reports,
/// the spec, or any file of the kept scratch cluster.
#[tokio::test]
async fn an_encrypted_s3_repository_in_another_region_is_drilled() {
    let _one = PITR.lock().await;
    let env = Env::new();
    let (src, spec, committed) = backed_up(&env, "cloud").await;
    let spec = spec.to_str().unwrap();
    let secrets = src.secret_env();
    let vars = pairs(&secrets);
    let mut said = String::new();

    let out = firedrill_with_env(&["check", spec], &vars);
    said.push_str(&text(&out));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let line = text(&out)
        .lines()
        .find(|l| l.contains("repository repo2:"))
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no repo2 in:\n{}", text(&out)));
    assert!(
        line.starts_with("ok   repository repo2: ok, 1 backup(s), WAL 0000"),
        "{line}"
    );

    let out = firedrill_with_env(&["list", spec], &vars);
    said.push_str(&text(&out));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let (_, label, _) = src.backups().into_iter().find(|b| b.0 == 2).unwrap();
    assert!(
        text(&out).contains(&format!("repo2:{label}")),
        "{}",
        text(&out)
    );

    let before = src.s3.as_ref().unwrap().listing().await;
    assert!(
        before
            .iter()
            .any(|(k, _, _)| k.starts_with(&format!("{}/archive/main/", &S3_PATH[1..]))),
        "no WAL in the bucket: {before:?}"
    );
    let out = firedrill_with_env(&["drill", spec, "--keep", "--json"], &vars);
    said.push_str(&text(&out));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    let recovery = &v["report"]["scratch"]["recovery"];
    assert_eq!(recovery["repository"], "repo2", "{v}");
    assert_eq!(recovery["label"], label.as_str(), "{v}");
    let scratch = PathBuf::from(v["report"]["scratch"]["location"].as_str().unwrap());
    let auto = std::fs::read_to_string(scratch.join("data/postgresql.auto.conf")).unwrap();
    let restore_command = auto
        .lines()
        .find(|l| l.starts_with("restore_command"))
        .unwrap_or_else(|| panic!("no restore_command in:\n{auto}"));
    assert!(restore_command.contains("--repo=2"), "{restore_command}");
    for (var, secret) in &vars {
        let found = files_containing(&scratch, secret);
        assert!(found.is_empty(), "{var}'s value is written in {found:?}");
    }
    let out = firedrill_with_env(&["cleanup", spec], &vars);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    env.assert_no_leftovers();

    // A random time may fall before row 10: this spec checks the backed-up rows only.
    let dice = env.write(&src.spec(&env, "dice").drill("from", "repo2").sql_check(
        "rows",
        "select count(*) from t",
        ">= 3",
    ));
    let out = firedrill_with_env(
        &[
            "drill",
            dice.to_str().unwrap(),
            "--random-within",
            "7d",
            "--seed",
            "7",
            "--json",
        ],
        &vars,
    );
    said.push_str(&text(&out));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    let recovery = &v["report"]["scratch"]["recovery"];
    assert_eq!(recovery["repository"], "repo2", "{v}");
    assert_eq!(recovery["target"], "time", "{v}");
    assert_eq!(recovery["chosen"], "random within 7days, seed 7", "{v}");
    env.assert_no_leftovers();

    // The window ends at the last commit in the bucket's newest segment (read through
    // pgBackRest), not when the source archived it: a time in between is refused.
    let late = committed + chrono::Duration::seconds(1);
    let out = firedrill_with_env(&["drill", spec, "--target-time", &late.to_rfc3339()], &vars);
    said.push_str(&text(&out));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("is after the end of repo2's WAL archive"),
        "{}",
        text(&out)
    );
    env.assert_no_leftovers();

    assert_eq!(
        src.s3.as_ref().unwrap().listing().await,
        before,
        "a drill changed the bucket"
    );
    for (var, secret) in &vars {
        assert!(!said.contains(secret), "firedrill printed {var}'s value");
        let found = files_containing(env.path(), secret);
        assert!(found.is_empty(), "{var}'s value is written in {found:?}");
    }
}

/// What keeps a drill from reading the bucket is named with repo2 and the fix (exit 2), never
/// taken for the end of the archive: a wrong passphrase, a bucket that refuses the
/// credentials (HTTP 403, as S3 answers a wrong secret: LocalStack accepts any secret, so a
/// refusing endpoint stands in for it), a missing S3 secret (also by `check`). A WAL segment
/// missing from the bucket fails a `latest` drill naming it (exit 1).
#[tokio::test]
async fn an_s3_repository_that_cannot_be_read_is_named() {
    let _one = PITR.lock().await;
    let env = Env::new();
    let (src, spec, _) = backed_up(&env, "clouded").await;
    let spec = spec.to_str().unwrap();
    let secrets = src.secret_env();
    let good = pairs(&secrets);
    let with = |var: &str, value: &'static str| -> Vec<(&'static str, &str)> {
        good.iter()
            .map(|(k, v)| (*k, if *k == var { value } else { *v }))
            .collect()
    };

    let wrong = "not-the-s3-passphrase-0815";
    let out = firedrill_with_env(&["drill", spec], &with(CIPHER_PASS_VAR, wrong));
    let msg = text(&out);
    assert_eq!(out.status.code(), Some(2), "{msg}");
    assert!(msg.contains("pgBackRest cannot read repo2"), "{msg}");
    assert!(
        msg.contains(CIPHER_PASS_VAR),
        "the fix is not named:\n{msg}"
    );
    assert!(!msg.contains("end of"), "{msg}");
    assert!(!msg.contains(wrong) && !msg.contains(PASS), "{msg}");
    env.assert_no_leftovers();

    // A bucket that refuses the request's signature (HTTP 403), as S3 answers a wrong secret.
    let refusing = Refusing::start();
    let conf: String = std::fs::read_to_string(src.config())
        .unwrap()
        .lines()
        .map(|l| match l.starts_with("repo2-storage-port=") {
            true => format!("repo2-storage-port={}\n", refusing.port),
            false => format!("{l}\n"),
        })
        .collect();
    let conf_path = env.path().join("refused.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let refused = env.write(
        &src.spec(&env, "refused")
            .source("config", conf_path.display().to_string())
            .drill("from", "repo2"),
    );
    let out = firedrill_with_env(&["drill", refused.to_str().unwrap()], &good);
    let msg = text(&out);
    assert_eq!(out.status.code(), Some(2), "{msg}");
    assert!(
        msg.contains("pgBackRest cannot read repo2")
            && msg.contains("HTTP request failed with 403"),
        "{msg}"
    );
    assert!(
        msg.contains(S3_SECRET_VAR) && msg.contains("s3:GetObject"),
        "the fix is not named:\n{msg}"
    );
    assert!(!msg.contains("end of"), "{msg}");
    for (var, secret) in &good {
        assert!(
            !msg.contains(secret),
            "firedrill printed {var}'s value:\n{msg}"
        );
    }
    env.assert_no_leftovers();

    let out = firedrill_with_env(&["drill", spec], &with(S3_SECRET_VAR, ""));
    let msg = text(&out);
    assert_eq!(out.status.code(), Some(2), "{msg}");
    assert!(msg.contains("repo2-s3-key-secret"), "{msg}");
    assert!(msg.contains(S3_SECRET_VAR), "the fix is not named:\n{msg}");
    env.assert_no_leftovers();
    let out = firedrill_with_env(&["check", spec], &with(S3_SECRET_VAR, ""));
    let msg = text(&out);
    assert_eq!(out.status.code(), Some(2), "{msg}");
    assert!(
        msg.contains("FAIL stanza main") && msg.contains(S3_SECRET_VAR),
        "{msg}"
    );
    for (var, secret) in &good {
        assert!(
            !msg.contains(secret),
            "firedrill printed {var}'s value:\n{msg}"
        );
    }

    // A hole in the bucket's archive after the backup.
    let c = src.client().await;
    c.batch_execute("insert into t values (20)").await.unwrap();
    archive_now(&src).await;
    let stop = src.backup_stop_segment(2);
    let s3 = src.s3.as_ref().unwrap();
    let after: Vec<String> = s3
        .listing()
        .await
        .into_iter()
        .map(|(k, _, _)| k)
        .filter(|k| segment_of(k).is_some_and(|s| s > stop.as_str()))
        .collect();
    assert!(after.len() >= 2, "no two segments after {stop}: {after:?}");
    let missing = segment_of(&after[0]).unwrap().to_string();
    s3.remove(&after[0]).await;
    let out = firedrill_with_env(&["drill", spec], &good);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("WAL segment {missing} could not be replayed")),
        "{missing} not named in:\n{}",
        text(&out)
    );
    env.assert_no_leftovers();
}

/// The segment name of an archived WAL object (`.../000000010000000000000005-<sha1>.gz`).
fn segment_of(key: &str) -> Option<&str> {
    let name = key.rsplit('/').next()?;
    (key.contains("/archive/")
        && name.len() > 24
        && name[..24].bytes().all(|b| b.is_ascii_hexdigit()))
    .then(|| &name[..24])
}

/// Files below `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    crate::support::files_below(dir)
        .into_iter()
        .filter(|p| {
            std::fs::read(p).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
        })
        .collect()
}
