//! CPU time of an ephemeral scratch cluster, read from `/proc` just before it is stopped: the
//! postmaster's own time, the time of the backends it has already reaped (`cutime`,
//! `cstime`), and the time of those still running. A server scratch's CPU lives in that
//! server and is not claimed.

use std::path::Path;

/// CPU-seconds (user + system) of the cluster whose data folder is `data`; `None` when it is
/// not running or `/proc` cannot be read (not Linux).
pub fn cluster_seconds(data: &Path) -> Option<f64> {
    let pid: u32 = std::fs::read_to_string(data.join("postmaster.pid"))
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()?;
    let ticks = clock_ticks()?;
    let own = stat(pid)?;
    let mut total = own.utime + own.stime + own.cutime + own.cstime;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(child) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if let Some(s) = stat(child).filter(|s| s.ppid == pid) {
            total += s.utime + s.stime;
        }
    }
    Some(total as f64 / ticks)
}

fn clock_ticks() -> Option<f64> {
    nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .filter(|t| *t > 0)
        .map(|t| t as f64)
}

/// The fields of `/proc/<pid>/stat` used here.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Stat {
    ppid: u32,
    utime: u64,
    stime: u64,
    cutime: u64,
    cstime: u64,
}

fn stat(pid: u32) -> Option<Stat> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Parses `/proc/<pid>/stat`; the command name (field 2) may hold spaces and parentheses, so
/// the fields are counted after its last `)`.
fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest[0] is field 3 (state): field n is f[n - 3].
    let n = |i: usize| f.get(i - 3).and_then(|v| v.parse::<u64>().ok());
    Some(Stat {
        ppid: u32::try_from(n(4)?).ok()?,
        utime: n(14)?,
        stime: n(15)?,
        cutime: n(16)?,
        cstime: n(17)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        let text =
            "4242 (postgres: a) b) S 4200 4242 4242 0 -1 4194560 1 2 3 4 150 25 7 3 20 0 1 0 5 6 7";
        assert_eq!(
            parse_stat(text),
            Some(Stat {
                ppid: 4200,
                utime: 150,
                stime: 25,
                cutime: 7,
                cstime: 3
            })
        );
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn this_process_has_a_stat() {
        let me = stat(std::process::id()).unwrap();
        assert!(me.ppid > 0);
        assert!(clock_ticks().unwrap() > 0.0);
        assert_eq!(cluster_seconds(Path::new("/nonexistent")), None);
    }
}
