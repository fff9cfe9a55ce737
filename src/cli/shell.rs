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

/// `man [COMMAND]` or `man --out DIR`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// The subcommand whose page to print (`drill`, `report`, ...); the main page without.
    #[arg(conflicts_with = "out")]
    pub command: Option<String>,
    /// Write every page (`firedrill.1`, `firedrill-drill.1`, ...) into this folder instead.
    #[arg(long, value_name = "DIR")]
    pub out: Option<std::path::PathBuf>,
}

/// Prints the completion script for `args.shell` on stdout.
pub fn completions(args: &CompletionsArgs) -> Result<Exit> {
    let mut cmd = super::Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "firedrill", &mut out);
    out_raw!("{}", String::from_utf8_lossy(&out));
    Ok(Exit::Pass)
}

/// Prints the man page (roff) of firedrill or of one subcommand on stdout, or writes them all.
pub fn man(args: &ManArgs) -> Result<Exit> {
    if let Some(dir) = &args.out {
        return man_all(dir);
    }
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
            page_of(sub)
        }
    };
    out_raw!("{}", String::from_utf8_lossy(&render(cmd)?));
    Ok(Exit::Pass)
}

/// A subcommand named as its page: `firedrill-drill`, as `man firedrill-drill` finds it.
fn page_of(sub: clap::Command) -> clap::Command {
    // (Leaked: the process renders a few pages and ends.)
    let page: &'static str = format!("firedrill-{}", sub.get_name()).leak();
    sub.name(page)
}

fn render(cmd: clap::Command) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut out)
        .map_err(|e| Error::internal(format!("cannot render the man page: {e}")))?;
    Ok(out)
}

/// Writes `firedrill.1` and one page per subcommand into `dir` (which must exist).
fn man_all(dir: &std::path::Path) -> Result<Exit> {
    let root = super::Cli::command();
    let mut pages = vec![("firedrill".to_string(), root.clone())];
    for sub in root.get_subcommands().filter(|c| c.get_name() != "help") {
        pages.push((
            format!("firedrill-{}", sub.get_name()),
            page_of(sub.clone()),
        ));
    }
    for (name, cmd) in pages {
        let path = dir.join(format!("{name}.1"));
        std::fs::write(&path, render(cmd)?).map_err(|e| {
            Error::spec(format!("cannot write `{}`: {e}", path.display()))
                .hint("give --out an existing, writable folder")
        })?;
        out!("{}", path.display());
    }
    Ok(Exit::Pass)
}
