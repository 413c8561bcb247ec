//! The parameters of an elbv2 (query protocol) request: `application/x-www-form-urlencoded`
//! pairs, with the protocol's conventions for lists (`Name.member.N`), lists of structures
//! (`Name.member.N.Field`) and nested structures (`Name.Field`).

use std::collections::BTreeMap;

use causeway_model::elb_api::ElbError;

/// The entries of a list by index, each with its fields (`""` for the entry's own value).
type Members = BTreeMap<u32, BTreeMap<String, String>>;

/// The decoded parameters of one request, by full name (`Subnets.member.1`, `Action`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    map: BTreeMap<String, String>,
}

impl Params {
    /// Decodes a query string and a form body (either may be empty). `+` is a space and
    /// `%XX` a byte, as in HTML forms; invalid UTF-8 becomes U+FFFD rather than an error. When
    /// a name repeats, the first value counts.
    pub fn parse(query: &[u8], body: &[u8]) -> Params {
        let mut map = BTreeMap::new();
        for (key, value) in form_urlencoded::parse(query).chain(form_urlencoded::parse(body)) {
            if key.is_empty() {
                continue;
            }
            map.entry(key.into_owned())
                .or_insert_with(|| value.into_owned());
        }
        Params { map }
    }

    /// Parameters from `(name, value)` pairs, for tests and nested views.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Params {
        Params {
            map: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map.get(name).map(String::as_str)
    }

    /// Whether no parameter was sent.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The list `name`: the values of `name.member.1`, `name.member.2`, ... in index order.
    /// `None` when the list was not sent at all; `Some(vec![])` when it was sent empty, which
    /// the SDKs spell `name=`.
    pub fn list(&self, name: &str) -> Result<Option<Vec<String>>, ElbError> {
        let Some(entries) = self.members(name)? else {
            return Ok(None);
        };
        let mut out = Vec::with_capacity(entries.len());
        for (index, fields) in entries {
            match fields.get("") {
                Some(value) => out.push(value.clone()),
                None => {
                    return Err(ElbError::validation(format!(
                        "Parameter '{name}.member.{index}' must be a single value"
                    )));
                }
            }
        }
        Ok(Some(out))
    }

    /// The list of structures `name`: for each `name.member.N`, the parameters under it with
    /// that prefix removed (`name.member.1.Key` becomes `Key`), in index order. `None` when
    /// the list was not sent.
    pub fn structs(&self, name: &str) -> Result<Option<Vec<Params>>, ElbError> {
        let Some(entries) = self.members(name)? else {
            return Ok(None);
        };
        let mut out = Vec::with_capacity(entries.len());
        for (index, mut fields) in entries {
            if fields.remove("").is_some() && fields.is_empty() {
                return Err(ElbError::validation(format!(
                    "Parameter '{name}.member.{index}' must be a structure with fields such as '{name}.member.{index}.Key'"
                )));
            }
            out.push(Params { map: fields });
        }
        Ok(Some(out))
    }

    /// The nested structure `name`: the parameters `name.Field...` with `name.` removed.
    /// `None` when none was sent.
    pub fn nested(&self, name: &str) -> Option<Params> {
        let prefix = format!("{name}.");
        let map: BTreeMap<String, String> = self
            .map
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, v)| (k[prefix.len()..].to_owned(), v.clone()))
            .collect();
        (!map.is_empty()).then_some(Params { map })
    }

    /// The entries of list `name` by index, each with its fields (`""` for the entry's own
    /// value). `None` when neither `name` nor any `name.…` was sent.
    fn members(&self, name: &str) -> Result<Option<Members>, ElbError> {
        let bare = self.map.get(name);
        let prefix = format!("{name}.");
        let mut entries = Members::new();
        let mut any = false;
        for (key, value) in self
            .map
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
        {
            any = true;
            let rest = &key[prefix.len()..];
            let Some(after) = rest.strip_prefix("member.") else {
                return Err(ElbError::validation(format!(
                    "Parameter '{key}' is not valid: list members are sent as '{name}.member.N'"
                )));
            };
            let (index, field) = after.split_once('.').unwrap_or((after, ""));
            let index = match index.parse::<u32>() {
                Ok(n) if n >= 1 => n,
                _ => {
                    return Err(ElbError::validation(format!(
                        "Parameter '{key}' is not valid: list indexes are numbers from 1"
                    )));
                }
            };
            entries
                .entry(index)
                .or_default()
                .insert(field.to_owned(), value.clone());
        }
        if !any {
            // `name=` alone is an empty list; an absent name is no list at all.
            return Ok(bare.map(|_| BTreeMap::new()));
        }
        Ok(Some(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Params {
        Params::parse(b"", body.as_bytes())
    }

    #[test]
    fn pairs_and_decoding() {
        let p = Params::parse(
            b"Action=DescribeLoadBalancers",
            b"Names.member.1=a+b%2Fc&Version=2015-12-01",
        );
        assert_eq!(p.get("Action"), Some("DescribeLoadBalancers"));
        assert_eq!(p.get("Version"), Some("2015-12-01"));
        assert_eq!(
            p.list("Names").ok().flatten(),
            Some(vec!["a b/c".to_owned()])
        );
        assert_eq!(parse("a=1&a=2").get("a"), Some("1"));
        assert_eq!(parse("%FF=x&k=%FF").get("k"), Some("\u{FFFD}"));
    }

    #[test]
    fn lists_in_index_order() {
        let p = parse("S.member.10=j&S.member.2=b&S.member.1=a");
        assert_eq!(
            p.list("S").ok().flatten(),
            Some(vec!["a".to_owned(), "b".to_owned(), "j".to_owned()])
        );
        assert_eq!(p.list("Other").ok().flatten(), None);
        assert_eq!(parse("S=").list("S").ok().flatten(), Some(vec![]));
        assert!(parse("S.member.x=1").list("S").is_err());
        assert!(parse("S.member.0=1").list("S").is_err());
        assert!(parse("S.item.1=1").list("S").is_err());
        assert!(parse("S.member.1.F=1").list("S").is_err());
        // A name that merely starts with the list's name is another parameter.
        assert_eq!(parse("SX.member.1=1").list("S").ok().flatten(), None);
    }

    #[test]
    fn struct_lists_and_nesting() {
        let p = parse(concat!(
            "DefaultActions.member.1.Type=forward",
            "&DefaultActions.member.1.ForwardConfig.TargetGroups.member.1.TargetGroupArn=arn1",
            "&DefaultActions.member.1.ForwardConfig.TargetGroups.member.1.Weight=3",
            "&Matcher.HttpCode=200",
        ));
        let actions = p
            .structs("DefaultActions")
            .ok()
            .flatten()
            .unwrap_or_default();
        assert_eq!(actions.len(), 1);
        assert_eq!(actions[0].get("Type"), Some("forward"));
        let config = actions[0].nested("ForwardConfig").unwrap_or_default();
        let groups = config
            .structs("TargetGroups")
            .ok()
            .flatten()
            .unwrap_or_default();
        assert_eq!(groups[0].get("TargetGroupArn"), Some("arn1"));
        assert_eq!(groups[0].get("Weight"), Some("3"));
        assert_eq!(
            p.nested("Matcher")
                .and_then(|m| m.get("HttpCode").map(str::to_owned)),
            Some("200".to_owned())
        );
        assert_eq!(p.nested("Nothing"), None);
        assert_eq!(parse("Tags=").structs("Tags").ok().flatten(), Some(vec![]));
        assert!(parse("Tags.member.1=x").structs("Tags").is_err());
    }
}
