//! `report verify SPEC` checks the backup objects the reports cite, and `report SPEC`
//! summarises with the spec's schedule; against real drills into file destinations.

use crate::support::{firedrill, text, Env, SourceDb};

/// `report verify --json` of `path`: its exit code and the proof of every report.
fn proofs(path: &str) -> (Option<i32>, Vec<String>, serde_json::Value) {
    let out = firedrill(&["report", "verify", path, "--json"]);
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    let proofs = v["reports"]
        .as_array()
        .unwrap_or_else(|| panic!("reports[] in {v}"))
        .iter()
        .map(|r| r["proof"].as_str().unwrap().to_string())
        .collect();
    (out.status.code(), proofs, v)
}

fn set_dir(env: &Env, dest: &str, drill: &str) -> std::path::PathBuf {
    let root = env.dest(dest).join(drill);
    let mut ids: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            firedrill::catalog::layout::is_backup_id(&p.file_name().unwrap().to_string_lossy())
        })
        .collect();
    ids.sort();
    ids.pop().expect("a backup set")
}

#[tokio::test]
async fn report_verify_checks_cited_objects_and_tells_pruned_from_tampered() {
    let db = SourceDb::with_rows(100).await;
    let env = Env::new();
    let spec = env.write(
        &env.spec("cited", &db.url())
            .drill("schedule", "0 3 * * *")
            .rto("10m"),
    );
    let spec = spec.to_str().unwrap();
    assert_eq!(firedrill(&["backup", spec]).status.code(), Some(0));
    for _ in 0..2 {
        let out = firedrill(&["drill", spec]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
    let reports = firedrill::report::evidence::reports(&env.reports().join("cited"));
    let newest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(reports.last().unwrap()).unwrap()).unwrap();
    assert_eq!(newest["schedule"]["cron"], "0 3 * * *", "{newest}");
    assert!(newest["backup"]["source"]["size_bytes"].as_u64().unwrap() > 0);

    // The summary of the spec: its schedule, its drill.
    let out = firedrill(&["report", spec, "--since", "1d", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["drills"][0]["schedule"]["source"], "spec");
    assert_eq!(v["drills"][0]["counts"]["run"], 2);
    assert_eq!(v["drills"][0]["counts"]["passed"], 2);
    assert_eq!(v["drills"][0]["rto"]["target_seconds"], 600.0);

    let verify = || firedrill(&["report", "verify", spec, "--json"]);
    let out = verify();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["checked"], 2);
    assert_eq!(v["objects_checked"], 1, "both reports cite one object: {v}");

    // One byte of the cited object altered (same size).
    let set = set_dir(&env, "dr", "cited");
    let object = set.join("data.dump.zst.age");
    let original = std::fs::read(&object).unwrap();
    let mut bytes = original.clone();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&object, &bytes).unwrap();
    let out = firedrill(&["report", "verify", spec]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = text(&out);
    let report_name = reports[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_string();
    assert!(
        said.contains("TAMPERED")
            && said.contains(&report_name)
            && said.contains("data.dump.zst.age")
            && said.contains("destination `dr`")
            && said.contains("was altered"),
        "{said}"
    );
    // A folder without the spec: the chain holds, but nothing proves these unsigned
    // reports (no signature, no mirror to compare with).
    let out = firedrill(&["report", "verify", env.reports().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("2 unproven") && !text(&out).contains("TAMPERED"),
        "{}",
        text(&out)
    );

    // The object gone while its manifest stays: not retention, a finding.
    std::fs::remove_file(&object).unwrap();
    let out = verify();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("removed outside retention"),
        "{}",
        text(&out)
    );

    // The whole set gone, manifest first, as prune does it: pruned, not tampered.
    std::fs::write(&object, &original).unwrap();
    std::fs::remove_dir_all(&set).unwrap();
    let out = firedrill(&["report", "verify", spec]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("PRUNED") && text(&out).contains("was pruned"),
        "{}",
        text(&out)
    );
}

/// Reports are mirrored into every destination: with the host's report folder gone, the
/// summary and `report verify --from` read them from a destination, and an edit there shows.
#[tokio::test]
async fn mirrored_reports_in_destinations_outlive_the_local_folder() {
    let db = SourceDb::with_rows(10).await;
    let env = Env::new();
    let spec = env.signed_drills("mirror", &db.url(), 2);
    let spec = spec.to_str().unwrap();
    for dest in ["primary", "dr"] {
        let mut names: Vec<String> = std::fs::read_dir(env.dest(dest).join("mirror/reports"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names.len(),
            5,
            "2 reports, 2 signatures, the public key: {names:?}"
        );
        assert!(names.contains(&"signing-key.pub".to_string()), "{names:?}");
    }
    // The newest report removed from the local folder: the chain cannot show it, the
    // mirrors do.
    let local = firedrill::report::evidence::reports(&env.reports().join("mirror"));
    let newest = local.last().unwrap().clone();
    let kept = std::fs::read(&newest).unwrap();
    std::fs::remove_file(&newest).unwrap();
    let out = firedrill(&["report", "verify", spec]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = text(&out);
    let name = newest.file_name().unwrap().to_string_lossy().to_string();
    assert!(
        said.contains(&format!("TAMPERED {name}")) && said.contains("it was removed"),
        "{said}"
    );
    std::fs::write(&newest, kept).unwrap();
    let out = firedrill(&["report", "verify", spec]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("2 reports: 2 proven by signature, 0 by matching mirrors")
            && text(&out).contains("signatures valid"),
        "{}",
        text(&out)
    );
    // Signed reports are proven by their signatures, with the spec or without.
    for path in [spec, env.reports().to_str().unwrap()] {
        let (code, proofs_now, v) = proofs(path);
        assert_eq!(code, Some(0), "{v}");
        assert_eq!(proofs_now, ["signed", "signed"], "{v}");
    }

    // The host's report folder is lost.
    std::fs::remove_dir_all(env.reports()).unwrap();
    let out = firedrill(&["report", spec, "--since", "1d", "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "nothing local any more: {}",
        text(&out)
    );

    let out = firedrill(&[
        "report", spec, "--from", "primary", "--since", "1d", "--format", "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["drills"][0]["counts"]["run"], 2, "{v}");
    assert_eq!(v["drills"][0]["counts"]["passed"], 2, "{v}");

    let out = firedrill(&["report", "verify", spec, "--from", "dr", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["checked"], 2, "{v}");

    // One byte edited in the copy kept in `dr`.
    let mirrored = env.dest("dr").join("mirror/reports");
    let first = std::fs::read_dir(&mirrored)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .min()
        .unwrap();
    let mut bytes = std::fs::read(&first).unwrap();
    let at = bytes.iter().position(|&b| b == b'"').unwrap() + 1;
    bytes[at] ^= 0x20;
    std::fs::write(&first, bytes).unwrap();
    let out = firedrill(&["report", "verify", spec, "--from", "dr"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("TAMPERED"), "{}", text(&out));

    // Bad input: a folder with --from, an unknown destination.
    let out = firedrill(&["report", env.path().to_str().unwrap(), "--from", "dr"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("--from needs a drill spec"),
        "{}",
        text(&out)
    );
    let out = firedrill(&["report", "verify", spec, "--from", "nowhere"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("no destination named `nowhere`"),
        "{}",
        text(&out)
    );
}

/// Unsigned reports are proven only by copies with the same bytes in the destinations: an
/// edited verdict in the newest report (which no chain covers) differs from its mirrors, and
/// a bare folder proves nothing.
#[tokio::test]
async fn unsigned_reports_are_proven_by_matching_mirrors_and_an_edited_verdict_shows() {
    let db = SourceDb::with_rows(10).await;
    let env = Env::new();
    let spec = env.write(&env.spec("plain", &db.url()));
    let spec = spec.to_str().unwrap();
    assert_eq!(firedrill(&["backup", spec]).status.code(), Some(0));
    for _ in 0..2 {
        let out = firedrill(&["drill", spec]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
    let (code, proofs_now, v) = proofs(spec);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(proofs_now, ["mirrored", "mirrored"], "{v}");
    let out = firedrill(&["report", "verify", spec]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains("2 reports: 0 proven by signature, 2 by matching mirrors, 0 unproven")
            && said.contains("mirrors match")
            && !said.contains("signatures"),
        "claims no signature it did not check: {said}"
    );

    // The bare folder: no signature, no mirror: unproven, exit 1.
    let (code, proofs_now, v) = proofs(env.reports().to_str().unwrap());
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(proofs_now, ["unproven", "unproven"], "{v}");
    assert!(
        v["unproven"][0]["problem"]
            .as_str()
            .unwrap()
            .contains("not signed"),
        "{v}"
    );

    // The newest report's verdict edited, passed -> failed: the chain cannot show it (no
    // report names it yet), its mirrored copies can.
    let newest = firedrill::report::evidence::reports(&env.reports().join("plain"))
        .pop()
        .unwrap();
    let name = newest.file_name().unwrap().to_string_lossy().to_string();
    let original = std::fs::read_to_string(&newest).unwrap();
    let failed = original.replacen("\"verdict\": \"passed\"", "\"verdict\": \"failed\"", 1);
    assert_ne!(failed, original, "the report holds a passed verdict");
    std::fs::write(&newest, &failed).unwrap();
    let out = firedrill(&["report", "verify", spec]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = text(&out);
    for dest in ["primary", "dr"] {
        assert!(
            said.contains(&format!(
                "TAMPERED {name}: differs from its copy in destination `{dest}`"
            )),
            "{said}"
        );
    }
    assert!(said.contains("1 unproven"), "{said}");
    let (code, proofs_now, v) = proofs(spec);
    assert_eq!(code, Some(1), "{v}");
    assert_eq!(proofs_now, ["mirrored", "unproven"], "{v}");

    // Edited back, byte for byte: the mirrors match again.
    std::fs::write(&newest, &original).unwrap();
    let out = firedrill(&["report", "verify", spec]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // Read from a destination, the reports are compared with the other destination's copies.
    let out = firedrill(&["report", "verify", spec, "--from", "dr", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["reports"][1]["proof"], "mirrored", "{v}");

    // The copy in `dr` edited instead (its verdict passed -> failed): the report is named
    // with the destination whose copy differs, and only that one.
    let copy = env.dest("dr").join("plain/reports").join(&name);
    std::fs::write(&copy, &failed).unwrap();
    let out = firedrill(&["report", "verify", spec]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains(&format!(
            "TAMPERED {name}: differs from its copy in destination `dr`"
        )) && !said.contains("destination `primary`"),
        "{said}"
    );
    let out = firedrill(&["report", "verify", spec, "--from", "primary"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains(&format!(
            "TAMPERED {name}: differs from its copy in destination `dr`"
        )),
        "{said}"
    );
}
