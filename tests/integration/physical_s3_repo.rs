//! repo2 of a [`crate::physical_support::PhysicalSource`] as an S3 bucket on LocalStack, in
//! another region than repo1 stands for: a new bucket per test, its objects listed (key, size,
//! ETag) to prove that drills never write to it, deleted with everything in it at the end.
//! LocalStack not answering fails the test saying how to start it.

use firedrill::catalog::layout::random_hex;
use firedrill::testing::SpecBuilder;

use crate::s3::{bucket, client, endpoint};

/// The region of the bucket: another one than the primary's.
pub const S3_REGION: &str = "eu-central-1";

/// Where pgBackRest reads repo2's S3 key and secret from (`repo2-s3-key`, `repo2-s3-key-secret`).
pub const S3_KEY_VAR: &str = "PGBACKREST_REPO2_S3_KEY";
pub const S3_SECRET_VAR: &str = "PGBACKREST_REPO2_S3_KEY_SECRET";

/// The repository's folder inside the bucket (`repo2-path`).
pub const S3_PATH: &str = "/pgbackrest";

/// One bucket holding repo2.
pub struct S3Repo {
    pub bucket: String,
    /// LocalStack takes any key and secret (an `AKIA` key counts as its default account):
    /// both unique, so that tests can look for them.
    pub key: String,
    pub secret: String,
}

/// An object of the bucket: key, size, ETag.
pub type Object = (String, i64, String);

impl S3Repo {
    pub async fn create() -> S3Repo {
        S3Repo {
            bucket: bucket(S3_REGION, false).await,
            key: format!("AKIAFD{}", random_hex(7).to_uppercase()),
            secret: format!("fd-s3-secret-{}", random_hex(12)),
        }
    }

    /// repo2's lines of `pgbackrest.conf`: everything but the secrets.
    pub fn options(&self) -> String {
        let ep = url::Url::parse(&endpoint()).expect("FIREDRILL_S3_ENDPOINT is a URL");
        format!(
            "repo2-type=s3\nrepo2-path={S3_PATH}\nrepo2-s3-bucket={}\nrepo2-s3-region={S3_REGION}\n\
             repo2-s3-endpoint={}\nrepo2-storage-port={}\nrepo2-s3-uri-style=path\n\
             repo2-storage-verify-tls=n\n",
            self.bucket,
            ep.host_str().unwrap_or("127.0.0.1"),
            ep.port_or_known_default().unwrap_or(4566),
        )
    }

    /// repo2 as a managed spec's `[[source.repository]]` (begun by `spec`): the same options.
    pub fn repository(&self, spec: SpecBuilder) -> SpecBuilder {
        let ep = url::Url::parse(&endpoint()).expect("FIREDRILL_S3_ENDPOINT is a URL");
        spec.with("bucket", self.bucket.as_str())
            .with("region", S3_REGION)
            .with(
                "endpoint",
                format!(
                    "{}:{}",
                    ep.host_str().unwrap_or("127.0.0.1"),
                    ep.port_or_known_default().unwrap_or(4566)
                ),
            )
            .with("path", S3_PATH)
            .with("uri-style", "path")
            .with("verify-tls", false)
    }

    /// Every object of the bucket, sorted by key.
    pub async fn listing(&self) -> Vec<Object> {
        list(&self.bucket).await
    }

    /// Removes one object (a fault the test injects).
    pub async fn remove(&self, key: &str) {
        client(S3_REGION)
            .await
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .unwrap();
    }

    /// Deletes the bucket and what is in it; from `Drop`, so on a thread of its own.
    pub fn delete(self) {
        let bucket = self.bucket;
        let done = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(remove_bucket(&bucket))
        })
        .join();
        if let Err(e) = done {
            eprintln!("the test bucket was not deleted: {e:?}");
        }
    }
}

async fn list(bucket: &str) -> Vec<Object> {
    let c = client(S3_REGION).await;
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = c
            .list_objects_v2()
            .bucket(bucket)
            .set_continuation_token(token)
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "cannot list bucket {bucket}: {}",
                    aws_sdk_s3::error::DisplayErrorContext(&e)
                )
            });
        for o in page.contents() {
            out.push((
                o.key().unwrap_or_default().to_string(),
                o.size().unwrap_or_default(),
                o.e_tag().unwrap_or_default().to_string(),
            ));
        }
        token = page.next_continuation_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    out.sort();
    out
}

async fn remove_bucket(bucket: &str) {
    let c = client(S3_REGION).await;
    for (key, _, _) in list(bucket).await {
        let _ = c.delete_object().bucket(bucket).key(key).send().await;
    }
    if let Err(e) = c.delete_bucket().bucket(bucket).send().await {
        eprintln!(
            "cannot delete the test bucket {bucket}: {}",
            aws_sdk_s3::error::DisplayErrorContext(&e)
        );
    }
}
