//! The embedded SQLite backend (WAL mode), the default store of a single node.

use std::fs::{self, File};
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use crate::{Change, Loaded, Record, Store, StoreError};

/// Schema version written by this build.
const SCHEMA_VERSION: i64 = 1;

/// How long a held lock on a data folder is tried again before opening fails.
const LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(1);

/// A SQLite store in a data folder (`causeway.db`), locked against other processes.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
    // Held for the life of the store: an exclusive lock on `causeway.lock` that keeps a
    // second process from writing the same folder behind this one's in-memory view.
    _lock: Option<File>,
}

impl SqliteStore {
    /// Opens (creating if needed) the store in `dir`.
    pub fn open(dir: &Path) -> Result<SqliteStore, StoreError> {
        let data_dir = |source| StoreError::DataDir {
            path: dir.display().to_string(),
            source,
        };
        fs::create_dir_all(dir).map_err(data_dir)?;
        let lock = File::create(dir.join("causeway.lock")).map_err(data_dir)?;
        // A lock just let go can still be held for a moment: a process that forked while the
        // previous store had the file open keeps the lock until it execs. So a held lock is
        // tried again for a while before it counts as another server's.
        let patience = std::time::Instant::now() + LOCK_PATIENCE;
        loop {
            match lock.try_lock() {
                Ok(()) => break,
                Err(fs::TryLockError::WouldBlock) if std::time::Instant::now() < patience => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(StoreError::Locked {
                        path: dir.display().to_string(),
                    });
                }
                Err(fs::TryLockError::Error(source)) => return Err(data_dir(source)),
            }
        }
        let conn = Connection::open(dir.join("causeway.db"))?;
        let mut store = SqliteStore {
            conn,
            _lock: Some(lock),
        };
        store.init()?;
        Ok(store)
    }

    /// An in-memory store, for tests and fuzzing.
    pub fn in_memory() -> Result<SqliteStore, StoreError> {
        let mut store = SqliteStore {
            conn: Connection::open_in_memory()?,
            _lock: None,
        };
        store.init()?;
        Ok(store)
    }

    fn init(&mut self) -> Result<(), StoreError> {
        // WAL lets readers run beside the writer; synchronous=NORMAL in WAL mode keeps every
        // committed transaction across a process crash (only power loss can drop the last
        // few, and even then the file stays consistent).
        self.conn.pragma_update(None, "journal_mode", "WAL")?;
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        self.conn.busy_timeout(std::time::Duration::from_secs(5))?;
        self.conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS records (
                 kind TEXT NOT NULL,
                 key  TEXT NOT NULL,
                 body TEXT NOT NULL,
                 PRIMARY KEY (kind, key)
             ) WITHOUT ROWID;",
        )?;
        let version: Option<i64> = self
            .conn
            .query_row("SELECT value FROM meta WHERE name = 'schema'", [], |row| {
                row.get(0)
            })
            .optional()?;
        match version {
            None => {
                self.conn.execute(
                    "INSERT INTO meta (name, value) VALUES ('schema', ?1), ('revision', 0)",
                    params![SCHEMA_VERSION],
                )?;
            }
            Some(found) if found > SCHEMA_VERSION => {
                return Err(StoreError::NewerSchema {
                    found,
                    supported: SCHEMA_VERSION,
                });
            }
            Some(_) => {}
        }
        Ok(())
    }
}

impl SqliteStore {
    /// Writes one batch's changes inside `tx`.
    fn write(tx: &rusqlite::Transaction<'_>, batch: &[Change]) -> Result<(), StoreError> {
        for change in batch {
            match change {
                Change::Put { kind, key, body } => {
                    tx.prepare_cached(
                        "INSERT INTO records (kind, key, body) VALUES (?1, ?2, ?3)
                         ON CONFLICT (kind, key) DO UPDATE SET body = excluded.body",
                    )?
                    .execute(params![kind, key, body])?;
                }
                Change::Delete { kind, key } => {
                    tx.prepare_cached("DELETE FROM records WHERE kind = ?1 AND key = ?2")?
                        .execute(params![kind, key])?;
                }
                Change::DeletePrefix { kind, prefix } => {
                    // substr() rather than LIKE, so that '%' and '_' in keys are literal.
                    tx.prepare_cached(
                        "DELETE FROM records WHERE kind = ?1 AND substr(key, 1, length(?2)) = ?2",
                    )?
                    .execute(params![kind, prefix])?;
                }
            }
        }
        Ok(())
    }
}

fn read_revision(conn: &Connection) -> Result<u64, StoreError> {
    let revision: i64 = conn.query_row(
        "SELECT value FROM meta WHERE name = 'revision'",
        [],
        |row| row.get(0),
    )?;
    Ok(u64::try_from(revision).unwrap_or_default())
}

impl Store for SqliteStore {
    fn load(&mut self) -> Result<Loaded, StoreError> {
        let tx = self.conn.transaction()?;
        let revision = read_revision(&tx)?;
        let records = {
            let mut statement =
                tx.prepare("SELECT kind, key, body FROM records ORDER BY kind, key")?;
            let rows = statement.query_map([], |row| {
                Ok(Record {
                    kind: row.get(0)?,
                    key: row.get(1)?,
                    body: row.get(2)?,
                })
            })?;
            rows.collect::<Result<Vec<_>, _>>()?
        };
        tx.commit()?;
        Ok(Loaded { revision, records })
    }

    fn apply(&mut self, base: u64, batch: &[Change]) -> Result<u64, StoreError> {
        // IMMEDIATE takes the write lock first, so the revision read below cannot change
        // before the commit.
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let found = read_revision(&tx)?;
        if found != base {
            return Err(StoreError::Conflict {
                expected: base,
                found,
            });
        }
        Self::write(&tx, batch)?;
        tx.execute(
            "UPDATE meta SET value = value + 1 WHERE name = 'revision'",
            [],
        )?;
        let revision = read_revision(&tx)?;
        tx.commit()?;
        Ok(revision)
    }

    fn load_kind(&mut self, kind: &str) -> Result<Vec<Record>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT kind, key, body FROM records WHERE kind = ?1 ORDER BY key")?;
        let rows = statement.query_map(params![kind], |row| {
            Ok(Record {
                kind: row.get(0)?,
                key: row.get(1)?,
                body: row.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    fn put_untracked(&mut self, batch: &[Change]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        Self::write(&tx, batch)?;
        tx.commit()?;
        Ok(())
    }

    fn revision(&mut self) -> Result<u64, StoreError> {
        read_revision(&self.conn)
    }
}
