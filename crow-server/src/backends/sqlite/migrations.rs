//! Migrations compiled into the binary and applied by sqlx's migrator at start.
//!
//! They are listed here (not discovered with the `migrate!` macro) to keep sqlx's proc-macro
//! stack out of the build; sqlx still records versions and checksums in `_sqlx_migrations`,
//! so an edited migration that already ran is detected.

use std::borrow::Cow;

use futures_util::future::BoxFuture;
use sqlx::SqlitePool;
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "foundation", include_str!("../../../migrations/0001_foundation.sql")),
    (2, "auth", include_str!("../../../migrations/0002_auth.sql")),
    (3, "onboarding", include_str!("../../../migrations/0003_onboarding.sql")),
    (4, "ingest", include_str!("../../../migrations/0004_ingest.sql")),
    (5, "web sessions", include_str!("../../../migrations/0005_web_sessions.sql")),
];

#[derive(Debug)]
struct Embedded;

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, BoxDynError>> {
        Box::pin(async {
            Ok(MIGRATIONS
                .iter()
                .map(|&(version, name, sql)| {
                    Migration::new(version, Cow::Borrowed(name), MigrationType::Simple, Cow::Borrowed(sql), false)
                })
                .collect())
        })
    }
}

/// Applies every migration not yet recorded in the database.
pub(super) async fn run(pool: &SqlitePool) -> Result<(), sqlx::migrate::MigrateError> {
    Migrator::new(Embedded).await?.run(pool).await
}
