//! The state of one API key in one usage plan: its token buckets and its usage by day.
//!
//! It is laid out for the hot path, which reads the ids, the plan bucket, the current day
//! and the quota period totals: those come first, inline, so that a check touches the
//! entry itself and no other heap memory.

use crate::bucket::TokenBucket;
use crate::calendar::Day;
use crate::quota::{self, DayUsage, QuotaConfig};

use super::{MethodRef, PlanKey};

#[repr(C)]
pub(super) struct KeyState {
    pub(super) hash: u64,
    ids: Ids,
    pub(super) bucket: TokenBucket,
    /// The most recent day with usage ([`NO_DAY`] when there is none yet).
    latest: DayCell,
    /// Totals of the current quota period, so that a check does not sum the days.
    period: PeriodCache,
    /// Buckets of the plan's per-method throttles; few per key, so a list.
    pub(super) methods: Vec<MethodBucket>,
    /// Days before `latest`, sorted, within the retention window.
    history: Vec<DayCell>,
    /// Whether some day may be dirty.
    pub(super) dirty: bool,
}

pub(super) struct MethodBucket {
    api_id: Box<str>,
    stage: Box<str>,
    method_key: Box<str>,
    pub(super) bucket: TokenBucket,
}

struct DayCell {
    usage: DayUsage,
    /// Changed since it was last drained.
    dirty: bool,
}

/// The totals of the quota period containing `today`, valid for the settings they were
/// computed with; a change of day or settings recomputes them from the days.
#[derive(Default)]
struct PeriodCache {
    valid_for: Option<(Day, QuotaConfig, Day)>,
    allowance: u64,
    used: u64,
    adjustment: i64,
}

/// Marks an empty `latest` cell; no real day is that far back.
const NO_DAY: Day = Day(i32::MIN);

impl KeyState {
    pub(super) fn new(hash: u64, key: PlanKey<'_>) -> KeyState {
        KeyState {
            hash,
            ids: Ids::new(key.plan_id, key.key_id),
            bucket: TokenBucket::default(),
            latest: DayCell::new(NO_DAY),
            period: PeriodCache::default(),
            methods: Vec::new(),
            history: Vec::new(),
            dirty: false,
        }
    }

    pub(super) fn is(&self, key: PlanKey<'_>) -> bool {
        self.ids.is(key.plan_id, key.key_id)
    }

    pub(super) fn plan_id(&self) -> &str {
        self.ids.plan_id()
    }

    pub(super) fn key_id(&self) -> &str {
        self.ids.key_id()
    }

    /// The index of the method's bucket in `methods`, created (full) on first use.
    pub(super) fn method_bucket(&mut self, method: &MethodRef<'_>) -> usize {
        let found = self.methods.iter().position(|m| m.is(method));
        found.unwrap_or_else(|| {
            self.methods.push(MethodBucket {
                api_id: method.api_id.into(),
                stage: method.stage.into(),
                method_key: method.method_key.into(),
                bucket: TokenBucket::default(),
            });
            self.methods.len() - 1
        })
    }

    /// Drops the method buckets of a deleted stage.
    pub(super) fn forget_stage(&mut self, api_id: &str, stage: &str) {
        self.methods
            .retain(|m| !(&*m.api_id == api_id && &*m.stage == stage));
    }

    /// What remains of the quota now, bringing the period totals up to date first.
    pub(super) fn remaining(
        &mut self,
        quota: &QuotaConfig,
        quota_start: Day,
        today: Day,
        retention: i32,
    ) -> u64 {
        let settings = (today, *quota, quota_start);
        if self.period.valid_for != Some(settings) {
            // A new day (or new settings): drop the days past retention that are already
            // persisted, then sum the period's days.
            let oldest = Day(today.0.saturating_sub(retention));
            self.history
                .retain(|cell| cell.dirty || cell.usage.day >= oldest);
            let start = quota.period.start(today);
            let (used, adjustment) = self
                .days()
                .filter(|usage| usage.day >= start && usage.day <= today)
                .fold((0_u64, 0_i64), |(used, adjustment), usage| {
                    (
                        used.saturating_add(usage.used),
                        adjustment.saturating_add(usage.adjustment),
                    )
                });
            self.period = PeriodCache {
                valid_for: Some(settings),
                allowance: quota.allowance(start, quota_start),
                used,
                adjustment,
            };
        }
        quota::remaining(
            self.period.allowance,
            self.period.used,
            self.period.adjustment,
        )
    }

    /// Counts a request that passed.
    pub(super) fn count(&mut self, today: Day) {
        let cell = self.cell(today);
        cell.usage.used = cell.usage.used.saturating_add(1);
        // The totals cover the period containing `today`, whatever the settings.
        if self
            .period
            .valid_for
            .is_some_and(|(day, _, _)| day == today)
        {
            self.period.used = self.period.used.saturating_add(1);
        }
    }

    /// Makes what remains of the current period `target` (UpdateUsage).
    pub(super) fn set_remaining(
        &mut self,
        quota: &QuotaConfig,
        quota_start: Day,
        today: Day,
        retention: i32,
        target: u64,
    ) {
        self.remaining(quota, quota_start, today, retention);
        let period = &mut self.period;
        let delta = quota::adjustment_for(target, period.allowance, period.used, period.adjustment);
        period.adjustment = period.adjustment.saturating_add(delta);
        let cell = self.cell(today);
        cell.usage.adjustment = cell.usage.adjustment.saturating_add(delta);
    }

    /// Every day with usage, in order.
    pub(super) fn days(&self) -> impl Iterator<Item = DayUsage> + '_ {
        let latest = (self.latest.usage.day != NO_DAY).then_some(&self.latest);
        self.history.iter().chain(latest).map(|cell| cell.usage)
    }

    /// Hands over the days changed since the last drain.
    pub(super) fn drain(&mut self, mut take: impl FnMut(DayUsage)) {
        self.dirty = false;
        for cell in self.history.iter_mut().chain([&mut self.latest]) {
            if cell.dirty {
                cell.dirty = false;
                take(cell.usage);
            }
        }
    }

    /// Replaces a day with persisted usage.
    pub(super) fn restore(&mut self, usage: DayUsage) {
        self.period.valid_for = None;
        *self.cell(usage.day) = DayCell {
            usage,
            dirty: false,
        };
    }

    /// The day's cell, created if needed and marked dirty. Almost always `latest`.
    fn cell(&mut self, day: Day) -> &mut DayCell {
        self.dirty = true;
        if day > self.latest.usage.day {
            let previous = std::mem::replace(&mut self.latest, DayCell::new(day));
            if previous.usage.day != NO_DAY {
                self.history.push(previous);
            }
        }
        let cell = if day == self.latest.usage.day {
            &mut self.latest
        } else {
            let found = self
                .history
                .binary_search_by_key(&day, |cell| cell.usage.day);
            let index = found.unwrap_or_else(|index| {
                self.history.insert(index, DayCell::new(day));
                index
            });
            &mut self.history[index]
        };
        cell.dirty = true;
        cell
    }
}

impl MethodBucket {
    fn is(&self, method: &MethodRef<'_>) -> bool {
        &*self.method_key == method.method_key
            && &*self.stage == method.stage
            && &*self.api_id == method.api_id
    }
}

impl DayCell {
    fn new(day: Day) -> DayCell {
        DayCell {
            usage: DayUsage {
                day,
                used: 0,
                adjustment: 0,
            },
            dirty: false,
        }
    }
}

/// Bytes of ids stored inline. AWS's usage plan and API key ids are 6 and 10 characters.
const INLINE: usize = 22;

/// A plan id and a key id, one after the other: inline when short, so that matching a
/// request reads no memory outside the entry; on the heap otherwise.
enum Ids {
    Inline {
        plan_len: u8,
        len: u8,
        bytes: [u8; INLINE],
    },
    Heap {
        plan_len: usize,
        both: Box<str>,
    },
}

impl Ids {
    fn new(plan_id: &str, key_id: &str) -> Ids {
        let len = plan_id.len() + key_id.len();
        if len > INLINE {
            return Ids::Heap {
                plan_len: plan_id.len(),
                both: format!("{plan_id}{key_id}").into(),
            };
        }
        let mut bytes = [0; INLINE];
        bytes[..plan_id.len()].copy_from_slice(plan_id.as_bytes());
        bytes[plan_id.len()..len].copy_from_slice(key_id.as_bytes());
        // Both lengths are at most INLINE, which fits in a u8.
        Ids::Inline {
            plan_len: plan_id.len() as u8,
            len: len as u8,
            bytes,
        }
    }

    fn parts(&self) -> (&[u8], &[u8]) {
        match self {
            Ids::Inline {
                plan_len,
                len,
                bytes,
            } => bytes[..usize::from(*len)].split_at(usize::from(*plan_len)),
            Ids::Heap { plan_len, both } => both.as_bytes().split_at(*plan_len),
        }
    }

    fn is(&self, plan_id: &str, key_id: &str) -> bool {
        let (plan, key) = self.parts();
        key == key_id.as_bytes() && plan == plan_id.as_bytes()
    }

    fn plan_id(&self) -> &str {
        // Both parts were copied whole from `&str`s, so they are UTF-8.
        std::str::from_utf8(self.parts().0).unwrap_or_default()
    }

    fn key_id(&self) -> &str {
        std::str::from_utf8(self.parts().1).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_inline_and_on_the_heap() {
        let long = "k".repeat(40);
        for (plan, key) in [
            ("p1", "key1"),
            ("", ""),
            ("plan", long.as_str()),
            ("é", "ü"),
        ] {
            let ids = Ids::new(plan, key);
            assert_eq!((ids.plan_id(), ids.key_id()), (plan, key));
            assert!(ids.is(plan, key));
            assert!(!ids.is(key, plan) || plan == key);
        }
        // The split matters, not only the concatenation.
        assert!(!Ids::new("ab", "c").is("a", "bc"));
        assert!(matches!(Ids::new("plan", &long), Ids::Heap { .. }));
    }

    #[test]
    fn days_stay_sorted_whatever_the_order() {
        let key = PlanKey {
            plan_id: "p",
            key_id: "k",
        };
        let mut state = KeyState::new(0, key);
        for day in [5, 3, 9, 4, 9, 1] {
            state.count(Day(day));
        }
        let days: Vec<_> = state.days().map(|d| (d.day.0, d.used)).collect();
        assert_eq!(days, [(1, 1), (3, 1), (4, 1), (5, 1), (9, 2)]);
        let mut drained = Vec::new();
        state.drain(|usage| drained.push(usage.day.0));
        assert_eq!(drained, [1, 3, 4, 5, 9]);
        state.drain(|usage| drained.push(usage.day.0));
        assert_eq!(drained.len(), 5);
    }
}
