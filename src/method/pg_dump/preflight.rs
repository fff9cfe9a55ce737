//! `check` of a pg_dump spec: the source answers, the PostgreSQL tools are new enough for it,
//! the scratch server answers and is not the source's own server (or the OS user of
//! ephemeral clusters can reach the work dir), the destinations take writes, the drill
//! identity decrypts what backups encrypt.

use std::time::Duration;

use secrecy::SecretString;
use tokio_postgres::Client;

use crate::method::{preflight, CheckItem};
use crate::pg::{PgTarget, PgTools};
use crate::scratch::same_server;
use crate::spec::{DrillSpec, ScratchSpec};
use crate::{Error, Result};

/// How long comparing the source's and the scratch server's identities may take.
const IDENTITY_DEADLINE: Duration = Duration::from_secs(20);

pub async fn run(spec: &DrillSpec) -> Vec<CheckItem> {
    let (source, major) = source(spec).await;
    let mut items = vec![source];
    items.extend(tools(spec, major));
    match &spec.drill.scratch {
        ScratchSpec::Server { url, prefix } => items.push(scratch_server(spec, url, prefix).await),
        ScratchSpec::Ephemeral => items.push(preflight::work_dir(spec)),
        ScratchSpec::Rds(_) => {}
    }
    items.extend(preflight::destinations(spec).await);
    items.push(preflight::identity(spec));
    items
}

/// The scratch server answers and is not the source's own server (a warning), nor one where
/// the source database could be hit (a failure).
async fn scratch_server(spec: &DrillSpec, url: &SecretString, prefix: &str) -> CheckItem {
    let what = "scratch server";
    let r = async {
        let scratch = PgTarget::from_url(url, "drill.scratch.server")?;
        let client = scratch.connect("the scratch server").await?;
        let source = PgTarget::from_url(&spec.source.url, "source.url")?
            .with_ca(spec.source.ca_file.clone());
        let same = same_as_source(&source, &scratch, &client).await;
        Ok::<_, Error>((scratch, source, same))
    }
    .await;
    match r {
        Err(e) => CheckItem::from_result(what, Err(e)),
        Ok((scratch, _, false)) => CheckItem::from_result(
            what,
            Ok(format!(
                "{} reachable, not the source's server",
                scratch.display()
            )),
        ),
        Ok((scratch, source, true)) => match same_server::refusal(&source, &scratch, prefix) {
            Some((problem, fix)) => {
                CheckItem::from_result(what, Err(Error::preflight(problem).hint(fix)))
            }
            None => CheckItem::warning(what, same_server::warning(&source, &scratch)),
        },
    }
}

/// The scratch server is the source's server: by their URLs, or, when the source answers,
/// by the identity of the servers connected to.
async fn same_as_source(source: &PgTarget, scratch: &PgTarget, scratch_client: &Client) -> bool {
    let (s, t) = (source.clone(), scratch.clone());
    if tokio::task::spawn_blocking(move || same_server::by_url(&s, &t))
        .await
        .unwrap_or(false)
    {
        return true;
    }
    let identities = async {
        let source_client = source.connect("the source database").await.ok()?;
        let a = same_server::Identity::of(&source_client).await.ok()?;
        let b = same_server::Identity::of(scratch_client).await.ok()?;
        Some(a.same(&b))
    };
    tokio::time::timeout(IDENTITY_DEADLINE, identities)
        .await
        .ok()
        .flatten()
        .unwrap_or(false)
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
