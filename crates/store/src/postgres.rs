//! The PostgreSQL backend: one configuration shared by several nodes.
//!
//! The tables are `causeway_records` (as in SQLite: a JSON body under `(kind, key)`) and
//! `causeway_meta` (the schema version and the revision). A batch locks the revision row
//! (`SELECT … FOR UPDATE`), so writers from every node take turns, and is written only if the
//! revision is still the one its writer read. Each commit sends `NOTIFY causeway_revision`
//! with the new revision; a [`PostgresWatcher`] on every node listens for it, and also reads
//! the revision every few seconds in case a notification was lost with its connection.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use postgres::config::SslMode;
use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, IsolationLevel, NoTls, Statement, Transaction};
use tokio_postgres_rustls::MakeRustlsConnect;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::pki_types::pem::PemObject;

use crate::{Change, Loaded, Record, Store, StoreError};

/// Schema version written by this build.
const SCHEMA_VERSION: i64 = 1;

/// The channel of revision notifications.
const CHANNEL: &str = "causeway_revision";

/// Key of the advisory lock that serialises schema creation between nodes starting at once.
const SCHEMA_LOCK: i64 = 0x6361_7573_6577_6179; // "causeway"

/// Key of the advisory lock a node holds while it runs an operation that may write.
const WRITERS_LOCK: i64 = 0x6361_7573_6577_6177; // "causewaw"

/// How long a node waits for another node's write (the writers' lock or the revision row)
/// before it gives up with an error.
const LOCK_TIMEOUT: &str = "10s";

/// A store in a PostgreSQL database, shared by every node configured with the same URL.
pub struct PostgresStore {
    config: postgres::Config,
    tls: MakeRustlsConnect,
    /// Always `Some` but while being dropped.
    client: Option<Client>,
    /// Statements prepared on `client`, by their text: each later use is one round trip
    /// instead of two (parse, then execute). Emptied when the connection is made again.
    statements: HashMap<&'static str, Statement>,
}

impl Drop for PostgresStore {
    /// Closing the client blocks until the server has been told, which must not happen on
    /// an async task's thread (the client would panic): it closes on a thread of its own.
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = std::thread::Builder::new()
                .name("causeway-store-close".into())
                .spawn(move || drop(client));
        }
    }
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("dbname", &self.config.get_dbname())
            .field("hosts", &self.config.get_hosts())
            .finish_non_exhaustive()
    }
}

/// Parses a `postgres://user:password@host:port/dbname?…` URL (or a `key=value` string), with
/// a 10-second connect timeout unless the URL sets one.
fn parse_config(url: &str) -> Result<postgres::Config, StoreError> {
    let mut config = postgres::Config::from_str(url)
        .map_err(|error| StoreError::PostgresUrl(error.to_string()))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    if config.get_application_name().is_none() {
        config.application_name("causeway");
    }
    if config.get_options().is_none() {
        // Without client_min_messages, every start logs the server's notices that the
        // tables already exist.
        config.options(&format!(
            "-c lock_timeout={LOCK_TIMEOUT} -c client_min_messages=warning"
        ));
    }
    Ok(config)
}

/// The TLS a connection uses when its URL says `sslmode=require`: the server's certificate
/// is checked against the public roots (webpki-roots) and `ca_pem`'s certificates.
fn tls(ca_pem: Option<&[u8]>) -> Result<MakeRustlsConnect, StoreError> {
    let bad =
        |error: String| StoreError::PostgresUrl(format!("PostgreSQL CA certificates: {error}"));
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(pem) = ca_pem {
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|error| bad(error.to_string()))?;
            roots.add(cert).map_err(|error| bad(error.to_string()))?;
            added += 1;
        }
        if added == 0 {
            return Err(bad("no certificate found".to_owned()));
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|error| bad(error.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

/// A connection, over TLS when the URL asks for it (`sslmode=require`), in the clear
/// otherwise (`prefer`, the default, does not ask: a server's certificate is then never
/// trusted unchecked).
fn open(config: &postgres::Config, tls: &MakeRustlsConnect) -> Result<Client, postgres::Error> {
    if config.get_ssl_mode() == SslMode::Require {
        config.connect(tls.clone())
    } else {
        config.connect(NoTls)
    }
}

impl PostgresStore {
    /// Connects to the database at `url` and creates Causeway's tables if they are missing.
    /// With `sslmode=require` in the URL the connection uses TLS, trusting the public roots
    /// and the certificates of `ca_pem`. Must not be called from an async task (the client
    /// blocks): use a blocking thread.
    pub fn connect(url: &str, ca_pem: Option<&[u8]>) -> Result<PostgresStore, StoreError> {
        let config = parse_config(url)?;
        let tls = tls(ca_pem)?;
        let client = open(&config, &tls)?;
        let mut store = PostgresStore {
            config,
            tls,
            client: Some(client),
            statements: HashMap::new(),
        };
        store.init()?;
        Ok(store)
    }

    fn init(&mut self) -> Result<(), StoreError> {
        let mut tx = self.client()?.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS causeway_meta (
                 name  TEXT PRIMARY KEY,
                 value BIGINT NOT NULL
             );
             CREATE TABLE IF NOT EXISTS causeway_records (
                 kind TEXT NOT NULL COLLATE \"C\",
                 key  TEXT NOT NULL COLLATE \"C\",
                 body TEXT NOT NULL,
                 PRIMARY KEY (kind, key)
             );",
        )?;
        let version: Option<i64> = tx
            .query_opt("SELECT value FROM causeway_meta WHERE name = 'schema'", &[])?
            .map(|row| row.get(0));
        match version {
            None => {
                tx.execute(
                    "INSERT INTO causeway_meta (name, value) VALUES ('schema', $1), ('revision', 0)",
                    &[&SCHEMA_VERSION],
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
        tx.commit()?;
        Ok(())
    }

    /// The connection, made again if the last one broke (the server restarted, say).
    fn client(&mut self) -> Result<&mut Client, StoreError> {
        let client = match self.client.take() {
            Some(client) if !client.is_closed() => client,
            _ => {
                self.statements.clear();
                open(&self.config, &self.tls)?
            }
        };
        Ok(self.client.insert(client))
    }

    /// `sql` prepared on the current connection (once per connection).
    fn prepared(&mut self, sql: &'static str) -> Result<Statement, StoreError> {
        self.client()?;
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client()?.prepare(sql)?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }

    /// Runs a read; if the connection turns out to have broken since its last use (the
    /// client learns that only when it next uses it), connects again and runs it once more.
    /// Writes are not run again: whether a commit that lost its connection took effect is
    /// unknown, and the caller reloads to find out.
    fn read<T>(
        &mut self,
        read: impl Fn(&mut Self) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match read(self) {
            Err(StoreError::Postgres(error))
                if error.is_closed() || self.client.as_ref().is_none_or(Client::is_closed) =>
            {
                tracing::info!(%error, "PostgreSQL connection lost; connecting again");
                self.client = None;
                self.statements.clear();
                read(self)
            }
            other => other,
        }
    }

    /// The statements a batch's changes need.
    fn writers(&mut self) -> Result<Writers, StoreError> {
        Ok(Writers {
            put: self.prepared(
                "INSERT INTO causeway_records (kind, key, body) VALUES ($1, $2, $3)
                 ON CONFLICT (kind, key) DO UPDATE SET body = excluded.body",
            )?,
            delete: self.prepared("DELETE FROM causeway_records WHERE kind = $1 AND key = $2")?,
            // starts_with() rather than LIKE, so that '%' and '_' in keys are literal.
            delete_prefix: self.prepared(
                "DELETE FROM causeway_records WHERE kind = $1 AND starts_with(key, $2)",
            )?,
        })
    }
}

/// Prepared statements for the changes of a batch.
struct Writers {
    put: Statement,
    delete: Statement,
    delete_prefix: Statement,
}

impl Writers {
    fn write(&self, tx: &mut Transaction<'_>, batch: &[Change]) -> Result<(), StoreError> {
        for change in batch {
            match change {
                Change::Put { kind, key, body } => {
                    tx.execute(&self.put, &[kind, key, body])?;
                }
                Change::Delete { kind, key } => {
                    tx.execute(&self.delete, &[kind, key])?;
                }
                Change::DeletePrefix { kind, prefix } => {
                    tx.execute(&self.delete_prefix, &[kind, prefix])?;
                }
            }
        }
        Ok(())
    }
}

fn revision_of(value: i64) -> u64 {
    u64::try_from(value).unwrap_or_default()
}

impl Store for PostgresStore {
    fn load(&mut self) -> Result<Loaded, StoreError> {
        self.read(load)
    }

    fn apply(&mut self, base: u64, batch: &[Change]) -> Result<u64, StoreError> {
        let writers = self.writers()?;
        // The update takes the revision row's lock, so every other node's batch waits for
        // this one's commit, and matches only if no other batch came first. The notification
        // is delivered to listeners when the transaction commits, and only then.
        let bump = self.prepared(
            "WITH bumped AS (
                 UPDATE causeway_meta SET value = value + 1
                 WHERE name = 'revision' AND value = $1 RETURNING value
             )
             SELECT value, pg_notify('causeway_revision', value::text) FROM bumped",
        )?;
        let base_value = i64::try_from(base).unwrap_or(i64::MAX);
        let mut tx = self.client()?.transaction()?;
        let Some(row) = tx.query_opt(&bump, &[&base_value])? else {
            drop(tx);
            return Err(StoreError::Conflict {
                expected: base,
                found: self.revision()?,
            });
        };
        let revision: i64 = row.get(0);
        writers.write(&mut tx, batch)?;
        tx.commit()?;
        Ok(revision_of(revision))
    }

    fn load_kind(&mut self, kind: &str) -> Result<Vec<Record>, StoreError> {
        self.read(|store| {
            let select = store.prepared(
                "SELECT kind, key, body FROM causeway_records WHERE kind = $1 ORDER BY key",
            )?;
            Ok(store
                .client()?
                .query(&select, &[&kind])?
                .into_iter()
                .map(|row| Record {
                    kind: row.get(0),
                    key: row.get(1),
                    body: row.get(2),
                })
                .collect())
        })
    }

    fn put_untracked(&mut self, batch: &[Change]) -> Result<(), StoreError> {
        let writers = self.writers()?;
        let mut tx = self.client()?.transaction()?;
        writers.write(&mut tx, batch)?;
        tx.commit()?;
        Ok(())
    }

    fn lock_writers(&mut self) -> Result<(), StoreError> {
        // A session lock: it is held across the operation's reads and its write, and
        // released by the server if this connection ends.
        self.read(|store| {
            let lock = store.prepared("SELECT pg_advisory_lock($1)")?;
            store.client()?.execute(&lock, &[&WRITERS_LOCK])?;
            Ok(())
        })
    }

    fn unlock_writers(&mut self) {
        // Not on a new connection: if the old one is gone, the lock went with it.
        let Some(client) = self.client.as_mut() else {
            return;
        };
        if let Err(error) = client.execute("SELECT pg_advisory_unlock($1)", &[&WRITERS_LOCK]) {
            tracing::debug!(%error, "cannot release the writers' lock");
        }
    }

    fn revision(&mut self) -> Result<u64, StoreError> {
        self.read(|store| {
            let select =
                store.prepared("SELECT value FROM causeway_meta WHERE name = 'revision'")?;
            let revision: i64 = store.client()?.query_one(&select, &[])?.get(0);
            Ok(revision_of(revision))
        })
    }
}

/// Every record and their revision, in one repeatable-read transaction.
fn load(store: &mut PostgresStore) -> Result<Loaded, StoreError> {
    let mut tx = store
        .client()?
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()?;
    let revision: i64 = tx
        .query_one(
            "SELECT value FROM causeway_meta WHERE name = 'revision'",
            &[],
        )?
        .get(0);
    let records = tx
        .query(
            "SELECT kind, key, body FROM causeway_records ORDER BY kind, key",
            &[],
        )?
        .into_iter()
        .map(|row| Record {
            kind: row.get(0),
            key: row.get(1),
            body: row.get(2),
        })
        .collect();
    tx.commit()?;
    Ok(Loaded {
        revision: revision_of(revision),
        records,
    })
}

/// Tells a node when another node has written the shared store: a thread of its own with a
/// connection that `LISTEN`s for revisions, and reads the revision every `poll` in case a
/// notification was lost (a notification sent while the connection was down is never
/// delivered). Stops when dropped.
#[derive(Debug)]
pub struct PostgresWatcher {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl PostgresWatcher {
    /// Starts watching the database at `url`; `on_revision` is called with each revision seen
    /// (at least once, with the revision at start), in order, from the watcher's thread. A
    /// broken connection is made again every second until it works.
    pub fn start(
        url: &str,
        ca_pem: Option<&[u8]>,
        poll: Duration,
        on_revision: impl Fn(u64) + Send + 'static,
    ) -> Result<PostgresWatcher, StoreError> {
        let config = parse_config(url)?;
        let tls = tls(ca_pem)?;
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::Builder::new()
            .name("causeway-store-watch".into())
            .spawn({
                let stop = stop.clone();
                move || watch(&config, &tls, poll, &stop, &on_revision)
            })
            .map_err(|error| StoreError::PostgresUrl(format!("cannot start watcher: {error}")))?;
        Ok(PostgresWatcher {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for PostgresWatcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // The thread wakes within a second (its longest wait) and ends; it is not joined
        // here, so that dropping never blocks an async caller.
        drop(self.thread.take());
    }
}

/// How long one wait for notifications lasts: also how quickly the watcher sees `stop`.
const WAIT: Duration = Duration::from_millis(500);

fn watch(
    config: &postgres::Config,
    tls: &MakeRustlsConnect,
    poll: Duration,
    stop: &AtomicBool,
    on_revision: &dyn Fn(u64),
) {
    let mut last = None;
    while !stop.load(Ordering::Relaxed) {
        match watch_connection(config, tls, poll, stop, on_revision, &mut last) {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!(%error, "store watcher lost PostgreSQL; connecting again in 1 s");
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

/// One connection's life: LISTEN, then report revisions until `stop` or an error.
fn watch_connection(
    config: &postgres::Config,
    tls: &MakeRustlsConnect,
    poll: Duration,
    stop: &AtomicBool,
    on_revision: &dyn Fn(u64),
    last: &mut Option<u64>,
) -> Result<(), StoreError> {
    let mut client = open(config, tls)?;
    client.batch_execute(&format!("LISTEN {CHANNEL}"))?;
    let report = |client: &mut Client, last: &mut Option<u64>| -> Result<(), StoreError> {
        let revision: i64 = client
            .query_one(
                "SELECT value FROM causeway_meta WHERE name = 'revision'",
                &[],
            )?
            .get(0);
        let revision = revision_of(revision);
        if *last != Some(revision) {
            *last = Some(revision);
            on_revision(revision);
        }
        Ok(())
    };
    // Whatever happened while the connection was down.
    report(&mut client, last)?;
    let mut since_poll = Duration::ZERO;
    while !stop.load(Ordering::Relaxed) {
        // The first notification ends the wait; the rest that arrived with it are drained
        // so that one read covers them all.
        let notified = client.notifications().timeout_iter(WAIT).next()?.is_some();
        if notified {
            let mut notifications = client.notifications();
            let mut pending = notifications.iter();
            while pending.next()?.is_some() {}
        }
        since_poll += WAIT;
        if notified || since_poll >= poll {
            since_poll = Duration::ZERO;
            report(&mut client, last)?;
        }
    }
    Ok(())
}
