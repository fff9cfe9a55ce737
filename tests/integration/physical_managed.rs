//! A pgBackRest configuration firedrill manages: the spec names the cluster's data directory,
//! two repositories (repo2 encrypted, its passphrase only in the environment) and a few global
//! options; firedrill writes `source.config` from them, creates the stanza at the first backup,
//! and drills from repo2 through the same file. The file holds no secret; a missing secret,
//! an archive_command that does not name the file, and a file firedrill did not write are
//! each refused naming the fix.

use crate::physical::{archive_now, PITR};
use crate::physical_support::{PhysicalSource, CIPHER_PASS_VAR};
use crate::support::{firedrill, firedrill_with_env, text, Env};

const PASS: &str = "managed-cipher-passphrase-51c2e0";

#[tokio::test]
async fn firedrill_writes_the_configuration_creates_the_stanza_and_drills_through_it() {
    let _one = PITR.lock().await;
    let env = Env::new();
    let src = PhysicalSource::start_managed(PASS);
    let spec = env.write(
        &src.managed_spec(&env, "managed")
            .drill("from", "repo2")
            .sql_check("replayed", "select count(*) from t where n = 10", "== 1"),
    );
    let spec = spec.to_str().unwrap();
    let secrets = [(CIPHER_PASS_VAR, PASS)];
    let c = src.with_table_t().await;
    assert!(!src.config().exists());

    // Without the passphrase: refused naming the variable; the file is written anyway.
    let out = firedrill(&["check", spec]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("FAIL configuration: PGBACKREST_REPO2_CIPHER_PASS is not set in firedrill's environment"),
        "{}",
        text(&out)
    );
    let written = std::fs::read_to_string(src.config()).unwrap();
    assert!(written.starts_with("# Written by firedrill"), "{written}");
    let p = src.path().display();
    for line in [
        format!("repo1-path={p}/repo1\n"),
        format!("repo2-path={p}/repo2\nrepo2-retention-full=99\nrepo2-cipher-type=aes-256-cbc\n"),
        "start-fast=y\n".to_string(),
        format!(
            "[main]\npg1-path={p}/pg\npg1-port={}\npg1-socket-path={p}\n",
            src.port
        ),
    ] {
        assert!(written.contains(&line), "{line:?} not in\n{written}");
    }
    assert!(!written.contains(PASS), "{written}");

    // With it: the stanza does not exist yet, and the fix says the first backup creates it.
    let out = firedrill_with_env(&["check", spec], &secrets);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("ok   configuration: `")
            && text(&out).contains("up to date (managed by firedrill)"),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains("firedrill backup SPEC"),
        "{}",
        text(&out)
    );

    let out = firedrill_with_env(&["backup", spec], &secrets);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let repos: Vec<u64> = src.backups().iter().map(|b| b.0).collect();
    assert_eq!(repos, [1, 2], "one backup per repository");
    c.batch_execute("insert into t values (10)").await.unwrap();
    archive_now(&src).await;

    let out = firedrill_with_env(&["check", spec], &secrets);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = firedrill_with_env(&["drill", spec], &secrets);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let said = format!(
        "{}{}",
        text(&out),
        crate::support::all_text_below(&env.reports())
    );
    assert!(said.contains("repo2"), "{said}");
    assert!(!said.contains(PASS), "a secret in the output or a report");

    // An archive_command that does not name the file: the fix gives the exact command.
    src.set_archive_command("pgbackrest --stanza=main archive-push %p")
        .await;
    let out = firedrill_with_env(&["check", spec], &secrets);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let expected = format!(
        "archive_command = 'pgbackrest --config={} --stanza=main archive-push %p'",
        src.config().display()
    );
    assert!(text(&out).contains(&expected), "{}", text(&out));

    // A file firedrill did not write is never overwritten.
    let foreign = "[global]\nrepo1-path=/somewhere/else\n";
    std::fs::write(src.config(), foreign).unwrap();
    let out = firedrill_with_env(&["check", spec], &secrets);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("exists and firedrill did not write it"),
        "{}",
        text(&out)
    );
    assert_eq!(std::fs::read_to_string(src.config()).unwrap(), foreign);
    env.assert_no_leftovers();
}

/// repo2 an encrypted S3 bucket in another region (LocalStack), named in the spec: the file
/// firedrill writes carries the bucket, region, endpoint and port and none of the key,
/// secret or passphrase (environment only); backup writes both repositories, a `latest`
/// drill from the bucket replays the archive and leaves the bucket as it was.
#[tokio::test]
async fn an_s3_repository_named_in_the_spec_is_backed_up_and_drilled() {
    let _one = PITR.lock().await;
    let env = Env::new();
    let src = PhysicalSource::start_managed_s3(PASS).await;
    let spec = env.write(
        &src.managed_spec(&env, "managed-s3")
            .drill("from", "repo2")
            .sql_check("replayed", "select count(*) from t where n = 10", "== 1"),
    );
    let spec = spec.to_str().unwrap();
    let secrets = src.secret_env();
    let vars: Vec<(&str, &str)> = secrets.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let c = src.with_table_t().await;

    let out = firedrill_with_env(&["backup", spec], &vars);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let repos: Vec<u64> = src.backups().iter().map(|b| b.0).collect();
    assert_eq!(repos, [1, 2], "one backup per repository");
    let written = std::fs::read_to_string(src.config()).unwrap();
    let s3 = src.s3.as_ref().unwrap();
    assert!(
        written.contains(&format!("repo2-type=s3\nrepo2-path=/pgbackrest\nrepo2-s3-bucket={}\nrepo2-s3-region=eu-central-1\n", s3.bucket))
            && written.contains("repo2-storage-port=")
            && written.contains("repo2-storage-verify-tls=n\n"),
        "{written}"
    );
    for (_, secret) in &secrets {
        assert!(!written.contains(secret.as_str()), "a secret in\n{written}");
    }
    c.batch_execute("insert into t values (10)").await.unwrap();
    archive_now(&src).await;

    let before = s3.listing().await;
    let out = firedrill_with_env(&["drill", spec], &vars);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(s3.listing().await, before, "the drill wrote to the bucket");
    let said = format!(
        "{}{}",
        text(&out),
        crate::support::all_text_below(&env.reports())
    );
    for (_, secret) in &secrets {
        assert!(
            !said.contains(secret.as_str()),
            "a secret in the output or a report"
        );
    }
    env.assert_no_leftovers();
}
