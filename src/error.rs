//! The public error type: what went wrong, on which object, and how to fix it.
//!
//! Modules keep their own detail, but everything that crosses the library boundary is an
//! [`Error`] with a [`ErrorKind`], a message naming the object, an optional hint naming the fix,
//! and the underlying cause. Messages never contain secrets: URLs are redacted before they are
//! put into a message (see [`crate::source::redact_url`]).

use std::fmt;

/// Broad class of an error, used to choose an exit code and for machine-readable output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The drill spec or a command-line value is invalid.
    Spec,
    /// A required tool is missing or too old, or the environment is not usable.
    Preflight,
    /// The source database could not be read.
    Source,
    /// A destination could not be read or written.
    Storage,
    /// Keys: missing identity, identity that matches no recipient, bad recipient.
    Key,
    /// Stored bytes differ from what the manifest recorded (corrupted or truncated).
    Integrity,
    /// The restore into the scratch target failed.
    Restore,
    /// An object is under retention (S3 Object Lock) and cannot be deleted before it ends.
    Retained,
    /// The scratch target could not be created or removed, or a safety rule refused an action.
    Scratch,
    /// The run was interrupted (SIGINT/SIGTERM).
    Aborted,
    /// A run went past its deadline (`drill.timeout`).
    Timeout,
    /// Another run of the same spec holds the lease.
    Busy,
    /// Anything else.
    Internal,
}

/// The error returned by every public function of the library.
#[derive(Debug)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    pub hint: Option<String>,
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            hint: None,
            source: None,
        }
    }

    /// Adds the fix to the error.
    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Adds the underlying cause (kept typed: callers may downcast it; [`Error::render`]
    /// prints its chain).
    #[must_use]
    pub fn caused_by(mut self, cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        self.source = Some(cause.into());
        self
    }

    pub fn spec(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Spec, message)
    }
    pub fn preflight(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Preflight, message)
    }
    pub fn storage(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Storage, message)
    }
    pub fn key(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Key, message)
    }
    pub fn integrity(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Integrity, message)
    }
    pub fn scratch(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Scratch, message)
    }
    pub fn source_db(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Source, message)
    }
    pub fn restore(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Restore, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Timeout, message)
    }
    pub fn aborted() -> Self {
        Self::new(ErrorKind::Aborted, "interrupted by a signal")
    }

    /// One line per part: message, cause chain, hint. Used by the CLI and reports.
    pub fn render(&self) -> String {
        let mut out = self.message.clone();
        let mut cause: Option<&(dyn std::error::Error + 'static)> = self
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static));
        while let Some(c) = cause {
            let text = c.to_string();
            if !text.is_empty() && !out.contains(&text) {
                out.push_str(&format!("\n  caused by: {text}"));
            }
            cause = c.source();
        }
        if let Some(h) = &self.hint {
            out.push_str(&format!("\n  fix: {h}"));
        }
        out
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
