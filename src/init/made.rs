//! What `init` has created so far, so that a failed `init` removes it and leaves nothing.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Paths created by this run, in order.
#[derive(Debug, Default)]
pub struct Made(Vec<PathBuf>);

impl Made {
    /// Creates `dir` and its missing ancestors, remembering each one made.
    ///
    /// # Errors
    /// [`crate::ErrorKind::Preflight`] naming the folder.
    pub fn dir(&mut self, dir: &Path) -> Result<()> {
        let missing: Vec<&Path> = dir.ancestors().take_while(|a| !a.exists()).collect();
        for d in missing.into_iter().rev() {
            std::fs::create_dir(d).map_err(|e| {
                Error::preflight(format!("cannot create folder `{}`: {e}", d.display()))
                    .hint("choose a --dir you can write to")
            })?;
            self.0.push(d.to_path_buf());
        }
        if !dir.is_dir() {
            return Err(Error::preflight(format!(
                "`{}` exists and is not a folder",
                dir.display()
            ))
            .hint("choose another --dir, or move that file away"));
        }
        Ok(())
    }

    /// Remembers a file created by someone else's `create_new` (keys).
    pub fn file(&mut self, path: &Path) {
        self.0.push(path.to_path_buf());
    }

    /// Writes a new file (never over an existing one) and remembers it.
    ///
    /// # Errors
    /// [`crate::ErrorKind::Preflight`] naming the file.
    pub fn write(&mut self, path: &Path, text: &str) -> Result<()> {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| {
                Error::preflight(format!("cannot create `{}`: {e}", path.display()))
                    .hint("init never overwrites a file: choose another --dir or remove it")
            })?;
        self.0.push(path.to_path_buf());
        f.write_all(text.as_bytes())
            .and_then(|_| f.sync_all())
            .map_err(|e| Error::preflight(format!("cannot write `{}`: {e}", path.display())))
    }

    /// Removes everything made, newest first.
    pub fn undo(self) {
        for p in self.0.into_iter().rev() {
            let _ = if p.is_dir() {
                std::fs::remove_dir(&p)
            } else {
                std::fs::remove_file(&p)
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undo_removes_what_was_made_and_nothing_else() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("theirs.txt"), "keep").unwrap();
        let mut made = Made::default();
        made.dir(&root.path().join("a/b")).unwrap();
        made.write(&root.path().join("a/b/spec.toml"), "x").unwrap();
        assert!(made.write(&root.path().join("theirs.txt"), "y").is_err());
        made.undo();
        let left: Vec<_> = std::fs::read_dir(root.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("theirs.txt")]);
        assert_eq!(
            std::fs::read_to_string(root.path().join("theirs.txt")).unwrap(),
            "keep"
        );
    }
}
