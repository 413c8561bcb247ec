//! A small XML writer for elbv2 answers, and the ISO-8601 timestamps they carry.
//!
//! The answers only ever nest elements and text: no attributes besides the root's namespace,
//! no mixed content, nothing to parse. Escaping text is then the whole job of an XML library,
//! so a few lines here do it instead of a dependency: the five markup characters become
//! entities, `\r` a character reference (so parsers do not fold it into `\n`), and characters
//! XML 1.0 cannot carry at all (other C0 controls, U+FFFE/U+FFFF) become U+FFFD.

use std::fmt::Write;

/// Writes elements into a string. Element names are trusted constants; text is escaped.
#[derive(Debug, Default)]
pub struct Xml {
    out: String,
}

impl Xml {
    /// An empty document.
    pub fn new() -> Xml {
        Xml::default()
    }

    /// The text written so far.
    pub fn into_string(self) -> String {
        self.out
    }

    /// `<tag>`.
    pub fn open(&mut self, tag: &str) {
        self.out.push('<');
        self.out.push_str(tag);
        self.out.push('>');
    }

    /// `<tag xmlns="namespace">`.
    pub fn open_with_namespace(&mut self, tag: &str, namespace: &str) {
        self.out.push('<');
        self.out.push_str(tag);
        self.out.push_str(" xmlns=\"");
        escape_into(&mut self.out, namespace);
        self.out.push_str("\">");
    }

    /// `</tag>`.
    pub fn close(&mut self, tag: &str) {
        self.out.push_str("</");
        self.out.push_str(tag);
        self.out.push('>');
    }

    /// `<tag>text</tag>`.
    pub fn text(&mut self, tag: &str, text: &str) {
        self.open(tag);
        escape_into(&mut self.out, text);
        self.close(tag);
    }

    /// `<tag>text</tag>` when there is a text, nothing otherwise.
    pub fn opt_text(&mut self, tag: &str, text: Option<&str>) {
        if let Some(text) = text {
            self.text(tag, text);
        }
    }

    /// `<tag>n</tag>` for a number or boolean.
    pub fn value(&mut self, tag: &str, value: impl std::fmt::Display) {
        self.open(tag);
        // Writing into a String cannot fail.
        let _ = write!(self.out, "{value}");
        self.close(tag);
    }

    /// `<tag>…</tag>` with the children `body` writes.
    pub fn element(&mut self, tag: &str, body: impl FnOnce(&mut Xml)) {
        self.open(tag);
        body(self);
        self.close(tag);
    }

    /// `<tag><member>…</member>…</tag>`: a list, each item written by `item`. An empty list is
    /// written as `<tag></tag>`, which every client reads as `[]`.
    pub fn list<T>(
        &mut self,
        tag: &str,
        items: impl IntoIterator<Item = T>,
        mut item: impl FnMut(&mut Xml, T),
    ) {
        self.open(tag);
        for value in items {
            self.open("member");
            item(self, value);
            self.close("member");
        }
        self.close(tag);
    }

    /// `<tag><member>text</member>…</tag>`: a list of strings.
    pub fn string_list<'a>(&mut self, tag: &str, items: impl IntoIterator<Item = &'a str>) {
        self.list(tag, items, |x, s| escape_into(&mut x.out, s));
    }
}

/// Appends `text` to `out` with XML's special characters escaped.
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#xD;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// `text` with XML's special characters escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(&mut out, text);
    out
}

/// Epoch milliseconds as ISO-8601 UTC with milliseconds: `2016-03-25T21:26:12.920Z`.
///
/// The date comes from Howard Hinnant's `civil_from_days` algorithm, exact for the whole
/// proleptic Gregorian calendar, so no date crate is needed for one format.
pub fn timestamp(epoch_millis: i64) -> String {
    let millis = epoch_millis.rem_euclid(1000);
    let seconds = epoch_millis.div_euclid(1000);
    let days = seconds.div_euclid(86_400);
    let in_day = seconds.rem_euclid(86_400);
    let (hour, minute, second) = (in_day / 3600, in_day % 3600 / 60, in_day % 60);

    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{millis:03}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            escape("a<b>&\"c\"'d'"),
            "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;"
        );
        assert_eq!(escape("line\r\nnext\ttab"), "line&#xD;\nnext\ttab");
        assert_eq!(escape("bell\u{7}\u{0}"), "bell\u{FFFD}\u{FFFD}");
        assert_eq!(escape("naïve ☃"), "naïve ☃");
    }

    #[test]
    fn timestamps() {
        assert_eq!(timestamp(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(timestamp(1_458_941_172_920), "2016-03-25T21:26:12.920Z");
        assert_eq!(timestamp(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(timestamp(4_102_444_799_999), "2099-12-31T23:59:59.999Z");
        assert_eq!(timestamp(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn lists_and_elements() {
        let mut x = Xml::new();
        x.element("A", |x| {
            x.string_list("L", ["1", "<2>"]);
            x.list("E", Vec::<&str>::new(), |_, _| {});
            x.value("N", 5);
            x.opt_text("O", None);
        });
        assert_eq!(
            x.into_string(),
            "<A><L><member>1</member><member>&lt;2&gt;</member></L><E></E><N>5</N></A>"
        );
    }
}
