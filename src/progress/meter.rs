//! A shared counter a pipeline stage adds to, and a reader that counts what passes through.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[derive(Debug, Clone, Default)]
pub struct Meter(Arc<AtomicU64>);

impl Meter {
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Counts the bytes read through it.
pub struct MeteredRead<R> {
    inner: R,
    meter: Meter,
}

impl<R> MeteredRead<R> {
    pub fn new(inner: R, meter: Meter) -> Self {
        Self { inner, meter }
    }
}

impl<R: std::io::Read> std::io::Read for MeteredRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.meter.add(n as u64);
        Ok(n)
    }
}
