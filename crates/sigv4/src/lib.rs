//! SigV4, checked on the receiving side: the signatures the aws CLI, boto3 and the AWS SDKs
//! put on requests, verified against credentials the server knows.
//!
//! Pure: [`parse`] reads a request's signature (its `Authorization` header, or a presigned
//! URL's query), [`verify`] rebuilds the canonical request and the string to sign as the
//! SDKs build them for every service but S3, and compares the signatures in constant time.
//! The caller passes the time; nothing here reads a clock, a file or a socket.
//!
//! Written here rather than taken from a crate: the AWS SDK's `aws-sigv4` only signs, and the
//! crates that verify take an `http::Request` inside a tower service, while the gateway reads
//! requests through a view of its own (and the tests check this code against `aws-sigv4`).

mod canonical;
mod keyring;
mod time;

use std::borrow::Cow;

use percent_encoding::percent_decode_str;
use ring::hmac;

pub use canonical::payload_hash;
pub use keyring::{Credentials, Identity, Keyring, KeyringError};

/// The only algorithm SigV4 names.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// How far a request's time may be from the server's, either way, in seconds (API Gateway
/// and Elastic Load Balancing: 5 minutes).
pub const MAX_SKEW_SECONDS: i64 = 5 * 60;

/// The longest a presigned URL may be valid, in seconds (AWS: 7 days).
pub const MAX_EXPIRES_SECONDS: i64 = 7 * 24 * 60 * 60;

/// A received request, as far as its signature covers it.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The method, as sent.
    pub method: &'a str,
    /// The path, as sent (still percent-encoded).
    pub path: &'a str,
    /// The query string, as sent, without its `?` (empty when there is none).
    pub query: &'a str,
    /// Every header line, names in any case, in the order received.
    pub headers: Vec<(&'a str, &'a [u8])>,
}

impl<'a> Request<'a> {
    /// The values of a header, in the order received.
    fn header_values<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'a [u8]> + 's {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }

    fn header(&self, name: &str) -> Option<&'a str> {
        self.header_values(name)
            .next()
            .and_then(|v| std::str::from_utf8(v).ok())
    }
}

/// Why a request's signature is refused, each with AWS's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Neither an `Authorization` header nor a presigned query.
    #[error("Missing Authentication Token")]
    Missing,
    /// A signature whose parts are missing or malformed.
    #[error("{0}")]
    Incomplete(String),
    /// The access key (or its session token) is not one the server knows.
    #[error("The security token included in the request is invalid.")]
    UnknownKey,
    /// The signature is not the one the server computes.
    #[error(
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
    )]
    Mismatch {
        /// What the server signed, for the caller to compare with its own.
        canonical_request: String,
        /// The string the server signed.
        string_to_sign: String,
    },
    /// The request's time is too far in the past (or a presigned URL has expired).
    #[error("{0}")]
    Expired(String),
    /// The request's time is too far in the future.
    #[error("{0}")]
    NotYetCurrent(String),
    /// The credential scope names another region, service or day, or another terminator;
    /// or the host is not signed.
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// The `x-amzn-ErrorType` (rest-json) of the error.
    pub fn error_type(&self) -> &'static str {
        match self {
            Error::Missing => "MissingAuthenticationTokenException",
            Error::Incomplete(_) => "IncompleteSignatureException",
            Error::UnknownKey => "UnrecognizedClientException",
            Error::Mismatch { .. }
            | Error::Expired(_)
            | Error::NotYetCurrent(_)
            | Error::Invalid(_) => "InvalidSignatureException",
        }
    }

    /// The `<Code>` of the error in the query protocol (elbv2).
    pub fn query_code(&self) -> &'static str {
        match self {
            Error::Missing => "MissingAuthenticationToken",
            Error::Incomplete(_) => "IncompleteSignature",
            Error::UnknownKey => "InvalidClientTokenId",
            Error::Expired(_) | Error::NotYetCurrent(_) => "SignatureDoesNotMatch",
            Error::Mismatch { .. } | Error::Invalid(_) => "SignatureDoesNotMatch",
        }
    }

    /// The HTTP status of the error in the query protocol (rest-json APIs answer 403 for
    /// all of them).
    pub fn query_status(&self) -> u16 {
        match self {
            Error::Incomplete(_) => 400,
            _ => 403,
        }
    }

    /// The message in the query protocol, which words a missing signature its own way and
    /// does not show what it signed.
    pub fn query_message(&self) -> String {
        match self {
            Error::Missing => "Request is missing Authentication Token".to_owned(),
            other => other.to_string(),
        }
    }

    /// The message with what the server signed, as API Gateway writes it for a signature
    /// that does not match.
    pub fn detailed_message(&self) -> String {
        match self {
            Error::Mismatch {
                canonical_request,
                string_to_sign,
            } => format!(
                "{self}\n\nThe Canonical String for this request should have been\n'{canonical_request}'\n\nThe String-to-Sign should have been\n'{string_to_sign}'\n"
            ),
            other => other.to_string(),
        }
    }
}

/// A request's signature, read but not yet checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature<'a> {
    /// The access key id the request names.
    pub access_key: Cow<'a, str>,
    /// The credential scope's day (`YYYYMMDD`), region and service.
    pub date: Cow<'a, str>,
    /// The region of the credential scope.
    pub region: Cow<'a, str>,
    /// The service of the credential scope.
    pub service: Cow<'a, str>,
    terminator: Cow<'a, str>,
    /// The signed headers' names, `;`-separated, lower case.
    signed_headers: Cow<'a, str>,
    /// The signature, in hexadecimal.
    signature: Cow<'a, str>,
    /// `X-Amz-Date`: `YYYYMMDD'T'HHMMSS'Z'`.
    pub timestamp: Cow<'a, str>,
    /// For a presigned URL, how long it stays valid (seconds).
    expires: Option<i64>,
    /// `X-Amz-Security-Token`, for temporary credentials.
    pub security_token: Option<Cow<'a, str>>,
}

impl Signature<'_> {
    /// `{date}/{region}/{service}/aws4_request`.
    pub fn scope(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.date, self.region, self.service, self.terminator
        )
    }

    /// Whether the signature came in the query (a presigned URL).
    pub fn presigned(&self) -> bool {
        self.expires.is_some()
    }
}

/// Reads a request's signature: from the query when it names `X-Amz-Algorithm` (a presigned
/// URL), else from the `Authorization` header.
pub fn parse<'a>(request: &Request<'a>) -> Result<Signature<'a>, Error> {
    if let Some(signature) = parse_query(request.query)? {
        return Ok(signature);
    }
    let Some(authorization) = request.header("authorization") else {
        return Err(Error::Missing);
    };
    parse_header(authorization, request.header("x-amz-date"), request)
}

fn parse_header<'a>(
    authorization: &'a str,
    date: Option<&'a str>,
    request: &Request<'a>,
) -> Result<Signature<'a>, Error> {
    let (algorithm, rest) = authorization
        .trim()
        .split_once(' ')
        .unwrap_or((authorization.trim(), ""));
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    let mut malformed = None;
    if algorithm == ALGORITHM {
        for part in rest.split(',') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let Some((name, value)) = part.split_once('=') else {
                malformed = Some(part);
                break;
            };
            match name.trim() {
                "Credential" => credential = Some(value.trim()),
                "SignedHeaders" => signed_headers = Some(value.trim()),
                "Signature" => signature = Some(value.trim()),
                _ => {}
            }
        }
    }
    if let Some(part) = malformed {
        return Err(Error::Incomplete(format!(
            "'{part}' not a valid key=value pair (missing equal-sign) in Authorization header: '{authorization}'."
        )));
    }
    let mut missing = Vec::new();
    if credential.is_none() {
        missing.push("Authorization header requires 'Credential' parameter.");
    }
    if signature.is_none() {
        missing.push("Authorization header requires 'Signature' parameter.");
    }
    if signed_headers.is_none() {
        missing.push("Authorization header requires 'SignedHeaders' parameter.");
    }
    if date.is_none() && request.header("date").is_none() {
        missing.push(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        );
    }
    if !missing.is_empty() || algorithm != ALGORITHM {
        let mut message = missing.join(" ");
        if algorithm != ALGORITHM && missing.is_empty() {
            message = format!(
                "Unsupported AWS 'algorithm': '{algorithm}' (only AWS4-HMAC-SHA256 for now). "
            );
        } else {
            message.push_str(&format!(" Authorization={authorization}"));
        }
        return Err(Error::Incomplete(message));
    }
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        return Err(Error::Incomplete(
            "Authorization header requires 'Credential' parameter.".into(),
        ));
    };
    // The time: `X-Amz-Date`, else the `Date` header (an HTTP date, signed as such, whose
    // time the string to sign carries in the basic format).
    let timestamp = match date {
        Some(date) => Cow::Borrowed(date.trim()),
        None => {
            let http_date = request.header("date").unwrap_or_default();
            Cow::Owned(time::basic_from_http_date(http_date).ok_or_else(|| {
                Error::Incomplete(format!(
                    "Date must be in ISO-8601 'basic format'. Got '{http_date}'. See http://en.wikipedia.org/wiki/ISO_8601"
                ))
            })?)
        }
    };
    let (access_key, date, region, service, terminator) = split_credential(credential)?;
    Ok(Signature {
        access_key: Cow::Borrowed(access_key),
        date: Cow::Borrowed(date),
        region: Cow::Borrowed(region),
        service: Cow::Borrowed(service),
        terminator: Cow::Borrowed(terminator),
        signed_headers: Cow::Borrowed(signed_headers),
        signature: Cow::Borrowed(signature),
        timestamp,
        expires: None,
        security_token: request.header("x-amz-security-token").map(Cow::Borrowed),
    })
}

fn split_credential(credential: &str) -> Result<(&str, &str, &str, &str, &str), Error> {
    // The access key may not hold a `/`; the scope is the last four parts.
    let mut parts = credential.rsplitn(5, '/');
    let terminator = parts.next();
    let service = parts.next();
    let region = parts.next();
    let date = parts.next();
    let key = parts.next();
    match (key, date, region, service, terminator) {
        (Some(key), Some(date), Some(region), Some(service), Some(terminator)) => {
            Ok((key, date, region, service, terminator))
        }
        _ => Err(Error::Incomplete(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{credential}'"
        ))),
    }
}

fn parse_query(query: &str) -> Result<Option<Signature<'static>>, Error> {
    if !query.contains("X-Amz-Algorithm=") {
        return Ok(None);
    }
    let mut algorithm = None;
    let mut credential = None;
    let mut date = None;
    let mut expires = None;
    let mut signed_headers = None;
    let mut signature = None;
    let mut token = None;
    for pair in query.split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode_str(value).decode_utf8_lossy().into_owned();
        match name {
            "X-Amz-Algorithm" => algorithm = Some(value),
            "X-Amz-Credential" => credential = Some(value),
            "X-Amz-Date" => date = Some(value),
            "X-Amz-Expires" => expires = Some(value),
            "X-Amz-SignedHeaders" => signed_headers = Some(value),
            "X-Amz-Signature" => signature = Some(value),
            "X-Amz-Security-Token" => token = Some(value),
            _ => {}
        }
    }
    if algorithm.as_deref() != Some(ALGORITHM) {
        return Ok(None);
    }
    let mut missing = Vec::new();
    for (present, name) in [
        (credential.is_some(), "X-Amz-Credential"),
        (signature.is_some(), "X-Amz-Signature"),
        (signed_headers.is_some(), "X-Amz-SignedHeaders"),
        (date.is_some(), "X-Amz-Date"),
    ] {
        if !present {
            missing.push(format!(
                "AWS query-string parameters must include '{name}'."
            ));
        }
    }
    if !missing.is_empty() {
        missing.push("Re-examine the query-string parameters.".into());
        return Err(Error::Incomplete(missing.join(" ")));
    }
    let (Some(credential), Some(signed_headers), Some(signature), Some(date)) =
        (credential, signed_headers, signature, date)
    else {
        return Err(Error::Incomplete(
            "Re-examine the query-string parameters.".into(),
        ));
    };
    let expires = match expires {
        None => MAX_EXPIRES_SECONDS,
        Some(text) => match text.parse::<i64>() {
            Ok(seconds) if (0..=MAX_EXPIRES_SECONDS).contains(&seconds) => seconds,
            _ => {
                return Err(Error::Incomplete(format!(
                    "X-Amz-Expires must be a number of seconds from 0 to {MAX_EXPIRES_SECONDS}, not '{text}'."
                )));
            }
        },
    };
    let (key, day, region, service, terminator) = split_credential(&credential)?;
    let owned = |s: &str| Cow::Owned(s.to_owned());
    Ok(Some(Signature {
        access_key: owned(key),
        date: owned(day),
        region: owned(region),
        service: owned(service),
        terminator: owned(terminator),
        signed_headers: Cow::Owned(signed_headers),
        signature: Cow::Owned(signature),
        timestamp: Cow::Owned(date),
        expires: Some(expires),
        security_token: token.map(Cow::Owned),
    }))
}

/// What a signature must agree with besides the secret: the server's region, the services
/// this endpoint answers for, and the time.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The server's region.
    pub region: &'a str,
    /// The service names a credential scope may name here (`apigateway`, `execute-api`, ...).
    pub services: &'a [&'a str],
    /// Now, in seconds since the Unix epoch.
    pub now: i64,
}

/// Checks what can be checked without the secret, in AWS's order: the time, that the host
/// is signed, then the scope. AWS answers these before it looks the access key up.
pub fn check_scope_and_time(
    signature: &Signature<'_>,
    expected: &Expected<'_>,
) -> Result<(), Error> {
    let Some(at) = time::parse_basic(&signature.timestamp) else {
        return Err(Error::Incomplete(format!(
            "Date must be in ISO-8601 'basic format'. Got '{}'. See http://en.wikipedia.org/wiki/ISO_8601",
            signature.timestamp
        )));
    };
    let now = expected.now;
    // A presigned URL is good from its time until it expires; a signed header, for the
    // skew either way.
    let last = at.saturating_add(signature.expires.unwrap_or(MAX_SKEW_SECONDS));
    if now > last {
        return Err(Error::Expired(format!(
            "Signature expired: {} is now earlier than {} ({} - {} min.)",
            signature.timestamp,
            time::format_basic(now - (last - at)),
            time::format_basic(now),
            (last - at) / 60
        )));
    }
    if at > now + MAX_SKEW_SECONDS {
        return Err(Error::NotYetCurrent(format!(
            "Signature not yet current: {} is still later than {} ({} + 5 min.)",
            signature.timestamp,
            time::format_basic(now + MAX_SKEW_SECONDS),
            time::format_basic(now)
        )));
    }
    if !signature
        .signed_headers
        .split(';')
        .any(|name| name == "host" || name == ":authority")
    {
        return Err(Error::Invalid(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".into(),
        ));
    }
    let mut scope = String::new();
    if signature.region != expected.region {
        scope.push_str("Credential should be scoped to a valid region. ");
    }
    if !expected.services.contains(&signature.service.as_ref()) {
        scope.push_str(&format!(
            "Credential should be scoped to correct service: '{}'. ",
            expected.services.first().copied().unwrap_or_default()
        ));
    }
    if signature.terminator != "aws4_request" {
        scope.push_str(&format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{}'. ",
            signature.terminator
        ));
    }
    if !scope.is_empty() {
        return Err(Error::Invalid(scope));
    }
    if !signature.timestamp.starts_with(signature.date.as_ref()) {
        return Err(Error::Invalid(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{}'.",
            signature.date,
            &signature.timestamp[..8],
            signature.timestamp
        )));
    }
    Ok(())
}

/// Checks the signature itself with the identity's secret, and its session token.
pub fn verify(
    request: &Request<'_>,
    signature: &Signature<'_>,
    identity: &Identity,
    payload_hash: &str,
) -> Result<(), Error> {
    if identity.session_token.as_deref() != signature.security_token.as_deref() {
        return Err(Error::UnknownKey);
    }
    let canonical_request = canonical::request(
        request,
        &signature.signed_headers,
        signature.presigned(),
        payload_hash,
    );
    let scope = signature.scope();
    let string_to_sign =
        canonical::string_to_sign(&signature.timestamp, &scope, &canonical_request);
    let key = signing_key(
        &identity.secret,
        &signature.date,
        &signature.region,
        &signature.service,
    );
    let matches = decode_hex(&signature.signature)
        .is_some_and(|given| hmac::verify(&key, string_to_sign.as_bytes(), &given).is_ok());
    if matches {
        Ok(())
    } else {
        Err(Error::Mismatch {
            canonical_request,
            string_to_sign,
        })
    }
}

/// The key a day's signatures for one region and service are made with.
fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> hmac::Key {
    let mut key = format!("AWS4{secret}").into_bytes();
    for part in [date, region, service, "aws4_request"] {
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &key), part.as_bytes());
        key = tag.as_ref().to_vec();
    }
    hmac::Key::new(hmac::HMAC_SHA256, &key)
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| {
            let digit = |c: u8| (c as char).to_digit(16);
            Some((digit(pair[0])? * 16 + digit(pair[1])?) as u8)
        })
        .collect()
}

#[cfg(test)]
mod tests;
