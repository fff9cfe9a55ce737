//! The pg_dump part of a runbook: the steps a drill takes (locate, provision, fetch + check +
//! decrypt + decompress, restore, verify), and the same restore as one shell script of plain
//! tools. The script mirrors [`super::restore`]: every object is fetched and checked against
//! the manifest's SHA-256 before anything is restored; the archive is decrypted, decompressed
//! and restored with `pg_restore --no-owner --no-privileges`; for a set with table parts
//! ([`super::split`]) the schema (`pre-data`) comes first, then pg_restore's `data` section and
//! the parts with `\copy ... from stdin` in the session settings the parts were written with,
//! and indexes and constraints (`post-data`) last.

use std::fmt::Write;

use crate::catalog::{layout, manifest::ObjectEntry, Manifest};
use crate::init::shell_quote;
use crate::pg::PgTools;
use crate::pipeline::keys;
use crate::runbook::model::{KeySource, Recipient, Tool};
use crate::runbook::script::{self, Var};
use crate::runbook::{Context, MethodPart, StepPlan};
use crate::spec::{Compression, DestinationSpec, DrillSpec};

/// The file the archive is decompressed into (`pg_restore -j` needs a file).
const ARCHIVE: &str = "data.dump";

/// The settings of the session a part is loaded in: those of the drill's own load
/// ([`super::restore::parts`]).
const PART_SESSION: &str =
    "set datestyle = iso; set intervalstyle = postgres; set synchronous_commit = off";

/// The runbook part of the set in `ctx`; `None` when it was not read from a destination of
/// the spec or its objects have names a script cannot use as they stand.
pub fn part(ctx: &Context<'_>) -> Option<MethodPart> {
    let dest = ctx.dest?;
    let m = &ctx.set.manifest;
    if !m.objects.iter().all(|o| script::plain_file_name(&o.name)) {
        return None;
    }
    let archive = m.objects.iter().find(|o| o.part.is_none())?;
    let key = key_source(ctx.spec);
    Some(MethodPart {
        steps: steps(ctx, dest),
        tools: tools(ctx),
        recipients: recipients(ctx.spec, m),
        script: script_text(ctx, dest, archive, &key),
        key: Some(key),
        snapshot: None,
        credentials: None,
        with_firedrill: None,
    })
}

/// Where the drill's identity is: the identity file (absolute), else `FIREDRILL_IDENTITY`.
fn key_source(spec: &DrillSpec) -> KeySource {
    match &spec.drill.identity_file {
        Some(p) => KeySource::File {
            path: std::path::absolute(p)
                .unwrap_or_else(|_| p.clone())
                .display()
                .to_string(),
        },
        None => KeySource::Env {
            variable: "FIREDRILL_IDENTITY".into(),
        },
    }
}

fn parts(m: &Manifest) -> Vec<&ObjectEntry> {
    m.objects.iter().filter(|o| o.part.is_some()).collect()
}

fn steps(ctx: &Context<'_>, dest: &DestinationSpec) -> Vec<StepPlan> {
    let m = &ctx.set.manifest;
    let parts = parts(m).len();
    let restore = if parts == 0 {
        "`pg_restore -j N --no-owner --no-privileges` of the archive".to_string()
    } else {
        format!("`pg_restore --section=pre-data` (tables without indexes), its `data` section and the {parts} table part(s) with `psql \\copy ... from stdin`, then `--section=post-data` (indexes, constraints)")
    };
    let checks: Vec<String> = ctx
        .spec
        .checks
        .iter()
        .map(|c| format!("`{}`", c.name))
        .collect();
    vec![
        StepPlan {
            title: "Locate",
            detail: format!("backup `{}` in `{}` ({})", ctx.set.id, dest.name, dest.url()),
            phases: &["locate"],
        },
        StepPlan {
            title: "Provision",
            detail: format!(
                "an empty database on a PostgreSQL {} or newer server (`TARGET_URL`)",
                m.source.server_major
            ),
            phases: &["provision"],
        },
        StepPlan {
            title: "Fetch, check, decrypt, decompress",
            detail: format!(
                "copy the {} object(s), check each against the manifest's SHA-256 (`sha256sum -c`) before anything is restored, decrypt (`age -d`), decompress (`zstd -d`)",
                m.objects.len()
            ),
            phases: &["fetch+decrypt+decompress"],
        },
        StepPlan {
            title: "Restore",
            detail: restore,
            phases: &["restore"],
        },
        StepPlan {
            title: "Verify",
            detail: if checks.is_empty() {
                "connect and look at the data".into()
            } else {
                format!("the spec's checks: {}", checks.join(", "))
            },
            phases: &["verify"],
        },
    ]
}

fn tools(ctx: &Context<'_>) -> Vec<Tool> {
    let m = &ctx.set.manifest;
    let tool = |name: &str, version: &str, role: &str| Tool {
        name: name.into(),
        version: version.into(),
        role: role.into(),
    };
    let mut v = vec![tool("pg_dump", &m.method.tool_version, "made the backup")];
    let major = m.method.tool_version.split('.').next();
    let major = major.and_then(|v| v.parse().ok()).unwrap_or(0);
    if let Ok(t) = PgTools::new(ctx.spec.tools.bin_dir.clone()).find("pg_restore", major, "") {
        v.push(tool("pg_restore", &t.version, "restored it in this drill"));
    }
    v.push(tool("PostgreSQL", &m.source.server_version, "the source"));
    if let Some(s) = ctx.scratch_version {
        v.push(tool("PostgreSQL", s, "the scratch target restored into"));
    }
    v.push(tool(
        "age",
        "format v1",
        "encrypted the objects; age 1.0 or newer, or rage, decrypts them",
    ));
    if let Compression::Zstd(level) = m.compression() {
        v.push(tool(
            "zstd",
            &format!("level {level}"),
            "compressed the objects; any zstd decompresses them",
        ));
    }
    v
}

/// The backup's recipients, with the public key where the spec still names it.
fn recipients(spec: &DrillSpec, m: &Manifest) -> Vec<Recipient> {
    m.encryption
        .recipients
        .iter()
        .map(|fp| Recipient {
            fingerprint: fp.clone(),
            public_key: spec
                .backup
                .recipients
                .iter()
                .find(|r| keys::fingerprint(r) == *fp)
                .map(|r| r.trim().to_string()),
        })
        .collect()
}

/// `age -d` of `file` with the runbook's identity, to standard output.
fn decrypt(key: &KeySource, file: &str) -> String {
    match key {
        KeySource::File { .. } => format!("age -d -i \"$KEY\" {file}"),
        KeySource::Env { variable } => {
            format!("age -d -i <(printf '%s\\n' \"${variable}\") {file}")
        }
    }
}

/// `| zstd -d -q -c` when the set is compressed.
fn decompress(m: &Manifest) -> &'static str {
    match m.compression() {
        Compression::Zstd(_) => " | zstd -d -q -c",
        Compression::None => "",
    }
}

/// The without-firedrill script.
fn script_text(
    ctx: &Context<'_>,
    dest: &DestinationSpec,
    archive: &ObjectEntry,
    key: &KeySource,
) -> String {
    let m = &ctx.set.manifest;
    let mut o = script::header(&title(ctx), &vars(ctx, key));
    o.push_str(&script::work_folder());
    let _ = writeln!(o, "\n# 1. Fetch the objects from `{}`.", dest.name);
    for obj in &m.objects {
        let k = layout::object_key(&m.drill, &m.backup_id, &obj.name);
        let _ = writeln!(o, "{}", script::fetch(dest, &k, &obj.name));
    }
    o.push_str(
        "\n# 2. Check every object against the manifest's SHA-256, before anything is restored.\n",
    );
    o.push_str(&script::checksums(
        m.objects
            .iter()
            .map(|x| (x.name.as_str(), x.sha256.as_str())),
    ));
    let _ = writeln!(
        o,
        "\n# 3. Decrypt and decompress the archive (pg_restore -j reads a file).\n{}{} > {ARCHIVE}",
        decrypt(key, &archive.name),
        decompress(m)
    );
    o.push_str("\n# 4. Restore.\n");
    restore_commands(&mut o, m, key);
    let _ = writeln!(o, "echo \"Backup {} restored.\"", m.backup_id);
    o
}

/// What the script is, which backup, and whether a drill proved it.
fn title(ctx: &Context<'_>) -> Vec<String> {
    let m = &ctx.set.manifest;
    let mut v = script::title(
        &m.backup_id,
        &m.drill,
        &format!("pg_dump, recovery point {}", m.snapshot_at.to_rfc3339()),
        "",
    );
    v.push(format!(
        "Needs bash, coreutils (mktemp, cp, rm, sha256sum), age, {}pg_restore and psql (and the AWS CLI for S3).",
        if decompress(m).is_empty() { "" } else { "zstd, " }
    ));
    v
}

/// The variables the script reads: the target (required), the key, the jobs.
fn vars(ctx: &Context<'_>, key: &KeySource) -> Vec<Var> {
    let mut v = vec![Var {
        name: "TARGET_URL",
        meaning: format!(
            "the postgres:// URL of an empty database on PostgreSQL {} or newer (a password from PGPASSWORD or ~/.pgpass)",
            ctx.set.manifest.source.server_major
        ),
        default: None,
    }];
    match key {
        KeySource::File { path } => v.push(Var {
            name: "KEY",
            meaning: "the age identity file that decrypts the backup".into(),
            default: Some(path.clone()),
        }),
        KeySource::Env { .. } => v.push(Var {
            name: "FIREDRILL_IDENTITY",
            meaning: "the age identity that decrypts the backup".into(),
            default: None,
        }),
    }
    v.push(Var {
        name: "JOBS",
        meaning: "parallel pg_restore jobs".into(),
        default: Some(ctx.spec.drill.jobs.to_string()),
    });
    v
}

/// `pg_restore` of the archive, or its sections around the table parts.
fn restore_commands(o: &mut String, m: &Manifest, key: &KeySource) {
    let pg_restore = |section: Option<&str>, jobs: bool| {
        format!(
            "pg_restore{}{} --no-owner --no-privileges --exit-on-error -d \"$TARGET_URL\" {ARCHIVE}",
            section.map(|s| format!(" --section={s}")).unwrap_or_default(),
            if jobs { " -j \"$JOBS\"" } else { "" }
        )
    };
    let parts = parts(m);
    if parts.is_empty() {
        let _ = writeln!(o, "{}", pg_restore(None, true));
        return;
    }
    let _ = writeln!(
        o,
        "# The schema without indexes and constraints.\n{}",
        pg_restore(Some("pre-data"), false)
    );
    let _ = writeln!(
        o,
        "# The rows in the archive, then the table parts.\n{}",
        pg_restore(Some("data"), true)
    );
    for obj in parts {
        let part = obj.part.as_ref().expect("a part");
        let copy = format!("\\copy {} ({}) from stdin", part.qualified(), columns(part));
        let _ = writeln!(
            o,
            "{}{} | psql -X -q -v ON_ERROR_STOP=1 -d \"$TARGET_URL\" -c {} -c {}",
            decrypt(key, &obj.name),
            decompress(m),
            shell_quote(PART_SESSION),
            shell_quote(&copy)
        );
    }
    let _ = writeln!(
        o,
        "# Indexes, constraints and triggers, once every row is in.\n{}",
        pg_restore(Some("post-data"), true)
    );
}

fn columns(part: &crate::catalog::manifest::TablePart) -> String {
    part.columns
        .iter()
        .map(|c| crate::pg::quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{manifest::TablePart, BackupSet};
    use crate::measure::Phase;
    use crate::runbook::Drilled;
    use crate::testing::{utc, SetBuilder, SpecBuilder};

    fn phase(name: &str, seconds: f64) -> Phase {
        let at = utc("2026-12-01T00:00:00Z");
        Phase {
            name: name.into(),
            started_at: at,
            ended_at: at,
            seconds,
            bytes: None,
        }
    }

    /// An uncompressed set with a part, an identity only in the environment, a drill that
    /// failed before `verify`.
    #[test]
    fn the_identity_stays_in_its_variable_and_only_reached_steps_are_timed() {
        let (_, recipient) = keys::generate();
        let spec = SpecBuilder::new("shop")
            .source_url("postgres://u@h/db")
            .recipients(&[&recipient])
            .backup("compression", "none")
            .destination("primary", "file:///b/primary")
            .destination("dr", "file:///b/dr")
            .drill("from", "dr")
            .parse()
            .unwrap_or_else(|e| panic!("{}", e.render()));
        let part = TablePart {
            schema: "s".into(),
            table: "it's".into(),
            columns: vec!["a".into()],
            first_block: 0,
            end_block: None,
        };
        let m = SetBuilder::new("shop", utc("2026-12-01T00:00:00Z"))
            .compression("none")
            .recipient(&keys::fingerprint(&recipient))
            .object("data.dump.age", "x")
            .part("part-0000.copy.age", "y", part)
            .build();
        let set = BackupSet {
            id: m.backup_id.clone(),
            manifest: m,
        };
        let phases = [
            phase("locate", 1.0),
            phase("provision", 2.0),
            phase("fetch+decrypt+decompress", 3.0),
            phase("restore", 4.0),
        ];
        let rb = crate::runbook::build(
            &Drilled {
                spec: &spec,
                set: &set,
                read_from: "dr",
                phases: &phases,
                scratch_version: Some("15.2"),
                started_at: utc("2026-12-01T00:00:00Z"),
                passed: false,
            },
            &|ctx| crate::method::of(&spec).runbook(ctx),
        )
        .expect("a pg_dump set has a runbook");
        assert!(!rb.proven);
        let timed: Vec<Option<f64>> = rb.steps.iter().map(|s| s.seconds).collect();
        assert_eq!(timed, [Some(1.0), Some(2.0), Some(3.0), Some(4.0), None]);
        assert_eq!(
            rb.inputs.key,
            Some(KeySource::Env {
                variable: "FIREDRILL_IDENTITY".into()
            })
        );
        assert_eq!(
            rb.inputs.recipients[0].public_key.as_deref(),
            Some(recipient.as_str())
        );
        let s = &rb.script;
        assert!(s.contains("cp -- /b/dr/shop/"), "{s}");
        assert!(
            s.contains(
                "age -d -i <(printf '%s\\n' \"$FIREDRILL_IDENTITY\") data.dump.age > data.dump\n"
            ),
            "{s}"
        );
        assert!(!s.contains("zstd"), "nothing to decompress: {s}");
        assert!(
            s.contains("'\\copy \"s\".\"it'\\''s\" (\"a\") from stdin'"),
            "{s}"
        );
    }
}
