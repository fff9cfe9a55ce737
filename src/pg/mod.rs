//! PostgreSQL plumbing shared by source, scratch, restore and verify: connections without
//! leaking passwords, client tool discovery, identifier quoting, child-process handling.

pub mod child;
pub mod conn;
pub mod tools;

pub use conn::PgTarget;
pub use tools::{PgTool, PgTools};

/// Quotes an identifier (`my "odd" name` -> `"my ""odd"" name"`).
pub fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Quotes a string literal.
pub fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Quotes a possibly schema-qualified name given as `schema.table` or `table`.
pub fn quote_qualified(s: &str) -> String {
    match s.split_once('.') {
        Some((schema, name)) => format!("{}.{}", quote_ident(schema), quote_ident(name)),
        None => quote_ident(s),
    }
}
