//! Locations inside an OpenAPI document, so that every message can say where the problem is.

use std::fmt;

/// The way from the document root to one value, shown as `paths.'/pets'.get.responses.200`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Loc(Vec<Segment>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

impl Loc {
    /// The document root.
    pub fn root() -> Loc {
        Loc(Vec::new())
    }

    /// The member `key` of the object at `self`.
    pub fn key(&self, key: &str) -> Loc {
        let mut segments = self.0.clone();
        segments.push(Segment::Key(key.to_owned()));
        Loc(segments)
    }

    /// The item `index` of the array at `self`.
    pub fn index(&self, index: usize) -> Loc {
        let mut segments = self.0.clone();
        segments.push(Segment::Index(index));
        Loc(segments)
    }

    /// The location a local JSON pointer (`/components/schemas/Pet`, already decoded) names.
    pub fn from_pointer(pointer: &str) -> Loc {
        Loc(pointer
            .split('/')
            .skip(1)
            .map(|part| Segment::Key(crate::patch::unescape_segment(part)))
            .collect())
    }
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("the document root");
        }
        for (n, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Index(index) => write!(f, "[{index}]")?,
                Segment::Key(key) => {
                    if n > 0 {
                        f.write_str(".")?;
                    }
                    // Keys that hold separators (`/pets`, `application/json`, `1.0`) are quoted
                    // so that the location reads unambiguously.
                    let plain = !key.is_empty()
                        && key
                            .chars()
                            .all(|c| !matches!(c, '.' | '/' | '\'' | '[' | ']' | ' '));
                    if plain {
                        f.write_str(key)?;
                    } else {
                        write!(f, "'{key}'")?;
                    }
                }
            }
        }
        Ok(())
    }
}
