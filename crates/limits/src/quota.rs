//! Quota arithmetic: the allowance of each period, what remains of it, and the daily
//! `[used, remaining]` report of GetUsage.
//!
//! Usage is kept per API key and UTC day as a [`DayUsage`]: the requests counted that day and
//! the `adjustment` that UpdateUsage made that day. What remains at the end of a day is the
//! allowance of its period plus the adjustments, minus the requests, of that period's days
//! up to and including it.

use crate::bucket::ThrottleConfig;
use crate::calendar::{Day, Period};

/// Quota settings of a usage plan (`QuotaSettings`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct QuotaConfig {
    /// Requests allowed per period.
    pub limit: u64,
    /// "The number of requests subtracted from the given limit in the initial time period"
    /// (API reference); see [`PlanLimits::quota_start`] for which period that is.
    pub offset: u64,
    /// The period the limit applies to.
    pub period: Period,
}

impl QuotaConfig {
    /// The requests allowed in the period that starts on `period_start`, before adjustments.
    pub fn allowance(&self, period_start: Day, quota_start: Day) -> u64 {
        if period_start == self.period.start(quota_start) {
            self.limit.saturating_sub(self.offset)
        } else {
            self.limit
        }
    }
}

/// The limits of a usage plan that apply to each of its API keys.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlanLimits {
    /// The plan's overall throttle (`throttle`), per key across all its stages; `None` when
    /// the plan sets none.
    pub throttle: Option<ThrottleConfig>,
    /// The plan's quota, per key across all its stages; `None` when the plan sets none.
    pub quota: Option<QuotaConfig>,
    /// The UTC day the quota took effect (the plan's creation, as the caller records it). The
    /// offset reduces the limit of the period containing this day only: CloudFormation's
    /// description is "when you first implement a usage plan, the plan might start in the
    /// middle of the week or month. With this property, you can decrease the limit for this
    /// initial time period".
    pub quota_start: Day,
}

/// Requests counted on one UTC day for one API key of one plan: the unit of persistence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DayUsage {
    /// The UTC day.
    pub day: Day,
    /// Requests that passed every check that day.
    pub used: u64,
    /// Net change to the remaining quota made that day by UpdateUsage (positive grants).
    pub adjustment: i64,
}

/// One day of a GetUsage report: `[used, remaining]` on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UsageDay {
    /// The UTC day.
    pub day: Day,
    /// Requests counted that day.
    pub used: u64,
    /// What remained of the quota at the end of that day (now, for today); `None` when the
    /// plan has no quota.
    pub remaining: Option<u64>,
}

/// What remains of an allowance, never below zero.
pub fn remaining(allowance: u64, used: u64, adjustment: i64) -> u64 {
    let left = i128::from(allowance) + i128::from(adjustment) - i128::from(used);
    u64::try_from(left.max(0)).unwrap_or(u64::MAX)
}

/// The adjustment that makes `remaining` exactly `target`, given the period's allowance,
/// requests and adjustments so far (UpdateUsage's `replace /remaining`).
pub fn adjustment_for(target: u64, allowance: u64, used: u64, adjustment: i64) -> i64 {
    let left = i128::from(allowance) + i128::from(adjustment) - i128::from(used);
    let delta = i128::from(target) - left;
    i64::try_from(delta).unwrap_or(if delta < 0 { i64::MIN } else { i64::MAX })
}

/// The GetUsage report for the days `from..=to`, from one key's usage `days` (sorted by day,
/// at most one entry a day). Days without an entry had no request; days after the last entry
/// report what would remain if no further request came.
pub fn daily_usage(limits: &PlanLimits, days: &[DayUsage], from: Day, to: Day) -> Vec<UsageDay> {
    let span = usize::try_from(i64::from(to.0) - i64::from(from.0) + 1).unwrap_or(0);
    let mut report = Vec::with_capacity(span);
    let mut next = 0;
    let mut period: Option<Day> = None;
    let (mut used, mut adjustment) = (0_u64, 0_i64);
    let mut day = from;
    while day <= to {
        let start = limits.quota.map_or(day, |q| q.period.start(day));
        if period != Some(start) {
            // Entries consumed so far are all before `day`'s period, or there are none yet.
            period = Some(start);
            (used, adjustment) = (0, 0);
        }
        let mut used_today = 0;
        while let Some(entry) = days.get(next).filter(|entry| entry.day <= day) {
            if entry.day >= start {
                used = used.saturating_add(entry.used);
                adjustment = adjustment.saturating_add(entry.adjustment);
            }
            if entry.day == day {
                used_today = entry.used;
            }
            next += 1;
        }
        let remaining = limits
            .quota
            .map(|quota| remaining(quota.allowance(start, limits.quota_start), used, adjustment));
        report.push(UsageDay {
            day,
            used: used_today,
            remaining,
        });
        if day.0 == i32::MAX {
            break;
        }
        day = day.next();
    }
    report
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "a test fails loudly on the unexpected")]
mod tests {
    use super::*;

    fn day(text: &str) -> Day {
        Day::parse(text).unwrap()
    }

    fn limits(limit: u64, offset: u64, period: Period, quota_start: &str) -> PlanLimits {
        PlanLimits {
            throttle: None,
            quota: Some(QuotaConfig {
                limit,
                offset,
                period,
            }),
            quota_start: day(quota_start),
        }
    }

    fn usage(text: &str, used: u64, adjustment: i64) -> DayUsage {
        DayUsage {
            day: day(text),
            used,
            adjustment,
        }
    }

    /// The report as `[used, remaining]` pairs, like the GetUsage body.
    fn report(limits: &PlanLimits, days: &[DayUsage], from: &str, to: &str) -> Vec<[u64; 2]> {
        daily_usage(limits, days, day(from), day(to))
            .iter()
            .map(|d| [d.used, d.remaining.unwrap_or(u64::MAX)])
            .collect()
    }

    #[test]
    fn offset_applies_to_the_first_period_only() {
        let q = limits(100, 30, Period::Month, "2024-01-17").quota.unwrap();
        assert_eq!(q.allowance(day("2024-01-01"), day("2024-01-17")), 70);
        assert_eq!(q.allowance(day("2024-02-01"), day("2024-01-17")), 100);
        assert_eq!(q.allowance(day("2023-12-01"), day("2024-01-17")), 100);
        // An offset above the limit leaves nothing rather than wrapping.
        let q = QuotaConfig { offset: 500, ..q };
        assert_eq!(q.allowance(day("2024-01-01"), day("2024-01-17")), 0);
    }

    #[test]
    fn daily_report_resets_at_each_period() {
        let plan = limits(10, 0, Period::Day, "2024-01-01");
        let days = [usage("2024-02-28", 4, 0), usage("2024-02-29", 10, 0)];
        assert_eq!(
            report(&plan, &days, "2024-02-28", "2024-03-01"),
            [[4, 6], [10, 0], [0, 10]]
        );
        // Weekly, Sunday to Saturday: Saturday 2024-01-13 ends a week, Sunday starts one.
        let plan = limits(10, 0, Period::Week, "2023-01-01");
        let days = [usage("2024-01-12", 3, 0), usage("2024-01-13", 2, 0)];
        assert_eq!(
            report(&plan, &days, "2024-01-12", "2024-01-15"),
            [[3, 7], [2, 5], [0, 10], [0, 10]]
        );
    }

    #[test]
    fn daily_report_counts_days_before_the_range() {
        // Monthly quota; the range starts mid-month, after usage on the 1st and 10th.
        let plan = limits(100, 20, Period::Month, "2023-12-15");
        let days = [
            usage("2023-12-20", 5, 0),
            usage("2024-01-01", 10, 0),
            usage("2024-01-10", 5, 0),
            usage("2024-01-31", 1, 0),
            usage("2024-02-01", 7, 0),
        ];
        assert_eq!(
            report(&plan, &days, "2024-01-30", "2024-02-02"),
            [[0, 85], [1, 84], [7, 93], [0, 93]]
        );
        // December was the first period: its allowance is 100 - 20.
        assert_eq!(report(&plan, &days, "2023-12-31", "2023-12-31"), [[0, 75]]);
    }

    #[test]
    fn adjustments_show_from_the_day_they_were_made() {
        // AWS's own example: the remaining quota reduced from 5000 to 10 on the third day.
        let plan = limits(5_000, 0, Period::Month, "2016-01-01");
        let days = [usage("2016-08-03", 0, -4_990)];
        assert_eq!(
            report(&plan, &days, "2016-08-01", "2016-08-03"),
            [[0, 5_000], [0, 5_000], [0, 10]]
        );
        assert_eq!(adjustment_for(10, 5_000, 0, 0), -4_990);
        assert_eq!(adjustment_for(50, 100, 100, 0), 50);
        assert_eq!(remaining(100, 100, 50), 50);
        assert_eq!(remaining(100, 120, 0), 0);
    }

    #[test]
    fn without_quota_only_usage_is_reported() {
        let plan = PlanLimits {
            throttle: None,
            quota: None,
            quota_start: Day(0),
        };
        let days = [usage("2024-05-02", 3, 0)];
        let got = daily_usage(&plan, &days, day("2024-05-01"), day("2024-05-02"));
        assert_eq!(got[0].used, 0);
        assert_eq!(got[1].used, 3);
        assert!(got.iter().all(|d| d.remaining.is_none()));
        assert!(daily_usage(&plan, &days, day("2024-05-02"), day("2024-05-01")).is_empty());
    }
}
