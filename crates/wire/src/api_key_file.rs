//! The API key file that ImportApiKeys reads (`format=csv`).
//!
//! As AWS documents it: a header row names the columns, in any order and any case; `Name`
//! and `Key` are required, `Description`, `Enabled` and `UsagePlanIds` optional, other
//! columns ignored. A field may be quoted with `"` or `'` (a plan id list such as
//! `"c7y23b,glvrsr"` must be). `Enabled` defaults to true. `Value` is accepted for `Key`.

use causeway_model::ApiError;

/// One key of the file, with the line it came from (1 is the header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRow {
    pub line: usize,
    pub name: String,
    pub key: String,
    pub description: Option<String>,
    pub enabled: bool,
    pub usage_plan_ids: Vec<String>,
}

/// The rows that could be read, and a warning for each that could not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyFile {
    pub rows: Vec<KeyRow>,
    pub warnings: Vec<String>,
}

/// Reads an API key file. A file without a usable header row is an error; a row with a bad
/// `Enabled` value becomes a warning and is skipped.
pub fn parse(text: &str) -> Result<KeyFile, ApiError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = records(text).into_iter();
    let Some((_, header)) = records.next() else {
        return Err(missing_columns(&[]));
    };
    let column = |names: &[&str]| {
        header
            .iter()
            .position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
    };
    let (Some(name_at), Some(key_at)) = (column(&["name"]), column(&["key", "value"])) else {
        return Err(missing_columns(&header));
    };
    let description_at = column(&["description"]);
    let enabled_at = column(&["enabled"]);
    let plans_at = column(&["usageplanids"]);

    let mut file = KeyFile::default();
    for (line, fields) in records {
        if fields.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let field = |at: Option<usize>| {
            at.and_then(|i| fields.get(i))
                .map(|f| f.trim().to_owned())
                .unwrap_or_default()
        };
        let enabled = match field(enabled_at).to_ascii_lowercase().as_str() {
            "" | "true" => true,
            "false" => false,
            other => {
                file.warnings.push(format!(
                    "Line {line}: invalid Enabled value '{other}', use true or false; the key was not imported"
                ));
                continue;
            }
        };
        let description = Some(field(description_at)).filter(|d| !d.is_empty());
        file.rows.push(KeyRow {
            line,
            name: field(Some(name_at)),
            key: field(Some(key_at)),
            description,
            enabled,
            usage_plan_ids: field(plans_at)
                .split(',')
                .map(str::trim)
                .filter(|id| !id.is_empty())
                .map(str::to_owned)
                .collect(),
        });
    }
    Ok(file)
}

fn missing_columns(header: &[String]) -> ApiError {
    ApiError::bad_request(format!(
        "Invalid API key file: the first row must name the columns, including Name and Key (found [{}])",
        header.join(", ")
    ))
}

/// Splits CSV text into records of fields, each with its line number. Quotes (`"` or `'`,
/// doubled to escape) may enclose commas and line breaks.
fn records(text: &str) -> Vec<(usize, Vec<String>)> {
    let mut out = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quote: Option<char> = None;
    let mut line = 1;
    let mut start_line = 1;
    let mut at_field_start = true;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            if c == q {
                if chars.peek() == Some(&q) {
                    field.push(q);
                    chars.next();
                } else {
                    quote = None;
                }
            } else {
                if c == '\n' {
                    line += 1;
                }
                field.push(c);
            }
            continue;
        }
        match c {
            '"' | '\'' if at_field_start => {
                quote = Some(c);
                at_field_start = false;
            }
            ',' => {
                fields.push(std::mem::take(&mut field));
                at_field_start = true;
            }
            '\r' => {}
            '\n' => {
                fields.push(std::mem::take(&mut field));
                out.push((start_line, std::mem::take(&mut fields)));
                line += 1;
                start_line = line;
                at_field_start = true;
            }
            ' ' | '\t' if at_field_start => field.push(c),
            _ => {
                field.push(c);
                at_field_start = false;
            }
        }
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        out.push((start_line, fields));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_examples() {
        let file = parse("Key,name\napikey1234abcdefghij0123456789,MyFirstApiKey\n")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            file.rows,
            vec![KeyRow {
                line: 2,
                name: "MyFirstApiKey".into(),
                key: "apikey1234abcdefghij0123456789".into(),
                description: None,
                enabled: true,
                usage_plan_ids: vec![],
            }]
        );
        let file = parse(
            "Name,key,description,Enabled,usageplanIds\r\nMyFirstApiKey,apikey1234abcdefghij0123456789,An imported key,TRUE,c7y23b\r\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(file.rows[0].description.as_deref(), Some("An imported key"));
        assert_eq!(file.rows[0].usage_plan_ids, vec!["c7y23b".to_owned()]);
        let file = parse(
            "Enabled,Name,key,UsageplanIds,Extra\nfalse,MyFirstApiKey,apikey1234abcdefghij0123456789,\"c7y23b,glvrsr\",x\ntrue,Second,'quoted,key ''x''',' a , b '\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(!file.rows[0].enabled);
        assert_eq!(file.rows[0].usage_plan_ids, vec!["c7y23b", "glvrsr"]);
        assert_eq!(file.rows[1].key, "quoted,key 'x'");
        assert_eq!(file.rows[1].usage_plan_ids, vec!["a", "b"]);
        assert_eq!(file.rows[1].line, 3);
    }

    #[test]
    fn bad_rows_warn_and_bad_headers_fail() {
        let file =
            parse("name,key,enabled\na,k1,maybe\n\nb,k2,\n").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(file.rows.len(), 1);
        assert_eq!(file.rows[0].name, "b");
        assert_eq!(file.warnings.len(), 1);
        assert!(
            file.warnings[0].starts_with("Line 2:"),
            "{:?}",
            file.warnings
        );
        assert!(parse("").is_err());
        assert!(parse("name,description\na,b\n").is_err());
        let value_alias =
            parse("Name,Value\nn,vvvvvvvvvvvvvvvvvvvvvvvv").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(value_alias.rows[0].key, "vvvvvvvvvvvvvvvvvvvvvvvv");
    }
}
