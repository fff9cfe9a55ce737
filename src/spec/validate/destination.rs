//! `[[destination]]`: where backup sets are written and drills read from. Each backend checks
//! its own settings (see [`DestinationSpec::configure`]); here they get their key paths.

use super::{is_name, parse_size};
use crate::spec::raw::RawDestination;
use crate::spec::{DestinationSpec, Problems};
use crate::storage::{S3Options, SettingProblems};

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
        let url = d.url.clone().unwrap_or_default();
        let mut found = SettingProblems::default();
        destinations.push(DestinationSpec::configure(
            name,
            &url,
            s3_options(d),
            &mut found,
        ));
        let problems = !found.is_empty();
        for f in found {
            p.push(&format!("{key}.{}", f.field), f.message, f.fix);
        }
        if problems {
            continue;
        }
        let this = destinations.last().expect("just pushed");
        if let Some(same) = destinations[..destinations.len() - 1]
            .iter()
            .find(|d| d.overlaps(this))
        {
            p.push(
                &format!("{key}.url"),
                format!(
                    "`{}` is the same place as destination `{}` (`{}`), or inside it: a copy there would not be a copy of its own",
                    this.url(),
                    same.name,
                    same.url()
                ),
                "give every destination its own folder, or its own bucket or prefix that does not contain another's",
            );
        }
    }
    destinations
}

/// The S3 settings as written; sizes are read here like every size in the spec.
fn s3_options(d: RawDestination) -> S3Options {
    S3Options {
        region: d.region,
        endpoint: d.endpoint,
        part_size: d.part_size.as_ref().map(|v| parse_size(v).ok()),
        concurrency: d.concurrency,
        object_lock: d.object_lock.map(|l| (l.mode, l.days)),
        sse: d.sse,
        kms_key_id: d.kms_key_id,
    }
}
