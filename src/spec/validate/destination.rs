//! `[[destination]]`: where backup sets are written and drills read from.

use super::{is_name, parse_size};
use crate::spec::raw::{RawDestination, RawObjectLock};
use crate::spec::{DestinationSpec, ObjectLock, Problems, Sse};

pub(super) fn destinations(raw: Vec<RawDestination>, p: &mut Problems) -> Vec<DestinationSpec> {
    let mut destinations: Vec<DestinationSpec> = Vec::new();
    if raw.is_empty() {
        p.push(
            "destination",
            "no [[destination]]: backups need somewhere to go",
            "add [[destination]] name = \"primary\" url = \"file:///var/backups/firedrill\"",
        );
    }
    for (i, d) in raw.into_iter().enumerate() {
        let key = match &d.name {
            Some(n) => format!("destination.{n}"),
            None => format!("destination[{i}]"),
        };
        let name = d.name.clone().unwrap_or_default();
        if !is_name(&name) {
            p.push(
                &format!("{key}.name"),
                "every destination needs a name of letters, digits, `_` or `-`",
                "add name = \"primary\" (or \"dr\")",
            );
        } else if destinations.iter().any(|x| x.name == name) {
            p.push(
                &format!("{key}.name"),
                format!("destination name `{name}` is used twice"),
                "give each destination its own name",
            );
        }
        destinations.push(destination(name, d, &key, p));
    }
    destinations
}

fn destination(name: String, d: RawDestination, key: &str, p: &mut Problems) -> DestinationSpec {
    let url = d.url.clone().unwrap_or_default();
    if let Err(e) = crate::storage::check_url(&url) {
        p.push(&format!("{key}.url"), e.0, e.1);
    }
    let is_s3 = url.starts_with("s3://");
    if !is_s3 {
        s3_only(&d, key, p);
    }
    if is_s3 && d.region.as_deref().unwrap_or("").is_empty() {
        p.push(
            &format!("{key}.region"),
            "an s3:// destination needs its bucket's region",
            "add region = \"eu-west-1\" (the bucket's region)",
        );
    }
    if let Some(ep) = &d.endpoint {
        if !(ep.starts_with("http://") || ep.starts_with("https://")) {
            p.push(
                &format!("{key}.endpoint"),
                format!("`{ep}` is not an http(s) URL"),
                "use e.g. \"http://127.0.0.1:4566\"",
            );
        }
    }
    let part_size = part_size(d.part_size.as_ref(), key, p);
    let concurrency = concurrency(d.concurrency, key, p);
    let object_lock = d.object_lock.and_then(|l| object_lock(l, key, p));
    let sse = sse(d.sse.as_deref(), d.kms_key_id, key, p);
    DestinationSpec {
        name,
        url,
        region: d.region,
        endpoint: d.endpoint,
        part_size,
        concurrency,
        object_lock,
        sse,
    }
}

/// Reports every S3 option given to a destination that is not `s3://`.
fn s3_only(d: &RawDestination, key: &str, p: &mut Problems) {
    for (field, present) in [
        ("region", d.region.is_some()),
        ("endpoint", d.endpoint.is_some()),
        ("part-size", d.part_size.is_some()),
        ("concurrency", d.concurrency.is_some()),
        ("object-lock", d.object_lock.is_some()),
        ("sse", d.sse.is_some()),
        ("kms-key-id", d.kms_key_id.is_some()),
    ] {
        if present {
            p.push(
                &format!("{key}.{field}"),
                format!("`{field}` applies to s3:// destinations only"),
                "remove it",
            );
        }
    }
}

fn part_size(value: Option<&toml::Value>, key: &str, p: &mut Problems) -> usize {
    match value.map(parse_size) {
        None => 16 * 1024 * 1024,
        Some(Ok(n)) if (5 * 1024 * 1024..=5 * 1024 * 1024 * 1024).contains(&n) => n as usize,
        Some(Ok(_)) | Some(Err(_)) => {
            p.push(
                &format!("{key}.part-size"),
                "must be between 5 MiB and 5 GiB (S3's limits)",
                "write e.g. \"16MiB\"",
            );
            16 * 1024 * 1024
        }
    }
}

fn concurrency(value: Option<i64>, key: &str, p: &mut Problems) -> usize {
    match value {
        None => 4,
        Some(c) if (1..=32).contains(&c) => c as usize,
        Some(c) => {
            p.push(
                &format!("{key}.concurrency"),
                format!("{c} is out of range"),
                "use 1 to 32",
            );
            4
        }
    }
}

fn object_lock(l: RawObjectLock, key: &str, p: &mut Problems) -> Option<ObjectLock> {
    let mode = l.mode.unwrap_or_default().to_ascii_lowercase();
    let days = l.days.unwrap_or(0);
    if !(mode == "governance" || mode == "compliance") || !(1..=36500).contains(&days) {
        p.push(
            &format!("{key}.object-lock"),
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

fn sse(
    value: Option<&str>,
    kms_key_id: Option<String>,
    key: &str,
    p: &mut Problems,
) -> Option<Sse> {
    match value {
        None => {
            if kms_key_id.is_some() {
                p.push(
                    &format!("{key}.kms-key-id"),
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
                &format!("{key}.sse"),
                format!("`{other}` is not a server-side encryption"),
                "use \"AES256\" or \"aws:kms\"",
            );
            None
        }
    }
}
