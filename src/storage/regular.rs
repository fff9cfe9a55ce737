//! Opening a folder destination's object for reading only when it is a regular file. A FIFO
//! in its place would make a read wait forever for a writer, a device would be read without
//! end, and a symbolic link points outside the destination: each is refused at once.

use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use nix::fcntl::{fcntl, FcntlArg, OFlag};

/// Why an object could not be opened.
#[derive(Debug)]
pub(crate) enum OpenError {
    /// The object exists but is not a regular file: what it is instead.
    NotRegular(&'static str),
    Io(std::io::Error),
}

/// Opens `path` for reading: without following a symbolic link (`O_NOFOLLOW`), and without
/// waiting on a FIFO (`O_NONBLOCK`, cleared again once `fstat` has shown a regular file).
///
/// # Errors
/// [`OpenError::NotRegular`] for anything but a regular file, else the open's error.
pub(crate) fn open(path: &Path) -> Result<std::fs::File, OpenError> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => OpenError::NotRegular("a symbolic link"),
            _ => OpenError::Io(e),
        })?;
    let kind = file.metadata().map_err(OpenError::Io)?.file_type();
    if !kind.is_file() {
        return Err(OpenError::NotRegular(describe(kind)));
    }
    fcntl(&file, FcntlArg::F_SETFL(OFlag::empty()))
        .map_err(|e| OpenError::Io(std::io::Error::from(e)))?;
    Ok(file)
}

/// Reads `path` whole if it is a regular file (see [`open`]).
///
/// # Errors
/// See [`open`]; a read error as [`OpenError::Io`].
pub(crate) fn read(path: &Path) -> Result<Vec<u8>, OpenError> {
    let mut file = open(path)?;
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut file, &mut out).map_err(OpenError::Io)?;
    Ok(out)
}

/// What a file of `kind` is, for messages: `a FIFO`, `a symbolic link`...
pub(crate) fn describe(kind: std::fs::FileType) -> &'static str {
    if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_symlink() {
        "a symbolic link"
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_open_and_a_fifo_does_not_block() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, b"bytes").unwrap();
        assert_eq!(read(&file).unwrap(), b"bytes");

        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRUSR).unwrap();
        assert!(matches!(open(&fifo), Err(OpenError::NotRegular("a FIFO"))));

        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert!(matches!(
            open(&link),
            Err(OpenError::NotRegular("a symbolic link"))
        ));
        let lstat = std::fs::symlink_metadata(&link).unwrap().file_type();
        assert_eq!(describe(lstat), "a symbolic link");
        assert!(matches!(
            open(dir.path()),
            Err(OpenError::NotRegular("a directory"))
        ));
        assert!(matches!(
            open(&dir.path().join("missing")),
            Err(OpenError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound
        ));
    }
}
