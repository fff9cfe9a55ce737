//! Checks run against the restored database. Every check runs, even after one fails.

mod checks;
pub mod controls;
mod deadline;
mod expect;

pub use checks::{run_checks, CheckResult, Checked};
pub use controls::{Control, ControlStatus, NegativeControls};
pub use expect::Expect;
