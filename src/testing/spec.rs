//! Drill spec text, table by table, for tests that need a spec and not a particular spelling
//! of one.

use std::path::{Path, PathBuf};

use crate::spec::{self, DrillSpec};

/// The text of a drill spec, built table by table.
///
/// Values are given as anything that becomes a [`toml::Value`] (strings are quoted for
/// TOML); `*_raw` methods take TOML text as it is (inline tables). Setting a key again
/// replaces it. Tables are written in the order of a spec (top-level keys, `[source]`,
/// `[backup]`, `[backup.retention]`, each `[[destination]]`, `[drill]`, `[targets]`, each
/// `[[check]]`, then other tables as added) and [`SpecBuilder::raw`] text last: with no
/// targets, checks or other tables, raw text continues `[drill]`.
///
/// ```ignore
/// let text = SpecBuilder::new("shop")
///     .source_url("postgres://db/shop")
///     .recipients(&[recipient])
///     .destination("primary", "file:///backups")
///     .drill("from", "primary")
///     .check("rows", "row-counts")
///     .text();
/// ```
#[derive(Debug, Clone)]
pub struct SpecBuilder {
    tables: Vec<Table>,
    raw: String,
}

#[derive(Debug, Clone)]
struct Table {
    /// `""` for the top level.
    header: String,
    /// `[[header]]`.
    array: bool,
    lines: Vec<(String, String)>,
}

impl Table {
    fn set(&mut self, key: &str, value: String) {
        match self.lines.iter_mut().find(|(k, _)| k == key) {
            Some(line) => line.1 = value,
            None => self.lines.push((key.into(), value)),
        }
    }
}

fn rank(header: &str) -> u8 {
    match header {
        "" => 0,
        "source" => 1,
        "backup" => 2,
        "backup.retention" => 3,
        "destination" => 4,
        "drill" => 5,
        "targets" => 6,
        "check" => 7,
        _ => 8,
    }
}

impl SpecBuilder {
    /// A spec named `name` and nothing else.
    pub fn new(name: &str) -> SpecBuilder {
        SpecBuilder {
            tables: Vec::new(),
            raw: String::new(),
        }
        .top("name", name)
    }

    /// Sets `key` in `[header]` (`""` for the top level), creating the table.
    pub fn set(self, header: &str, key: &str, value: impl Into<toml::Value>) -> SpecBuilder {
        self.set_raw(header, key, &value.into().to_string())
    }

    /// Sets `key` in `[header]` to the TOML text `value`.
    pub fn set_raw(mut self, header: &str, key: &str, value: &str) -> SpecBuilder {
        let table = match self
            .tables
            .iter()
            .position(|t| t.header == header && !t.array)
        {
            Some(i) => &mut self.tables[i],
            None => {
                self.tables.push(Table {
                    header: header.into(),
                    array: false,
                    lines: Vec::new(),
                });
                self.tables.last_mut().expect("just pushed")
            }
        };
        table.set(key, value.into());
        self
    }

    /// Removes `key` from `[header]`.
    pub fn unset(mut self, header: &str, key: &str) -> SpecBuilder {
        for t in self.tables.iter_mut().filter(|t| t.header == header) {
            t.lines.retain(|(k, _)| k != key);
        }
        self
    }

    /// Starts a new `[[header]]` entry; [`SpecBuilder::with`] adds keys to it.
    pub fn push(mut self, header: &str) -> SpecBuilder {
        self.tables.push(Table {
            header: header.into(),
            array: true,
            lines: Vec::new(),
        });
        self
    }

    /// Sets `key` in the `[[...]]` entry added last (a destination or a check).
    ///
    /// # Panics
    /// When no such entry was added.
    pub fn with(self, key: &str, value: impl Into<toml::Value>) -> SpecBuilder {
        self.with_raw(key, &value.into().to_string())
    }

    /// [`SpecBuilder::with`] for TOML text (inline tables).
    ///
    /// # Panics
    /// When no `[[...]]` entry was added.
    pub fn with_raw(mut self, key: &str, value: &str) -> SpecBuilder {
        self.tables
            .iter_mut()
            .rev()
            .find(|t| t.array)
            .expect("with() follows destination(), check() or push()")
            .set(key, value.into());
        self
    }

    /// A top-level key (`name`, `timezone`).
    pub fn top(self, key: &str, value: impl Into<toml::Value>) -> SpecBuilder {
        self.set("", key, value)
    }

    /// A key in `[source]`.
    pub fn source(self, key: &str, value: impl Into<toml::Value>) -> SpecBuilder {
        self.set("source", key, value)
    }

    /// The source database's URL.
    pub fn source_url(self, url: &str) -> SpecBuilder {
        self.source("url", url)
    }

    /// A key in `[backup]`.
    pub fn backup(self, key: &str, value: impl Into<toml::Value>) -> SpecBuilder {
        self.set("backup", key, value)
    }

    /// The age recipients backups are encrypted to.
    pub fn recipients<S: AsRef<str>>(self, recipients: &[S]) -> SpecBuilder {
        let list: Vec<toml::Value> = recipients
            .iter()
            .map(|r| toml::Value::String(r.as_ref().into()))
            .collect();
        self.backup("recipients", list)
    }

    /// A key in `[backup.retention]` (`keep-last`, `daily`, `orphan-grace`...).
    pub fn retention(self, key: &str, value: impl Into<toml::Value>) -> SpecBuilder {
        self.set("backup.retention", key, value)
    }

    /// A `[[destination]]` named `name` at `url`; [`SpecBuilder::with`] adds more keys.
    pub fn destination(self, name: &str, url: &str) -> SpecBuilder {
        self.push("destination").with("name", name).with("url", url)
    }

    /// A `[[destination]]` in a local folder (`file://` URL).
    pub fn folder(self, name: &str, path: &Path) -> SpecBuilder {
        self.destination(name, &format!("file://{}", path.display()))
    }

    /// A key in `[drill]`.
    pub fn drill(self, key: &str, value: impl Into<toml::Value>) -> SpecBuilder {
        self.set("drill", key, value)
    }

    /// A scratch database server for drills: `scratch = { server, prefix }`.
    pub fn scratch_server(self, server: &str, prefix: &str) -> SpecBuilder {
        let mut t = toml::Table::new();
        t.insert("server".into(), server.into());
        t.insert("prefix".into(), prefix.into());
        self.set("drill", "scratch", toml::Value::Table(t))
    }

    /// Schedules for both backups and drills.
    pub fn schedule(self, cron: &str) -> SpecBuilder {
        self.backup("schedule", cron).drill("schedule", cron)
    }

    /// The RTO target.
    pub fn rto(self, target: &str) -> SpecBuilder {
        self.set("targets", "rto", target)
    }

    /// The RPO target.
    pub fn rpo(self, target: &str) -> SpecBuilder {
        self.set("targets", "rpo", target)
    }

    /// A `[[check]]` of a built-in kind (`row-counts`, `schema`, `amcheck`...);
    /// [`SpecBuilder::with`] adds options.
    pub fn check(self, name: &str, kind: &str) -> SpecBuilder {
        self.push("check").with("name", name).with("kind", kind)
    }

    /// A SQL `[[check]]`: `sql` must give a value that meets `expect` (`== 20`).
    pub fn sql_check(self, name: &str, sql: &str, expect: &str) -> SpecBuilder {
        self.push("check")
            .with("name", name)
            .with("sql", sql)
            .with("expect", expect)
    }

    /// TOML text written after everything else.
    pub fn raw(mut self, text: &str) -> SpecBuilder {
        if !self.raw.is_empty() && !self.raw.ends_with('\n') {
            self.raw.push('\n');
        }
        self.raw.push_str(text);
        self
    }

    /// The spec's name.
    pub fn name(&self) -> String {
        self.tables
            .iter()
            .find(|t| t.header.is_empty())
            .and_then(|t| t.lines.iter().find(|(k, _)| k == "name"))
            .and_then(|(_, v)| v.parse::<toml::Value>().ok())
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// The spec's TOML text.
    pub fn text(&self) -> String {
        let mut tables: Vec<&Table> = self.tables.iter().collect();
        tables.sort_by_key(|t| rank(&t.header));
        let mut out = String::new();
        for t in tables {
            if !t.header.is_empty() {
                if t.array {
                    out.push_str(&format!("[[{}]]\n", t.header));
                } else {
                    out.push_str(&format!("[{}]\n", t.header));
                }
            }
            for (k, v) in &t.lines {
                out.push_str(&format!("{k} = {v}\n"));
            }
        }
        out.push_str(&self.raw);
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out
    }

    /// Writes the text to `<dir>/<name>.toml` and returns the path.
    ///
    /// # Panics
    /// When the file cannot be written.
    pub fn write(&self, dir: &Path) -> PathBuf {
        let path = dir.join(format!("{}.toml", self.name()));
        std::fs::write(&path, self.text())
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        path
    }

    /// Parses the text as a spec at `<name>.toml` with no environment variables set.
    ///
    /// # Errors
    /// The spec's problems.
    pub fn parse(&self) -> crate::Result<DrillSpec> {
        self.parse_with(&|_| None)
    }

    /// Parses the text with `env` answering for environment variables.
    ///
    /// # Errors
    /// The spec's problems.
    pub fn parse_with(&self, env: &dyn Fn(&str) -> Option<String>) -> crate::Result<DrillSpec> {
        let path = PathBuf::from(format!("{}.toml", self.name()));
        spec::parse(&self.text(), &path, &[], env)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_a_spec_in_table_order() {
        let b = SpecBuilder::new("shop")
            .check("rows", "row-counts")
            .with("heapallindexed", true)
            .drill("from", "dr")
            .destination("primary", "file:///b/primary")
            .destination("dr", "s3://bucket/fd")
            .with("region", "eu-west-1")
            .with_raw("object-lock", "{ mode = \"governance\", days = 1 }")
            .source_url("postgres://u@h/db?x=\"q\"")
            .recipients(&["age1abc"])
            .backup("split-size", "16KiB")
            .backup("jobs", 3)
            .scratch_server("postgres://h/postgres", "fd_")
            .rto("10m")
            .raw("[metrics]\ntextfile = \"/m\"\n");
        let text = b.text();
        let tree: toml::Table = text.parse().unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(tree["name"].as_str(), Some("shop"));
        assert_eq!(
            tree["source"]["url"].as_str(),
            Some("postgres://u@h/db?x=\"q\"")
        );
        assert_eq!(tree["backup"]["jobs"].as_integer(), Some(3));
        assert_eq!(tree["destination"][1]["region"].as_str(), Some("eu-west-1"));
        assert_eq!(
            tree["destination"][1]["object-lock"]["days"].as_integer(),
            Some(1)
        );
        assert_eq!(tree["drill"]["scratch"]["prefix"].as_str(), Some("fd_"));
        assert_eq!(tree["check"][0]["heapallindexed"].as_bool(), Some(true));
        assert_eq!(tree["metrics"]["textfile"].as_str(), Some("/m"));
        let order: Vec<usize> = [
            "name =",
            "[source]",
            "[backup]",
            "[[destination]]",
            "[drill]",
            "[targets]",
            "[[check]]",
            "[metrics]",
        ]
        .iter()
        .map(|h| text.find(h).unwrap())
        .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
        assert_eq!(b.name(), "shop");
        let again = b.drill("from", "primary").unset("backup", "jobs").text();
        assert!(again.contains("from = \"primary\"") && !again.contains("from = \"dr\""));
        assert!(!again.contains("jobs"));
    }

    #[test]
    fn raw_text_continues_the_drill_table_and_parses() {
        let (_, recipient) = crate::pipeline::keys::generate();
        let b = SpecBuilder::new("shop")
            .source_url("postgres://postgres@127.0.0.1:5432/${DB}")
            .recipients(&[recipient])
            .destination("primary", "file:///tmp/fd-primary")
            .drill("from", "primary")
            .raw("jobs = 2\n");
        assert!(
            b.text()
                .ends_with("[drill]\nfrom = \"primary\"\njobs = 2\n"),
            "{}",
            b.text()
        );
        let spec = b
            .parse_with(&|v| (v == "DB").then(|| "shop".to_string()))
            .unwrap_or_else(|e| panic!("{}", e.render()));
        assert_eq!(spec.name, "shop");
        assert!(spec.destination("primary").is_some());
        assert!(b.parse().is_err(), "DB is not set");
    }
}
