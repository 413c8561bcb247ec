//! UTC calendar days and the quota periods (day, week, month) they fall in.
//!
//! The civil-date conversions are Howard Hinnant's `days_from_civil` / `civil_from_days`
//! written out by hand rather than taken from `time` or `chrono`: the crate needs four
//! conversions on whole UTC days and nothing about time zones or clocks, and the two short
//! algorithms are exhaustively testable here.

use std::fmt;

use crate::LimitsError;

/// A UTC calendar day, counted from 1970-01-01 (day 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub i32);

const SECONDS_PER_DAY: i64 = 86_400;

/// Days from 0000-03-01 to 1970-01-01 in the proleptic Gregorian calendar.
const EPOCH_SHIFT: i64 = 719_468;
const DAYS_PER_ERA: i64 = 146_097;

impl Day {
    /// The UTC day containing `secs` seconds after the Unix epoch (clamped to `Day`'s range).
    pub fn from_unix_seconds(secs: i64) -> Day {
        let day = secs.div_euclid(SECONDS_PER_DAY);
        Day(day.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32)
    }

    /// The day `year-month-day`, or `None` if that date does not exist or is out of range.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Day> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        i32::try_from(days_from_civil(i64::from(year), month, day))
            .ok()
            .map(Day)
    }

    /// Parses `yyyy-mm-dd`, the date format of GetUsage's `startDate` and `endDate`.
    pub fn parse(text: &str) -> Result<Day, LimitsError> {
        let invalid = || LimitsError::InvalidDate(text.to_owned());
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return Err(invalid());
        }
        let number = |range: std::ops::Range<usize>| -> Option<u32> {
            let part = &text[range];
            part.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| part.parse().ok())
                .flatten()
        };
        let (Some(year), Some(month), Some(day)) = (number(0..4), number(5..7), number(8..10))
        else {
            return Err(invalid());
        };
        // A four-digit year always fits in i32.
        Day::from_ymd(year as i32, month, day).ok_or_else(invalid)
    }

    /// The `(year, month, day)` of this day.
    pub fn ymd(self) -> (i32, u32, u32) {
        let (year, month, day) = civil_from_days(i64::from(self.0));
        // `Day` spans about ±5.8 million years, so the year always fits.
        (year as i32, month, day)
    }

    /// The following day (saturating at the end of the range).
    pub fn next(self) -> Day {
        Day(self.0.saturating_add(1))
    }

    /// The day of the week, 0 for Sunday through 6 for Saturday.
    pub fn weekday(self) -> u32 {
        // 1970-01-01 was a Thursday (4).
        (i64::from(self.0) + 4).rem_euclid(7) as u32
    }
}

impl fmt::Display for Day {
    /// Formats as `yyyy-mm-dd`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = self.ymd();
        write!(f, "{year:04}-{month:02}-{day:02}")
    }
}

/// The time period of a usage-plan quota (`QuotaSettings.period`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Period {
    /// A UTC calendar day.
    Day,
    /// A week starting on Sunday, 00:00 UTC.
    Week,
    /// A calendar month starting on the 1st, 00:00 UTC.
    Month,
}

impl Period {
    /// The first day of the period that contains `day`.
    ///
    /// Weeks start on Sunday: the older API reference described `offset` as "the day that a
    /// time period starts … with a time period of WEEK, an offset of 0 starts on Sunday", and
    /// weekly quotas are reported to reset "every Sunday at 00:00:00". Months start on the
    /// 1st ("Monthly quotas only reset on the 1st of every month", AWS re:Post).
    pub fn start(self, day: Day) -> Day {
        match self {
            Period::Day => day,
            // `weekday` is below 7, so this cannot leave the range except at its very start.
            Period::Week => Day(day.0.saturating_sub(day.weekday() as i32)),
            Period::Month => {
                let (_, _, dom) = day.ymd();
                Day(day.0 - (dom as i32 - 1))
            }
        }
    }
}

fn is_leap(year: i32) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a valid civil date. Years are shifted to start in March so that
/// the leap day is the last day of the (shifted) year.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let shifted_month = i64::from((month + 9) % 12);
    let day_of_year = (153 * shifted_month + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * DAYS_PER_ERA + day_of_era - EPOCH_SHIFT
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + EPOCH_SHIFT;
    let era = days.div_euclid(DAYS_PER_ERA);
    let day_of_era = days - era * DAYS_PER_ERA;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u32;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    } as u32;
    let year = year_of_era + era * 400;
    (if month <= 2 { year + 1 } else { year }, month, day)
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "a test fails loudly on the unexpected")]
mod tests {
    use super::*;

    fn day(text: &str) -> Day {
        Day::parse(text).unwrap()
    }

    #[test]
    fn known_dates() {
        assert_eq!(day("1970-01-01"), Day(0));
        assert_eq!(day("2000-01-01"), Day(10_957));
        assert_eq!(day("2000-02-29"), Day(11_016));
        assert_eq!(day("1969-12-31"), Day(-1));
        assert_eq!(Day(19_782).to_string(), "2024-02-29");
        assert_eq!(Day::from_unix_seconds(-1), Day(-1));
        assert_eq!(Day::from_unix_seconds(86_399), Day(0));
        assert_eq!(Day::from_unix_seconds(86_400), Day(1));
    }

    #[test]
    fn civil_round_trip_over_four_eras() {
        // Every day from year -400 to 2800, and each one is the successor of the one before.
        let first = Day::from_ymd(-400, 1, 1).unwrap();
        let last = Day::from_ymd(2800, 12, 31).unwrap();
        let mut previous = (-401, 12, 31);
        for n in first.0..=last.0 {
            let (y, m, d) = Day(n).ymd();
            assert_eq!(Day::from_ymd(y, m, d), Some(Day(n)));
            let (py, pm, pd) = previous;
            let successor = if pd < days_in_month(py, pm) {
                (py, pm, pd + 1)
            } else if pm < 12 {
                (py, pm + 1, 1)
            } else {
                (py + 1, 1, 1)
            };
            assert_eq!((y, m, d), successor, "day {n}");
            previous = (y, m, d);
        }
    }

    #[test]
    fn invalid_dates() {
        for text in [
            "2023-02-29",
            "1900-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-01-32",
        ] {
            assert!(Day::parse(text).is_err(), "{text}");
        }
        for text in ["2024-1-01", "2024/01/01", "+024-01-01", "2024-01-01T", ""] {
            assert!(Day::parse(text).is_err(), "{text}");
        }
        assert_eq!(day("2000-02-29").ymd(), (2000, 2, 29));
    }

    #[test]
    fn weeks_start_on_sunday() {
        assert_eq!(day("1970-01-01").weekday(), 4);
        assert_eq!(day("2024-01-07").weekday(), 0);
        // Saturday 2024-01-13 belongs to the week of Sunday 2024-01-07; Sunday starts anew.
        assert_eq!(Period::Week.start(day("2024-01-13")), day("2024-01-07"));
        assert_eq!(Period::Week.start(day("2024-01-14")), day("2024-01-14"));
        // A week spanning the new year.
        assert_eq!(Period::Week.start(day("2025-01-02")), day("2024-12-29"));
        assert_eq!(Period::Week.start(day("1969-12-31")), day("1969-12-28"));
    }

    #[test]
    fn months_start_on_the_first() {
        let check = |d: &str, start: &str| assert_eq!(Period::Month.start(day(d)), day(start));
        check("2024-02-29", "2024-02-01");
        check("2024-03-01", "2024-03-01");
        check("2023-12-31", "2023-12-01");
        check("2024-01-01", "2024-01-01");
        check("2100-02-28", "2100-02-01");
        assert_eq!(Period::Day.start(day("2024-02-29")), day("2024-02-29"));
    }
}
