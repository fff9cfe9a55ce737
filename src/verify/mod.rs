//! Checks run against the restored database. Every check runs, even after one fails.

mod checks;
mod expect;

pub use checks::{run_checks, CheckResult};
pub use expect::Expect;
