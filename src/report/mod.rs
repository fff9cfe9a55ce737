//! Drill reports and what they prove, one module per concept:
//!
//! - [`drill`]: the drill report, one serde model ([`DrillReport`], versioned), rendered as
//!   JSON (the source of truth), Markdown and self-contained HTML;
//! - [`store`](mod@store): the report store, `<reports>/<drill>/<timestamp>.{json,md,html}`,
//!   with a copy beside the backup set and mirrors in every destination ([`store::mirror`]),
//!   and where the reports of a command are read from ([`store::source`]);
//! - [`evidence`]: tamper evidence, the chain and signatures of a drill's reports and the
//!   backup objects they cite;
//! - [`verify`]: `report verify`, everything the evidence proves about a report folder;
//! - [`summary`]: the compliance summary over a period.

pub mod drill;
pub mod evidence;
pub mod store;
pub mod summary;
pub mod verify;

pub use drill::*;
pub use store::{store, StoredReport};
