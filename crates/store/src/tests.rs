//! The conformance checks on the SQLite backend (the PostgreSQL one runs them in the
//! end-to-end tests, which start a server).

use super::*;

#[test]
fn sqlite_in_memory_conforms() {
    let mut store = SqliteStore::in_memory().unwrap_or_else(|e| panic!("{e}"));
    testing::conformance(&mut store).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn sqlite_file_conforms_and_persists() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    {
        let mut store = SqliteStore::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        testing::conformance(&mut store).unwrap_or_else(|e| panic!("{e}"));
    }
    let mut again = SqliteStore::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.revision().ok(), Some(3));
    assert_eq!(again.load_all().unwrap_or_default().len(), 1);
}

#[test]
fn a_second_process_cannot_open_the_same_folder() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let _first = SqliteStore::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    let second = SqliteStore::open(dir.path());
    assert!(matches!(second, Err(StoreError::Locked { .. })));
}
