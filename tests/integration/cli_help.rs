//! What people expect of a command-line tool: completions and man pages generated from the
//! command line itself, and a `--help` that says what the exit codes and variables mean.

use crate::support::{firedrill, text};

/// The bash completion script completes `firedrill dr` to `drill`, in a real bash.
#[test]
fn bash_completes_a_command() {
    let out = firedrill(&["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("firedrill.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    let probe = format!(
        "source {}; COMP_WORDS=(firedrill dr); COMP_CWORD=1; COMP_LINE='firedrill dr'; \
         COMP_POINT=12; _firedrill firedrill dr firedrill; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display()
    );
    let done = std::process::Command::new("bash")
        .args(["-c", &probe])
        .output()
        .expect("bash runs");
    assert!(done.status.success(), "{}", text(&done));
    let words: Vec<String> = String::from_utf8_lossy(&done.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(words, ["drill"]);
    for shell in ["zsh", "fish", "powershell"] {
        let out = firedrill(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("drill"),
            "{shell}"
        );
    }
}

/// `man` prints roff pages named as `man` finds them; an unknown command is exit 2.
#[test]
fn man_pages_for_the_command_and_each_subcommand() {
    let out = firedrill(&["man"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains(".TH firedrill 1"));
    let out = firedrill(&["man", "drill"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let page = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(page.contains(".TH firedrill-drill 1"), "{page}");
    assert!(page.contains("keep"), "{page}");
    let dir = tempfile::tempdir().unwrap();
    let out = firedrill(&["man", "--out", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    for page in [
        "firedrill.1",
        "firedrill-drill.1",
        "firedrill-report.1",
        "firedrill-init.1",
    ] {
        assert!(dir.path().join(page).is_file(), "{page}: {}", text(&out));
    }
    let out = firedrill(&["man", "dril"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("no command `dril`"), "{}", text(&out));
}

/// `--help` sets the global options apart and ends with the exit codes and the environment.
#[test]
fn help_says_exit_codes_and_environment() {
    let out = firedrill(&["--help"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let help = String::from_utf8_lossy(&out.stdout).to_string();
    let global = help.find("Global options:").expect("a global section");
    assert!(help[global..].contains("--log-format"), "{help}");
    let exit = help.find("Exit codes:").expect("an exit-code section");
    assert!(exit > global, "{help}");
    for line in [
        "0  passed",
        "1  a drill ran",
        "2  could not run",
        "FIREDRILL_LOG ",
    ] {
        assert!(help[exit..].contains(line), "{line}: {help}");
    }
}
