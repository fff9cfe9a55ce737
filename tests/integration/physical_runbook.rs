//! The runbook of a physical drill: its without-firedrill script, run with pgbackrest and
//! PostgreSQL's own tools only, recovers a new cluster from the drill's repository with the
//! rows written after the backup.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use crate::physical::{archive_now, PITR};
use crate::physical_support::{PhysicalSource, BIN};
use crate::support::{firedrill, free_port, text, Env};

/// Stops the recovered cluster, also when the test fails half-way.
struct Stop<'a>(&'a PhysicalSource, PathBuf);

impl Drop for Stop<'_> {
    fn drop(&mut self) {
        let data = self.1.display().to_string();
        let _ = self
            .0
            .command(
                &format!("{BIN}/pg_ctl"),
                &["-D", &data, "-m", "immediate", "-w", "stop"],
            )
            .output();
    }
}

#[tokio::test]
async fn the_script_of_a_physical_drill_recovers_a_cluster_without_firedrill() {
    let _one = PITR.lock().await;
    let src = PhysicalSource::start();
    let env = Env::new();
    let c = src.with_table_t().await;
    let spec = env.write(&src.spec(&env, "book").drill("from", "repo2").sql_check(
        "rows",
        "select count(*) from t",
        ">= 2",
    ));
    let spec = spec.to_str().unwrap();
    let out = firedrill(&["backup", spec]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    c.batch_execute("insert into t values (10)").await.unwrap();
    archive_now(&src).await;
    let out = firedrill(&["drill", spec]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let out = firedrill(&["runbook", spec, "--script"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let script = String::from_utf8(out.stdout).unwrap();
    assert!(script.contains(" --repo=2 "), "{script}");
    let path = src.path().join("restore.sh");
    std::fs::write(&path, &script).unwrap();

    let target = src.owned_dir("recovered");
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o700)).unwrap();
    let sock = src.owned_dir("sock");
    let port = free_port().to_string();
    let _stop = Stop(&src, target.clone());
    // The recovery's own port and socket, and no archiving from it (a test must not write to
    // the repository; a real recovery keeps the cluster's archive_command).
    let options = format!(
        "-p {port} -c listen_addresses='' -c unix_socket_directories={} -c archive_mode=off",
        sock.display()
    );
    let out = src
        .command("bash", &[path.to_str().unwrap()])
        .env("PGDATA_NEW", &target)
        .env("PG_BIN", BIN)
        .env("PG_CTL_OPTIONS", &options)
        .env("PGHOST", &sock)
        .env("PGPORT", &port)
        .env("PGUSER", "postgres")
        .env("WAIT_SECONDS", "120")
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{said}");
    assert!(said.contains("recovered and promoted"), "{said}");
    let out = src
        .command(
            &format!("{BIN}/psql"),
            &[
                "-XAtqc",
                "select count(*) from t where n in (1, 2, 10)",
                "postgres",
            ],
        )
        .env("PGHOST", &sock)
        .env("PGPORT", &port)
        .env("PGUSER", "postgres")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "3", "{out:?}");
    env.assert_no_leftovers();
}
