//! The byte pipeline: compress (zstd), encrypt/decrypt (age), hash (SHA-256), and the bridge
//! to async storage. Everything here streams with fixed buffers: memory never grows with the
//! database.

pub mod bridge;
pub mod decode;
pub mod encode;
pub mod hash;
pub mod keys;

pub use decode::{decode, DecodeError, Decoded};
pub use encode::{encode, Encoded};
pub use hash::Checksum;
