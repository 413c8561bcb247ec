//! Authorizers: the rules an authorizer must follow to be stored, and the pieces the gateway
//! reads from one (the Lambda function its uri names, its identity sources).

use crate::entities::Authorizer;
use crate::enums::AuthorizerType;
use crate::error::ApiError;

/// The longest decision cache AWS allows, in seconds.
pub const MAX_TTL_SECONDS: i32 = 3600;
/// The cache time of a new Lambda authorizer that does not set one.
pub const DEFAULT_TTL_SECONDS: i32 = 300;

/// Where a REQUEST authorizer reads one of its identity sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentitySource {
    /// `method.request.header.NAME` (matched without regard to case).
    Header(String),
    /// `method.request.querystring.NAME`.
    Query(String),
    /// `method.request.multivalueheader.NAME`.
    MultiValueHeader(String),
    /// `method.request.multivaluequerystring.NAME`.
    MultiValueQuery(String),
    /// `stageVariables.NAME`.
    StageVariable(String),
    /// `context.NAME` (a `$context` variable).
    Context(String),
}

impl IdentitySource {
    /// Reads one source expression; `None` when it names no place a request has.
    pub fn parse(text: &str) -> Option<IdentitySource> {
        let text = text.trim();
        let named = |rest: &str| (!rest.is_empty()).then(|| rest.to_owned());
        if let Some(rest) = text.strip_prefix("method.request.header.") {
            return named(rest).map(IdentitySource::Header);
        }
        if let Some(rest) = text.strip_prefix("method.request.querystring.") {
            return named(rest).map(IdentitySource::Query);
        }
        if let Some(rest) = text.strip_prefix("method.request.multivalueheader.") {
            return named(rest).map(IdentitySource::MultiValueHeader);
        }
        if let Some(rest) = text.strip_prefix("method.request.multivaluequerystring.") {
            return named(rest).map(IdentitySource::MultiValueQuery);
        }
        if let Some(rest) = text.strip_prefix("stageVariables.") {
            return named(rest).map(IdentitySource::StageVariable);
        }
        if let Some(rest) = text.strip_prefix("context.") {
            return named(rest).map(IdentitySource::Context);
        }
        None
    }

    /// Every source of a comma-separated list; the text of the first that does not read.
    pub fn parse_list(text: &str) -> Result<Vec<IdentitySource>, String> {
        text.split(',')
            .map(|part| IdentitySource::parse(part).ok_or_else(|| part.trim().to_owned()))
            .collect()
    }
}

/// The Lambda function an authorizer (or integration) uri calls:
/// `arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function}/invocations`
/// gives `{function}` (an ARN, a name, possibly with `${stageVariables.X}` in it).
pub fn lambda_function(uri: &str) -> Option<&str> {
    let rest = uri.strip_prefix("arn:")?;
    let mut parts = rest.splitn(5, ':');
    let _partition = parts.next()?;
    if parts.next()? != "apigateway" {
        return None;
    }
    let _region = parts.next()?;
    if parts.next()? != "lambda" {
        return None;
    }
    let path = parts.next()?;
    let function = path
        .strip_prefix("path/2015-03-31/functions/")?
        .strip_suffix("/invocations")?;
    (!function.is_empty()).then_some(function)
}

/// Checks an authorizer as CreateAuthorizer and UpdateAuthorizer store it.
pub fn check(authorizer: &Authorizer) -> Result<(), ApiError> {
    if authorizer.name.trim().is_empty() {
        return Err(ApiError::bad_request("Authorizer name must be non-null"));
    }
    if let Some(ttl) = authorizer.authorizer_result_ttl_in_seconds
        && !(0..=MAX_TTL_SECONDS).contains(&ttl)
    {
        return Err(ApiError::bad_request(format!(
            "Invalid authorizer TTL specified: {ttl}. Authorizer TTL must be between 0 and {MAX_TTL_SECONDS} seconds."
        )));
    }
    match authorizer.kind {
        AuthorizerType::Token | AuthorizerType::Request => {
            let Some(uri) = authorizer
                .authorizer_uri
                .as_deref()
                .filter(|u| !u.is_empty())
            else {
                return Err(ApiError::bad_request(
                    "Authorizer URI is required for authorizers of type TOKEN and REQUEST",
                ));
            };
            if lambda_function(uri).is_none() {
                return Err(ApiError::bad_request(format!(
                    "Invalid Authorizer URI: {uri}. Authorizer URI should be a valid API Gateway ARN that represents a Lambda function invocation."
                )));
            }
        }
        AuthorizerType::CognitoUserPools => {
            if authorizer.provider_arns.is_empty() {
                return Err(ApiError::bad_request(
                    "Provider ARNs are required for authorizers of type COGNITO_USER_POOLS",
                ));
            }
            for arn in &authorizer.provider_arns {
                if user_pool(arn).is_none() {
                    return Err(ApiError::bad_request(format!(
                        "Invalid provider ARN: {arn}. Provider ARNs should be Cognito user pool ARNs (arn:aws:cognito-idp:{{region}}:{{account}}:userpool/{{poolId}})."
                    )));
                }
            }
        }
    }
    let source = authorizer.identity_source.as_deref().unwrap_or_default();
    match authorizer.kind {
        AuthorizerType::Token | AuthorizerType::CognitoUserPools => {
            let header = source
                .strip_prefix("method.request.header.")
                .filter(|name| {
                    !name.is_empty()
                        && name
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
                });
            if header.is_none() {
                return Err(ApiError::bad_request(format!(
                    "Invalid token source expression: {source}. The source must be a method request header, matching 'method.request.header.[a-zA-Z0-9._-]+'."
                )));
            }
        }
        AuthorizerType::Request => {
            let caching = authorizer.authorizer_result_ttl_in_seconds != Some(0);
            if source.trim().is_empty() {
                if caching {
                    return Err(ApiError::bad_request(
                        "Identity source is required when authorizer caching is enabled (authorizerResultTtlInSeconds above 0)",
                    ));
                }
            } else if let Err(part) = IdentitySource::parse_list(source) {
                return Err(ApiError::bad_request(format!(
                    "Invalid identity source: '{part}'. Use method.request.header.NAME, method.request.querystring.NAME, stageVariables.NAME or context.NAME, separated by commas"
                )));
            }
        }
    }
    if let Some(expression) = &authorizer.identity_validation_expression
        && !expression.is_empty()
        && regex::Regex::new(expression).is_err()
    {
        return Err(ApiError::bad_request(format!(
            "Invalid identity validation expression specified: {expression}"
        )));
    }
    Ok(())
}

/// The region and id of a Cognito user pool ARN
/// (`arn:aws:cognito-idp:{region}:{account}:userpool/{poolId}`).
pub fn user_pool(arn: &str) -> Option<(&str, &str)> {
    let mut parts = arn.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    let _partition = parts.next()?;
    if parts.next()? != "cognito-idp" {
        return None;
    }
    let region = parts.next()?;
    let _account = parts.next()?;
    let pool = parts.next()?.strip_prefix("userpool/")?;
    (!region.is_empty() && !pool.is_empty() && !pool.contains('/')).then_some((region, pool))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn token() -> Authorizer {
        Authorizer {
            id: "abc123".to_owned(),
            name: "auth".to_owned(),
            kind: AuthorizerType::Token,
            provider_arns: Vec::new(),
            auth_type: None,
            authorizer_uri: Some(
                "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:auth/invocations"
                    .to_owned(),
            ),
            authorizer_credentials: None,
            identity_source: Some("method.request.header.Authorization".to_owned()),
            identity_validation_expression: None,
            authorizer_result_ttl_in_seconds: Some(300),
        }
    }

    #[test]
    fn function_names_come_out_of_uris() {
        assert_eq!(
            lambda_function(token().authorizer_uri.as_deref().unwrap()),
            Some("arn:aws:lambda:us-east-1:123456789012:function:auth")
        );
        assert_eq!(
            lambda_function(
                "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/${stageVariables.fn}/invocations"
            ),
            Some("${stageVariables.fn}")
        );
        for bad in [
            "",
            "http://example.com/auth",
            "arn:aws:apigateway:us-east-1:s3:path/bucket/key",
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions//invocations",
            "arn:aws:lambda:us-east-1:123456789012:function:auth",
        ] {
            assert_eq!(lambda_function(bad), None, "{bad}");
        }
    }

    #[test]
    fn identity_sources_read_every_place() {
        assert_eq!(
            IdentitySource::parse_list(
                "method.request.header.Auth, method.request.querystring.token,stageVariables.s,context.sourceIp"
            )
            .unwrap(),
            vec![
                IdentitySource::Header("Auth".to_owned()),
                IdentitySource::Query("token".to_owned()),
                IdentitySource::StageVariable("s".to_owned()),
                IdentitySource::Context("sourceIp".to_owned()),
            ]
        );
        assert_eq!(
            IdentitySource::parse_list("method.request.header.A,method.request.body.x"),
            Err("method.request.body.x".to_owned())
        );
        assert_eq!(IdentitySource::parse("method.request.header."), None);
    }

    #[test]
    fn checks_name_what_is_wrong() {
        assert!(check(&token()).is_ok());
        let mut no_uri = token();
        no_uri.authorizer_uri = None;
        assert!(
            check(&no_uri)
                .unwrap_err()
                .message()
                .contains("Authorizer URI")
        );
        let mut ttl = token();
        ttl.authorizer_result_ttl_in_seconds = Some(3601);
        assert!(check(&ttl).unwrap_err().message().contains("3601"));
        let mut query = token();
        query.identity_source = Some("method.request.querystring.token".to_owned());
        assert!(
            check(&query)
                .unwrap_err()
                .message()
                .starts_with("Invalid token source expression: method.request.querystring.token.")
        );
        let mut request = token();
        request.kind = AuthorizerType::Request;
        request.identity_source = None;
        assert!(check(&request).is_err(), "caching needs identity sources");
        request.authorizer_result_ttl_in_seconds = Some(0);
        assert!(check(&request).is_ok());
        let mut regex = token();
        regex.identity_validation_expression = Some("(".to_owned());
        assert!(check(&regex).is_err());
        let mut cognito = token();
        cognito.kind = AuthorizerType::CognitoUserPools;
        cognito.authorizer_uri = None;
        assert!(check(&cognito).is_err(), "no provider ARNs");
        cognito.provider_arns =
            vec!["arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbC".to_owned()];
        assert!(check(&cognito).is_ok());
        assert_eq!(
            user_pool(&cognito.provider_arns[0]),
            Some(("us-east-1", "us-east-1_AbC"))
        );
        cognito.provider_arns = vec!["arn:aws:lambda:x".to_owned()];
        assert!(check(&cognito).is_err());
    }
}
