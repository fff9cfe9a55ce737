use std::path::PathBuf;

use clap::Args;

use firedrill::{init, Exit, Result};

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The database to protect: postgres://user:password@host:5432/dbname. The password is
    /// used once to reach it and never written to the spec.
    #[arg(long)]
    pub source: String,
    /// Folder for the spec, its keys, backups and reports (default `./firedrill-<database>`).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: InitArgs) -> Result<Exit> {
    let o = init::run(&args.source, args.dir.as_deref()).await?;
    let exe = std::env::current_exe().ok();
    let path = std::env::var("PATH").ok();
    let program = init::program_name(exe.as_deref(), path.as_deref());
    let commands = init::next_commands(&program, &o.spec);
    if args.json {
        let mut v = serde_json::to_value(&o).expect("serialisable");
        v["next"] = serde_json::json!(commands);
        super::print_json(&v);
        return Ok(Exit::Pass);
    }
    out!(
        "Wrote {} for database `{}` (drill `{}`):",
        o.spec.display(),
        o.database,
        o.name
    );
    out!(
        "  age key         {} (keep a copy off this machine: without it no backup restores)",
        o.identity_file.display()
    );
    out!("  signing key     {}", o.signing_key_file.display());
    out!(
        "  backups         {} and {} (two folders standing for two regions)",
        o.destinations[0].display(),
        o.destinations[1].display()
    );
    out!("  reports         {}", o.reports.display());
    out!("");
    match &o.password_var {
        Some(var) => {
            out!("The password is not in the spec: it reads it from {var}. Export it first,");
            out!("as written in your --source URL:");
            out!("");
            out!("  export {var}='...'");
        }
        None => {
            out!(
                "--source has no password: firedrill connects without one. If the server asks for"
            );
            out!("one, write user:${{MY_VAR}}@ in the spec's url and export MY_VAR.");
        }
    }
    out!("");
    out!("Next:");
    out!("");
    for c in &commands {
        out!("  {c}");
    }
    out!("");
    out!("Every other option (schedules, retention, S3, SQL checks): drills/full.toml.");
    Ok(Exit::Pass)
}
