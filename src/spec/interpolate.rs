//! `${VAR}`, `${VAR:-default}` and `${VAR:?why}` interpolation of string values, so secrets and
//! per-environment values stay out of spec files. `$$` is a literal `$`.

/// Expands every `${...}` in `input` using `lookup`. Returns the expanded string or the list of
/// problems found (all of them, not only the first).
pub fn interpolate(
    input: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, Vec<String>> {
    let mut out = String::with_capacity(input.len());
    let mut problems = Vec::new();
    let mut rest = input;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
            continue;
        }
        let Some(body_and_tail) = after.strip_prefix('{') else {
            out.push('$');
            rest = after;
            continue;
        };
        let Some(end) = body_and_tail.find('}') else {
            // The value is not repeated: it may hold a literal secret.
            problems.push("unclosed `${` (write `${NAME}`, or `$$` for a literal `$`)".into());
            rest = "";
            break;
        };
        let body = &body_and_tail[..end];
        rest = &body_and_tail[end + 1..];
        let (name, op, arg) = split_body(body);
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            problems.push(format!("`${{{body}}}` is not a valid variable reference"));
            continue;
        }
        let value = lookup(name).filter(|v| !v.is_empty() || op.is_none());
        match (value, op) {
            (Some(v), _) => out.push_str(&v),
            (None, Some(":-")) => out.push_str(arg),
            (None, Some(":?")) => {
                let why = if arg.is_empty() {
                    "it is required"
                } else {
                    arg
                };
                problems.push(format!("environment variable {name} is not set: {why}"));
            }
            (None, _) => problems.push(format!(
                "environment variable {name} is not set (use `${{{name}:-default}}` for a default)"
            )),
        }
    }
    out.push_str(rest);
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

fn split_body(body: &str) -> (&str, Option<&str>, &str) {
    for op in [":-", ":?"] {
        if let Some(i) = body.find(op) {
            return (&body[..i], Some(op), &body[i + 2..]);
        }
    }
    (body, None, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "SET" => Some("value".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn expands_set_default_and_literal() {
        assert_eq!(interpolate("a-${SET}-b", &env).unwrap(), "a-value-b");
        assert_eq!(interpolate("${UNSET:-dflt}", &env).unwrap(), "dflt");
        assert_eq!(interpolate("${EMPTY:-dflt}", &env).unwrap(), "dflt");
        assert_eq!(interpolate("${EMPTY}", &env).unwrap(), "");
        assert_eq!(interpolate("cost $$5 $x", &env).unwrap(), "cost $5 $x");
    }

    #[test]
    fn reports_every_missing_variable() {
        let errs = interpolate("${A:?needed for login} ${B} ${SET}", &env).unwrap_err();
        assert_eq!(errs.len(), 2);
        assert!(
            errs[0].contains("A is not set: needed for login"),
            "{errs:?}"
        );
        assert!(errs[1].contains("B is not set"), "{errs:?}");
    }

    #[test]
    fn rejects_malformed_references() {
        assert!(interpolate("${", &env).is_err());
        assert!(interpolate("${bad name}", &env).is_err());
    }
}
