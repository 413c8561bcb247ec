//! The closed string sets of the AWS model (`HttpMethod`, `IntegrationType`, ...).
//!
//! Each enum parses from and prints to the exact AWS spelling, and its error names the valid
//! options so that a user can correct the request.

use serde::{Deserialize, Serialize};

/// Declares a string enum with AWS spellings, `as_str`, `parse` and `ALL`.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// Every value, in the order AWS lists them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The AWS spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// Parses the exact AWS spelling.
            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// The valid spellings joined with `sep`, for error messages.
            pub fn options(sep: &str) -> String {
                [$($text),+].join(sep)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum! {
    /// A method's HTTP verb; `ANY` matches every verb.
    HttpMethod {
        Get = "GET", Put = "PUT", Post = "POST", Delete = "DELETE", Patch = "PATCH",
        Options = "OPTIONS", Head = "HEAD", Any = "ANY",
    }
}

string_enum! {
    /// How a method reaches its backend.
    IntegrationType { Http = "HTTP", Aws = "AWS", Mock = "MOCK", HttpProxy = "HTTP_PROXY", AwsProxy = "AWS_PROXY" }
}

string_enum! {
    /// Whether an integration goes over the internet or through a VPC link.
    ConnectionType { Internet = "INTERNET", VpcLink = "VPC_LINK" }
}

string_enum! {
    /// What a non-proxy integration does with a body whose content type has no template.
    PassthroughBehavior { WhenNoMatch = "WHEN_NO_MATCH", WhenNoTemplates = "WHEN_NO_TEMPLATES", Never = "NEVER" }
}

string_enum! {
    /// Conversion between binary and text payloads.
    ContentHandling { ConvertToBinary = "CONVERT_TO_BINARY", ConvertToText = "CONVERT_TO_TEXT" }
}

string_enum! {
    /// Where the API key of a request comes from.
    ApiKeySource { Header = "HEADER", Authorizer = "AUTHORIZER" }
}

string_enum! {
    /// The endpoint type of a REST API.
    EndpointType { Regional = "REGIONAL", Edge = "EDGE", Private = "PRIVATE" }
}

string_enum! {
    /// How callers of a method are authorised.
    AuthorizationType { None = "NONE", AwsIam = "AWS_IAM", Custom = "CUSTOM", CognitoUserPools = "COGNITO_USER_POOLS" }
}

string_enum! {
    /// What an authorizer checks: a token given to a Lambda function, a request's identity
    /// sources given to a Lambda function, or a Cognito user pool's token.
    AuthorizerType { Token = "TOKEN", Request = "REQUEST", CognitoUserPools = "COGNITO_USER_POOLS" }
}

impl AuthorizationType {
    /// Whether methods of this type name an authorizer (`authorizerId`).
    pub fn uses_authorizer(self) -> bool {
        matches!(
            self,
            AuthorizationType::Custom | AuthorizationType::CognitoUserPools
        )
    }
}

string_enum! {
    /// Life cycle of a VPC link.
    VpcLinkStatus { Available = "AVAILABLE", Pending = "PENDING", Deleting = "DELETING", Failed = "FAILED" }
}

string_enum! {
    /// Execution log level of a method setting.
    LoggingLevel { Off = "OFF", Error = "ERROR", Info = "INFO" }
}

string_enum! {
    /// What happens when a caller without permission sends `Cache-Control: max-age=0`.
    UnauthorizedCacheControlHeaderStrategy {
        FailWith403 = "FAIL_WITH_403",
        SucceedWithResponseHeader = "SUCCEED_WITH_RESPONSE_HEADER",
        SucceedWithoutResponseHeader = "SUCCEED_WITHOUT_RESPONSE_HEADER",
    }
}

string_enum! {
    /// Status of a stage's cache.
    CacheClusterStatus {
        CreateInProgress = "CREATE_IN_PROGRESS", Available = "AVAILABLE", DeleteInProgress = "DELETE_IN_PROGRESS",
        NotAvailable = "NOT_AVAILABLE", FlushInProgress = "FLUSH_IN_PROGRESS",
    }
}

string_enum! {
    /// Whether an integration buffers or streams the response.
    ResponseTransferMode { Buffered = "BUFFERED", Stream = "STREAM" }
}

string_enum! {
    /// The period a usage plan's quota counts requests over.
    QuotaPeriod { Day = "DAY", Week = "WEEK", Month = "MONTH" }
}

/// The cache sizes (GB) AWS offers for a stage cache.
pub const CACHE_CLUSTER_SIZES: &[&str] =
    &["0.5", "1.6", "6.1", "13.5", "28.4", "58.2", "118", "237"];

string_enum! {
    /// What a documentation part documents.
    DocumentationPartType {
        Api = "API", Authorizer = "AUTHORIZER", Model = "MODEL", Resource = "RESOURCE",
        Method = "METHOD", PathParameter = "PATH_PARAMETER", QueryParameter = "QUERY_PARAMETER",
        RequestHeader = "REQUEST_HEADER", RequestBody = "REQUEST_BODY", Response = "RESPONSE",
        ResponseHeader = "RESPONSE_HEADER", ResponseBody = "RESPONSE_BODY",
    }
}
