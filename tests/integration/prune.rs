//! Retention over a synthetic 400-day history in a real folder destination: exactly the GFS
//! sets stay, plus the newest drill-verified one and the one a running drill uses; incomplete
//! sets are swept after the grace period; a dry run deletes nothing.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use firedrill::catalog::layout;
use firedrill::catalog::{self, retention::Retention};
use firedrill::storage::{FileStore, ObjectStore};
use firedrill::testing::{folder_destination, SetBuilder};

use crate::support;

/// A complete set of `hist` taken at `at` (four bytes of data); returns its id.
async fn put_set(store: &FileStore, at: DateTime<Utc>) -> String {
    SetBuilder::new("hist", at)
        .object(layout::DATA_OBJECT, "data")
        .write(store)
        .await
        .unwrap()
        .backup_id
}

/// The data of a set started at `at` without its manifest (a killed backup); returns its id.
async fn put_orphan(store: &FileStore, at: DateTime<Utc>) -> String {
    let set = SetBuilder::new("hist", at).object(layout::DATA_OBJECT, "part");
    set.write_objects(store).await.unwrap();
    set.backup_id().to_string()
}

#[tokio::test]
async fn prune_keeps_the_gfs_sets_the_verified_one_and_the_one_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let (dest, store) = folder_destination("primary", dir.path());
    let now = Utc::now();
    let mut ids = Vec::new();
    for d in (0..400).rev() {
        let at = now - chrono::Duration::days(d) - chrono::Duration::hours(1);
        let id = put_set(&store, at).await;
        ids.push((id, at));
    }
    // Day 200 passed a drill, everything newer only failed: it is the newest verified set.
    use chrono::Datelike;
    // Days that are not the last backup of their month (monthly retention keeps those).
    let mid_month = |i: usize| {
        (i..)
            .find(|&j| ids[j].1.month() == ids[j + 1].1.month())
            .unwrap()
    };
    let verified = ids[mid_month(200)].0.clone();
    store
        .put_bytes(
            &format!("hist/{verified}/drills/r.json"),
            r#"{"verdict":"passed"}"#.into(),
        )
        .await
        .unwrap();
    store
        .put_bytes(
            &format!("hist/{}/drills/r.json", ids[300].0),
            r#"{"verdict":"failed"}"#.into(),
        )
        .await
        .unwrap();
    // A drill is restoring day 100 right now.
    let in_use = ids[mid_month(100)].0.clone();
    let lease = firedrill::storage::lease::acquire(&dest, "hist", "drill", Some(&in_use))
        .await
        .unwrap();
    // A killed backup 3 days ago and one still running: only the old one is swept.
    let old_orphan = put_orphan(&store, now - chrono::Duration::days(3)).await;
    let fresh_orphan = put_orphan(&store, now - chrono::Duration::minutes(5)).await;

    let policy = Retention {
        keep_last: 3,
        daily: 7,
        weekly: 4,
        monthly: 12,
    };
    let mut expected: BTreeSet<String> = catalog::retention::keep(&ids, &policy)
        .into_keys()
        .collect();
    assert!(
        !expected.contains(&verified) && !expected.contains(&in_use),
        "the test protects sets GFS would drop"
    );
    expected.insert(verified.clone());
    expected.insert(in_use.clone());

    let dry = support::prune(&dest, "hist", &policy, Duration::from_secs(86400), true).await;
    assert_eq!(dry.deleted.len(), 400 - expected.len());
    assert_eq!(dry.orphans, vec![old_orphan.clone()]);
    assert_eq!(
        catalog::list(&dest, "hist").await.unwrap().len(),
        400,
        "a dry run deletes nothing"
    );

    let done = support::prune(&dest, "hist", &policy, Duration::from_secs(86400), false).await;
    assert!(done.refused.is_empty(), "{:?}", done.refused);
    let left: BTreeSet<String> = catalog::list(&dest, "hist")
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(left, expected);
    assert!(done.kept[&verified].iter().any(|w| w.contains("verified")));
    assert!(done.kept[&in_use]
        .iter()
        .any(|w| w.contains("running drill")));
    // The deleted sets' data is gone, not only their manifests; reports stay as evidence.
    let gone = &ids[1].0;
    assert_eq!(
        store
            .head(&layout::object_key("hist", gone, "data.dump.zst.age"))
            .await
            .unwrap(),
        None
    );
    assert!(store
        .head(&format!("hist/{}/drills/r.json", ids[300].0))
        .await
        .unwrap()
        .is_some());
    assert_eq!(
        store
            .head(&layout::object_key(
                "hist",
                &old_orphan,
                "data.dump.zst.age"
            ))
            .await
            .unwrap(),
        None
    );
    assert!(store
        .head(&layout::object_key(
            "hist",
            &fresh_orphan,
            "data.dump.zst.age"
        ))
        .await
        .unwrap()
        .is_some());
    lease.release().await;
}

#[tokio::test]
async fn prune_never_sweeps_unreadable_manifests_running_backups_or_a_choosing_drill() {
    let dir = tempfile::tempdir().unwrap();
    let (dest, store) = folder_destination("primary", dir.path());
    let now = Utc::now();
    let old = now - chrono::Duration::days(5);
    let a = put_set(&store, old).await;
    put_set(&store, old + chrono::Duration::hours(1)).await;
    // A set whose manifest this firedrill cannot read (a newer format): never an orphan.
    let newer = SetBuilder::new("hist", old - chrono::Duration::days(1))
        .object(layout::DATA_OBJECT, "data")
        .format_version(99)
        .write(&*store)
        .await
        .unwrap()
        .backup_id;
    // An old incomplete set.
    let orphan = put_orphan(&store, old - chrono::Duration::days(2)).await;
    let policy = Retention {
        keep_last: 1,
        ..Retention::default()
    };
    let grace = Duration::from_secs(3600);

    // While a backup runs, nothing is swept.
    let backup = firedrill::storage::lease::acquire(&dest, "hist", "backup", None)
        .await
        .unwrap();
    let out = support::prune(&dest, "hist", &policy, grace, true).await;
    assert!(out.orphans.is_empty(), "{:?}", out.orphans);
    assert!(out.refused.contains_key(&newer), "{:?}", out.refused);
    backup.release().await;

    // While a drill has not chosen its backup yet, every set is kept.
    let drill = firedrill::storage::lease::acquire(&dest, "hist", "drill", None)
        .await
        .unwrap();
    let out = support::prune(&dest, "hist", &policy, grace, false).await;
    assert!(out.deleted.is_empty(), "{:?}", out.deleted);
    assert_eq!(
        out.orphans,
        vec![orphan.clone()],
        "incomplete sets still go"
    );
    drill.release().await;

    let out = support::prune(&dest, "hist", &policy, grace, false).await;
    assert_eq!(out.deleted, vec![a.clone()]);
    assert!(out.orphans.is_empty());
    assert_eq!(
        store
            .head(&layout::object_key("hist", &orphan, "data.dump.zst.age"))
            .await
            .unwrap(),
        None
    );
    assert!(
        store
            .head(&layout::manifest_key("hist", &newer))
            .await
            .unwrap()
            .is_some(),
        "unreadable set kept"
    );
    assert!(store
        .head(&layout::object_key("hist", &newer, "data.dump.zst.age"))
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn prune_sweeps_temporary_files_of_killed_writes_after_the_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let (dest, store) = folder_destination("primary", dir.path());
    let at = Utc::now() - chrono::Duration::days(1);
    let id = put_set(&store, at).await;
    let set_dir = dir.path().join("hist").join(&id);
    let old = set_dir.join(".firedrill-partial-0badf00d-data.dump.zst.age");
    let fresh = set_dir.join(".firedrill-partial-0badf00e-data.dump.zst.age");
    std::fs::write(&old, "half a dump").unwrap();
    std::fs::write(&fresh, "a dump being written").unwrap();
    let touched = std::process::Command::new("touch")
        .args(["-d", "3 days ago"])
        .arg(&old)
        .status()
        .unwrap();
    assert!(touched.success());
    let policy = Retention {
        keep_last: 5,
        ..Retention::default()
    };
    let out = support::prune(&dest, "hist", &policy, Duration::from_secs(86400), false).await;
    assert_eq!(out.orphans, vec![old.display().to_string()]);
    assert!(!old.exists());
    assert!(
        fresh.exists(),
        "a write younger than the grace period may still be running"
    );
    assert_eq!(
        catalog::list(&dest, "hist").await.unwrap().len(),
        1,
        "the complete set is untouched"
    );
}
