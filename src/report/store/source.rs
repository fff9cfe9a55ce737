//! Where `report` and `report verify` read drill reports: a report folder (`drill.reports`
//! or one drill's folder in it), the report folder of a drill spec, or, with `--from NAME`,
//! the spec's reports mirrored in destination NAME, downloaded into a temporary folder.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::spec::{self, DrillSpec};
use crate::{storage, Error, Result};

/// The reports a command reads, resolved from its path, `--set` and `--from`.
#[derive(Debug)]
pub struct ReportSource {
    /// The drill spec, when the path is one.
    pub spec: Option<DrillSpec>,
    /// The report folder: the spec's `drill.reports`, the download of a mirror, or the
    /// folder given.
    pub root: PathBuf,
    /// The destination the reports were downloaded from (`--from`).
    pub from: Option<String>,
    /// Keeps the download of a mirror alive.
    _download: Option<TempDir>,
}

impl ReportSource {
    /// Resolves `path` (a folder or a spec, with `sets` applied) and, with `from`, downloads
    /// the spec's reports mirrored in that destination.
    ///
    /// # Errors
    /// [`crate::ErrorKind::Spec`] for a spec that does not load, `--from` with a folder or an
    /// unknown destination, or a destination without mirrored reports;
    /// [`crate::ErrorKind::Storage`] when the mirror cannot be read.
    pub async fn open(path: &Path, sets: &[String], from: Option<&str>) -> Result<ReportSource> {
        let spec = if path.is_file() {
            Some(spec::load(path, sets)?)
        } else {
            None
        };
        let Some(from) = from else {
            let root = match &spec {
                Some(s) => s.drill.reports.clone(),
                None => path.to_path_buf(),
            };
            return Ok(ReportSource {
                spec,
                root,
                from: None,
                _download: None,
            });
        };
        let Some(spec) = spec else {
            return Err(Error::spec(format!(
                "--from needs a drill spec, and `{}` is a folder",
                path.display()
            ))
            .hint("give the spec whose destination holds the reports"));
        };
        let download = pull(&spec, from).await?;
        Ok(ReportSource {
            spec: Some(spec),
            root: download.path().to_path_buf(),
            from: Some(from.to_string()),
            _download: Some(download),
        })
    }

    /// The folder of the spec's drill, or the folder given (which may hold several drills).
    pub fn drill_folder(&self) -> PathBuf {
        match &self.spec {
            Some(s) => self.root.join(&s.name),
            None => self.root.clone(),
        }
    }
}

/// The spec's drill reports mirrored in destination `from`, downloaded into a temporary
/// report folder.
async fn pull(spec: &DrillSpec, from: &str) -> Result<TempDir> {
    let Some(d) = spec.destination(from) else {
        let names: Vec<&str> = spec.destinations.iter().map(|d| d.name.as_str()).collect();
        return Err(Error::spec(format!("no destination named `{from}`"))
            .hint(format!("use one of: {}", names.join(", "))));
    };
    let dest = storage::open(d).await?;
    let tmp = tempfile::tempdir()
        .map_err(|e| Error::storage(format!("cannot create a temporary folder: {e}")))?;
    super::mirror::pull(&dest, &spec.name, tmp.path()).await?;
    Ok(tmp)
}
