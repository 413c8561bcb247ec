//! Conformance tests of the store backends.

use super::*;

fn put(kind: &str, key: &str, body: &str) -> Change {
    Change::Put {
        kind: kind.into(),
        key: key.into(),
        body: body.into(),
    }
}

fn conformance(store: &mut dyn Store) {
    assert_eq!(store.revision().ok(), Some(0));
    let rev = store
        .apply(&[
            put("restapi", "a", "{}"),
            put("resource", "a/r1", "1"),
            put("resource", "a/r2", "2"),
            put("resource", "a%/r3", "3"),
        ])
        .ok();
    assert_eq!(rev, Some(1));
    store.apply(&[put("resource", "a/r1", "updated")]).ok();
    let all = store.load_all().unwrap_or_default();
    assert_eq!(all.len(), 4);
    assert!(all.iter().any(|r| r.key == "a/r1" && r.body == "updated"));
    // A prefix delete is literal: 'a/' must not match 'a%/'.
    store
        .apply(&[
            Change::DeletePrefix {
                kind: "resource".into(),
                prefix: "a/".into(),
            },
            Change::Delete {
                kind: "restapi".into(),
                key: "a".into(),
            },
        ])
        .ok();
    let left: Vec<String> = store
        .load_all()
        .unwrap_or_default()
        .into_iter()
        .map(|r| r.key)
        .collect();
    assert_eq!(left, vec!["a%/r3".to_owned()]);
    assert_eq!(store.revision().ok(), Some(3));
}

#[test]
fn sqlite_in_memory_conforms() {
    let mut store = SqliteStore::in_memory().unwrap_or_else(|e| panic!("{e}"));
    conformance(&mut store);
}

#[test]
fn sqlite_file_conforms_and_persists() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    {
        let mut store = SqliteStore::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        conformance(&mut store);
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
