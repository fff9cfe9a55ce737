//! A schedule per pgBackRest backup type: `run-due` takes the largest type due, in every
//! repository.

use crate::physical::PITR;
use crate::physical_support::PhysicalSource;
use crate::support::{firedrill, text, Env};

/// (repository, type) of every backup, sorted.
fn kinds(src: &PhysicalSource) -> Vec<(u64, String)> {
    let mut v: Vec<(u64, String)> = src.backups().into_iter().map(|(r, _, t)| (r, t)).collect();
    v.sort();
    v
}

/// With no backup yet every type is due and the full one runs; once it ran, only the
/// every-minute diff is due when a minute has passed; a spec of another method may not give
/// a schedule per type.
#[tokio::test]
async fn run_due_takes_the_largest_backup_type_due() {
    let _one = PITR.lock().await;
    let src = PhysicalSource::start();
    let env = Env::new();
    let spec = env.write(&src.spec(&env, "typed").set_raw(
        "backup",
        "schedule",
        r#"{ full = "0 0 1 1 *", diff = "* * * * *" }"#,
    ));
    let dir = env.path().to_str().unwrap();
    let out = firedrill(&["run-due", dir]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        kinds(&src),
        vec![(1, "full".to_string()), (2, "full".to_string())]
    );

    // The last attempt two minutes ago: the every-minute diff is due, the yearly full is not.
    let state = env.reports().join("typed").join(".last-backup-attempt");
    let earlier = chrono::Utc::now() - chrono::Duration::minutes(2);
    std::fs::write(&state, earlier.to_rfc3339()).unwrap();
    let out = firedrill(&["run-due", dir]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        kinds(&src),
        vec![
            (1, "diff".to_string()),
            (1, "full".to_string()),
            (2, "diff".to_string()),
            (2, "full".to_string())
        ]
    );
    std::fs::remove_file(&spec).unwrap();

    let other = env.write(&env.spec("logical", "postgres://127.0.0.1/x").set_raw(
        "backup",
        "schedule",
        r#"{ full = "0 0 1 1 *" }"#,
    ));
    let out = firedrill(&["check", "--offline", other.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("a schedule per backup type is for kind = \"pgbackrest\" sources"),
        "{}",
        text(&out)
    );
}
