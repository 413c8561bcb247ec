//! `AWS_IAM` authorization: the caller is the identity whose SigV4 signature the request
//! carries, made for `execute-api` in the gateway's region and checked against the
//! configured credentials (`--credentials`).

use std::sync::Arc;

use causeway_sigv4::{Error, Expected, Identity};

use crate::Gateway;
use crate::errors::{Failure, Kind};
use crate::request::Incoming;

/// The identity that signed the request, or AWS's answer for a signature it refuses.
pub(crate) fn authenticate(
    gateway: &Gateway,
    request: &Incoming,
    body: &[u8],
) -> Result<Arc<Identity>, Failure> {
    let (path, query) = request.path_and_query();
    let view = causeway_sigv4::Request {
        method: request.method.as_str(),
        path,
        query: query.unwrap_or_default(),
        headers: request.headers.named(),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let signature = causeway_sigv4::parse(&view).map_err(refused)?;
    causeway_sigv4::check_scope_and_time(
        &signature,
        &Expected {
            region: &gateway.config.region,
            services: &["execute-api"],
            now,
        },
    )
    .map_err(refused)?;
    let Some(credentials) = gateway.config.credentials.as_deref() else {
        return Err(refused(Error::UnknownKey).because(
            "no credentials are configured (--credentials), so AWS_IAM methods let no caller in",
        ));
    };
    let keyring = credentials.keyring();
    let Some(identity) = keyring.get(&signature.access_key) else {
        return Err(refused(Error::UnknownKey).because(format!(
            "no identity has the access key {}",
            signature.access_key
        )));
    };
    causeway_sigv4::verify(
        &view,
        &signature,
        identity,
        &causeway_sigv4::payload_hash(body),
    )
    .map_err(|error| {
        let cause = format!("the signature of {} does not check out", identity.arn);
        refused(error).because(cause)
    })?;
    Ok(identity.clone())
}

fn refused(error: Error) -> Failure {
    let kind = match &error {
        Error::Missing => return Failure::no_route(),
        Error::Incomplete(_) => Kind::IncompleteSignature,
        Error::UnknownKey => Kind::UnrecognizedClient,
        Error::Expired(_) => Kind::ExpiredSignature,
        Error::Mismatch { .. } | Error::NotYetCurrent(_) | Error::Invalid(_) => {
            Kind::InvalidSignature
        }
    };
    Failure::signature(kind, error.detailed_message())
}
