//! In-memory store for unit tests of the pipeline and catalog.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use bytes::Bytes;
use tokio::io::AsyncReadExt;

use super::{ByteStream, ObjectInfo, ObjectStore};
use crate::{Error, Result};

#[derive(Default)]
pub struct MemoryStore {
    objects: Mutex<BTreeMap<String, Bytes>>,
}

#[async_trait]
impl ObjectStore for MemoryStore {
    fn describe(&self) -> String {
        "memory://".into()
    }

    async fn put(&self, key: &str, mut body: ByteStream) -> Result<u64> {
        let mut buf = Vec::new();
        body.read_to_end(&mut buf)
            .await
            .map_err(|e| Error::storage(format!("cannot write `{key}`: {e}")))?;
        let n = buf.len() as u64;
        self.objects.lock().unwrap().insert(key.into(), buf.into());
        Ok(n)
    }

    async fn put_bytes(&self, key: &str, data: Bytes) -> Result<()> {
        self.objects.lock().unwrap().insert(key.into(), data);
        Ok(())
    }

    async fn put_if_absent(&self, key: &str, data: Bytes) -> Result<bool> {
        let mut objects = self.objects.lock().unwrap();
        if objects.contains_key(key) {
            return Ok(false);
        }
        objects.insert(key.into(), data);
        Ok(true)
    }

    async fn replace_if_unchanged(&self, key: &str, expected: &[u8], data: Bytes) -> Result<bool> {
        let mut objects = self.objects.lock().unwrap();
        match objects.get(key) {
            Some(now) if now.as_ref() == expected => {
                objects.insert(key.into(), data);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn get(&self, key: &str) -> Result<ByteStream> {
        let data = self
            .get_bytes(key)
            .await?
            .ok_or_else(|| Error::storage(format!("object `{key}` not found in memory://")))?;
        Ok(Box::new(std::io::Cursor::new(data)))
    }

    async fn get_bytes(&self, key: &str) -> Result<Option<Bytes>> {
        Ok(self.objects.lock().unwrap().get(key).cloned())
    }

    async fn head(&self, key: &str) -> Result<Option<u64>> {
        Ok(self
            .objects
            .lock()
            .unwrap()
            .get(key)
            .map(|b| b.len() as u64))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>> {
        Ok(self
            .objects
            .lock()
            .unwrap()
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| ObjectInfo {
                key: k.clone(),
                size: v.len() as u64,
            })
            .collect())
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.objects.lock().unwrap().remove(key);
        Ok(())
    }
}
