//! A firedrill child process for tests that signal or poll a running command.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A firedrill child process with its output in files; killed if still running when dropped.
pub struct Spawned {
    pub child: Child,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Spawned {
    pub fn start(args: &[&str], logs: &Path) -> Spawned {
        let stdout = logs.join("child.stdout");
        let stderr = logs.join("child.stderr");
        let child = Command::new(env!("CARGO_BIN_EXE_firedrill"))
            .args(args)
            .env("FIREDRILL_LOG", "info")
            .env_remove("FIREDRILL_IDENTITY")
            .stdin(Stdio::null())
            .stdout(File::create(&stdout).unwrap())
            .stderr(File::create(&stderr).unwrap())
            .spawn()
            .expect("the firedrill binary starts");
        Spawned {
            child,
            stdout,
            stderr,
        }
    }

    pub fn pid(&self) -> String {
        self.child.id().to_string()
    }

    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("try_wait")
    }

    /// Waits for the exit, at most `timeout`; panics (and kills it) after that.
    pub fn wait(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.exited() {
                return s;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "firedrill did not exit within {timeout:?}; output:\n{}",
                    self.output()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn output(&self) -> String {
        format!(
            "{}{}",
            std::fs::read_to_string(&self.stdout).unwrap_or_default(),
            std::fs::read_to_string(&self.stderr).unwrap_or_default()
        )
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn sigterm(pid: &str) {
    let st = Command::new("kill")
        .args(["-TERM", pid])
        .status()
        .expect("kill runs");
    assert!(st.success(), "kill -TERM {pid} failed");
}
