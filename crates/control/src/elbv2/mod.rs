//! The Elastic Load Balancing v2 API (query protocol, XML answers) for network load
//! balancers.

use crate::ctx::Ctx;
use crate::{Reply, Request};

/// Runs the elbv2 operation named by the request's `Action`. Errors are XML replies, so this
/// never fails; on an error reply no change is kept.
pub fn dispatch(cx: &mut Ctx<'_>, request: &Request) -> Reply {
    let _ = request;
    cx.discard_changes();
    Reply {
        status: 400,
        body: b"<ErrorResponse xmlns=\"http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/\"><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>The elbv2 API is not served yet</Message></Error><RequestId>0</RequestId></ErrorResponse>".to_vec(),
        error_code: Some("InvalidAction"),
        content_type: "text/xml",
    }
}
