//! `firedrill init`: a ready, minimal drill spec for one existing database, with everything
//! it names made beside it under one folder: an age key, a report-signing key, two local
//! destination folders standing for two regions, and the reports folder. The source's
//! password never lands in the spec (a `${VAR}` reference stands in for it). Nothing is ever
//! overwritten, and a failed `init` removes what it made.

mod commands;
mod made;
mod source;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::pipeline::keys;
use crate::{Error, Result};

pub use commands::{next_commands, program_name, shell_quote};
pub use source::{password_var, spec_name, spec_source, SpecSource};

use made::Made;

/// The spec template (`@...@` placeholders are filled in by [`run`]).
pub const SPEC_TEMPLATE: &str = include_str!("spec.toml");

/// What `init` wrote.
#[derive(Debug, Clone, Serialize)]
pub struct InitOutcome {
    /// The drill (spec) name, made from the database name.
    pub name: String,
    /// The database `--source` reached.
    pub database: String,
    pub dir: PathBuf,
    pub spec: PathBuf,
    pub identity_file: PathBuf,
    pub signing_key_file: PathBuf,
    pub recipient: String,
    pub destinations: Vec<PathBuf>,
    pub reports: PathBuf,
    /// The variable to export with the source password, when `--source` held one.
    pub password_var: Option<String>,
}

/// The files and folders of drill `name` under `dir` (absolute).
struct Layout {
    spec: PathBuf,
    identity: PathBuf,
    signing: PathBuf,
    primary: PathBuf,
    dr: PathBuf,
    reports: PathBuf,
}

impl Layout {
    fn new(dir: &Path, name: &str) -> Layout {
        let backups = dir.join("backups");
        Layout {
            spec: dir.join(format!("{name}.toml")),
            identity: dir.join(format!("{name}.key")),
            signing: dir.join(format!("{name}-signing.key")),
            primary: backups.join("primary"),
            dr: backups.join("dr"),
            reports: dir.join("reports"),
        }
    }

    /// What must not exist yet: the files, and this drill's folders in the destinations
    /// and reports (backups made with another key, reports of another chain).
    fn own(&self, name: &str) -> Vec<PathBuf> {
        vec![
            self.spec.clone(),
            self.identity.clone(),
            self.signing.clone(),
            self.primary.join(name),
            self.dr.join(name),
            self.reports.join(name),
        ]
    }
}

/// `dir` made absolute against the current directory (it may not exist yet).
fn absolute(dir: &Path) -> Result<PathBuf> {
    let dir = std::path::absolute(dir)
        .map_err(|e| Error::preflight(format!("cannot resolve folder `{}`: {e}", dir.display())))?;
    // Resolve the part that exists, so that the spec names real paths.
    let mut existing = dir.as_path();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.parent(), existing.file_name()) {
            (Some(p), Some(n)) => {
                rest.push(n.to_os_string());
                existing = p;
            }
            _ => break,
        }
    }
    let mut out = std::fs::canonicalize(existing).unwrap_or_else(|_| existing.to_path_buf());
    for n in rest.into_iter().rev() {
        out.push(n);
    }
    Ok(out)
}

/// A TOML string for `s`, with `$` doubled (the spec reads `$$` as a literal `$`).
fn toml_str(s: &str) -> String {
    toml::Value::String(s.replace('$', "$$")).to_string()
}

/// A TOML string for a path.
fn toml_path(p: &Path) -> String {
    toml_str(&p.display().to_string())
}

/// The spec text for the drill.
fn spec_text(
    name: &str,
    database: &str,
    source: &SpecSource,
    recipient: &str,
    l: &Layout,
) -> String {
    let note = match &source.password_var {
        Some(var) => format!(
            "\n# The password is not in this file: export {var} before check, backup and\n# drill (the password as written in the URL given to `firedrill init`)."
        ),
        None => "\n# No password: the server lets this user in without one (trust, peer). Otherwise\n# write user:${MY_PASSWORD_VAR}@ in the URL and export that variable.".to_string(),
    };
    SPEC_TEMPLATE
        .replace("@DATABASE@", &database.replace('\n', " "))
        .replace("@NAME@", &toml_str(name))
        .replace("@PASSWORD_NOTE@", &note)
        .replace(
            "@URL@",
            &toml::Value::String(source.url.clone()).to_string(),
        )
        .replace("@RECIPIENT@", &toml_str(recipient))
        .replace(
            "@PRIMARY@",
            &toml_str(&format!("file://{}", l.primary.display())),
        )
        .replace("@DR@", &toml_str(&format!("file://{}", l.dr.display())))
        .replace("@IDENTITY@", &toml_path(&l.identity))
        .replace("@SIGNING@", &toml_path(&l.signing))
        .replace("@REPORTS@", &toml_path(&l.reports))
}

/// Writes a drill spec for the database at `source_url` under `dir` (default
/// `./firedrill-<name>`), with its keys and folders.
///
/// # Errors
/// [`crate::ErrorKind::Spec`] for a bad URL, a source error when the database cannot be
/// reached, [`crate::ErrorKind::Preflight`] naming a file that exists already (nothing is
/// overwritten) or cannot be written. On any error nothing `init` made is left.
pub async fn run(source_url: &str, dir: Option<&Path>) -> Result<InitOutcome> {
    let target = source::check_url(source_url)?;
    let database = source::database_name(&target).await?;
    let name = spec_name(&database);
    let var = password_var(&name);
    let source = spec_source(source_url, &var);
    let dir = absolute(&dir.map_or_else(
        || PathBuf::from(format!("firedrill-{name}")),
        Path::to_path_buf,
    ))?;
    let layout = Layout::new(&dir, &name);
    if let Some(taken) = layout.own(&name).into_iter().find(|p| p.exists()) {
        return Err(Error::preflight(format!(
            "`{}` exists already; init never overwrites",
            taken.display()
        ))
        .hint("choose another --dir, or remove it yourself if it is not needed"));
    }
    let mut made = Made::default();
    match write_all(&mut made, &layout, &name, &database, &source, source_url) {
        Ok(recipient) => Ok(InitOutcome {
            name,
            database,
            dir,
            spec: layout.spec.clone(),
            identity_file: layout.identity.clone(),
            signing_key_file: layout.signing.clone(),
            recipient,
            destinations: vec![layout.primary.clone(), layout.dr.clone()],
            reports: layout.reports.clone(),
            password_var: source.password_var,
        }),
        Err(e) => {
            made.undo();
            Err(e)
        }
    }
}

/// Makes the folders, keys and spec, and loads the spec back (with the password in its
/// variable) to prove it is ready. Returns the recipient.
fn write_all(
    made: &mut Made,
    l: &Layout,
    name: &str,
    database: &str,
    source: &SpecSource,
    source_url: &str,
) -> Result<String> {
    for d in [&l.primary, &l.dr, &l.reports] {
        made.dir(d)?;
    }
    let recipient = keys::write_new_identity(&l.identity)?;
    made.file(&l.identity);
    crate::report::evidence::write_new_key(&l.signing)?;
    made.file(&l.signing);
    let text = spec_text(name, database, source, &recipient, l);
    made.write(&l.spec, &text)?;
    let password = source::written_password(source_url);
    let var = source.password_var.clone();
    let env = move |n: &str| match (&var, &password) {
        (Some(v), Some(pw)) if v == n => Some(pw.clone()),
        _ => std::env::var(n).ok(),
    };
    crate::spec::parse(&text, &l.spec, &[], &env).map_err(|e| {
        Error::internal(format!("the spec init wrote does not load: {}", e.render()))
    })?;
    Ok(recipient)
}
