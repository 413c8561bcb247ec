//! SigV4's time format, `YYYYMMDD'T'HHMMSS'Z'` (ISO 8601 basic, UTC), to and from seconds
//! since the Unix epoch.

use ::time::format_description::{self, BorrowedFormatItem};
use ::time::{OffsetDateTime, PrimitiveDateTime};

fn basic_format() -> Option<Vec<BorrowedFormatItem<'static>>> {
    format_description::parse_borrowed::<2>("[year][month][day]T[hour][minute][second]Z").ok()
}

/// Seconds since the epoch of a basic-format time, or `None` when it is not one.
pub(crate) fn parse_basic(text: &str) -> Option<i64> {
    // Exactly the 16 characters of the form: no sign, no wider year.
    if text.len() != 16 || !text.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let parsed = PrimitiveDateTime::parse(text, &basic_format()?).ok()?;
    Some(parsed.assume_utc().unix_timestamp())
}

/// The basic-format text of an HTTP date (`Mon, 09 Sep 2011 23:36:00 GMT`, RFC 9110's
/// IMF-fixdate), for a request that sends `Date` instead of `X-Amz-Date`.
pub(crate) fn basic_from_http_date(text: &str) -> Option<String> {
    let format = format_description::parse_borrowed::<2>(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT",
    )
    .ok()?;
    let parsed = PrimitiveDateTime::parse(text.trim(), &format).ok()?;
    Some(format_basic(parsed.assume_utc().unix_timestamp()))
}

/// The basic-format text of a time in seconds since the epoch.
pub(crate) fn format_basic(seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .zip(basic_format())
        .and_then(|(at, format)| at.format(&format).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_become_basic_times() {
        assert_eq!(
            basic_from_http_date("Mon, 09 Sep 2011 23:36:00 GMT").as_deref(),
            Some("20110909T233600Z")
        );
        assert_eq!(
            basic_from_http_date("Mon, 09 Sep 2011 23:36:00 +0000"),
            None
        );
        assert_eq!(basic_from_http_date("20110909T233600Z"), None);
    }

    #[test]
    fn round_trips() {
        assert_eq!(parse_basic("19700101T000000Z"), Some(0));
        assert_eq!(parse_basic("20150830T123600Z"), Some(1_440_938_160));
        assert_eq!(format_basic(1_440_938_160), "20150830T123600Z");
        assert_eq!(
            parse_basic("20240229T235959Z").map(format_basic).as_deref(),
            Some("20240229T235959Z")
        );
        for bad in [
            "",
            "20150830T123600",
            "20150830 123600Z",
            "20150230T000000Z",
            "2015083aT123600Z",
            "20151301T000000Z",
            "20150830T246000Z",
        ] {
            assert_eq!(parse_basic(bad), None, "{bad}");
        }
    }
}
