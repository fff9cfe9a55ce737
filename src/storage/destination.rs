//! A destination as configured: its name and where its objects live. Each backend checks its
//! own settings ([`FolderDestination`] in `file`, [`S3Destination`] in `s3`); the spec collects
//! their problems under the destination's key.

use super::file::FolderDestination;
use super::s3::{S3Destination, S3Options};

/// A named destination from the spec, checked.
#[derive(Debug, Clone)]
pub struct DestinationSpec {
    pub name: String,
    pub kind: DestinationKind,
}

/// Where a destination's objects live.
#[derive(Debug, Clone)]
pub enum DestinationKind {
    /// `file:///path`: a directory.
    Folder(FolderDestination),
    /// `s3://bucket/prefix`.
    S3(S3Destination),
}

impl DestinationSpec {
    /// The destination's URL, `file:///path` or `s3://bucket/prefix`.
    pub fn url(&self) -> String {
        match &self.kind {
            DestinationKind::Folder(f) => f.url(),
            DestinationKind::S3(s) => s.url(),
        }
    }

    /// Checks a destination's URL and settings; each problem is pushed into `p` by the name
    /// of its setting (`url`, `region`, ...). When there are problems the returned destination
    /// is only a stand-in.
    pub fn configure(name: String, url: &str, s3: S3Options, p: &mut SettingProblems) -> Self {
        let location = Location::parse(url, p);
        // An s3:// URL with a bad bucket name is still an S3 destination's.
        let is_s3 = url.starts_with("s3://");
        if !is_s3 {
            for field in s3.given() {
                p.push(
                    field,
                    format!("`{field}` applies to s3:// destinations only"),
                    "remove it",
                );
            }
        }
        let tuning = s3.check(is_s3, p);
        let kind = match location {
            Location::Folder(f) => DestinationKind::Folder(f),
            Location::S3 { bucket, prefix } => {
                DestinationKind::S3(tuning.destination(bucket, prefix))
            }
            Location::Invalid => DestinationKind::Folder(FolderDestination {
                path: String::new(),
            }),
        };
        Self { name, kind }
    }
}

/// What a destination URL points at.
enum Location<'a> {
    Folder(FolderDestination),
    S3 { bucket: &'a str, prefix: &'a str },
    Invalid,
}

impl<'a> Location<'a> {
    fn parse(url: &'a str, p: &mut SettingProblems) -> Self {
        let parsed = if url.starts_with("file://") {
            FolderDestination::parse_url(url).map(Location::Folder)
        } else if url.starts_with("s3://") {
            super::s3::parse_url(url).map(|(bucket, prefix)| Location::S3 { bucket, prefix })
        } else if url.is_empty() {
            Err((
                "every destination needs a url".into(),
                "add url = \"file:///var/backups/firedrill\"".into(),
            ))
        } else {
            Err((
                format!("`{url}` is not a destination URL"),
                "use file:///absolute/path".into(),
            ))
        };
        parsed.unwrap_or_else(|(message, fix)| {
            p.push("url", message, fix);
            Location::Invalid
        })
    }
}

/// Problems with a destination's settings, in the order found: the setting's name in the
/// spec (`part-size`), what is wrong and the fix.
#[derive(Debug, Default)]
pub struct SettingProblems(Vec<SettingProblem>);

#[derive(Debug)]
pub struct SettingProblem {
    pub field: &'static str,
    pub message: String,
    pub fix: String,
}

impl SettingProblems {
    pub fn push(
        &mut self,
        field: &'static str,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.0.push(SettingProblem {
            field,
            message: message.into(),
            fix: fix.into(),
        });
    }
}

impl IntoIterator for SettingProblems {
    type Item = SettingProblem;
    type IntoIter = std::vec::IntoIter<SettingProblem>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}
