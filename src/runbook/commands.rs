//! The recovery with firedrill, as commands: check, confirm the copy, restore into a new
//! database on a recovery server, promote it. Shared by the methods' runbook parts.

use super::model::Command;
use crate::init::shell_quote;
use crate::spec::DrillSpec;

/// The spec's path (absolute) for a command line.
pub fn spec_arg(spec: &DrillSpec) -> String {
    let path = std::path::absolute(&spec.path).unwrap_or_else(|_| spec.path.clone());
    shell_quote(&path.display().to_string())
}

/// `firedrill check SPEC` and `firedrill list SPEC`: how every recovery with firedrill starts.
pub fn check_and_list(spec: &DrillSpec, backup_id: &str, read_from: &str) -> Vec<Command> {
    let spec_arg = spec_arg(spec);
    vec![
        Command {
            command: format!("firedrill check {spec_arg}"),
            why: "the tools, the copies and the key are in place".into(),
        },
        Command {
            command: format!("firedrill list {spec_arg}"),
            why: format!("backup `{backup_id}` is complete in `{read_from}`"),
        },
    ]
}

/// The recovery with firedrill: check, confirm the copy, restore into a new database on a
/// recovery server (the URL stays in an environment variable), then promote it.
pub fn with_firedrill(
    spec: &DrillSpec,
    backup_id: &str,
    read_from: &str,
    database: &str,
) -> Vec<Command> {
    let scratch = "drill.scratch={ server = \"${RECOVERY_SERVER_URL}\", prefix = \"recovered_\" }";
    let mut v = check_and_list(spec, backup_id, read_from);
    v.extend([
        Command {
            command: format!(
                "firedrill drill {} --backup {} --from {} --keep --set {}",
                spec_arg(spec),
                shell_quote(backup_id),
                shell_quote(read_from),
                shell_quote(scratch)
            ),
            why: "restores it into a new database on the server in RECOVERY_SERVER_URL (a postgres:// URL in the environment), runs the checks, leaves it up and prints how to connect".into(),
        },
        Command {
            command: format!(
                "psql \"$RECOVERY_SERVER_URL\" -c 'ALTER DATABASE \"<printed name>\" RENAME TO {}'",
                crate::pg::quote_ident(database).replace('\'', "'\\''")
            ),
            why: "promotes it: point the application at the renamed database (without the scratch prefix, `firedrill cleanup` leaves it alone)".into(),
        },
    ]);
    v
}
