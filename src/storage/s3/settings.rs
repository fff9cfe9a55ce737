//! An `s3://bucket/prefix` destination as configured, and the checks of its settings: the
//! bucket name, the region, the endpoint, the multipart part size and concurrency, Object Lock
//! and server-side encryption.

use crate::storage::SettingProblems;

/// An S3 destination's settings, checked.
#[derive(Debug, Clone)]
pub struct S3Destination {
    pub bucket: String,
    /// Key prefix inside the bucket, without leading or trailing `/` (may be empty).
    pub prefix: String,
    /// The bucket's region.
    pub region: String,
    /// S3-compatible endpoint (LocalStack, MinIO); path-style addressing is used with it.
    pub endpoint: Option<String>,
    /// Multipart part size in bytes.
    pub part_size: usize,
    /// Parts uploaded at once. Memory is part_size x concurrency.
    pub concurrency: usize,
    pub object_lock: Option<ObjectLock>,
    pub sse: Option<Sse>,
}

impl S3Destination {
    /// `s3://bucket/prefix`.
    pub fn url(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }
}

/// S3 Object Lock retention applied to every object written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectLock {
    /// `governance` or `compliance`.
    pub mode: String,
    pub days: u32,
}

/// S3 server-side encryption on top of age.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sse {
    Aes256,
    Kms { key_id: Option<String> },
}

/// The S3 settings of a destination as written, before they are checked.
#[derive(Debug, Default)]
pub struct S3Options {
    pub region: Option<String>,
    pub endpoint: Option<String>,
    /// `part-size`: `Some(None)` when given but not a size.
    pub part_size: Option<Option<u64>>,
    pub concurrency: Option<i64>,
    /// `object-lock`: its `mode` and `days`.
    pub object_lock: Option<(Option<String>, Option<i64>)>,
    pub sse: Option<String>,
    pub kms_key_id: Option<String>,
}

/// The settings every S3 destination gets, checked (the region apart).
pub(crate) struct S3Tuning {
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub part_size: usize,
    pub concurrency: usize,
    pub object_lock: Option<ObjectLock>,
    pub sse: Option<Sse>,
}

const DEFAULT_PART_SIZE: usize = 16 * 1024 * 1024;
const DEFAULT_CONCURRENCY: usize = 4;

impl S3Options {
    /// The settings given, by their spec names: on a destination that is not S3 each is a
    /// problem.
    pub(crate) fn given(&self) -> Vec<&'static str> {
        [
            ("region", self.region.is_some()),
            ("endpoint", self.endpoint.is_some()),
            ("part-size", self.part_size.is_some()),
            ("concurrency", self.concurrency.is_some()),
            ("object-lock", self.object_lock.is_some()),
            ("sse", self.sse.is_some()),
            ("kms-key-id", self.kms_key_id.is_some()),
        ]
        .into_iter()
        .filter_map(|(field, present)| present.then_some(field))
        .collect()
    }

    /// Checks each setting's value; `needs_region` for an S3 destination, whose bucket's
    /// region must be given.
    pub(crate) fn check(self, needs_region: bool, p: &mut SettingProblems) -> S3Tuning {
        if needs_region && self.region.as_deref().unwrap_or("").is_empty() {
            p.push(
                "region",
                "an s3:// destination needs its bucket's region",
                "add region = \"eu-west-1\" (the bucket's region)",
            );
        }
        if let Some(ep) = &self.endpoint {
            if !(ep.starts_with("http://") || ep.starts_with("https://")) {
                p.push(
                    "endpoint",
                    format!("`{ep}` is not an http(s) URL"),
                    "use e.g. \"http://127.0.0.1:4566\"",
                );
            }
        }
        S3Tuning {
            part_size: part_size(self.part_size, p),
            concurrency: concurrency(self.concurrency, p),
            object_lock: self.object_lock.and_then(|(m, d)| object_lock(m, d, p)),
            sse: sse(self.sse.as_deref(), self.kms_key_id, p),
            region: self.region,
            endpoint: self.endpoint,
        }
    }
}

impl S3Tuning {
    /// The destination in `bucket` under `prefix` with these settings.
    pub(crate) fn destination(self, bucket: &str, prefix: &str) -> S3Destination {
        S3Destination {
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
            region: self.region.unwrap_or_else(|| "us-east-1".into()),
            endpoint: self.endpoint,
            part_size: self.part_size,
            concurrency: self.concurrency,
            object_lock: self.object_lock,
            sse: self.sse,
        }
    }
}

/// Splits an `s3://bucket/prefix` URL, checking the bucket name: `Err((problem, fix))`.
pub(crate) fn parse_url(url: &str) -> Result<(&str, &str), (String, String)> {
    let rest = url.strip_prefix("s3://").unwrap_or(url);
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok((bucket, prefix))
    } else {
        Err((
            format!("`{bucket}` in `{url}` is not a valid S3 bucket name"),
            "bucket names have 3-63 characters: a-z, 0-9, `.` and `-`".into(),
        ))
    }
}

fn part_size(value: Option<Option<u64>>, p: &mut SettingProblems) -> usize {
    match value {
        None => DEFAULT_PART_SIZE,
        Some(Some(n)) if (5 * 1024 * 1024..=5 * 1024 * 1024 * 1024).contains(&n) => n as usize,
        Some(_) => {
            p.push(
                "part-size",
                "must be between 5 MiB and 5 GiB (S3's limits)",
                "write e.g. \"16MiB\"",
            );
            DEFAULT_PART_SIZE
        }
    }
}

fn concurrency(value: Option<i64>, p: &mut SettingProblems) -> usize {
    match value {
        None => DEFAULT_CONCURRENCY,
        Some(c) if (1..=32).contains(&c) => c as usize,
        Some(c) => {
            p.push("concurrency", format!("{c} is out of range"), "use 1 to 32");
            DEFAULT_CONCURRENCY
        }
    }
}

fn object_lock(
    mode: Option<String>,
    days: Option<i64>,
    p: &mut SettingProblems,
) -> Option<ObjectLock> {
    let mode = mode.unwrap_or_default().to_ascii_lowercase();
    let days = days.unwrap_or(0);
    if !(mode == "governance" || mode == "compliance") || !(1..=36500).contains(&days) {
        p.push(
            "object-lock",
            "needs mode = \"governance\" or \"compliance\" and days = 1..36500",
            "write object-lock = { mode = \"compliance\", days = 30 }",
        );
        return None;
    }
    Some(ObjectLock {
        mode,
        days: days as u32,
    })
}

fn sse(value: Option<&str>, kms_key_id: Option<String>, p: &mut SettingProblems) -> Option<Sse> {
    match value {
        None => {
            if kms_key_id.is_some() {
                p.push(
                    "kms-key-id",
                    "`kms-key-id` needs sse = \"aws:kms\"",
                    "add sse = \"aws:kms\"",
                );
            }
            None
        }
        Some("AES256") => Some(Sse::Aes256),
        Some("aws:kms") => Some(Sse::Kms { key_id: kms_key_id }),
        Some(other) => {
            p.push(
                "sse",
                format!("`{other}` is not a server-side encryption"),
                "use \"AES256\" or \"aws:kms\"",
            );
            None
        }
    }
}
