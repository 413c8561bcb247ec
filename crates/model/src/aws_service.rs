//! AWS integrations with services other than Lambda: what an integration uri
//! `arn:aws:apigateway:{region}:{subdomain.service|service}:{path|action}/{service_api}`
//! asks for, and how API Gateway turns it into a request to the service.
//!
//! - `path/{path}`: the service's path-based API, `{method} /{path}` (S3's
//!   `path/{bucket}/{key}`, SQS's `path/{account}/{queue}`).
//! - `action/{Action}[&{p1}={v1}...]`: the action-based API, `{method}
//!   /?Action={Action}&{p1}={v1}...`. For the JSON-protocol services API Gateway knows
//!   (DynamoDB, Kinesis, Step Functions) it also sets `X-Amz-Target:
//!   {prefix}.{Action}`, so a mapping template only writes the action's input.

/// An AWS integration uri, read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceUri<'a> {
    /// The region the service is called in (the request is signed for it).
    pub region: &'a str,
    /// The service's endpoint prefix: `s3`, `sqs`, `dynamodb`, `states`, ...
    pub service: &'a str,
    /// A designated subdomain (`{bucket}.s3`), if the uri names one.
    pub subdomain: Option<&'a str>,
    pub api: ServiceApi<'a>,
}

/// The service API an AWS integration calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceApi<'a> {
    /// The path after `path/` (it may carry a query string of its own).
    Path(&'a str),
    /// An action and the parameters written after it (`&`-separated, as in a query string).
    Action { name: &'a str, parameters: &'a str },
}

/// Reads an AWS integration uri (stage variables already in); `None` if it is not one.
pub fn parse(uri: &str) -> Option<ServiceUri<'_>> {
    let rest = uri.strip_prefix("arn:")?;
    let mut parts = rest.splitn(5, ':');
    let _partition = parts.next()?;
    if parts.next()? != "apigateway" {
        return None;
    }
    let region = parts.next().filter(|r| !r.is_empty())?;
    let host = parts.next().filter(|h| !h.is_empty())?;
    let resource = parts.next()?;
    let (subdomain, service) = match host.rsplit_once('.') {
        Some((subdomain, service)) if !subdomain.is_empty() && !service.is_empty() => {
            (Some(subdomain), service)
        }
        Some(_) => return None,
        None => (None, host),
    };
    let api = if let Some(path) = resource.strip_prefix("path/") {
        ServiceApi::Path(path)
    } else if let Some(action) = resource.strip_prefix("action/") {
        let (name, parameters) = action.split_once('&').unwrap_or((action, ""));
        if name.is_empty() {
            return None;
        }
        ServiceApi::Action { name, parameters }
    } else {
        return None;
    };
    Some(ServiceUri {
        region,
        service,
        subdomain,
        api,
    })
}

impl ServiceUri<'_> {
    /// The request target at the service's endpoint: path and query, before the
    /// integration's mapped query parameters are added. S3's bucket subdomain becomes the
    /// path's first segment (path-style addressing, which every S3-compatible endpoint
    /// serves).
    pub fn request_target(&self) -> String {
        let mut target = String::with_capacity(64);
        target.push('/');
        match self.api {
            ServiceApi::Path(path) => {
                if self.service == "s3"
                    && let Some(bucket) = self.subdomain
                {
                    target.push_str(bucket);
                    target.push('/');
                }
                target.push_str(path.trim_start_matches('/'));
            }
            ServiceApi::Action { name, parameters } => {
                target.push_str("?Action=");
                target.push_str(name);
                if !parameters.is_empty() {
                    target.push('&');
                    target.push_str(parameters);
                }
            }
        }
        target
    }

    /// The `X-Amz-Target` API Gateway sets for an action of a JSON-protocol service it
    /// knows; `None` for path-based calls and other services (whose mapping sets the
    /// header if the service needs one, as EventBridge's users do).
    pub fn amz_target(&self) -> Option<String> {
        let ServiceApi::Action { name, .. } = self.api else {
            return None;
        };
        let prefix = match self.service {
            "dynamodb" => "DynamoDB_20120810",
            "kinesis" => "Kinesis_20131202",
            "states" => "AWSStepFunctions",
            _ => return None,
        };
        Some(format!("{prefix}.{name}"))
    }

    /// The name the service's requests are signed for.
    pub fn signing_name(&self) -> &str {
        match self.service {
            "email" => "ses",
            other => other,
        }
    }

    /// Whether the service is S3, whose signatures encode paths once and carry
    /// `x-amz-content-sha256`.
    pub fn is_s3(&self) -> bool {
        self.service == "s3"
    }
}

/// The caller's own credentials: an AWS integration whose `credentials` is this signs with
/// the credentials the client signed its request with.
pub const CALLER_CREDENTIALS: &str = "arn:aws:iam::*:user/*";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_name_region_service_and_api() {
        let s3 = parse("arn:aws:apigateway:eu-west-1:s3:path/{bucket}/{key}");
        assert_eq!(
            s3,
            Some(ServiceUri {
                region: "eu-west-1",
                service: "s3",
                subdomain: None,
                api: ServiceApi::Path("{bucket}/{key}")
            })
        );
        let Some(s3) = s3 else { return };
        assert_eq!(s3.request_target(), "/{bucket}/{key}");
        assert!(s3.is_s3());
        assert_eq!(s3.amz_target(), None);

        let Some(bucket) = parse("arn:aws:apigateway:us-east-1:photos.s3:path/2024/a.jpg") else {
            panic!("a subdomain uri")
        };
        assert_eq!(bucket.subdomain, Some("photos"));
        assert_eq!(bucket.request_target(), "/photos/2024/a.jpg");

        let Some(queue) = parse("arn:aws:apigateway:us-east-1:sqs:path/000000000000/jobs") else {
            panic!("an SQS uri")
        };
        assert_eq!(queue.request_target(), "/000000000000/jobs");
        assert_eq!(queue.signing_name(), "sqs");

        let Some(put) = parse("arn:aws:apigateway:us-east-1:dynamodb:action/PutItem") else {
            panic!("a DynamoDB uri")
        };
        assert_eq!(put.request_target(), "/?Action=PutItem");
        assert_eq!(
            put.amz_target().as_deref(),
            Some("DynamoDB_20120810.PutItem")
        );

        let Some(get) = parse("arn:aws:apigateway:us-west-2:s3:action/GetObject&Bucket=b&Key=k")
        else {
            panic!("an action uri with parameters")
        };
        assert_eq!(
            get.api,
            ServiceApi::Action {
                name: "GetObject",
                parameters: "Bucket=b&Key=k"
            }
        );
        assert_eq!(get.request_target(), "/?Action=GetObject&Bucket=b&Key=k");
        assert_eq!(get.amz_target(), None);

        let Some(start) = parse("arn:aws:apigateway:us-east-1:states:action/StartExecution") else {
            panic!("a Step Functions uri")
        };
        assert_eq!(
            start.amz_target().as_deref(),
            Some("AWSStepFunctions.StartExecution")
        );
        let Some(ses) = parse("arn:aws:apigateway:us-east-1:email:action/SendEmail") else {
            panic!("an SES uri")
        };
        assert_eq!(ses.signing_name(), "ses");
        let Some(root) = parse("arn:aws:apigateway:us-east-1:s3:path//") else {
            panic!("S3's root")
        };
        assert_eq!(root.request_target(), "/");
    }

    #[test]
    fn other_uris_are_not_service_calls() {
        for uri in [
            "https://example.com/",
            "arn:aws:lambda:us-east-1:s3:path/x",
            "arn:aws:apigateway::s3:path/x",
            "arn:aws:apigateway:us-east-1::path/x",
            "arn:aws:apigateway:us-east-1:s3:get/x",
            "arn:aws:apigateway:us-east-1:s3:action/",
            "arn:aws:apigateway:us-east-1:.s3:path/x",
            "arn:aws:apigateway:us-east-1:s3",
        ] {
            assert_eq!(parse(uri), None, "{uri}");
        }
    }
}
