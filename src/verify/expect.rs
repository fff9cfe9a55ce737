//! `expect` expressions of sql checks: `>= 1000`, `== 'ok'`, `between 1 and 5`, `is null`.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Expect {
    Compare(Op, Literal),
    Between(f64, f64),
    IsNull,
    IsNotNull,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Number(f64),
    Text(String),
    Bool(bool),
}

impl Expect {
    /// Parses an expectation.
    ///
    /// # Errors
    /// A message saying what is not understood.
    pub fn parse(s: &str) -> Result<Expect, String> {
        let t = s.trim();
        let lower = t.to_ascii_lowercase();
        if lower == "is null" {
            return Ok(Expect::IsNull);
        }
        if lower == "is not null" {
            return Ok(Expect::IsNotNull);
        }
        if let Some(rest) = lower.strip_prefix("between ") {
            let (a, b) = rest
                .split_once(" and ")
                .ok_or_else(|| format!("`{s}`: write `between LOW and HIGH`"))?;
            let a = number(a).ok_or_else(|| format!("`{s}`: `{}` is not a number", a.trim()))?;
            let b = number(b).ok_or_else(|| format!("`{s}`: `{}` is not a number", b.trim()))?;
            if a > b {
                return Err(format!("`{s}`: the low bound is above the high bound"));
            }
            return Ok(Expect::Between(a, b));
        }
        for (token, op) in [
            (">=", Op::Ge),
            ("<=", Op::Le),
            ("==", Op::Eq),
            ("!=", Op::Ne),
            ("<>", Op::Ne),
            (">", Op::Gt),
            ("<", Op::Lt),
            ("=", Op::Eq),
        ] {
            if let Some(rest) = t.strip_prefix(token) {
                let lit = literal(rest.trim()).ok_or_else(|| {
                    format!(
                        "`{s}`: `{}` is not a number, 'quoted text' or true/false",
                        rest.trim()
                    )
                })?;
                if matches!(lit, Literal::Text(_) | Literal::Bool(_))
                    && !matches!(op, Op::Eq | Op::Ne)
                {
                    return Err(format!("`{s}`: only == and != compare text or booleans"));
                }
                return Ok(Expect::Compare(op, lit));
            }
        }
        Err(format!("`{s}` is not an expectation"))
    }

    /// Checks the first value a query returned (`None` is SQL NULL). `Err` says why it failed.
    ///
    /// # Errors
    /// A sentence describing the mismatch.
    pub fn eval(&self, actual: Option<&str>) -> Result<(), String> {
        match (self, actual) {
            (Expect::IsNull, None) | (Expect::IsNotNull, Some(_)) => Ok(()),
            (Expect::IsNull, Some(v)) => Err(format!("expected NULL, got `{v}`")),
            (Expect::IsNotNull, None) | (_, None) => Err("got NULL".into()),
            (Expect::Between(a, b), Some(v)) => {
                let n = number(v).ok_or_else(|| format!("`{v}` is not a number"))?;
                if *a <= n && n <= *b {
                    Ok(())
                } else {
                    Err(format!("{v} is outside {a}..={b}"))
                }
            }
            (Expect::Compare(op, Literal::Number(want)), Some(v)) => {
                let n = number(v).ok_or_else(|| format!("`{v}` is not a number"))?;
                let ok = match op {
                    Op::Eq => n == *want,
                    Op::Ne => n != *want,
                    Op::Lt => n < *want,
                    Op::Le => n <= *want,
                    Op::Gt => n > *want,
                    Op::Ge => n >= *want,
                };
                if ok {
                    Ok(())
                } else {
                    Err(format!("{v} is not {self}"))
                }
            }
            (Expect::Compare(op, Literal::Bool(want)), Some(v)) => {
                let got = match v {
                    "t" | "true" => true,
                    "f" | "false" => false,
                    _ => return Err(format!("`{v}` is not a boolean")),
                };
                if (got == *want) == (*op == Op::Eq) {
                    Ok(())
                } else {
                    Err(format!("{v} is not {self}"))
                }
            }
            (Expect::Compare(op, Literal::Text(want)), Some(v)) => {
                if (v == want) == (*op == Op::Eq) {
                    Ok(())
                } else {
                    Err(format!("`{v}` is not {self}"))
                }
            }
        }
    }
}

fn number(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

fn literal(s: &str) -> Option<Literal> {
    if let Some(n) = number(s) {
        return Some(Literal::Number(n));
    }
    match s.to_ascii_lowercase().as_str() {
        "true" => return Some(Literal::Bool(true)),
        "false" => return Some(Literal::Bool(false)),
        _ => {}
    }
    let inner = s
        .strip_prefix('\'')
        .and_then(|r| r.strip_suffix('\''))
        .or_else(|| s.strip_prefix('"').and_then(|r| r.strip_suffix('"')))?;
    Some(Literal::Text(inner.to_string()))
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expect::IsNull => f.write_str("is null"),
            Expect::IsNotNull => f.write_str("is not null"),
            Expect::Between(a, b) => write!(f, "between {a} and {b}"),
            Expect::Compare(op, lit) => {
                let op = match op {
                    Op::Eq => "==",
                    Op::Ne => "!=",
                    Op::Lt => "<",
                    Op::Le => "<=",
                    Op::Gt => ">",
                    Op::Ge => ">=",
                };
                match lit {
                    Literal::Number(n) => write!(f, "{op} {n}"),
                    Literal::Text(t) => write!(f, "{op} '{t}'"),
                    Literal::Bool(b) => write!(f, "{op} {b}"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_evaluates() {
        let ge = Expect::parse(">= 1000").unwrap();
        assert!(ge.eval(Some("1000")).is_ok());
        assert!(ge.eval(Some("999")).is_err());
        assert!(ge.eval(None).is_err());
        let ok = Expect::parse("== 'ok'").unwrap();
        assert!(ok.eval(Some("ok")).is_ok());
        assert!(ok.eval(Some("ko")).is_err());
        let between = Expect::parse("between 1 and 5").unwrap();
        assert!(between.eval(Some("5")).is_ok());
        assert!(between.eval(Some("5.5")).is_err());
        assert!(Expect::parse("is null").unwrap().eval(None).is_ok());
        assert!(Expect::parse("IS NOT NULL").unwrap().eval(None).is_err());
        assert!(Expect::parse("== true").unwrap().eval(Some("t")).is_ok());
        assert!(Expect::parse("!= 3").unwrap().eval(Some("3")).is_err());
    }

    #[test]
    fn rejects_nonsense() {
        for bad in [
            "",
            "about 5",
            ">= lots",
            "between 5 and 1",
            "< 'text'",
            "between 1",
        ] {
            assert!(Expect::parse(bad).is_err(), "{bad} should not parse");
        }
    }
}
