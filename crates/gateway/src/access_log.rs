//! Stage access logs: a line per request of a stage with `accessLogSettings`, in the stage's
//! format (`$context.X` filled in, as AWS does), handed to an [`AccessLogSink`] that writes
//! it elsewhere, so the request never waits on a file.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use causeway_model::Stage;

use crate::errors::{Context, Failure};

/// Where access log lines go: the server writes them to files, one per destination.
pub trait AccessLogSink: Send + Sync + std::fmt::Debug {
    /// Takes one line for `destination` (the log group's or stream's name). Never blocks:
    /// a sink that cannot keep up drops lines and says so in its own log.
    fn write(&self, destination: &str, line: String);
}

/// A stage's access log, compiled.
#[derive(Debug)]
pub struct AccessLog {
    destination: Box<str>,
    format: Box<str>,
}

impl AccessLog {
    /// The access log of `stage`, when it has a destination and a format.
    pub fn compile(stage: &Stage) -> Option<Arc<AccessLog>> {
        let settings = stage.access_log_settings.as_ref()?;
        let format = settings.format.as_deref()?;
        let destination =
            causeway_model::validate::access_log_destination(settings.destination_arn.as_deref()?)?;
        Some(Arc::new(AccessLog {
            destination: destination.into(),
            format: format.trim_end_matches(['\n', '\r']).into(),
        }))
    }

    /// Writes the line of a finished request.
    pub fn write<'a>(
        &self,
        sink: &dyn AccessLogSink,
        context: &Context<'a>,
        outcome: &Outcome<'_>,
    ) {
        // A `$context` value the gateway does not have (`identity.caller`, say) is `-`, as
        // AWS writes a value a request does not have.
        let own = |name: &str| -> Option<Cow<'a, str>> {
            Some(
                outcome
                    .variable(name)
                    .or_else(|| crate::errors::context_variable(name, context))
                    .unwrap_or(Cow::Borrowed("-")),
            )
        };
        let line = crate::errors::render_template(&self.format, &own, context);
        sink.write(&self.destination, line);
    }
}

/// What a request came to, for the values only an access log has.
#[derive(Debug)]
pub struct Outcome<'a> {
    pub status: u16,
    /// The body's length, when known before it is sent.
    pub response_length: Option<u64>,
    pub started: Instant,
    /// The integration's status and latency, when it was called.
    pub integration: Option<(u16, std::time::Duration)>,
    /// Why it got a gateway response, if it did.
    pub error: Option<&'a Failure>,
}

impl Outcome<'_> {
    fn variable(&self, name: &str) -> Option<Cow<'static, str>> {
        // AWS writes `-` for a value a request does not have.
        let dash = || Cow::Borrowed("-");
        Some(match name {
            "status" => Cow::Owned(self.status.to_string()),
            "responseLength" => self
                .response_length
                .map_or_else(dash, |n| Cow::Owned(n.to_string())),
            "responseLatency" => Cow::Owned(self.started.elapsed().as_millis().to_string()),
            "error.message" => self
                .error
                .map_or_else(dash, |f| Cow::Owned(f.message.to_string())),
            "error.messageString" => self.error.map_or_else(dash, |f| {
                Cow::Owned(serde_json::to_string(&*f.message).unwrap_or_default())
            }),
            "error.responseType" => self
                .error
                .map_or_else(dash, |f| Cow::Borrowed(f.kind.response_type())),
            "error.validationErrorString" => self
                .error
                .and_then(|f| f.validation.clone())
                .map_or_else(dash, Cow::Owned),
            "integrationLatency" | "integration.latency" => self
                .integration
                .map_or_else(dash, |(_, took)| Cow::Owned(took.as_millis().to_string())),
            "integrationStatus" | "integration.status" => self
                .integration
                .map_or_else(dash, |(status, _)| Cow::Owned(status.to_string())),
            _ => return None,
        })
    }
}
