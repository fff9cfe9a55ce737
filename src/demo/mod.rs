//! `firedrill demo`: everything end to end on one machine with no existing server. Starts an
//! ephemeral source cluster with a sample shop database, makes an age key, backs up to two
//! local folders standing for two regions, drills from the "dr" copy and prints the verdict.

/// A line for the person running the demo on stdout; a reader that went away changes nothing.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

use std::path::{Path, PathBuf};

use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::backup::{self, BackupOutcome};
use crate::drill::{self, DrillOptions, DrillOutcome};
use crate::pg::PgTools;
use crate::pipeline::keys;
use crate::scratch::{EphemeralCluster, ScratchTarget};
use crate::spec::{self, DrillSpec};
use crate::{Error, Result};

/// The sample database.
pub const SAMPLE_SQL: &str = include_str!("sample.sql");
/// The spec template (`@...@` placeholders are filled in by the demo).
pub const SPEC_TEMPLATE: &str = include_str!("../../drills/demo.toml");

/// What the demo did.
#[derive(Debug, serde::Serialize)]
pub struct DemoOutcome {
    pub dir: PathBuf,
    pub spec: PathBuf,
    pub backup: BackupOutcome,
    pub drill: DrillOutcome,
}

/// True when `user` can reach `dir` (every ancestor searchable by others), needed when the
/// clusters run as another OS user.
fn reachable_by_others(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    dir.ancestors().all(|a| {
        std::fs::metadata(a)
            .map(|m| m.permissions().mode() & 0o001 != 0)
            .unwrap_or(false)
    })
}

/// The demo folder (made absolute) and the folder for its clusters: under it, or in the temp
/// dir when running as root and the cluster user cannot reach it.
fn folders(dir: &Path) -> Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::preflight(format!(
            "cannot create demo folder `{}`: {e}",
            dir.display()
        ))
    })?;
    let dir = std::fs::canonicalize(dir).map_err(|e| Error::preflight(e.to_string()))?;
    let mut clusters = dir.join("clusters");
    if nix::unistd::geteuid().is_root() && !reachable_by_others(&dir) {
        clusters = std::env::temp_dir().join("firedrill-demo-clusters");
        info!(dir = %clusters.display(), "The demo folder is not reachable by the cluster user; clusters run from the temp dir.");
    }
    Ok((dir, clusters))
}

/// The recipient of the demo key at `key_path`, made when there is none yet.
fn recipient(key_path: &Path) -> Result<String> {
    if !key_path.exists() {
        return keys::write_new_identity(key_path);
    }
    let text = std::fs::read_to_string(key_path).map_err(|e| Error::key(e.to_string()))?;
    text.lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .map(str::to_string)
        .ok_or_else(|| {
            Error::key(format!("`{}` has no public key line", key_path.display()))
                .hint("delete it; the demo makes a new one")
        })
}

/// Loads the sample shop database into the source cluster.
async fn load_sample(source: &EphemeralCluster) -> Result<()> {
    let client = source.target().connect("the demo source").await?;
    client.batch_execute(SAMPLE_SQL).await.map_err(|e| {
        Error::source_db(format!(
            "loading the sample database failed: {}",
            crate::pg::conn::pg_message(&e)
        ))
    })
}

/// Writes `demo.toml` for `source` into `dir` and loads it (the source password comes
/// from the cluster, not the environment).
fn write_spec(
    source: &EphemeralCluster,
    recipient: &str,
    dir: &Path,
    clusters: &Path,
) -> Result<(PathBuf, DrillSpec)> {
    let spec_text = SPEC_TEMPLATE
        .replace("@PORT@", &source.port().to_string())
        .replace("@USER@", source.superuser())
        .replace("@RECIPIENT@", recipient)
        .replace("@DIR@", &dir.display().to_string())
        .replace("@WORK@", &clusters.display().to_string());
    let spec_path = dir.join("demo.toml");
    std::fs::write(&spec_path, spec_text).map_err(|e| Error::preflight(e.to_string()))?;
    let password = source.password().to_string();
    let env = move |name: &str| match name {
        "FIREDRILL_DEMO_PASSWORD" => Some(password.clone()),
        other => std::env::var(other).ok(),
    };
    let text = std::fs::read_to_string(&spec_path).map_err(|e| Error::preflight(e.to_string()))?;
    let spec = spec::parse(&text, &spec_path, &[], &env)?;
    Ok((spec_path, spec))
}

/// Backs the demo up and says what was stored.
async fn run_backup(spec: &DrillSpec, cancel: &CancellationToken) -> Result<BackupOutcome> {
    say!("Backing up `shop` to the primary and replicating to dr...");
    let backup = backup::run(spec, cancel).await?;
    let replicas: Vec<String> = backup
        .replicas
        .iter()
        .map(|r| {
            let state = if r.parity { "ok" } else { "FAILED" };
            format!("{} {state}", r.destination)
        })
        .collect();
    say!(
        "Backup {}: {} bytes stored ({} bytes of dump) in {:.1} s; replicas: {}",
        backup.backup_id,
        backup.stored_bytes,
        backup.plain_bytes,
        backup.seconds,
        replicas.join(", ")
    );
    Ok(backup)
}

/// Drills the demo from its dr copy.
async fn run_drill(spec: &DrillSpec, cancel: &CancellationToken) -> Result<DrillOutcome> {
    say!("Drilling from the dr copy into an ephemeral scratch cluster...");
    let opts = DrillOptions {
        trigger: "demo".into(),
        ..DrillOptions::default()
    };
    drill::run(spec, &opts, cancel).await
}

/// Runs the demo under `dir`.
///
/// # Errors
/// When PostgreSQL server binaries are missing or any step fails; the source cluster is
/// stopped and removed either way.
pub async fn run(dir: &Path, run_as: &str, cancel: &CancellationToken) -> Result<DemoOutcome> {
    let (dir, clusters) = folders(dir)?;
    let recipient = recipient(&dir.join("demo.key"))?;
    // The demo signs its reports, so the first report a newcomer sees is the proven kind.
    let signing_key = dir.join("signing.key");
    if !signing_key.exists() {
        crate::report::evidence::write_new_key(&signing_key)?;
    }

    say!("Starting an ephemeral source cluster and loading the sample shop database...");
    let tools = PgTools::default();
    let mut source = EphemeralCluster::start(
        &clusters,
        run_as,
        &tools,
        0,
        "demo-source",
        "source",
        "shop",
    )
    .await?;
    let result = async {
        load_sample(&source).await?;
        let (spec_path, spec) = write_spec(&source, &recipient, &dir, &clusters)?;
        let backup = run_backup(&spec, cancel).await?;
        let drill = run_drill(&spec, cancel).await?;
        Ok(DemoOutcome {
            dir: dir.clone(),
            spec: spec_path,
            backup,
            drill,
        })
    }
    .await;
    let _ = source.cleanup().await;
    result
}
