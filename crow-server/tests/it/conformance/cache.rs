//! Cache conformance: TTL, delete, prefix invalidation.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use crow_core::ports::cache::Cache;

pub type C = Arc<dyn Cache>;

pub async fn set_get_overwrite_delete(c: C) {
    assert_eq!(c.get("k").await.unwrap(), None);
    c.set("k", Bytes::from("v1"), Duration::from_secs(60)).await.unwrap();
    assert_eq!(c.get("k").await.unwrap(), Some(Bytes::from("v1")));
    c.set("k", Bytes::from("v2"), Duration::from_secs(60)).await.unwrap();
    assert_eq!(c.get("k").await.unwrap(), Some(Bytes::from("v2")));
    c.delete("k").await.unwrap();
    assert_eq!(c.get("k").await.unwrap(), None);
    c.delete("never-set").await.unwrap();
}

pub async fn entries_expire(c: C) {
    c.set("short", Bytes::from("x"), Duration::from_millis(100)).await.unwrap();
    c.set("long", Bytes::from("y"), Duration::from_secs(60)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(c.get("short").await.unwrap(), None);
    assert_eq!(c.get("long").await.unwrap(), Some(Bytes::from("y")));
}

pub async fn delete_prefix_only_touches_the_prefix(c: C) {
    for key in ["cache:products:org-a:/1", "cache:products:org-a:/2", "cache:products:org-b:/1"] {
        c.set(key, Bytes::from(key), Duration::from_secs(60)).await.unwrap();
    }
    assert_eq!(c.delete_prefix("cache:products:org-a:").await.unwrap(), 2);
    assert_eq!(c.get("cache:products:org-a:/1").await.unwrap(), None);
    assert!(c.get("cache:products:org-b:/1").await.unwrap().is_some());
}

macro_rules! cache_conformance {
    ($backend:ident, $make:ident) => {
        mod $backend {
            use super::cache as suite;

            #[tokio::test]
            async fn set_get_overwrite_delete() {
                let (c, _g) = super::$make().await;
                suite::set_get_overwrite_delete(c).await;
            }
            #[tokio::test]
            async fn entries_expire() {
                let (c, _g) = super::$make().await;
                suite::entries_expire(c).await;
            }
            #[tokio::test]
            async fn delete_prefix_only_touches_the_prefix() {
                let (c, _g) = super::$make().await;
                suite::delete_prefix_only_touches_the_prefix(c).await;
            }
        }
    };
}
