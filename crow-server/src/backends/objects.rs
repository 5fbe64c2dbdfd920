//! Object storage through the `object_store` crate: the local filesystem in the embedded
//! deployment; the same code serves S3-compatible stores when that backend is added.
//!
//! Every key is placed under `orgs/{organization id}/`, taken from the [`TenantPass`], so the
//! tenant boundary holds in the object layout itself.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use crow_core::ports::objects::{ObjectError, ObjectKey, ObjectMeta, ObjectStore};
use crow_core::{TenantPass, Timestamp};
use futures_util::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore as _, ObjectStoreExt as _, PutPayload};

/// [`ObjectStore`] over any `object_store` backend.
#[derive(Clone, Debug)]
pub struct Objects {
    inner: Arc<dyn object_store::ObjectStore>,
}

impl Objects {
    /// Objects in a directory of the local filesystem (created if missing).
    pub fn local(root: &std::path::Path) -> Result<Self, ObjectError> {
        std::fs::create_dir_all(root).map_err(|e| ObjectError::Backend(Box::new(e)))?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(root).map_err(backend)?;
        Ok(Self { inner: Arc::new(fs) })
    }

    fn tenant_root(pass: &TenantPass) -> Path {
        Path::from(format!("orgs/{}", pass.organization_id()))
    }

    fn path(pass: &TenantPass, key: &ObjectKey) -> Path {
        Path::from(format!("orgs/{}/{}", pass.organization_id(), key))
    }
}

fn backend(e: object_store::Error) -> ObjectError {
    match e {
        object_store::Error::NotFound { .. } => ObjectError::NotFound,
        other => ObjectError::Backend(Box::new(other)),
    }
}

fn meta(root: &Path, m: &object_store::ObjectMeta) -> Result<ObjectMeta, ObjectError> {
    let rel: Vec<_> = m.location.prefix_match(root).into_iter().flatten().map(|p| p.as_ref().to_owned()).collect();
    Ok(ObjectMeta {
        key: ObjectKey::new(rel.join("/"))?,
        size: m.size,
        last_modified: Timestamp::from_millis(m.last_modified.timestamp_millis()),
    })
}

#[async_trait]
impl ObjectStore for Objects {
    async fn put(&self, pass: &TenantPass, key: &ObjectKey, body: Bytes) -> Result<ObjectMeta, ObjectError> {
        let path = Self::path(pass, key);
        self.inner.put(&path, PutPayload::from_bytes(body)).await.map_err(backend)?;
        let head = self.inner.head(&path).await.map_err(backend)?;
        meta(&Self::tenant_root(pass), &head)
    }

    async fn get(&self, pass: &TenantPass, key: &ObjectKey) -> Result<Bytes, ObjectError> {
        let got = self.inner.get(&Self::path(pass, key)).await.map_err(backend)?;
        got.bytes().await.map_err(backend)
    }

    async fn delete(&self, pass: &TenantPass, key: &ObjectKey) -> Result<(), ObjectError> {
        match self.inner.delete(&Self::path(pass, key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(backend(e)),
        }
    }

    async fn list(&self, pass: &TenantPass, prefix: Option<&ObjectKey>) -> Result<Vec<ObjectMeta>, ObjectError> {
        let root = Self::tenant_root(pass);
        let under = prefix.map_or_else(|| root.clone(), |p| Self::path(pass, p));
        let found: Vec<object_store::ObjectMeta> =
            self.inner.list(Some(&under)).try_collect().await.map_err(backend)?;
        let mut out = found.iter().map(|m| meta(&root, m)).collect::<Result<Vec<_>, _>>()?;
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }
}
