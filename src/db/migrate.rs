//! Embedded migrations, one directory per backend (`schema/postgres`, `schema/sqlite`).

use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::pg_url::libpq_url;
use super::DbUrl;
use crate::secret::redact_url;

const POSTGRES: EmbeddedMigrations = embed_migrations!("schema/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("schema/sqlite");

/// Applies pending migrations and returns the names of those applied.
pub fn run(url: &DbUrl) -> anyhow::Result<Vec<String>> {
    let applied = match url {
        DbUrl::Postgres(u) => {
            let mut conn = PgConnection::establish(&libpq_url(u))
                .map_err(|e| anyhow::anyhow!("cannot connect to {}: {e}", redact_url(u)))?;
            conn.run_pending_migrations(POSTGRES)
                .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?
                .iter()
                .map(ToString::to_string)
                .collect()
        }
        DbUrl::Sqlite(path) => {
            let mut conn = SqliteConnection::establish(&path.to_string_lossy()).map_err(|e| {
                anyhow::anyhow!("cannot open SQLite database {}: {e}", path.display())
            })?;
            conn.run_pending_migrations(SQLITE)
                .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?
                .iter()
                .map(ToString::to_string)
                .collect()
        }
    };
    Ok(applied)
}
