//! Safety rails: a scratch server that is the source's own server, the cluster user's access
//! to the work dir, and specs of many checks.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::support::{firedrill, text, Env, SourceDb, PG};

/// `check` of `spec` (`--offline` or not): exit code and output.
fn check(spec: &Path, offline: bool) -> (Option<i32>, String) {
    let mut args = vec!["check", spec.to_str().unwrap()];
    if offline {
        args.push("--offline");
    }
    let out = firedrill(&args);
    (out.status.code(), text(&out))
}

/// A scratch server URL that is the source database itself (the same server under another
/// name for the host) is refused when the spec loads, naming both and the fix.
#[test]
fn the_source_database_as_the_scratch_server_is_refused() {
    let env = Env::new();
    let spec = env.write(
        &env.spec("self", "postgres://postgres@127.0.0.1:5432/shop")
            .scratch_server("postgres://postgres@localhost/shop", "firedrill_"),
    );
    let (code, out) = check(&spec, true);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("drill.scratch.server"), "{out}");
    assert!(
        out.contains("postgres://postgres@localhost:5432/shop")
            && out.contains("postgres://postgres@127.0.0.1:5432/shop"),
        "{out}"
    );
    assert!(out.contains("is the source database"), "{out}");
    assert!(
        out.contains("fix: point drill.scratch.server at another server"),
        "{out}"
    );
    assert!(!env.work().exists(), "nothing is made for a refused spec");
}

/// A prefix the source database's name starts with, on the source's server, is refused: a
/// scratch name or a cleanup sweep could take the source database.
#[test]
fn a_scratch_prefix_the_source_database_starts_with_is_refused_on_its_server() {
    let env = Env::new();
    let spec = env.write(
        &env.spec("pfx", "postgres://postgres@[::1]:5432/firedrill_shop")
            .scratch_server("postgres://postgres@127.0.0.1:5432/postgres", "firedrill_"),
    );
    let (code, out) = check(&spec, true);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("`firedrill_shop`") && out.contains("scratch prefix `firedrill_`"),
        "{out}"
    );
    assert!(out.contains("choose a drill.scratch.prefix"), "{out}");

    // Another server (another port) may hold any names.
    let other = env.write(
        &env.spec("pfx2", "postgres://postgres@127.0.0.1:5433/firedrill_shop")
            .scratch_server(
                "postgres://postgres@127.0.0.1:5432/firedrill_shop",
                "firedrill_",
            ),
    );
    let (code, out) = check(&other, true);
    assert_eq!(code, Some(0), "{out}");
}

/// `check` warns about a scratch server that is the source's own server, and the drill
/// report records the warning on its scratch target.
#[tokio::test]
async fn a_scratch_server_on_the_source_server_is_warned_about_in_check_and_report() {
    let src = SourceDb::with_rows(20).await;
    let env = Env::new();
    let prefix = format!("fdsafe{}_", firedrill::catalog::layout::random_hex(2));
    let spec = env.write(
        &env.spec("same", &src.url())
            .scratch_server(&format!("{PG}/postgres"), &prefix)
            .check("rows", "row-counts"),
    );
    let path = spec.to_str().unwrap();
    let (code, out) = check(&spec, false);
    assert_eq!(code, Some(0), "a warning does not fail check: {out}");
    let line = out
        .lines()
        .find(|l| l.contains("scratch server"))
        .unwrap_or_else(|| panic!("no scratch server item: {out}"));
    assert!(line.starts_with("WARN"), "{out}");
    assert!(line.contains("is the source's own server"), "{out}");
    assert!(
        line.contains("point drill.scratch.server at another server"),
        "{out}"
    );

    let out = firedrill(&["check", path, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let item = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["what"] == "scratch server")
        .unwrap();
    assert_eq!(
        (item["ok"].as_bool(), item["warning"].as_bool()),
        (Some(true), Some(true))
    );

    let out = firedrill(&["backup", path]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = firedrill(&["drill", path, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let scratch = &v["report"]["scratch"];
    assert_eq!(scratch["kind"], "server", "{v}");
    let warning = scratch["warning"].as_str().unwrap_or_default();
    assert!(warning.contains("is the source's own server"), "{scratch}");
    // People read it too.
    let report: firedrill::report::DrillReport =
        serde_json::from_value(v["report"].clone()).unwrap();
    assert!(firedrill::report::render_markdown(&report).contains("**Warning**: "));
    assert!(firedrill::report::render_html(&report).contains("<th scope=\"row\">Warning</th>"));
    assert_eq!(crate::support::databases_named_like(&prefix).await, 0);
}

/// A port on 127.0.0.1 that forwards every connection to the test server, from a thread of
/// its own (the tests block on the binary).
fn proxy_to_test_server() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            while let Ok((mut inbound, _)) = listener.accept().await {
                tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect("127.0.0.1:5432").await
                    {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
    });
    port
}

/// Behind another port the URLs differ, but `check` connects to both and finds one server
/// (same system identifier and start time): it warns, and refuses the source database.
#[tokio::test]
async fn check_finds_the_source_server_behind_another_address() {
    let src = SourceDb::with_rows(1).await;
    let env = Env::new();
    let port = proxy_to_test_server();
    let spec = env.write(&env.spec("behind", &src.url()).scratch_server(
        &format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        "fdbehind_",
    ));
    let (code, out) = check(&spec, true);
    assert_eq!(
        code,
        Some(0),
        "by the URLs alone this is another server: {out}"
    );
    let (code, out) = check(&spec, false);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("WARN scratch server")
                && l.contains("is the source's own server")),
        "{out}"
    );

    let spec = env.write(&env.spec("behind2", &src.url()).scratch_server(
        &format!("postgres://postgres@127.0.0.1:{port}/{}", src.name),
        "fdbehind_",
    ));
    let (code, out) = check(&spec, false);
    assert_ne!(code, Some(0), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("FAIL scratch server") && l.contains("is the source database")),
        "{out}"
    );
}

/// A work dir below a folder the clusters' OS user cannot enter fails `check`, naming the
/// folder, the user and the fix; below a folder it can enter, the item passes.
#[tokio::test]
async fn check_confirms_the_cluster_user_can_reach_the_work_dir() {
    let src = SourceDb::with_rows(1).await;
    let env = Env::new();
    let root = nix::unistd::geteuid().is_root();
    let closed = tempfile::tempdir().unwrap();
    // As root the cluster runs as drill.run-as (postgres), for whom a 0700 folder of root's
    // is closed; as another user, a folder without `x` is closed to firedrill itself.
    let mode = if root { 0o700 } else { 0o600 };
    std::fs::set_permissions(closed.path(), std::fs::Permissions::from_mode(mode)).unwrap();
    let work = closed.path().join("work");
    let spec = env.write(
        &env.spec("closed", &src.url())
            .drill("work-dir", work.display().to_string())
            .check("rows", "row-counts"),
    );
    let (code, out) = check(&spec, false);
    std::fs::set_permissions(closed.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    assert_eq!(code, Some(2), "{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("FAIL work-dir"))
        .unwrap_or_else(|| panic!("no failed work-dir item: {out}"));
    assert!(
        line.contains(&format!("`{}`", closed.path().display())),
        "{line}"
    );
    if root {
        assert!(line.contains("OS user `postgres` (drill.run-as)"), "{line}");
        assert!(line.contains("mode 700, owner root:root"), "{line}");
        assert!(
            out.contains(&format!(
                "fix: let it through (chmod o+x {})",
                closed.path().display()
            )),
            "{out}"
        );
    }
    // Every other item passes: only the work dir is wrong.
    assert_eq!(
        out.lines().filter(|l| l.starts_with("FAIL")).count(),
        1,
        "{out}"
    );

    let open = tempfile::tempdir().unwrap();
    std::fs::set_permissions(open.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let spec = env.write(
        &env.spec("open", &src.url())
            .drill("work-dir", open.path().join("work").display().to_string())
            .check("rows", "row-counts"),
    );
    let (code, out) = check(&spec, false);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.lines().any(|l| l.starts_with("ok   work-dir")), "{out}");
}

/// A spec of many checks still names every reused check name, once per reuse.
#[test]
fn reused_check_names_are_reported_in_a_spec_of_many_checks() {
    let mut text = String::from(
        "name = \"many\"\n[source]\nurl = \"postgres://u@h/db\"\n[backup]\n\
         recipients = [\"age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\"]\n\
         [[destination]]\nname = \"dr\"\nurl = \"file:///x\"\n",
    );
    for i in 0..20_000 {
        // Checks 5, 6000 and 19999 reuse the names of checks 4, 0 and 7.
        let n = match i {
            5 => 4,
            6000 => 0,
            19_999 => 7,
            n => n,
        };
        text.push_str(&format!(
            "[[check]]\nname = \"rows in t{n:06}\"\nsql = \"select 1\"\nexpect = \"== 1\"\n"
        ));
    }
    let err = firedrill::spec::parse(&text, Path::new("many.toml"), &[], &|_| None).unwrap_err();
    assert!(err.message.contains("has 3 problems"), "{}", err.message);
    for n in [0, 4, 7] {
        assert!(
            err.message
                .contains(&format!("check name `rows in t{n:06}` is used twice")),
            "{}",
            err.message
        );
    }
}
