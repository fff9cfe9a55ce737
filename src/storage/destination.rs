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

    /// The place this destination's objects live, normalised: a folder's absolute path with
    /// `.`, `..`, trailing slashes and (where the folders exist) symlinks resolved; an S3
    /// endpoint, bucket and prefix.
    fn place(&self) -> Place {
        match &self.kind {
            DestinationKind::Folder(f) => Place::Folder(resolve(&f.path)),
            DestinationKind::S3(s) => Place::S3 {
                endpoint: s.endpoint.clone().unwrap_or_default(),
                bucket: s.bucket.clone(),
                prefix: s
                    .prefix
                    .split('/')
                    .filter(|c| !c.is_empty())
                    .map(str::to_string)
                    .collect(),
            },
        }
    }

    /// True when `other` writes into the same place as this one, or one inside the other: a
    /// "replica" there would not be a copy of its own.
    pub fn overlaps(&self, other: &DestinationSpec) -> bool {
        fn nested(a: &[String], b: &[String]) -> bool {
            a.iter().zip(b).all(|(x, y)| x == y)
        }
        match (self.place(), other.place()) {
            (Place::Folder(a), Place::Folder(b)) => a.starts_with(&b) || b.starts_with(&a),
            (
                Place::S3 {
                    endpoint: e1,
                    bucket: b1,
                    prefix: p1,
                },
                Place::S3 {
                    endpoint: e2,
                    bucket: b2,
                    prefix: p2,
                },
            ) => e1 == e2 && b1 == b2 && nested(&p1, &p2),
            _ => false,
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

/// Where a destination's objects live, for comparing destinations.
enum Place {
    Folder(std::path::PathBuf),
    S3 {
        endpoint: String,
        bucket: String,
        prefix: Vec<String>,
    },
}

/// `path` made absolute and lexically clean (`.`, `..`, repeated and trailing slashes), with
/// symlinks resolved for the part of it that exists.
fn resolve(path: &str) -> std::path::PathBuf {
    use std::path::{Component, PathBuf};
    let mut clean = PathBuf::from("/");
    for c in std::path::Path::new(path).components() {
        match c {
            Component::ParentDir => {
                clean.pop();
            }
            Component::Normal(n) => clean.push(n),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    // The longest existing ancestor is resolved on disk; the rest is appended as written.
    let mut rest = Vec::new();
    let mut head = clean.clone();
    loop {
        if let Ok(real) = std::fs::canonicalize(&head) {
            return rest
                .iter()
                .rev()
                .fold(real, |p, c: &std::ffi::OsString| p.join(c));
        }
        match head.file_name() {
            Some(name) => {
                rest.push(name.to_os_string());
                head.pop();
            }
            None => return clean,
        }
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

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl IntoIterator for SettingProblems {
    type Item = SettingProblem;
    type IntoIter = std::vec::IntoIter<SettingProblem>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn configure(url: &str, s3: S3Options) -> (DestinationSpec, Vec<String>) {
        let mut p = SettingProblems::default();
        let d = DestinationSpec::configure("dr".into(), url, s3, &mut p);
        let found = p
            .into_iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect();
        (d, found)
    }

    #[test]
    fn urls_become_kinds_and_round_trip() {
        let (d, found) = configure("file:///var/backups", S3Options::default());
        assert!(found.is_empty(), "{found:?}");
        assert!(matches!(&d.kind, DestinationKind::Folder(f) if f.path == "/var/backups"));
        assert_eq!(d.url(), "file:///var/backups");
        let s3 = S3Options {
            region: Some("eu-west-1".into()),
            ..S3Options::default()
        };
        let (d, found) = configure("s3://my-bucket/fd/", s3);
        assert!(found.is_empty(), "{found:?}");
        let DestinationKind::S3(s) = &d.kind else {
            panic!("{d:?}")
        };
        assert_eq!((s.bucket.as_str(), s.prefix.as_str()), ("my-bucket", "fd"));
        assert_eq!((s.part_size, s.concurrency), (16 << 20, 4));
        assert_eq!(d.url(), "s3://my-bucket/fd");
    }

    #[test]
    fn s3_settings_are_checked_and_named_by_field() {
        let s3 = S3Options {
            part_size: Some(None),
            kms_key_id: Some("k".into()),
            ..S3Options::default()
        };
        let (_, found) = configure("s3://B", s3);
        assert_eq!(
            found,
            [
                "url: `B` in `s3://B` is not a valid S3 bucket name",
                "region: an s3:// destination needs its bucket's region",
                "part-size: must be between 5 MiB and 5 GiB (S3's limits)",
                "kms-key-id: `kms-key-id` needs sse = \"aws:kms\"",
            ]
        );
        let s3 = S3Options {
            region: Some("eu-west-1".into()),
            ..S3Options::default()
        };
        let (_, found) = configure("file://x", s3);
        assert_eq!(
            found,
            [
                "url: `file://x` is not an absolute file:// URL",
                "region: `region` applies to s3:// destinations only",
            ]
        );
    }

    #[test]
    fn destinations_in_one_place_overlap() {
        let folder = |url: &str| configure(url, S3Options::default()).0;
        let s3 = |url: &str, endpoint: Option<&str>| {
            let options = S3Options {
                region: Some("eu-west-1".into()),
                endpoint: endpoint.map(str::to_string),
                ..S3Options::default()
            };
            configure(url, options).0
        };
        let base = folder("file:///srv/firedrill-none/a");
        for same in [
            "file:///srv/firedrill-none/a/",
            "file:///srv/firedrill-none/./a",
            "file:///srv/firedrill-none/b/../a",
            "file:///srv/firedrill-none//a",
            "file:///srv/firedrill-none/a/inner",
            "file:///srv/firedrill-none",
        ] {
            assert!(base.overlaps(&folder(same)), "{same}");
        }
        assert!(!base.overlaps(&folder("file:///srv/firedrill-none/ab")));
        assert!(!base.overlaps(&s3("s3://srv/a", None)));

        // A symlinked folder is the folder it points at.
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("real")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("real"), dir.path().join("link")).unwrap();
        let real = folder(&format!("file://{}/real", dir.path().display()));
        let link = folder(&format!("file://{}/link/", dir.path().display()));
        assert!(real.overlaps(&link));

        let b = s3("s3://bucket-one/fd", None);
        assert!(b.overlaps(&s3("s3://bucket-one/fd/", None)));
        assert!(b.overlaps(&s3("s3://bucket-one", None)));
        assert!(b.overlaps(&s3("s3://bucket-one/fd/dr", None)));
        assert!(!b.overlaps(&s3("s3://bucket-one/fd2", None)));
        assert!(!b.overlaps(&s3("s3://bucket-two/fd", None)));
        assert!(!b.overlaps(&s3("s3://bucket-one/fd", Some("http://127.0.0.1:4566"))));
    }
}
