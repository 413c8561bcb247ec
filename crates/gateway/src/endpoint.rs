//! Where the gateway calls services of its own (Lambda functions, user pools' keys): an
//! `http[s]://host[:port][/path]` URL, checked once when the server starts.

/// An `http[s]://host[:port][/path]` URL split for the upstream client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    pub https: bool,
    pub authority: String,
    /// Starts with `/`, or is empty.
    pub path: String,
}

impl HttpUrl {
    pub fn parse(url: &str) -> Result<HttpUrl, String> {
        let (https, rest) = if let Some(rest) = url.strip_prefix("http://") {
            (false, rest)
        } else if let Some(rest) = url.strip_prefix("https://") {
            (true, rest)
        } else {
            return Err(format!("'{url}' is not an http:// or https:// URL"));
        };
        let (authority, path) = match rest.find('/') {
            Some(at) => rest.split_at(at),
            None => (rest, ""),
        };
        if authority.is_empty() || authority.parse::<http::uri::Authority>().is_err() {
            return Err(format!("'{url}' has no valid host"));
        }
        if path.contains(['?', '#']) {
            return Err(format!("'{url}' has a query or fragment"));
        }
        Ok(HttpUrl {
            https,
            authority: authority.to_owned(),
            path: path.trim_end_matches('/').to_owned(),
        })
    }

    pub fn to_text(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}{}", self.authority, self.path)
    }
}
