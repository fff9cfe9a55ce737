//! Scratch targets left running by `drill --keep`, recorded in the drill's report folder
//! (`<reports>/<drill>/kept/<stamp>.json`, no secret in it) so that `cleanup SPEC` finds them
//! whatever `--set` overrides the drill ran with (another work dir, another scratch server).
//!
//! A record names where the target lives: the work dir of an ephemeral cluster, or a scratch
//! server (its URL without the password) and prefix. `cleanup` sweeps each recorded place as it
//! sweeps the spec's own, and deletes a record once its place holds nothing of the drill.
//! RDS scratch instances are not recorded: `cleanup` finds them by their tags in the spec's
//! region.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::pg::conn::redact_url;
use crate::spec::{DrillSpec, ScratchSpec};

/// Where a kept target lives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum KeptPlace {
    Ephemeral { work_dir: PathBuf },
    Server { server: String, prefix: String },
}

/// One kept target.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeptRecord {
    pub version: u32,
    pub drill: String,
    pub kept_at: DateTime<Utc>,
    #[serde(flatten)]
    pub place: KeptPlace,
}

/// The place of `spec`'s scratch targets; `None` for RDS.
fn place(spec: &DrillSpec) -> Option<KeptPlace> {
    match &spec.drill.scratch {
        ScratchSpec::Ephemeral => Some(KeptPlace::Ephemeral {
            work_dir: spec.drill.work_dir.clone(),
        }),
        ScratchSpec::Server { url, prefix } => Some(KeptPlace::Server {
            server: redact_url(url.expose_secret()),
            prefix: prefix.clone(),
        }),
        ScratchSpec::Rds(_) => None,
    }
}

fn folder(spec: &DrillSpec) -> PathBuf {
    spec.drill.reports.join(&spec.name).join("kept")
}

/// Records that a target of `spec` (as the drill ran it) was kept. A record that cannot be
/// written is a warning: the drill is over, and the hint it prints still works.
pub fn record(spec: &DrillSpec) {
    let Some(place) = place(spec) else {
        return;
    };
    let rec = KeptRecord {
        version: 1,
        drill: spec.name.clone(),
        kept_at: Utc::now(),
        place,
    };
    let dir = folder(spec);
    let path = dir.join(format!(
        "{}-{}.json",
        rec.kept_at.format("%Y%m%dT%H%M%S%3fZ"),
        crate::catalog::layout::random_hex(4)
    ));
    let written = std::fs::create_dir_all(&dir).and_then(|()| {
        std::fs::write(
            &path,
            serde_json::to_vec_pretty(&rec).expect("a record serializes"),
        )
    });
    if let Err(e) = written {
        tracing::warn!(
            "cannot record the kept scratch target in `{}`: {e}; `firedrill cleanup` finds it only with the same --set overrides",
            path.display()
        );
    }
}

/// The recorded places of `spec`'s kept targets other than its own, each as a spec to sweep,
/// with the record files naming it; and the record files naming the spec's own place.
pub fn recorded(spec: &DrillSpec) -> (Vec<(DrillSpec, Vec<PathBuf>)>, Vec<PathBuf>) {
    let own = place(spec);
    let mut others: Vec<(KeptPlace, Vec<PathBuf>)> = Vec::new();
    let mut same = Vec::new();
    for (path, rec) in read(&folder(spec)) {
        if Some(&rec.place) == own.as_ref() {
            same.push(path);
        } else if let Some((_, files)) = others.iter_mut().find(|(p, _)| *p == rec.place) {
            files.push(path);
        } else {
            others.push((rec.place, vec![path]));
        }
    }
    let specs = others
        .into_iter()
        .map(|(p, files)| (at_place(spec, p), files))
        .collect();
    (specs, same)
}

/// `spec` with its scratch targets at `place`. A recorded server whose URL (without the
/// password) is the spec's own server connects with the spec's password; another connects
/// without one (a pgpass file or trust authentication).
fn at_place(spec: &DrillSpec, place: KeptPlace) -> DrillSpec {
    let mut s = spec.clone();
    match place {
        KeptPlace::Ephemeral { work_dir } => {
            s.drill.work_dir = work_dir;
            s.drill.scratch = ScratchSpec::Ephemeral;
        }
        KeptPlace::Server { server, prefix } => {
            let url = match &spec.drill.scratch {
                ScratchSpec::Server { url, .. } if redact_url(url.expose_secret()) == server => {
                    url.clone()
                }
                _ => SecretString::from(without_password(&server)),
            };
            s.drill.scratch = ScratchSpec::Server { url, prefix };
        }
    }
    s
}

/// A redacted URL with its `***` password removed.
fn without_password(redacted: &str) -> String {
    match url::Url::parse(redacted) {
        Ok(mut u) => {
            let _ = u.set_password(None);
            let pairs: Vec<(String, String)> = u
                .query_pairs()
                .filter(|(k, _)| !k.eq_ignore_ascii_case("password"))
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            u.set_query(None);
            if !pairs.is_empty() {
                u.query_pairs_mut().extend_pairs(pairs);
            }
            u.to_string()
        }
        Err(_) => redacted.to_string(),
    }
}

/// The records in `dir`, oldest first; unreadable ones are skipped with a warning.
fn read(dir: &Path) -> Vec<(PathBuf, KeptRecord)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| {
            let rec = std::fs::read(&p)
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()));
            match rec {
                Ok(r) => Some((p, r)),
                Err(e) => {
                    tracing::warn!("skipping kept-target record `{}`: {e}", p.display());
                    None
                }
            }
        })
        .collect()
}

/// Deletes record files once their place holds nothing of the drill.
pub fn forget(files: &[PathBuf]) {
    for f in files {
        let _ = std::fs::remove_file(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_url_loses_its_password() {
        assert_eq!(
            without_password(&redact_url(
                "postgres://fd:s3cret@db:5433/postgres?password=x&sslmode=disable"
            )),
            "postgres://fd@db:5433/postgres?sslmode=disable"
        );
    }

    #[test]
    fn records_name_places_apart_from_the_spec_own() {
        let dir = tempfile::tempdir().unwrap();
        let recipient = age::x25519::Identity::generate().to_public().to_string();
        let builder = crate::testing::SpecBuilder::new("k")
            .source_url("postgres://127.0.0.1/k")
            .recipients(&[recipient])
            .destination("a", "file:///tmp/firedrill-kept-a")
            .drill("reports", dir.path().to_str().unwrap())
            .drill("work-dir", "/var/tmp/one");
        let one = builder.parse().unwrap();
        record(&one);
        let two = builder
            .clone()
            .drill("work-dir", "/var/tmp/two")
            .parse()
            .unwrap();
        record(&two);
        record(&two);
        let (others, same) = recorded(&one);
        assert_eq!(same.len(), 1);
        assert_eq!(others.len(), 1, "two records of one place are one place");
        assert_eq!(others[0].0.drill.work_dir, PathBuf::from("/var/tmp/two"));
        assert_eq!(others[0].1.len(), 2);
        let text = std::fs::read_to_string(&same[0]).unwrap();
        assert!(text.contains("\"kind\": \"ephemeral\""), "{text}");
        forget(&same);
        assert!(recorded(&one).1.is_empty());
    }
}
