//! The execution log of a TestInvokeMethod call, in the shape of API Gateway's
//! (`Thu Nov 26 02:30:00 UTC 2026 : Starting execution for request: ...`).

use std::fmt::Display;
use std::sync::Mutex;
use std::time::SystemTime;

use http::HeaderMap;

/// Lines of an execution log. Only test invocations keep one; served requests pass `None`,
/// so the hot path pays a branch and nothing else.
#[derive(Debug, Default)]
pub struct ExecutionLog {
    text: Mutex<String>,
}

impl ExecutionLog {
    /// Adds a line, stamped with the current time.
    pub fn line(&self, text: impl Display) {
        let stamp = aws_date(SystemTime::now());
        if let Ok(mut log) = self.text.lock() {
            log.push_str(&format!("{stamp} : {text}\n"));
        }
    }

    /// The whole log.
    pub fn into_text(self) -> String {
        self.text.into_inner().unwrap_or_else(|p| p.into_inner())
    }
}

/// `Thu Nov 26 02:30:00 UTC 2026`, the date format of API Gateway's execution logs, from the
/// HTTP date (`Thu, 26 Nov 2026 02:30:00 GMT`) that `httpdate` writes.
pub fn aws_date(time: SystemTime) -> String {
    let http = httpdate::fmt_http_date(time);
    let parts: Vec<&str> = http.split([' ', ',']).filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        [weekday, day, month, year, clock, _zone] => {
            format!("{weekday} {month} {day} {clock} UTC {year}")
        }
        _ => http,
    }
}

/// `{a=1, b=2}`, the way the log prints maps.
pub fn braces<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let inner: Vec<String> = pairs
        .into_iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    format!("{{{}}}", inner.join(", "))
}

/// Headers as the log prints them.
pub fn header_braces(headers: &HeaderMap) -> String {
    braces(
        headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.to_str().unwrap_or("<binary>"))),
    )
}

/// A body as the log prints it: text, cut at 1 KB like API Gateway's logs.
pub fn body_text(body: &[u8]) -> String {
    const LIMIT: usize = 1024;
    let text = String::from_utf8_lossy(&body[..body.len().min(LIMIT)]).into_owned();
    if body.len() > LIMIT {
        format!("{text} [TRUNCATED]")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_like_api_gateway_logs() {
        let time = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_795_660_200);
        assert_eq!(aws_date(time), "Thu Nov 26 02:30:00 UTC 2026");
    }

    #[test]
    fn maps_and_bodies() {
        assert_eq!(braces([("id", "1"), ("x", "y")]), "{id=1, x=y}");
        assert_eq!(braces([]), "{}");
        assert_eq!(body_text(b"hello"), "hello");
        assert!(body_text(&[b'a'; 2000]).ends_with("[TRUNCATED]"));
    }
}
