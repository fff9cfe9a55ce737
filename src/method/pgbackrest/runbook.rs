//! The pgBackRest part of a runbook: the steps a drill takes (locate the backup in `info`,
//! `pgbackrest restore`, recovery to the target and promotion, verify), and the same recovery
//! as one shell script of `pgbackrest` and PostgreSQL's own tools: the restore command line
//! the drill ran (same repository, backup and target), then the server started on the
//! restored folder until it promotes. The repository's secrets stay where pgBackRest reads
//! them (its configuration or `PGBACKREST_REPO<N>_*` variables): the script names none.

use std::fmt::Write;

use super::target;
use crate::init::shell_quote;
use crate::runbook::commands::{check_and_list, spec_arg};
use crate::runbook::model::{Command, Tool};
use crate::runbook::script::{self, Var};
use crate::runbook::{Context, MethodPart, StepPlan};
use crate::spec::{PgBackRestSource, SourceMethod};

/// The runbook part of the backup in `ctx`; `None` for another method or an id that is not
/// a pgBackRest backup's.
pub fn part(ctx: &Context<'_>) -> Option<MethodPart> {
    let SourceMethod::PgBackRest(src) = &ctx.spec.source.method else {
        return None;
    };
    let (repo, label) = ctx.set.id.split_once(':')?;
    let key = super::repo_key(repo)?;
    Some(MethodPart {
        steps: steps(src, repo, label),
        tools: tools(ctx),
        key: None,
        recipients: Vec::new(),
        script: script_text(ctx, src, key, label),
        snapshot: None,
        credentials: Some(format!(
            "pgBackRest's own: {repo}'s options in {}, its secrets (cipher passphrase, S3 keys) there or in PGBACKREST_{}_* variables of the environment",
            config_words(src),
            repo.to_uppercase()
        )),
        with_firedrill: Some(with_firedrill(ctx, repo)),
    })
}

fn config_words(src: &PgBackRestSource) -> String {
    src.config
        .as_ref()
        .map(|c| format!("`{}`", c.display()))
        .unwrap_or_else(|| "pgBackRest's default configuration".into())
}

fn steps(src: &PgBackRestSource, repo: &str, label: &str) -> Vec<StepPlan> {
    vec![
        StepPlan {
            title: "Locate",
            detail: format!(
                "backup `{label}` of stanza `{}` in `{repo}` (`pgbackrest info`)",
                src.stanza
            ),
            phases: &["locate"],
        },
        StepPlan {
            title: "Restore",
            detail: format!(
                "`pgbackrest restore --repo` of `{repo}` into an empty folder, target {}",
                target::kind(&src.target)
            ),
            phases: &["restore"],
        },
        StepPlan {
            title: "Recover",
            detail: "start PostgreSQL on it: it replays the archive to the target and promotes"
                .into(),
            phases: &["recovery"],
        },
        StepPlan {
            title: "Verify",
            detail: "the spec's checks on the promoted cluster".into(),
            phases: &["verify"],
        },
    ]
}

fn tools(ctx: &Context<'_>) -> Vec<Tool> {
    let m = &ctx.set.manifest;
    let mut v = vec![
        Tool {
            name: "pgBackRest".into(),
            version: m.method.tool_version.clone(),
            role: "took the backup".into(),
        },
        Tool {
            name: "PostgreSQL".into(),
            version: m.source.server_version.clone(),
            role: "the source cluster".into(),
        },
    ];
    if let Some(s) = ctx.scratch_version {
        v.push(Tool {
            name: "PostgreSQL".into(),
            version: s.into(),
            role: "the scratch cluster restored into".into(),
        });
    }
    v
}

/// With firedrill: the same restore into an ephemeral cluster, kept, to confirm the recovery
/// point before production is restored with the script.
fn with_firedrill(ctx: &Context<'_>, repo: &str) -> Vec<Command> {
    let mut v = check_and_list(ctx.spec, &ctx.set.id, repo);
    let target = match &ctx.spec.source.method {
        SourceMethod::PgBackRest(src) => match src.target {
            crate::spec::PitrTarget::Time(t) => format!(" --target-time {}", t.to_rfc3339()),
            crate::spec::PitrTarget::Immediate => " --target immediate".into(),
            crate::spec::PitrTarget::Latest => String::new(),
        },
        _ => String::new(),
    };
    v.push(Command {
        command: format!(
            "firedrill drill {} --backup {}{target} --keep",
            spec_arg(ctx.spec),
            shell_quote(&ctx.set.id)
        ),
        why: "restores it into an ephemeral cluster (archiving off), runs the checks and leaves it up: confirm the data there, then restore the new primary with the script".into(),
    });
    v
}

/// The without-firedrill script.
fn script_text(ctx: &Context<'_>, src: &PgBackRestSource, key: u32, label: &str) -> String {
    let m = &ctx.set.manifest;
    let major = m.source.server_major;
    let mut title = script::title(
        &ctx.set.id,
        &m.drill,
        &format!(
            "pgBackRest, stanza {}, target {}",
            src.stanza,
            target::kind(&src.target)
        ),
        ", as a new cluster",
    );
    title.extend([
        format!("Needs bash, pgbackrest and the PostgreSQL {major} server, run as the database's OS user; pgBackRest reads repo{key}'s options and secrets itself (its configuration, PGBACKREST_REPO{key}_* variables)."),
        "A cluster whose postgresql.conf lives outside its data folder (Debian's /etc/postgresql) needs it (and pg_hba.conf) in place before step 2.".into(),
    ]);
    let vars = [
        Var {
            name: "PGDATA_NEW",
            meaning: "an empty folder for the restored cluster, owned by this user".into(),
            default: None,
        },
        Var {
            name: "PG_BIN",
            meaning: format!("the PostgreSQL {major} server binaries"),
            default: Some(format!("/usr/lib/postgresql/{major}/bin")),
        },
        Var {
            name: "PG_CTL_OPTIONS",
            meaning: "server options for the recovery, e.g. -p 5433".into(),
            default: Some(String::new()),
        },
        Var {
            name: "WAIT_SECONDS",
            meaning: "how long recovery may take".into(),
            default: Some("86400".into()),
        },
    ];
    let mut o = script::header(&title, &vars);
    let mut restore = String::from("pgbackrest");
    if let Some(c) = &src.config {
        let _ = write!(
            restore,
            " --config={}",
            shell_quote(&c.display().to_string())
        );
    }
    let _ = write!(
        restore,
        " --stanza={} --repo={key} --pg1-path=\"$PGDATA_NEW\"",
        shell_quote(&src.stanza)
    );
    for a in target::restore_args(&src.target, label) {
        let _ = write!(restore, " {}", shell_quote(&a));
    }
    restore.push_str(" restore");
    let _ = writeln!(
        o,
        "\n# 1. The files and the recovery settings: WAL comes from repo{key} (--repo on the command line reaches restore_command).\n{restore}"
    );
    let _ = writeln!(
        o,
        "\n# 2. Start it: PostgreSQL replays the archive to the target, then promotes.\n\"$PG_BIN/pg_ctl\" -D \"$PGDATA_NEW\" -l \"$PGDATA_NEW/recovery.log\" -o \"$PG_CTL_OPTIONS\" -w -t \"$WAIT_SECONDS\" start"
    );
    let _ = writeln!(
        o,
        "\n# 3. Wait for the promotion (PGHOST, PGPORT and PGUSER name the new cluster, as for psql).\nDEADLINE=$((SECONDS + WAIT_SECONDS))\nuntil [ \"$(\"$PG_BIN/psql\" -XAtqc 'select pg_is_in_recovery()' postgres 2>/dev/null)\" = f ]; do\n  if [ \"$SECONDS\" -ge \"$DEADLINE\" ]; then echo \"not promoted within $WAIT_SECONDS s: see $PGDATA_NEW/recovery.log\" >&2; exit 1; fi\n  sleep 1\ndone\necho \"recovered and promoted: run the checks, then point the application at it\""
    );
    o
}

#[cfg(test)]
mod tests {
    use crate::catalog::BackupSet;
    use crate::runbook::Drilled;
    use crate::testing::{utc, SetBuilder, SpecBuilder};

    #[test]
    fn the_script_restores_the_drilled_backup_from_its_repository_to_its_target() {
        let spec = SpecBuilder::new("orders")
            .source("kind", "pgbackrest")
            .source_url("postgres://127.0.0.1/orders")
            .source("stanza", "main")
            .destination("primary", "file:///b/primary")
            .drill("from", "repo2")
            .parse()
            .unwrap_or_else(|e| panic!("{}", e.render()));
        let mut m = SetBuilder::new("orders", utc("2026-12-01T00:00:00Z")).build();
        m.method.kind = super::super::KIND.into();
        let set = BackupSet {
            id: "repo2:20261201-000000F".into(),
            manifest: m,
        };
        let rb = crate::runbook::build(
            &Drilled {
                spec: &spec,
                set: &set,
                read_from: "repo2",
                phases: &[],
                scratch_version: None,
                started_at: utc("2026-12-01T01:00:00Z"),
                passed: true,
            },
            &|ctx| crate::method::of(&spec).runbook(ctx),
        )
        .expect("a pgBackRest backup has a runbook");
        let s = &rb.script;
        assert!(
            s.contains("pgbackrest --stanza=main --repo=2 --pg1-path=\"$PGDATA_NEW\" --type=default --target-timeline=latest --set=20261201-000000F restore"),
            "{s}"
        );
        assert!(s.contains(": \"${PGDATA_NEW:?set PGDATA_NEW to"), "{s}");
        assert!(s.contains("select pg_is_in_recovery()"), "{s}");
        assert!(rb.inputs.key.is_none());
        assert!(
            rb.inputs
                .credentials
                .as_deref()
                .unwrap_or("")
                .contains("PGBACKREST_REPO2_*"),
            "{:?}",
            rb.inputs
        );
        assert_eq!(rb.steps.len(), 4);
        assert!(
            rb.with_firedrill[2]
                .command
                .contains("--backup repo2:20261201-000000F --keep"),
            "{:?}",
            rb.with_firedrill
        );
    }
}
