//! Timelines of `latest` drills: the report names the one recovery followed and the one it
//! promoted to; a stray branch in the repository (a restored copy that archived into it) fails
//! the drill naming both timelines, whether it left only a history file or segments too.

use std::path::Path;

use crate::physical::{archive_now, PITR};
use crate::physical_support::PhysicalSource;
use crate::support::{firedrill, text, Env};

/// A table `t` with rows 1..3 before the backup and one after it (10), archived.
async fn backed_up_with_later_rows(src: &PhysicalSource, spec: &Path) {
    let c = src.with_table_t().await;
    let out = firedrill(&["backup", spec.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    c.batch_execute("insert into t values (10)").await.unwrap();
    archive_now(src).await;
}

/// The report names the timeline recovery followed and the one promoted to; a stray history
/// file in repo2 (timeline 2, branching off right after the backup, as a restored copy that
/// once archived into the repository leaves) sends a `latest` drill down that branch: it
/// fails (exit 1) naming the timeline it followed and the newest segment's.
#[tokio::test]
async fn a_latest_drill_down_a_stray_timeline_fails_naming_both() {
    let _one = PITR.lock().await;
    let src = PhysicalSource::start();
    let env = Env::new();
    let spec = env.write(&src.spec(&env, "branch").drill("from", "repo2").sql_check(
        "replayed",
        "select count(*) from t where n = 10",
        "== 1",
    ));
    backed_up_with_later_rows(&src, &spec).await;
    let spec = spec.to_str().unwrap();
    let out = firedrill(&["drill", spec, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let recovery = &v["report"]["scratch"]["recovery"];
    assert_eq!(recovery["recovered_timeline"], 1, "{v}");
    assert_eq!(recovery["timeline"], 2, "{v}");

    // Timeline 2 branches off at the first segment after the backup's last one.
    let stop = src.backup_stop_segment(2);
    let next = u64::from_str_radix(&stop[16..], 16).unwrap() + 1;
    let log = u64::from_str_radix(&stop[8..16], 16).unwrap();
    let switch = format!("{log:X}/{:X}", next << 20);
    let stray = src.owned_dir("stray").join("00000002.history");
    std::fs::write(
        &stray,
        format!("1\t{switch}\tno recovery target specified\n"),
    )
    .unwrap();
    src.pgbackrest(&["archive-push", stray.to_str().unwrap()]);
    let out = firedrill(&["drill", spec]);
    let msg = text(&out);
    assert_eq!(out.status.code(), Some(1), "{msg}");
    assert!(
        msg.contains("recovery from repo2 followed timeline 2") && msg.contains("is on timeline 1"),
        "{msg}"
    );
    assert!(msg.contains("00000002.history"), "{msg}");
    env.assert_no_leftovers();
}

/// A restored copy that promoted (timeline 2), wrote and switched WAL, and archived its
/// history file and a whole segment into the repository: its segment is now the newest one
/// the repository lists, so a `latest` drill follows timeline 2 to that segment's end, and
/// only the source (still on timeline 1) tells it apart. The drill fails (exit 1) naming both.
#[tokio::test]
async fn a_latest_drill_down_a_stray_branch_with_segments_fails_naming_the_sources_timeline() {
    let _one = PITR.lock().await;
    let src = PhysicalSource::start();
    let env = Env::new();
    let spec = env.write(&src.spec(&env, "copy").drill("from", "repo2").sql_check(
        "replayed",
        "select count(*) from t where n = 10",
        "== 1",
    ));
    backed_up_with_later_rows(&src, &spec).await;
    let spec = spec.to_str().unwrap();

    // The copy: a kept drill's cluster, promoted on timeline 2, writes and switches WAL.
    let out = firedrill(&["drill", spec, "--keep", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["report"]["scratch"]["recovery"]["timeline"], 2, "{v}");
    let data = Path::new(v["report"]["scratch"]["location"].as_str().unwrap()).join("data");
    let pid = std::fs::read_to_string(data.join("postmaster.pid")).unwrap();
    let port = pid.lines().nth(3).unwrap().trim();
    let (copy, conn) = tokio_postgres::connect(
        &format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        tokio_postgres::NoTls,
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    copy.batch_execute("insert into t values (99)")
        .await
        .unwrap();
    let segment: String = copy
        .query_one("select pg_walfile_name(pg_switch_wal())", &[])
        .await
        .unwrap()
        .get(0);
    assert!(segment.starts_with("00000002"), "{segment}");
    let stray = src.owned_dir("stray");
    for file in ["00000002.history", segment.as_str()] {
        let out = src
            .command(
                "cp",
                &[
                    data.join("pg_wal").join(file).to_str().unwrap(),
                    stray.to_str().unwrap(),
                ],
            )
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        src.pgbackrest(&["archive-push", stray.join(file).to_str().unwrap()]);
    }
    let out = firedrill(&["cleanup", spec]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let out = firedrill(&["drill", spec]);
    let msg = text(&out);
    assert_eq!(out.status.code(), Some(1), "{msg}");
    assert!(
        msg.contains("recovery from repo2 followed timeline 2, but the source runs on timeline 1"),
        "{msg}"
    );
    env.assert_no_leftovers();
}
