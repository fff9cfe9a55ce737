//! A scratch server on the source's own server: refused when its URL is the source database
//! or the source database's name starts with the scratch prefix (see
//! [`crate::scratch::same_server`]). Only the URLs are known here; `check` compares the
//! connected servers too.

use secrecy::ExposeSecret;

use crate::pg::PgTarget;
use crate::scratch::same_server;
use crate::spec::{DrillPolicy, Problems, ScratchSpec, SourceSpec};

pub(super) fn check(source: &SourceSpec, drill: &DrillPolicy, p: &mut Problems) {
    let ScratchSpec::Server { url, prefix } = &drill.scratch else {
        return;
    };
    // An RDS source without a URL names no server to compare with.
    if source.url.expose_secret().is_empty() && source.method.rds().is_some() {
        return;
    }
    // Badly formed URLs are reported by their own sections.
    let (Ok(src), Ok(scratch)) = (
        PgTarget::from_url(&source.url, "source.url"),
        PgTarget::from_url(url, "drill.scratch.server"),
    ) else {
        return;
    };
    if !same_server::by_url(&src, &scratch) {
        return;
    }
    if let Some((problem, fix)) = same_server::refusal(&src, &scratch, prefix) {
        p.push("drill.scratch.server", problem, fix);
    }
}
