//! The schema, as embedded, versioned migrations applied at connect.
//!
//! Each migration runs once per schema, in version order, recorded in
//! `gossip_migrations`. All of them run in one transaction under an advisory
//! lock, so stores connecting at the same time never race to create tables
//! and a failed migration leaves the schema as it was.

use postgres::Client;

use crate::error::PgError;

/// One schema change: its version (never reused or renumbered) and SQL.
#[derive(Clone, Copy, Debug)]
pub struct Migration {
    /// Applied in ascending order; the highest applied is the schema's version.
    pub version: i32,
    /// A name for `gossip_migrations` and for people.
    pub name: &'static str,
    /// The statements.
    pub sql: &'static str,
}

/// Every migration this build knows, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "done_ledger", sql: include_str!("../migrations/0001_done_ledger.sql") },
    Migration { version: 2, name: "findings", sql: include_str!("../migrations/0002_findings.sql") },
];

/// A fixed key for `pg_advisory_xact_lock`, so every migrator of the same
/// schema (whatever its process) waits for the others.
const LOCK_CLASS: i32 = 0x006f_551b;

/// Brings `schema` up to the latest migration and returns how many were
/// applied now. The client's search path must be `schema`.
pub(crate) fn migrate(client: &mut Client, schema: &str) -> Result<usize, PgError> {
    let run = |client: &mut Client| -> Result<Result<usize, PgError>, postgres::Error> {
        let mut tx = client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", &[&LOCK_CLASS, &schema])?;
        // `schema` was checked to be a plain identifier (`PgOptions::validate`).
        tx.batch_execute(&format!(
            "CREATE SCHEMA IF NOT EXISTS \"{schema}\";
             CREATE TABLE IF NOT EXISTS \"{schema}\".gossip_migrations (
                 version    integer     PRIMARY KEY,
                 name       text        NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now()
             );"
        ))?;
        let found: Option<i32> =
            tx.query_one(&format!("SELECT max(version) FROM \"{schema}\".gossip_migrations"), &[])?.get(0);
        let found = found.unwrap_or(0);
        let known = MIGRATIONS.last().map_or(0, |m| m.version);
        if found > known {
            return Ok(Err(PgError::SchemaTooNew { schema: schema.to_owned(), found, known }));
        }
        let pending: Vec<&Migration> = MIGRATIONS.iter().filter(|m| m.version > found).collect();
        for migration in &pending {
            tx.batch_execute(migration.sql)?;
            tx.execute(
                &format!("INSERT INTO \"{schema}\".gossip_migrations (version, name) VALUES ($1, $2)"),
                &[&migration.version, &migration.name],
            )?;
        }
        tx.commit()?;
        Ok(Ok(pending.len()))
    };
    run(client).map_err(PgError::from_driver)?
}

#[cfg(test)]
mod tests {
    use super::MIGRATIONS;

    #[test]
    fn migrations_are_numbered_from_one_without_gaps() {
        let versions: Vec<i32> = MIGRATIONS.iter().map(|m| m.version).collect();
        let expected: Vec<i32> = (1..=MIGRATIONS.len() as i32).collect();
        assert_eq!(versions, expected);
        assert!(MIGRATIONS.iter().all(|m| m.sql.contains("CREATE TABLE")));
    }
}
