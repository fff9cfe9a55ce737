//! Pieces of `check` every method shares: one item per thing confirmed, and the destinations
//! proven writable.

use serde::Serialize;

use crate::pipeline::keys;
use crate::spec::DrillSpec;
use crate::storage;
use crate::{Error, Result};

/// One thing `check` confirmed (or found wrong) before anything runs.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CheckItem {
    pub what: String,
    pub ok: bool,
    pub detail: String,
    /// Allowed but risky (`ok` stays true): `check` prints it as a warning.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub warning: bool,
}

impl CheckItem {
    /// An item from the result of one probe: its detail, or the rendered error.
    pub fn from_result(what: &str, r: Result<String>) -> CheckItem {
        match r {
            Ok(detail) => CheckItem {
                what: what.into(),
                ok: true,
                detail,
                warning: false,
            },
            Err(e) => CheckItem {
                what: what.into(),
                ok: false,
                detail: e.render(),
                warning: false,
            },
        }
    }

    /// An item that passes with a warning.
    pub fn warning(what: &str, detail: String) -> CheckItem {
        CheckItem {
            what: what.into(),
            ok: true,
            detail,
            warning: true,
        }
    }
}

/// Every destination of `spec`, proven writable (a probe object written, read back, removed).
pub async fn destinations(spec: &DrillSpec) -> Vec<CheckItem> {
    let mut items = Vec::new();
    for d in &spec.destinations {
        let r = async {
            let dest = storage::open(d).await?;
            storage::probe_writable(&dest).await?;
            Ok(format!("{} writable", dest.store.describe()))
        }
        .await;
        items.push(CheckItem::from_result(
            &format!("destination {}", d.name),
            r,
        ));
    }
    items
}

/// Ephemeral clusters can live in `drill.work-dir`: firedrill can create or write it and the
/// OS user the clusters run as can reach it.
pub fn work_dir(spec: &DrillSpec) -> CheckItem {
    CheckItem::from_result(
        "work-dir",
        crate::scratch::work_dir::check(&spec.drill.work_dir, &spec.drill.run_as),
    )
}

/// The drill identity decrypts what backups encrypt.
pub fn identity(spec: &DrillSpec) -> CheckItem {
    let r = keys::load_identities(spec.drill.identity_file.as_deref()).and_then(|(ids, _)| {
        if keys::identity_matches(&ids, &spec.backup.recipients)? {
            Ok("the drill identity decrypts what backups encrypt".to_string())
        } else {
            Err(Error::key("the drill identity matches none of backup.recipients")
                .hint("put the identity's public key (firedrill keygen prints it) in backup.recipients"))
        }
    });
    CheckItem::from_result("identity", r)
}
