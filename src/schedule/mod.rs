//! Deciding what is due and running it: one pass (`run-due`) or the daemon (`schedule`).
//! The schedule value itself is [`crate::spec::Schedule`].

pub mod daemon;
pub mod due;
mod http;
