use clap::Args;
use serde::Serialize;

use firedrill::pg::{PgTarget, PgTools};
use firedrill::pipeline::keys;
use firedrill::spec::{DrillSpec, ScratchSpec};
use firedrill::{storage, Error, Result};

use super::SpecArgs;

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    /// Only validate the spec; do not contact the source, destinations or tools.
    #[arg(long)]
    pub offline: bool,
}

#[derive(Serialize)]
struct Item {
    what: String,
    ok: bool,
    detail: String,
}

pub async fn run(args: CheckArgs) -> Result<u8> {
    let spec = args.spec.load()?;
    let mut items = vec![Item {
        what: "spec".into(),
        ok: true,
        detail: format!("`{}` is valid", spec.path.display()),
    }];
    if !args.offline {
        preflight(&spec, &mut items).await;
    }
    let ok = items.iter().all(|i| i.ok);
    if args.spec.json {
        super::print_json(&serde_json::json!({ "ok": ok, "checks": items }));
    } else {
        for i in &items {
            println!(
                "{} {}: {}",
                if i.ok { "ok  " } else { "FAIL" },
                i.what,
                i.detail
            );
        }
    }
    Ok(if ok { 0 } else { 2 })
}

fn push(items: &mut Vec<Item>, what: &str, r: std::result::Result<String, Error>) {
    match r {
        Ok(detail) => items.push(Item {
            what: what.into(),
            ok: true,
            detail,
        }),
        Err(e) => items.push(Item {
            what: what.into(),
            ok: false,
            detail: e.render(),
        }),
    }
}

/// RDS specs: the instance exists (and the DR copies' regions answer); no pg tools or keys.
async fn preflight_rds(spec: &DrillSpec, src: &firedrill::spec::RdsSource, items: &mut Vec<Item>) {
    use firedrill::aws::{rds_client, rds_error};
    use firedrill::source::rds::describe_instance;
    let c = rds_client(&src.region, src.endpoint.as_deref()).await;
    let r = describe_instance(&c, src).await.map(|i| {
        format!(
            "RDS instance `{}` in `{}` ({} {})",
            src.instance,
            src.region,
            i.engine().unwrap_or("?"),
            i.engine_version().unwrap_or("?")
        )
    });
    push(items, "source", r);
    for copy in &src.copy_to {
        let rc = rds_client(&copy.region, src.endpoint.as_deref()).await;
        let r = rc
            .describe_db_snapshots()
            .db_instance_identifier(&src.instance)
            .max_records(20)
            .send()
            .await
            .map(|_| format!("RDS answers in `{}`", copy.region))
            .map_err(|e| rds_error("cannot list snapshots", &copy.region, e));
        push(items, &format!("copy to {}", copy.region), r);
    }
    for d in &spec.destinations {
        let r = async {
            let dest = storage::open(d).await?;
            storage::probe_writable(&dest).await?;
            Ok(format!("{} writable", dest.store.describe()))
        }
        .await;
        push(items, &format!("destination {}", d.name), r);
    }
}

async fn preflight(spec: &DrillSpec, items: &mut Vec<Item>) {
    if let Some(src) = &spec.source.rds {
        return preflight_rds(spec, src, items).await;
    }
    let tools = PgTools::new(spec.tools.bin_dir.clone());
    // The source's major version decides which tools are new enough.
    let mut major = 0;
    let source = async {
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
    match source {
        Ok((display, m)) => {
            major = m;
            push(
                items,
                "source",
                Ok(format!("{display} reachable, PostgreSQL {m}")),
            );
        }
        Err(e) => push(items, "source", Err(e)),
    }
    let why = format!("for PostgreSQL {major}");
    let mut needed = vec!["pg_dump", "pg_restore"];
    if matches!(spec.drill.scratch, ScratchSpec::Ephemeral) {
        needed.extend(["initdb", "pg_ctl"]);
    }
    for tool in needed {
        push(
            items,
            tool,
            tools
                .find(tool, major, &why)
                .map(|t| format!("{} ({})", t.version, t.path.display())),
        );
    }
    if let ScratchSpec::Server { url, .. } = &spec.drill.scratch {
        let r = async {
            let t = PgTarget::from_url(url, "drill.scratch.server")?;
            t.connect("the scratch server").await?;
            Ok(format!("{} reachable", t.display()))
        }
        .await;
        push(items, "scratch server", r);
    }
    for d in &spec.destinations {
        let r = async {
            let dest = storage::open(d).await?;
            storage::probe_writable(&dest).await?;
            Ok(format!("{} writable", dest.store.describe()))
        }
        .await;
        push(items, &format!("destination {}", d.name), r);
    }
    let r = keys::load_identities(spec.drill.identity_file.as_deref()).and_then(|(ids, _)| {
        if keys::identity_matches(&ids, &spec.backup.recipients)? {
            Ok("the drill identity decrypts what backups encrypt".to_string())
        } else {
            Err(Error::key("the drill identity matches none of backup.recipients")
                .hint("put the identity's public key (firedrill keygen prints it) in backup.recipients"))
        }
    });
    push(items, "identity", r);
}
