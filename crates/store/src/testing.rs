//! The behaviour every backend must have, as a check that other crates' tests run against a
//! real database (the PostgreSQL one needs a server, which the end-to-end tests start).

use crate::{Change, Store};

fn put(kind: &str, key: &str, body: &str) -> Change {
    Change::Put {
        kind: kind.into(),
        key: key.into(),
        body: body.into(),
    }
}

fn check(condition: bool, what: &str) -> Result<(), String> {
    if condition {
        Ok(())
    } else {
        Err(what.to_owned())
    }
}

/// Runs the conformance checks on an empty store; the error says which one failed. Leaves the
/// store at revision 3 with one record (`resource` `a%/r3`).
pub fn conformance(store: &mut dyn Store) -> Result<(), String> {
    let e = |error: crate::StoreError| error.to_string();
    check(
        store.revision().map_err(e)? == 0,
        "an empty store is at revision 0",
    )?;
    let rev = store
        .apply(
            0,
            &[
                put("restapi", "a", "{}"),
                put("resource", "a/r1", "1"),
                put("resource", "a/r2", "2"),
                put("resource", "a%/r3", "3"),
            ],
        )
        .map_err(e)?;
    check(rev == 1, "the first batch makes revision 1")?;

    // A writer that has not seen revision 1 is refused, and writes nothing.
    match store.apply(0, &[put("resource", "a/r1", "stale")]) {
        Err(crate::StoreError::Conflict {
            expected: 0,
            found: 1,
        }) => {}
        other => return Err(format!("a stale batch must conflict, got {other:?}")),
    }
    let rev = store
        .apply(1, &[put("resource", "a/r1", "updated")])
        .map_err(e)?;
    check(rev == 2, "the second batch makes revision 2")?;
    let loaded = store.load().map_err(e)?;
    check(loaded.revision == 2, "load reports the revision it read")?;
    check(loaded.records.len() == 4, "four records after two batches")?;
    check(
        loaded
            .records
            .iter()
            .any(|r| r.key == "a/r1" && r.body == "updated"),
        "a put replaces the record's body",
    )?;
    // Bytewise order: '%' (0x25) before '/' (0x2f), kinds before keys.
    let order: Vec<(&str, &str)> = loaded
        .records
        .iter()
        .map(|r| (r.kind.as_str(), r.key.as_str()))
        .collect();
    check(
        order
            == [
                ("resource", "a%/r3"),
                ("resource", "a/r1"),
                ("resource", "a/r2"),
                ("restapi", "a"),
            ],
        &format!("records in bytewise (kind, key) order, got {order:?}"),
    )?;

    // Untracked writes (quota usage) make no revision.
    store
        .put_untracked(&[put("usage", "p/k/2026-01-01", "{}")])
        .map_err(e)?;
    check(
        store.revision().map_err(e)? == 2,
        "an untracked write keeps the revision",
    )?;
    let usage = store.load_kind("usage").map_err(e)?;
    check(
        usage.len() == 1 && usage[0].key == "p/k/2026-01-01",
        &format!("load_kind reads one kind, got {usage:?}"),
    )?;
    store
        .put_untracked(&[Change::Delete {
            kind: "usage".into(),
            key: "p/k/2026-01-01".into(),
        }])
        .map_err(e)?;

    // A prefix delete is literal: 'a/' must not match 'a%/'.
    store
        .apply(
            2,
            &[
                Change::DeletePrefix {
                    kind: "resource".into(),
                    prefix: "a/".into(),
                },
                Change::Delete {
                    kind: "restapi".into(),
                    key: "a".into(),
                },
            ],
        )
        .map_err(e)?;
    let left: Vec<String> = store
        .load_all()
        .map_err(e)?
        .into_iter()
        .map(|r| r.key)
        .collect();
    check(
        left == ["a%/r3"],
        &format!("only 'a%/r3' survives the prefix delete, got {left:?}"),
    )?;
    check(
        store.revision().map_err(e)? == 3,
        "three batches, revision 3",
    )?;
    Ok(())
}
