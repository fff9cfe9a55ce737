//! Deciding what is due and running it: one pass (`run-due`) or the daemon (`schedule`).
//! The schedule value itself is [`crate::spec::Schedule`].

mod beats;
pub mod daemon;
pub mod due;
mod health;
mod http;

/// The fix for a spec folder that cannot be read.
const FOLDER_HINT: &str = "point it at a folder of drill specs";
