//! Telling the outside world: Prometheus metrics (textfile collector).

pub mod metrics;
