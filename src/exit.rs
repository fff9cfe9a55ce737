//! The process exit code of a run: 0 pass, 1 a check or target failed, 2 could not run. Every
//! outcome that becomes an exit code is mapped to an [`Exit`]; the binary hands it to the OS.

use std::fmt;

/// How a run ended, as the process exit code. Ordered from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Exit {
    /// Every check and target met; stored and copied.
    Pass = 0,
    /// The run finished and a check or target failed.
    Failed = 1,
    /// The run could not run or finish (configuration, keys, tools, storage, a missing copy,
    /// another run holding the lease, a signal).
    CouldNotRun = 2,
}

impl Exit {
    /// The number the process exits with.
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// The worst of `exits` ([`Exit::Pass`] when there are none).
    pub fn worst(exits: impl IntoIterator<Item = Exit>) -> Exit {
        exits.into_iter().max().unwrap_or(Exit::Pass)
    }
}

impl From<Exit> for u8 {
    fn from(exit: Exit) -> u8 {
        exit.code()
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit.code())
    }
}

impl PartialEq<u8> for Exit {
    fn eq(&self, code: &u8) -> bool {
        self.code() == *code
    }
}

/// The number, as written in tables and lines.
impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.code(), f)
    }
}

/// The number, as in JSON rows.
impl serde::Serialize for Exit {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_order_and_renderings() {
        assert_eq!(
            [Exit::Pass, Exit::Failed, Exit::CouldNotRun].map(u8::from),
            [0, 1, 2]
        );
        assert_eq!(Exit::worst([]), Exit::Pass);
        assert_eq!(
            Exit::worst([Exit::Failed, Exit::Pass, Exit::CouldNotRun]),
            Exit::CouldNotRun
        );
        assert_eq!(
            format!("{:>4}|{}", Exit::Failed, Exit::CouldNotRun),
            "   1|2"
        );
        assert_eq!(serde_json::to_string(&Exit::Failed).unwrap(), "1");
    }
}
