//! `check` of a pg_dump spec: the source answers, the PostgreSQL tools are new enough for it,
//! the scratch server answers, the destinations take writes, the drill identity decrypts
//! what backups encrypt.

use crate::method::{preflight, CheckItem};
use crate::pg::{PgTarget, PgTools};
use crate::spec::{DrillSpec, ScratchSpec};
use crate::{Error, Result};

pub async fn run(spec: &DrillSpec) -> Vec<CheckItem> {
    let (source, major) = source(spec).await;
    let mut items = vec![source];
    items.extend(tools(spec, major));
    if let ScratchSpec::Server { url, .. } = &spec.drill.scratch {
        let r = async {
            let t = PgTarget::from_url(url, "drill.scratch.server")?;
            t.connect("the scratch server").await?;
            Ok(format!("{} reachable", t.display()))
        }
        .await;
        items.push(CheckItem::from_result("scratch server", r));
    }
    items.extend(preflight::destinations(spec).await);
    items.push(preflight::identity(spec));
    items
}

/// The source answers; its major version decides which tools are new enough (0 when it
/// does not answer).
async fn source(spec: &DrillSpec) -> (CheckItem, u32) {
    let r = async {
        let target = PgTarget::from_url(&spec.source.url, "source.url")?
            .with_ca(spec.source.ca_file.clone());
        let client = target.connect("the source database").await?;
        let num: i32 = client
            .query_one("select current_setting('server_version_num')::int", &[])
            .await
            .map_err(|e| Error::source_db(e.to_string()))?
            .get(0);
        Ok::<_, Error>((target.display().to_string(), (num / 10000) as u32))
    }
    .await;
    match r {
        Ok((display, major)) => (
            CheckItem::from_result(
                "source",
                Ok(format!("{display} reachable, PostgreSQL {major}")),
            ),
            major,
        ),
        Err(e) => (CheckItem::from_result("source", Err(e)), 0),
    }
}

fn tools(spec: &DrillSpec, major: u32) -> Vec<CheckItem> {
    let tools = PgTools::new(spec.tools.bin_dir.clone());
    let why = format!("for PostgreSQL {major}");
    let mut needed = vec!["pg_dump", "pg_restore"];
    if matches!(spec.drill.scratch, ScratchSpec::Ephemeral) {
        needed.extend(["initdb", "pg_ctl"]);
    }
    needed
        .into_iter()
        .map(|tool| {
            let r: Result<String> = tools
                .find(tool, major, &why)
                .map(|t| format!("{} ({})", t.version, t.path.display()));
            CheckItem::from_result(tool, r)
        })
        .collect()
}
