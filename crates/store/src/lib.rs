//! Persistence of Causeway's configuration.
//!
//! The store holds records: a JSON body under a `(kind, key)` pair, where the key of a record
//! that belongs to a REST API starts with the API id and a `/`. Every change is a batch written
//! in one transaction, so a crash in the middle of a write leaves either the old or the new
//! state, never a mix. Each batch bumps a revision number, which tells other nodes that share
//! the store that something changed, and which makes writes from several nodes safe: a batch
//! is written only if the store is still at the revision its writer last read
//! ([`StoreError::Conflict`] otherwise), so a writer never overwrites what it has not seen.
//!
//! Two backends: [`SqliteStore`], embedded, for a single node; [`PostgresStore`], for several
//! nodes sharing one configuration, with [`PostgresWatcher`] to learn of other nodes' writes.

mod postgres;
mod sqlite;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use postgres::{PostgresStore, PostgresWatcher};
pub use sqlite::SqliteStore;

/// Every record, and the revision they make up (read in one transaction).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Loaded {
    /// The revision of the records.
    pub revision: u64,
    /// The records, ordered by kind and key (bytewise).
    pub records: Vec<Record>,
}

/// A stored record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// What the record is (`restapi`, `resource`, ...).
    pub kind: String,
    /// Its key within the kind.
    pub key: String,
    /// Its JSON body.
    pub body: String,
}

/// One change of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Inserts or replaces a record.
    Put {
        kind: String,
        key: String,
        body: String,
    },
    /// Deletes a record if it exists.
    Delete { kind: String, key: String },
    /// Deletes every record of a kind whose key starts with `prefix`.
    DeletePrefix { kind: String, prefix: String },
}

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The data folder cannot be created or opened.
    #[error("cannot use data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    /// Another process holds the data folder.
    #[error(
        "data directory {path} is in use by another causeway process; stop it or choose another --data-dir"
    )]
    Locked { path: String },
    /// The database engine reported an error.
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
    /// PostgreSQL reported an error, or the connection to it failed.
    #[error("PostgreSQL: {}", postgres_detail(.0))]
    Postgres(#[from] ::postgres::Error),
    /// The PostgreSQL URL cannot be used.
    #[error("invalid PostgreSQL URL: {0}")]
    PostgresUrl(String),
    /// Another writer changed the store since this one last read it: nothing was written.
    /// The writer reloads and tries again.
    #[error("the store moved from revision {expected} to {found} since it was read")]
    Conflict { expected: u64, found: u64 },
    /// The file was written by a newer version.
    #[error(
        "the store has schema version {found}, newer than this build understands ({supported})"
    )]
    NewerSchema { found: i64, supported: i64 },
}

/// A PostgreSQL error with what the client's own message leaves out: the server's message
/// ("db error" alone says nothing) or the cause of a connection failure.
fn postgres_detail(error: &::postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        return format!("{} ({})", db.message(), db.code().code());
    }
    match std::error::Error::source(error) {
        Some(source) => format!("{error}: {source}"),
        None => error.to_string(),
    }
}

/// A place to persist records. Implementations apply each batch atomically.
pub trait Store: Send + std::fmt::Debug {
    /// Every record and their revision, read in one transaction.
    fn load(&mut self) -> Result<Loaded, StoreError>;

    /// Every record, for loading the configuration at start-up.
    fn load_all(&mut self) -> Result<Vec<Record>, StoreError> {
        self.load().map(|loaded| loaded.records)
    }

    /// The records of one kind.
    fn load_kind(&mut self, kind: &str) -> Result<Vec<Record>, StoreError> {
        Ok(self
            .load_all()?
            .into_iter()
            .filter(|record| record.kind == kind)
            .collect())
    }

    /// Applies a batch in one transaction, if the store is still at revision `base`, and
    /// returns the new revision; [`StoreError::Conflict`] (nothing written) when another
    /// writer got there first.
    fn apply(&mut self, base: u64, batch: &[Change]) -> Result<u64, StoreError>;

    /// Writes records that are not configuration (quota usage) in one transaction, without
    /// a new revision: other nodes are not told, and nothing is checked against `base`.
    fn put_untracked(&mut self, batch: &[Change]) -> Result<(), StoreError>;

    /// The current revision (0 for an empty store).
    fn revision(&mut self) -> Result<u64, StoreError>;

    /// Waits until no other node is writing, and keeps them out until [`Store::unlock_writers`]
    /// (or until this connection ends), so that an operation can read, decide and write
    /// without being overtaken. Nothing to do for a store only one node uses.
    fn lock_writers(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Ends [`Store::lock_writers`].
    fn unlock_writers(&mut self) {}
}

#[cfg(test)]
mod tests;
