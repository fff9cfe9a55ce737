//! `--set key.path=value` overrides, applied to the parsed TOML tree before validation.
//! Destinations and checks are addressed by name: `destination.dr.url`, `check.orders.expect`.

use toml::{Table, Value};

/// Applies one `key.path=value` assignment to `root`.
///
/// # Errors
/// A message naming the assignment and what is wrong with it.
pub fn apply(root: &mut Table, assignment: &str) -> Result<(), String> {
    let (path, raw) = assignment
        .split_once('=')
        .ok_or_else(|| format!("`--set {assignment}` must look like key.path=value"))?;
    let parts: Vec<&str> = path.trim().split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(format!(
            "`--set {assignment}`: empty segment in key path `{path}`"
        ));
    }
    let value = parse_value(raw.trim());
    let (table, rest) = match parts[0] {
        "destination" | "check" if parts.len() >= 3 => {
            let list = parts[0];
            let name = parts[1];
            let entries = root
                .get_mut(list)
                .and_then(Value::as_array_mut)
                .ok_or_else(|| format!("`--set {path}`: the spec has no [[{list}]] entries"))?;
            let entry = entries
                .iter_mut()
                .filter_map(Value::as_table_mut)
                .find(|t| t.get("name").and_then(Value::as_str) == Some(name))
                .ok_or_else(|| format!("`--set {path}`: no [[{list}]] named `{name}`"))?;
            (entry, &parts[2..])
        }
        _ => (root, &parts[..]),
    };
    set_path(table, rest, value).map_err(|e| format!("`--set {path}`: {e}"))
}

fn set_path(table: &mut Table, parts: &[&str], value: Value) -> Result<(), String> {
    let (last, parents) = parts.split_last().expect("non-empty path");
    let mut current = table;
    for p in parents {
        let entry = current
            .entry((*p).to_string())
            .or_insert_with(|| Value::Table(Table::new()));
        current = entry
            .as_table_mut()
            .ok_or_else(|| format!("`{p}` is not a table"))?;
    }
    current.insert((*last).to_string(), value);
    Ok(())
}

/// A value is read as TOML when it parses as one (numbers, booleans, arrays, quoted strings,
/// inline tables), otherwise as a bare string.
fn parse_value(raw: &str) -> Value {
    let doc = format!("v = {raw}");
    match doc.parse::<Table>() {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| Value::String(raw.to_string())),
        Err(_) => Value::String(raw.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> Table {
        r#"
            [drill]
            from = "dr"
            [[destination]]
            name = "dr"
            url = "file:///a"
            [[check]]
            name = "orders"
            sql = "select 1"
        "#
        .parse()
        .unwrap()
    }

    #[test]
    fn sets_plain_and_named_paths() {
        let mut t = spec();
        apply(&mut t, "drill.from=primary").unwrap();
        apply(&mut t, "destination.dr.url=file:///x").unwrap();
        apply(&mut t, "check.orders.expect=>= 5").unwrap();
        apply(&mut t, "drill.jobs=4").unwrap();
        apply(&mut t, "targets.rto=15m").unwrap();
        assert_eq!(t["drill"]["from"].as_str(), Some("primary"));
        assert_eq!(t["drill"]["jobs"].as_integer(), Some(4));
        assert_eq!(t["targets"]["rto"].as_str(), Some("15m"));
        assert_eq!(t["destination"][0]["url"].as_str(), Some("file:///x"));
        assert_eq!(t["check"][0]["expect"].as_str(), Some(">= 5"));
    }

    #[test]
    fn rejects_unknown_names_and_bad_syntax() {
        let mut t = spec();
        assert!(apply(&mut t, "destination.nope.url=x")
            .unwrap_err()
            .contains("no [[destination]] named `nope`"));
        assert!(apply(&mut t, "drill.from")
            .unwrap_err()
            .contains("key.path=value"));
        assert!(apply(&mut t, "drill..from=x").is_err());
        assert!(apply(&mut t, "drill.from.x=1")
            .unwrap_err()
            .contains("not a table"));
    }
}
