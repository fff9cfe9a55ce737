//! The RDS part of a runbook: the steps a drill takes (locate, restore request, instance
//! available, first connection, verify), and the same restore as one shell script of AWS CLI
//! calls in the drill's region. It mirrors [`crate::scratch::RdsInstance::request`]:
//! `restore-db-instance-from-db-snapshot` of the backup's snapshot copy in that region, or
//! `restore-db-instance-to-point-in-time` of the source instance to its latest restorable
//! time, with the drill's instance class, subnet group, security groups and parameter group,
//! no public access and no deletion protection; then it waits for the instance and prints its
//! endpoint. The instance is the recovery's: it carries no firedrill tag.

use std::fmt::Write;

use crate::init::shell_quote;
use crate::runbook::commands::{check_and_list, spec_arg};
use crate::runbook::model::{Command, SnapshotRef, Tool};
use crate::runbook::script::{self, Var};
use crate::runbook::{Context, MethodPart, StepPlan};
use crate::spec::{RdsScratch, ScratchSpec};

/// The runbook part of the set in `ctx`; `None` without an RDS scratch target or snapshots.
pub fn part(ctx: &Context<'_>) -> Option<MethodPart> {
    let ScratchSpec::Rds(cfg) = &ctx.spec.drill.scratch else {
        return None;
    };
    let snaps = ctx.set.manifest.rds.as_ref()?;
    let snapshot = (!cfg.point_in_time)
        .then(|| snaps.in_region(&cfg.region))
        .flatten()
        .map(|s| SnapshotRef {
            region: s.region.clone(),
            id: s.id.clone(),
            arn: s.arn.clone(),
        });
    if !cfg.point_in_time && snapshot.is_none() {
        return None;
    }
    Some(MethodPart {
        steps: steps(ctx, cfg, snapshot.as_ref(), &snaps.instance),
        tools: tools(ctx),
        key: None,
        recipients: Vec::new(),
        script: script_text(ctx, cfg, snapshot.as_ref(), &snaps.instance),
        snapshot,
        credentials: Some(
            "the AWS default chain (AWS_* environment variables, a profile, SSO, web identity or the instance role), allowed to restore and describe RDS instances"
                .into(),
        ),
        with_firedrill: Some(with_firedrill(ctx)),
    })
}

fn steps(
    ctx: &Context<'_>,
    cfg: &RdsScratch,
    snapshot: Option<&SnapshotRef>,
    source: &str,
) -> Vec<StepPlan> {
    let what = match snapshot {
        Some(s) => format!(
            "restore snapshot `{}` in `{}` into a new instance",
            s.id, s.region
        ),
        None => format!(
            "restore instance `{source}` to its latest restorable time as a new instance in `{}`",
            cfg.region
        ),
    };
    vec![
        StepPlan {
            title: "Locate",
            detail: format!("backup `{}` (its manifest names the snapshots)", ctx.set.id),
            phases: &["locate"],
        },
        StepPlan {
            title: "Restore request",
            detail: format!("{what} (`{}`, no public access)", cfg.instance_class),
            phases: &["restore request"],
        },
        StepPlan {
            title: "Instance available",
            detail: "wait until RDS reports it `available`".into(),
            phases: &["instance available"],
        },
        StepPlan {
            title: "Connect",
            detail: "connect over TLS to its endpoint as the master user".into(),
            phases: &["first connection"],
        },
        StepPlan {
            title: "Verify",
            detail: checks_line(ctx),
            phases: &["verify"],
        },
    ]
}

fn checks_line(ctx: &Context<'_>) -> String {
    let checks: Vec<String> = ctx
        .spec
        .checks
        .iter()
        .map(|c| format!("`{}`", c.name))
        .collect();
    if checks.is_empty() {
        "connect and look at the data".into()
    } else {
        format!("the spec's checks: {}", checks.join(", "))
    }
}

fn tools(ctx: &Context<'_>) -> Vec<Tool> {
    let m = &ctx.set.manifest;
    let mut v = vec![Tool {
        name: "PostgreSQL".into(),
        version: m.source.server_version.clone(),
        role: "the source instance".into(),
    }];
    if let Some(s) = ctx.scratch_version {
        v.push(Tool {
            name: "PostgreSQL".into(),
            version: s.into(),
            role: "the scratch instance restored into".into(),
        });
    }
    v
}

/// The recovery with firedrill: a kept scratch instance, then released from firedrill.
fn with_firedrill(ctx: &Context<'_>) -> Vec<Command> {
    let from = ctx.dest.map(|d| d.name.as_str()).unwrap_or("dr");
    let mut v = check_and_list(ctx.spec, &ctx.set.id, from);
    v.extend([
        Command {
            command: format!(
                "firedrill drill {} --backup {} --from {} --keep",
                spec_arg(ctx.spec),
                shell_quote(&ctx.set.id),
                shell_quote(from)
            ),
            why: "restores it into a new RDS instance, runs the checks, leaves it up and prints how to connect".into(),
        },
        Command {
            command: "aws rds remove-tags-from-resource --resource-name \"$INSTANCE_ARN\" --tag-keys firedrill".into(),
            why: "promotes it: with the instance's ARN in INSTANCE_ARN, untagged, `firedrill cleanup` leaves it alone; point the application at its endpoint".into(),
        },
    ]);
    v
}

/// `--region R [--endpoint-url E]` of the drill's region.
fn region_args(cfg: &RdsScratch) -> String {
    let endpoint = cfg
        .endpoint
        .as_deref()
        .map(|e| format!(" --endpoint-url {}", shell_quote(e)))
        .unwrap_or_default();
    format!("--region {}{endpoint}", shell_quote(&cfg.region))
}

/// The without-firedrill script.
fn script_text(
    ctx: &Context<'_>,
    cfg: &RdsScratch,
    snapshot: Option<&SnapshotRef>,
    source: &str,
) -> String {
    let m = &ctx.set.manifest;
    let default_id = format!("{}-restored", instance_word(&m.drill));
    let mut title = script::title(
        &m.backup_id,
        &m.drill,
        &format!("RDS, recovery point {}", m.snapshot_at.to_rfc3339()),
        ", as a new instance",
    );
    title.push("Needs bash and the AWS CLI, with AWS credentials from the environment, a profile or the instance role.".into());
    let vars = [Var {
        name: "INSTANCE",
        meaning: "the identifier of the new instance".into(),
        default: Some(default_id),
    }];
    let mut o = script::header(&title, &vars);
    let region = region_args(cfg);
    let _ = writeln!(o, "\n# 1. Ask RDS for the new instance.");
    match snapshot {
        Some(s) => {
            let _ = writeln!(
                o,
                "aws rds restore-db-instance-from-db-snapshot {region} --db-instance-identifier \"$INSTANCE\" --db-snapshot-identifier {}{} --no-publicly-accessible --no-deletion-protection --query DBInstance.DBInstanceArn --output text",
                shell_quote(&s.id),
                placement(cfg)
            );
        }
        None => {
            let _ = writeln!(
                o,
                "aws rds restore-db-instance-to-point-in-time {region} --source-db-instance-identifier {} --target-db-instance-identifier \"$INSTANCE\" --use-latest-restorable-time{} --no-publicly-accessible --no-deletion-protection --query DBInstance.DBInstanceArn --output text",
                shell_quote(source),
                placement(cfg)
            );
        }
    }
    let _ = writeln!(
        o,
        "\n# 2. Wait until it is available.\naws rds wait db-instance-available {region} --db-instance-identifier \"$INSTANCE\""
    );
    let _ = writeln!(
        o,
        "\n# 3. Its endpoint: connect there (TLS, the master user) and run the checks.\naws rds describe-db-instances {region} --db-instance-identifier \"$INSTANCE\" --query 'DBInstances[0].Endpoint.[Address,Port]' --output text"
    );
    o
}

/// The drill's instance class, subnet group, security groups and parameter group.
fn placement(cfg: &RdsScratch) -> String {
    let mut o = format!(" --db-instance-class {}", shell_quote(&cfg.instance_class));
    if let Some(g) = &cfg.subnet_group {
        let _ = write!(o, " --db-subnet-group-name {}", shell_quote(g));
    }
    if !cfg.security_groups.is_empty() {
        let groups: Vec<String> = cfg.security_groups.iter().map(|g| shell_quote(g)).collect();
        let _ = write!(o, " --vpc-security-group-ids {}", groups.join(" "));
    }
    if let Some(g) = &cfg.parameter_group {
        let _ = write!(o, " --db-parameter-group-name {}", shell_quote(g));
    }
    o
}

/// `name` as an RDS identifier word: lower-case letters, digits and single hyphens, starting
/// with a letter.
fn instance_word(name: &str) -> String {
    let mut w = String::from("db-");
    for c in name.chars() {
        let c = if c.is_ascii_alphanumeric() {
            c.to_ascii_lowercase()
        } else {
            '-'
        };
        if !(c == '-' && w.ends_with('-')) {
            w.push(c);
        }
    }
    w.trim_end_matches('-').chars().take(50).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_words_are_rds_identifiers() {
        assert_eq!(instance_word("Orders_EU"), "db-orders-eu");
        assert_eq!(instance_word("a--b__"), "db-a-b");
    }
}

#[cfg(test)]
mod pitr_tests {
    use crate::catalog::BackupSet;
    use crate::runbook::Drilled;
    use crate::testing::{utc, SetBuilder, SpecBuilder};

    /// `restore = "latest-restorable"`: the source instance to its latest restorable time,
    /// no snapshot, in the scratch region.
    #[test]
    fn a_point_in_time_spec_restores_the_source_instance() {
        let mut rds = toml::Table::new();
        for (k, v) in [
            ("region", "us-east-1"),
            ("instance-class", "db.t3.micro"),
            ("restore", "latest-restorable"),
        ] {
            rds.insert(k.into(), v.into());
        }
        let mut scratch = toml::Table::new();
        scratch.insert("rds".into(), rds.into());
        let spec = SpecBuilder::new("orders")
            .source("kind", "rds")
            .source("instance", "prod-db")
            .source("region", "us-east-1")
            .source("database", "orders")
            .destination("primary", "file:///b/primary")
            .drill("from", "primary")
            .drill("scratch", scratch)
            .parse()
            .unwrap_or_else(|e| panic!("{}", e.render()));
        let m = SetBuilder::new("orders", utc("2026-12-01T00:00:00Z"))
            .rds_snapshot("prod-db", &[("us-east-1", "firedrill-orders-1")])
            .build();
        let set = BackupSet {
            id: m.backup_id.clone(),
            manifest: m,
        };
        let rb = crate::runbook::build(
            &Drilled {
                spec: &spec,
                set: &set,
                read_from: "primary",
                phases: &[],
                scratch_version: None,
                started_at: utc("2026-12-01T00:00:00Z"),
                passed: true,
            },
            &|ctx| crate::method::of(&spec).runbook(ctx),
        )
        .expect("an RDS set has a runbook");
        let s = &rb.script;
        assert!(
            s.contains("aws rds restore-db-instance-to-point-in-time --region us-east-1 --source-db-instance-identifier prod-db --target-db-instance-identifier \"$INSTANCE\" --use-latest-restorable-time --db-instance-class db.t3.micro --no-publicly-accessible"),
            "{s}"
        );
        assert!(
            s.contains("if [ -z \"${INSTANCE:-}\" ]; then INSTANCE=db-orders-restored; fi"),
            "{s}"
        );
        assert!(!s.contains("firedrill-orders-1"), "no snapshot: {s}");
        assert_eq!(rb.inputs.snapshot, None);
        assert!(rb.inputs.key.is_none());
        assert!(
            rb.with_firedrill[2].command.contains("--keep"),
            "{:?}",
            rb.with_firedrill
        );
    }
}
