//! Physical drills on hosts and sources unlike a test cluster: pgBackRest missing or too old
//! on the drill host, a work dir too small for the restore, a source with its configuration
//! outside PGDATA, raised `max_*` settings, a tablespace and preloaded libraries that act.

use std::os::unix::fs::PermissionsExt;

use firedrill::testing::SpecBuilder;

use crate::support::{firedrill_with_env, text, Env};

/// A pgbackrest spec over a stanza that needs no cluster: the drill stops before reading it.
fn offline_spec(env: &Env) -> SpecBuilder {
    let config = env.path().join("pgbackrest.conf");
    std::fs::write(&config, "[main]\npg1-path=/nowhere\n").unwrap();
    SpecBuilder::new("hard")
        .source("kind", "pgbackrest")
        .source_url("postgres://postgres@127.0.0.1:5432/postgres")
        .source("stanza", "main")
        .source("config", config.display().to_string())
        .folder("primary", &env.dest("primary"))
        .drill("reports", env.reports().display().to_string())
        .drill("work-dir", env.work().display().to_string())
}

/// A pgBackRest older than 2.40 first on PATH: `drill`, `list` and `check` could not run
/// (exit 2), naming the version found and the minimum; none on PATH: how to install it.
#[test]
fn a_missing_or_old_pgbackrest_could_not_run_naming_the_version_and_the_minimum() {
    let env = Env::new();
    let spec = env.write(&offline_spec(&env));
    let spec = spec.to_str().unwrap();
    let old = env.path().join("old-bin");
    std::fs::create_dir(&old).unwrap();
    let fake = old.join("pgbackrest");
    std::fs::write(&fake, "#!/bin/sh\necho 'pgBackRest 2.38'\n").unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:/usr/bin:/bin", old.display());
    for args in [vec!["drill", spec], vec!["list", spec], vec!["check", spec]] {
        let out = firedrill_with_env(&args, &[("PATH", path.as_str())]);
        let msg = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {msg}");
        assert!(
            msg.contains("pgBackRest 2.38, too old") && msg.contains("pgBackRest 2.40 or newer"),
            "{args:?}: {msg}"
        );
        assert!(msg.contains("apt-get install -y pgbackrest"), "{msg}");
    }
    let out = firedrill_with_env(&["drill", spec], &[("PATH", "/nonexistent")]);
    let msg = text(&out);
    assert_eq!(out.status.code(), Some(2), "{msg}");
    assert!(
        msg.contains("cannot start pgbackrest") && msg.contains("apt-get install -y pgbackrest"),
        "{msg}"
    );
    env.assert_no_leftovers();
}
