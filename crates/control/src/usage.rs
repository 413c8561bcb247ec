//! Quota usage in the store: one record per usage plan, API key and UTC day
//! (`usage` / `{plan}/{key}/{yyyy-mm-dd}` → `{"used": n, "adjustment": a}`). Nodes that share a
//! store but count in their own memory (no Redis) each keep their own records, with their
//! node id after the day (`{plan}/{key}/{yyyy-mm-dd}/{node}`), so that none overwrites
//! another's counts.
//!
//! The gateway counts in memory; the server drains what changed once a second and writes it
//! here in one transaction, so a request never waits on the store. A crash loses at most the
//! last second of counts (see `ARCHITECTURE.md`).

use causeway_limits::{Day, DayUsage, UsageRecord};
use causeway_store::{Change, Record};
use serde::{Deserialize, Serialize};

/// The record kind.
pub const KIND: &str = "usage";

#[derive(Serialize, Deserialize)]
struct Body {
    used: u64,
    #[serde(default)]
    adjustment: i64,
}

/// The change that stores one day of a key's usage, as counted by `node` (`None`: the only
/// node counting).
pub fn to_change(record: &UsageRecord, node: Option<&str>) -> Option<Change> {
    let body = serde_json::to_string(&Body {
        used: record.usage.used,
        adjustment: record.usage.adjustment,
    })
    .ok()?;
    Some(Change::Put {
        kind: KIND.to_owned(),
        key: match node {
            Some(node) => format!(
                "{}/{}/{}/{node}",
                record.plan_id, record.key_id, record.usage.day
            ),
            None => format!("{}/{}/{}", record.plan_id, record.key_id, record.usage.day),
        },
        body,
    })
}

/// A stored usage record and the node that counted it (`None`: the only node), or `None`
/// (logged) when it cannot be read.
pub fn from_record(record: &Record) -> Option<(UsageRecord, Option<String>)> {
    let mut parts = record.key.splitn(4, '/');
    let (Some(plan_id), Some(key_id), Some(day)) = (parts.next(), parts.next(), parts.next())
    else {
        tracing::error!(key = %record.key, "usage record with a malformed key; skipped");
        return None;
    };
    let day = Day::parse(day)
        .map_err(|error| tracing::error!(key = %record.key, %error, "usage record skipped"))
        .ok()?;
    let body: Body = serde_json::from_str(&record.body)
        .map_err(|error| tracing::error!(key = %record.key, %error, "usage record skipped"))
        .ok()?;
    let node = parts.next().map(str::to_owned);
    Some((
        UsageRecord {
            plan_id: plan_id.to_owned(),
            key_id: key_id.to_owned(),
            usage: DayUsage {
                day,
                used: body.used,
                adjustment: body.adjustment,
            },
        },
        node,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let record = UsageRecord {
            plan_id: "abc123".to_owned(),
            key_id: "k1".to_owned(),
            usage: DayUsage {
                day: Day(20_783),
                used: 42,
                adjustment: -3,
            },
        };
        let Some(Change::Put { kind, key, body }) = to_change(&record, None) else {
            panic!("not a put");
        };
        assert_eq!(kind, KIND);
        assert_eq!(key, "abc123/k1/2026-11-26");
        let stored = Record { kind, key, body };
        assert_eq!(from_record(&stored), Some((record.clone(), None)));
        let Some(Change::Put { kind, key, body }) = to_change(&record, Some("n1")) else {
            panic!("not a put");
        };
        assert_eq!(key, "abc123/k1/2026-11-26/n1");
        let stored = Record { kind, key, body };
        assert_eq!(from_record(&stored), Some((record, Some("n1".to_owned()))));
        let bad = Record {
            kind: KIND.to_owned(),
            key: "abc/k1/not-a-day".to_owned(),
            body: "{}".to_owned(),
        };
        assert_eq!(from_record(&bad), None);
    }
}
