//! Integration tests against the real PostgreSQL on 127.0.0.1:5432 (trust auth, user
//! postgres). They fail, never skip, when it is not there.

mod bad_paths;
mod evidence;
mod ops;
mod prune;
mod rds;
mod roundtrip;
mod s3;
mod summary;
mod support;
