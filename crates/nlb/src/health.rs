//! Active health checks: the threshold state machine (pure) and the probes (TCP connect,
//! HTTP and HTTPS requests with a status matcher).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use causeway_model::elb::{HealthCheck, TargetHealthState};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The result of one probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    Success,
    /// No answer within the check's timeout.
    Timeout,
    /// The connection was refused or broke.
    ConnectionFailed(String),
    /// An HTTP answer whose status is outside the matcher.
    CodeMismatch(u16),
}

/// Health of one target as the thresholds decide it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    pub state: TargetHealthState,
    pub reason: Option<&'static str>,
    pub description: Option<String>,
    successes: u32,
    failures: u32,
}

impl Health {
    /// A newly registered target: `initial` until the first verdict.
    pub fn initial() -> Health {
        Health {
            state: TargetHealthState::Initial,
            reason: Some("Elb.InitialHealthChecking"),
            description: Some("Initial health checks in progress".to_owned()),
            successes: 0,
            failures: 0,
        }
    }

    /// Counts a probe. A target turns healthy after `healthy_threshold` successes in a row
    /// and unhealthy after `unhealthy_threshold` failures in a row, as on AWS.
    pub fn record(&mut self, probe: &Probe, check: &HealthCheck) {
        if *probe == Probe::Success {
            self.successes = self.successes.saturating_add(1);
            self.failures = 0;
            if self.state != TargetHealthState::Healthy && self.successes >= check.healthy_threshold
            {
                self.state = TargetHealthState::Healthy;
                self.reason = None;
                self.description = None;
            }
            return;
        }
        self.failures = self.failures.saturating_add(1);
        self.successes = 0;
        if self.state != TargetHealthState::Unhealthy && self.failures >= check.unhealthy_threshold
        {
            self.mark_unhealthy(probe);
        } else if self.state == TargetHealthState::Unhealthy {
            // Keep the reason current while it stays unhealthy.
            self.mark_unhealthy(probe);
        }
    }

    /// Marks the target unhealthy at once, for a failure seen on live traffic.
    pub fn mark_unhealthy(&mut self, probe: &Probe) {
        self.state = TargetHealthState::Unhealthy;
        self.successes = 0;
        let (reason, description) = match probe {
            Probe::Timeout => ("Target.Timeout", "Request timed out".to_owned()),
            Probe::CodeMismatch(code) => (
                "Target.ResponseCodeMismatch",
                format!("Health checks failed with these codes: [{code}]"),
            ),
            Probe::ConnectionFailed(_) | Probe::Success => (
                "Target.FailedHealthChecks",
                "Health checks failed".to_owned(),
            ),
        };
        self.reason = Some(reason);
        self.description = Some(description);
    }
}

/// Whether an HTTP status matches a matcher such as `200`, `200,202` or `200-399`.
pub fn matches(matcher: &str, status: u16) -> bool {
    matcher
        .split(',')
        .map(str::trim)
        .any(|part| match part.split_once('-') {
            Some((low, high)) => match (low.trim().parse::<u16>(), high.trim().parse::<u16>()) {
                (Ok(low), Ok(high)) => (low..=high).contains(&status),
                _ => false,
            },
            None => part.parse::<u16>().is_ok_and(|code| code == status),
        })
}

/// Runs one probe against `addr` as `check` says.
pub async fn probe(
    addr: SocketAddr,
    check: &HealthCheck,
    tls: Option<&Arc<tokio_rustls::rustls::ClientConfig>>,
) -> Probe {
    let timeout = Duration::from_secs(u64::from(check.timeout_seconds.max(1)));
    match tokio::time::timeout(timeout, probe_inner(addr, check, tls)).await {
        Ok(result) => result,
        Err(_) => Probe::Timeout,
    }
}

async fn probe_inner(
    addr: SocketAddr,
    check: &HealthCheck,
    tls: Option<&Arc<tokio_rustls::rustls::ClientConfig>>,
) -> Probe {
    let stream = match TcpStream::connect(addr).await {
        Ok(stream) => stream,
        Err(error) => return Probe::ConnectionFailed(error.to_string()),
    };
    match check.protocol.as_str() {
        "HTTP" => http_probe(stream, addr, check).await,
        "HTTPS" => {
            let Some(tls) = tls else {
                return Probe::ConnectionFailed("TLS is not available in this build".to_owned());
            };
            let connector = tokio_rustls::TlsConnector::from(tls.clone());
            let name = tokio_rustls::rustls::pki_types::ServerName::IpAddress(addr.ip().into());
            match connector.connect(name, stream).await {
                Ok(tls_stream) => http_probe(tls_stream, addr, check).await,
                Err(error) => Probe::ConnectionFailed(format!("TLS handshake failed: {error}")),
            }
        }
        // TCP: an accepted connection is a pass.
        _ => Probe::Success,
    }
}

async fn http_probe<S>(mut stream: S, addr: SocketAddr, check: &HealthCheck) -> Probe
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let path = check.path.as_deref().unwrap_or("/");
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: ELB-HealthChecker/2.0\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    if let Err(error) = stream.write_all(request.as_bytes()).await {
        return Probe::ConnectionFailed(error.to_string());
    }
    // The status line is all that matters; read until it is complete.
    let mut buffer = Vec::with_capacity(64);
    let mut chunk = [0u8; 256];
    while !buffer.contains(&b'\n') && buffer.len() < 4096 {
        match stream.read(&mut chunk).await {
            Ok(0) => break,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            Err(error) => return Probe::ConnectionFailed(error.to_string()),
        }
    }
    let line = String::from_utf8_lossy(&buffer);
    let status = line
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|code| code.parse::<u16>().ok());
    match status {
        Some(code) if matches(check.matcher.as_deref().unwrap_or("200-399"), code) => {
            Probe::Success
        }
        Some(code) => Probe::CodeMismatch(code),
        None => Probe::ConnectionFailed("no HTTP status line in the answer".to_owned()),
    }
}

/// A TLS client configuration that accepts any certificate: health checks, like AWS's, test
/// that the target answers, not who it is. `None` only if the crypto provider offers no
/// protocol version, in which case HTTPS checks fail with that reason.
pub fn insecure_tls() -> Option<Arc<tokio_rustls::rustls::ClientConfig>> {
    match causeway_link::tls::accept_any_certificate() {
        Ok(config) => Some(Arc::new(config)),
        Err(error) => {
            tracing::error!(%error, "no TLS configuration for HTTPS health checks");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(healthy: u32, unhealthy: u32) -> HealthCheck {
        HealthCheck {
            healthy_threshold: healthy,
            unhealthy_threshold: unhealthy,
            ..HealthCheck::defaults("TCP")
        }
    }

    #[test]
    fn thresholds_decide_transitions() {
        let check = check(3, 2);
        let mut health = Health::initial();
        health.record(&Probe::Success, &check);
        health.record(&Probe::Success, &check);
        assert_eq!(health.state, TargetHealthState::Initial);
        health.record(&Probe::Success, &check);
        assert_eq!(health.state, TargetHealthState::Healthy);
        health.record(&Probe::Timeout, &check);
        assert_eq!(
            health.state,
            TargetHealthState::Healthy,
            "one failure is not enough"
        );
        health.record(&Probe::Success, &check);
        health.record(&Probe::Timeout, &check);
        assert_eq!(
            health.state,
            TargetHealthState::Healthy,
            "failures must be consecutive"
        );
        health.record(&Probe::Timeout, &check);
        assert_eq!(health.state, TargetHealthState::Unhealthy);
        assert_eq!(health.reason, Some("Target.Timeout"));
        health.record(&Probe::CodeMismatch(503), &check);
        assert_eq!(health.reason, Some("Target.ResponseCodeMismatch"));
        for _ in 0..3 {
            health.record(&Probe::Success, &check);
        }
        assert_eq!(health.state, TargetHealthState::Healthy);
        assert_eq!(health.reason, None);
    }

    #[test]
    fn matchers() {
        assert!(matches("200-399", 302));
        assert!(!matches("200-399", 404));
        assert!(matches("200,202", 202));
        assert!(!matches("200,202", 201));
        assert!(matches("200", 200));
        assert!(!matches("garbage", 200));
    }
}
