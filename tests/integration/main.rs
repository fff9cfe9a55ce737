//! Integration tests against the real PostgreSQL on 127.0.0.1:5432 (trust auth, user
//! postgres). They fail, never skip, when it is not there.

mod bad_paths;
mod browser;
mod cli_help;
mod controls;
mod cost;
mod deadlines;
mod evidence;
mod first_drill;
mod fleet;
mod heartbeat;
mod leftovers;
mod notify;
mod ops;
mod physical;
mod physical_faults;
mod physical_hard;
mod physical_random;
mod physical_s3;
mod physical_s3_refusal;
mod physical_s3_repo;
mod physical_schedule;
mod physical_support;
mod progress;
mod prune;
mod rds;
mod receiver;
mod roundtrip;
mod runbook;
mod s3;
mod safety;
mod spawned;
mod split;
mod summary;
mod support;
mod trust;
