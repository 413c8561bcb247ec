//! Persistence of Causeway's configuration.
//!
//! The store holds records: a JSON body under a `(kind, key)` pair, where the key of a record
//! that belongs to a REST API starts with the API id and a `/`. Every change is a batch written
//! in one transaction, so a crash in the middle of a write leaves either the old or the new
//! state, never a mix. Each batch bumps a revision number that later lets other nodes and the
//! gateway learn that something changed.

mod sqlite;

pub use sqlite::SqliteStore;

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
    /// The file was written by a newer version.
    #[error(
        "the store has schema version {found}, newer than this build understands ({supported})"
    )]
    NewerSchema { found: i64, supported: i64 },
}

/// A place to persist records. Implementations apply each batch atomically.
pub trait Store: Send + std::fmt::Debug {
    /// Every record, for loading the configuration at start-up.
    fn load_all(&mut self) -> Result<Vec<Record>, StoreError>;

    /// Applies a batch in one transaction and returns the new revision.
    fn apply(&mut self, batch: &[Change]) -> Result<u64, StoreError>;

    /// The current revision (0 for an empty store).
    fn revision(&mut self) -> Result<u64, StoreError>;
}

#[cfg(test)]
mod tests;
