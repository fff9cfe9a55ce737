//! `firedrill completions SHELL` and `firedrill man [COMMAND]`: generated from the command
//! line's own definition by clap, so they never drift from it.

use clap::{Args, CommandFactory};

use firedrill::{Error, Exit, Result};

/// `completions SHELL`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `man [COMMAND]`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// The subcommand whose page to print (`drill`, `report`, ...); the main page without.
    pub command: Option<String>,
}

/// Prints the completion script for `args.shell` on stdout.
pub fn completions(args: &CompletionsArgs) -> Result<Exit> {
    let mut cmd = super::Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "firedrill", &mut out);
    out_raw!("{}", String::from_utf8_lossy(&out));
    Ok(Exit::Pass)
}

/// Prints the man page (roff) of firedrill or of one subcommand on stdout.
pub fn man(args: &ManArgs) -> Result<Exit> {
    let root = super::Cli::command();
    let cmd = match &args.command {
        None => root,
        Some(name) => {
            let names: Vec<String> = root
                .get_subcommands()
                .map(|c| c.get_name().to_string())
                .collect();
            let Some(sub) = root.find_subcommand(name).cloned() else {
                return Err(Error::spec(format!("no command `{name}`"))
                    .hint(format!("use one of: {}", names.join(", "))));
            };
            // The page is named `firedrill-drill`, as `man firedrill-drill` finds it.
            // (Leaked: the process prints one page and ends.)
            let page: &'static str = format!("firedrill-{}", sub.get_name()).leak();
            sub.name(page)
        }
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut out)
        .map_err(|e| Error::internal(format!("cannot render the man page: {e}")))?;
    out_raw!("{}", String::from_utf8_lossy(&out));
    Ok(Exit::Pass)
}
