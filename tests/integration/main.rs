//! Integration tests against the real PostgreSQL on 127.0.0.1:5432 (trust auth, user
//! postgres). They fail, never skip, when it is not there.

mod bad_paths;
mod browser;
mod controls;
mod evidence;
mod fleet;
mod notify;
mod ops;
mod progress;
mod prune;
mod rds;
mod receiver;
mod roundtrip;
mod s3;
mod safety;
mod spawned;
mod split;
mod summary;
mod support;
mod trust;
