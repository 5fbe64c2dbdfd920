//! Object-store conformance: round trips, listing, deletion, tenant isolation.

use std::sync::Arc;

use bytes::Bytes;
use crow_core::id::OrganizationId;
use crow_core::ports::objects::{ObjectError, ObjectKey, ObjectStore};

use crate::fixtures::pass_for;

pub type O = Arc<dyn ObjectStore>;

fn key(k: &str) -> ObjectKey {
    ObjectKey::new(k).unwrap()
}

pub async fn put_get_overwrite_delete(o: O) {
    let pass = pass_for(OrganizationId::new());
    let meta = o.put(&pass, &key("frames/cam-1/0001.jpg"), Bytes::from_static(b"jpeg")).await.unwrap();
    assert_eq!(meta.key, key("frames/cam-1/0001.jpg"));
    assert_eq!(meta.size, 4);
    assert_eq!(o.get(&pass, &key("frames/cam-1/0001.jpg")).await.unwrap(), Bytes::from_static(b"jpeg"));
    o.put(&pass, &key("frames/cam-1/0001.jpg"), Bytes::from_static(b"png!!")).await.unwrap();
    assert_eq!(o.get(&pass, &key("frames/cam-1/0001.jpg")).await.unwrap(), Bytes::from_static(b"png!!"));
    o.delete(&pass, &key("frames/cam-1/0001.jpg")).await.unwrap();
    assert!(matches!(o.get(&pass, &key("frames/cam-1/0001.jpg")).await, Err(ObjectError::NotFound)));
    o.delete(&pass, &key("frames/cam-1/0001.jpg")).await.unwrap();
}

pub async fn list_by_prefix_sorted(o: O) {
    let pass = pass_for(OrganizationId::new());
    for k in ["b/2", "a/1", "b/1", "bb/1"] {
        o.put(&pass, &key(k), Bytes::from(k.to_owned())).await.unwrap();
    }
    let all: Vec<String> = o.list(&pass, None).await.unwrap().into_iter().map(|m| m.key.to_string()).collect();
    assert_eq!(all, ["a/1", "b/1", "b/2", "bb/1"]);
    let b: Vec<String> = o.list(&pass, Some(&key("b"))).await.unwrap().into_iter().map(|m| m.key.to_string()).collect();
    assert_eq!(b, ["b/1", "b/2"], "prefixes match whole segments");
}

pub async fn tenants_cannot_see_each_other(o: O) {
    let a = pass_for(OrganizationId::new());
    let b = pass_for(OrganizationId::new());
    o.put(&a, &key("secret.txt"), Bytes::from_static(b"a's")).await.unwrap();
    assert!(matches!(o.get(&b, &key("secret.txt")).await, Err(ObjectError::NotFound)));
    assert!(o.list(&b, None).await.unwrap().is_empty());
    o.delete(&b, &key("secret.txt")).await.unwrap();
    assert_eq!(
        o.get(&a, &key("secret.txt")).await.unwrap(),
        Bytes::from_static(b"a's"),
        "b's delete did not touch a's object"
    );
}

macro_rules! objects_conformance {
    ($backend:ident, $make:ident) => {
        mod $backend {
            use super::objects as suite;

            #[tokio::test]
            async fn put_get_overwrite_delete() {
                let (o, _g) = super::$make().await;
                suite::put_get_overwrite_delete(o).await;
            }
            #[tokio::test]
            async fn list_by_prefix_sorted() {
                let (o, _g) = super::$make().await;
                suite::list_by_prefix_sorted(o).await;
            }
            #[tokio::test]
            async fn tenants_cannot_see_each_other() {
                let (o, _g) = super::$make().await;
                suite::tenants_cannot_see_each_other(o).await;
            }
        }
    };
}
