//! Managed mode of a pgbackrest source: `pg-path`, `[[source.repository]]` and `options`,
//! the pgBackRest configuration firedrill writes into `source.config`.

use std::path::PathBuf;

use crate::spec::raw::{RawRepository, RawSource};
use crate::spec::{
    ManagedConfig, ManagedRepo, Problems, RepoStorage, S3Repository, SECURE_OPTIONS as SECURE,
};

/// The managed configuration, when the spec asks for one (`pg-path` or a repository given).
pub(super) fn managed(
    s: &RawSource,
    config: Option<&PathBuf>,
    url: &str,
    p: &mut Problems,
) -> Option<ManagedConfig> {
    let repos = s.repository.as_deref().unwrap_or_default();
    if s.pg_path.is_none() && repos.is_empty() && s.options.is_none() && s.pg_socket_path.is_none()
    {
        return None;
    }
    let pg_path = PathBuf::from(s.pg_path.clone().unwrap_or_default());
    if s.pg_path.is_none() {
        p.push(
            "source.pg-path",
            "a managed pgBackRest configuration ([[source.repository]], options or pg-socket-path given) needs the cluster's data directory",
            "add pg-path = \"/var/lib/postgresql/15/main\", or remove the managed keys and name an existing pgbackrest.conf in config",
        );
    } else if !pg_path.is_absolute() {
        p.push(
            "source.pg-path",
            format!("`{}` is not an absolute path", pg_path.display()),
            "give the data directory's absolute path (SHOW data_directory on the source)",
        );
    }
    match config {
        None => p.push(
            "source.config",
            "a managed pgBackRest configuration (pg-path given) needs the file firedrill writes it to; the source's archive_command names the same file",
            "add config = \"/etc/pgbackrest/firedrill-STANZA.conf\"",
        ),
        Some(c) if !c.is_absolute() => p.push(
            "source.config",
            format!("`{}` is not an absolute path", c.display()),
            "give an absolute path: the source's archive_command names it",
        ),
        Some(_) => {}
    }
    if repos.is_empty() {
        p.push(
            "source.repository",
            "a managed pgBackRest configuration needs at least one repository",
            "add [[source.repository]] with path = \"/var/lib/pgbackrest\" (repo1), and a second one in the DR region (repo2)",
        );
    }
    let repositories = repos
        .iter()
        .enumerate()
        .map(|(i, r)| repository(i as u32 + 1, r, p))
        .collect();
    let (pg_port, url_socket) = from_url(url);
    let pg_socket_path = s.pg_socket_path.clone().map(PathBuf::from).or(url_socket);
    Some(ManagedConfig {
        pg_path,
        pg_port,
        pg_socket_path,
        repositories,
        options: options(s.options.as_ref(), p),
    })
}

/// Port and Unix-socket folder of `source.url` (libpq's defaults when not given).
fn from_url(url: &str) -> (u16, Option<PathBuf>) {
    let Ok(c) = url.parse::<tokio_postgres::Config>() else {
        return (5432, None);
    };
    let port = c.get_ports().first().copied().unwrap_or(5432);
    let socket = c.get_hosts().iter().find_map(|h| match h {
        tokio_postgres::config::Host::Unix(p) => Some(p.clone()),
        _ => None,
    });
    (port, socket)
}

fn repository(key: u32, r: &RawRepository, p: &mut Problems) -> ManagedRepo {
    let at = format!("source.repository.{key}");
    let storage = match (&r.path, &r.bucket) {
        (_, Some(bucket)) => RepoStorage::S3(s3(&at, bucket, r, p)),
        (Some(path), None) => {
            for (name, set) in [
                ("region", r.region.is_some()),
                ("endpoint", r.endpoint.is_some()),
                ("uri-style", r.uri_style.is_some()),
                ("verify-tls", r.verify_tls.is_some()),
                ("key-type", r.key_type.is_some()),
            ] {
                if set {
                    p.push(
                        &format!("{at}.{name}"),
                        format!("`{name}` applies to S3 repositories (bucket = ...) only"),
                        "remove it, or give bucket for an S3 repository",
                    );
                }
            }
            if !path.starts_with('/') {
                p.push(
                    &format!("{at}.path"),
                    format!("`{path}` is not an absolute path"),
                    "give the repository folder's absolute path",
                );
            }
            RepoStorage::Posix {
                path: PathBuf::from(path),
            }
        }
        (None, None) => {
            p.push(
                &at,
                format!("repo{key} names no storage"),
                "give path = \"/var/lib/pgbackrest\" (a folder) or bucket, region and endpoint (S3)",
            );
            RepoStorage::Posix {
                path: PathBuf::new(),
            }
        }
    };
    if let Some(c) = &r.cipher_type {
        if c != "aes-256-cbc" && c != "none" {
            p.push(
                &format!("{at}.cipher-type"),
                format!("`{c}` is not a pgBackRest cipher type"),
                "use \"aes-256-cbc\" (the passphrase comes from PGBACKREST_REPO<N>_CIPHER_PASS) or \"none\"",
            );
        }
    }
    ManagedRepo {
        key,
        storage,
        retention_full: r.retention_full,
        cipher_type: r.cipher_type.clone().filter(|c| c != "none"),
    }
}

fn s3(at: &str, bucket: &str, r: &RawRepository, p: &mut Problems) -> S3Repository {
    let region = r.region.clone().unwrap_or_default();
    if region.is_empty() {
        p.push(
            &format!("{at}.region"),
            "an S3 repository needs the bucket's region",
            "add region = \"eu-west-1\"",
        );
    }
    let raw_endpoint = r
        .endpoint
        .clone()
        .unwrap_or_else(|| format!("s3.{region}.amazonaws.com"));
    if raw_endpoint.starts_with("http://") {
        p.push(
            &format!("{at}.endpoint"),
            "pgBackRest speaks HTTPS to S3 only",
            "give the endpoint as host or host:port (https is implied)",
        );
    }
    let host_port = raw_endpoint
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/');
    let (endpoint, port) = match host_port.rsplit_once(':') {
        Some((h, port)) => match port.parse::<u16>() {
            Ok(n) => (h.to_string(), Some(n)),
            Err(_) => {
                p.push(
                    &format!("{at}.endpoint"),
                    format!("`{raw_endpoint}` has no valid port"),
                    "give host or host:port",
                );
                (host_port.to_string(), None)
            }
        },
        None => (host_port.to_string(), None),
    };
    let uri_style = r.uri_style.clone();
    if let Some(u) = &uri_style {
        if u != "host" && u != "path" {
            p.push(
                &format!("{at}.uri-style"),
                format!("`{u}` is not an S3 URI style"),
                "use \"host\" (bucket.endpoint, the default) or \"path\" (endpoint/bucket)",
            );
        }
    }
    let key_type = r.key_type.clone().unwrap_or_else(|| "shared".into());
    if !matches!(key_type.as_str(), "shared" | "auto" | "web-id") {
        p.push(
            &format!("{at}.key-type"),
            format!("`{key_type}` is not an S3 key type"),
            "use \"shared\" (PGBACKREST_REPO<N>_S3_KEY and _S3_KEY_SECRET in the environment), \"auto\" (the instance's role) or \"web-id\" (the pod's role)",
        );
    }
    S3Repository {
        bucket: bucket.to_string(),
        region,
        endpoint,
        port,
        path: r.path.clone().unwrap_or_else(|| "/".into()),
        uri_style,
        verify_tls: r.verify_tls.unwrap_or(true),
        key_type,
    }
}

/// `[source.options]`: global pgBackRest options as `key = value`; no secret and nothing the
/// other keys already write.
fn options(table: Option<&toml::Table>, p: &mut Problems) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (k, v) in table.into_iter().flatten() {
        let at = format!("source.options.{k}");
        let value = match v {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => if *b { "y" } else { "n" }.to_string(),
            _ => {
                p.push(
                    &at,
                    "the value is not a string, number or boolean",
                    "give pgBackRest's value as text",
                );
                continue;
            }
        };
        let bare = k.split_once('-').map_or(k.as_str(), |(head, rest)| {
            if head.starts_with("repo") {
                rest
            } else {
                k.as_str()
            }
        });
        if SECURE.contains(&bare) {
            p.push(
                &at,
                format!("`{k}` is a secret: firedrill never writes it into a file"),
                "give it in the environment as PGBACKREST_<OPTION> (e.g. PGBACKREST_REPO1_CIPHER_PASS), for firedrill and the source's server",
            );
        } else if k.starts_with("repo") || k.starts_with("pg") || k == "stanza" || k == "config" {
            p.push(
                &at,
                format!("`{k}` is written from the spec's other keys"),
                "set it through pg-path, pg-socket-path and [[source.repository]]",
            );
        } else if !k
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            || value.contains('\n')
        {
            p.push(
                &at,
                "not a pgBackRest option name and value",
                "use pgBackRest's option names (compress-type = \"lz4\")",
            );
        } else {
            out.push((k.clone(), value));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::spec::{parse, DrillSpec, RepoStorage, SourceMethod};

    fn parse_it(source: &str) -> crate::Result<DrillSpec> {
        let text = format!(
            "name = \"x\"\n[source]\nkind = \"pgbackrest\"\nstanza = \"main\"\n{source}\n\
             [[destination]]\nname = \"dr\"\nurl = \"file:///x\"\n"
        );
        parse(&text, Path::new("t.toml"), &[], &|_| None)
    }

    #[test]
    fn a_managed_source_names_its_cluster_and_repositories() {
        let s = parse_it(
            "url = \"postgres://postgres@/db?host=/run/postgresql&port=5433\"\n\
             config = \"/etc/pgbackrest/firedrill-main.conf\"\npg-path = \"/var/lib/pg\"\n\
             [source.options]\ncompress-type = \"lz4\"\nstart-fast = true\nprocess-max = 2\n\
             [[source.repository]]\npath = \"/var/lib/pgbackrest\"\nretention-full = 2\n\
             [[source.repository]]\nbucket = \"orders-dr\"\nregion = \"us-west-2\"\n\
             endpoint = \"https://127.0.0.1:4566\"\nuri-style = \"path\"\nverify-tls = false\n\
             cipher-type = \"aes-256-cbc\"",
        )
        .unwrap();
        let SourceMethod::PgBackRest(src) = s.source.method else {
            panic!("not pgbackrest")
        };
        let m = src.managed.expect("managed");
        assert_eq!(m.pg_port, 5433);
        assert_eq!(
            m.pg_socket_path.as_deref(),
            Some(Path::new("/run/postgresql"))
        );
        assert_eq!(
            m.options,
            [
                ("compress-type".to_string(), "lz4".to_string()),
                ("process-max".into(), "2".into()),
                ("start-fast".into(), "y".into())
            ]
        );
        assert_eq!(m.repositories.len(), 2);
        assert_eq!(m.repositories[0].retention_full, Some(2));
        let RepoStorage::S3(s3) = &m.repositories[1].storage else {
            panic!("repo2 is S3")
        };
        assert_eq!((s3.endpoint.as_str(), s3.port), ("127.0.0.1", Some(4566)));
        assert_eq!((s3.path.as_str(), s3.key_type.as_str()), ("/", "shared"));
        assert!(!s3.verify_tls);
        assert_eq!(
            m.repositories[1].cipher_type.as_deref(),
            Some("aes-256-cbc")
        );
    }

    #[test]
    fn a_managed_source_refuses_what_it_cannot_write() {
        let err = parse_it(
            "url = \"postgres://u@h/db\"\npg-path = \"relative/pg\"\n\
             [source.options]\nrepo1-cipher-pass = \"hunter2\"\npg1-port = 5\n\
             [[source.repository]]\npath = \"/r\"\nregion = \"eu-west-1\"\n\
             [[source.repository]]\nbucket = \"b\"\nendpoint = \"http://s3\"\ncipher-type = \"aes\"\n\
             [[source.repository]]\nretention-full = 1",
        )
        .unwrap_err();
        for problem in [
            "- source.config: a managed pgBackRest configuration (pg-path given) needs the file firedrill writes it to",
            "- source.pg-path: `relative/pg` is not an absolute path",
            "- source.options.repo1-cipher-pass: `repo1-cipher-pass` is a secret: firedrill never writes it into a file",
            "- source.options.pg1-port: `pg1-port` is written from the spec's other keys",
            "- source.repository.1.region: `region` applies to S3 repositories",
            "- source.repository.2.region: an S3 repository needs the bucket's region",
            "- source.repository.2.endpoint: pgBackRest speaks HTTPS to S3 only",
            "- source.repository.2.cipher-type: `aes` is not a pgBackRest cipher type",
            "- source.repository.3: repo3 names no storage",
        ] {
            assert!(err.message.contains(problem), "{problem}: {}", err.message);
        }
        assert!(!err.message.contains("hunter2"), "{}", err.message);
        let err = parse_it("url = \"postgres://u@h/db\"\n[[source.repository]]\npath = \"/r\"")
            .unwrap_err();
        assert!(
            err.message
                .contains("- source.pg-path: a managed pgBackRest configuration"),
            "{}",
            err.message
        );
        let err =
            parse_it("url = \"postgres://u@h/db\"\nconfig = \"/etc/x.conf\"\npg-path = \"/pg\"")
                .unwrap_err();
        assert!(
            err.message.contains("- source.repository: a managed pgBackRest configuration needs at least one repository"),
            "{}",
            err.message
        );
    }
}
