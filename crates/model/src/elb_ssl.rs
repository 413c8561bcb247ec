//! The TLS security policies of Elastic Load Balancing (DescribeSSLPolicies): each policy's
//! protocols and ciphers in priority order, as AWS lists them.
//!
//! The table is data (`elb_ssl_policies.json`, in the order DescribeSSLPolicies answers),
//! read once. Its sources: the policies and cipher orders AWS's API has answered (the 2016
//! to 2021 policies), and the Network Load Balancer guide's tables for the FIPS and
//! post-quantum policies, whose cipher order follows the tables' rows.

use std::sync::OnceLock;

use serde::Deserialize;

/// The security policy TLS listeners get when none is given.
pub const DEFAULT_SSL_POLICY: &str = "ELBSecurityPolicy-2016-08";

/// One security policy.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SslPolicy {
    pub name: String,
    /// `TLSv1`, `TLSv1.1`, `TLSv1.2`, `TLSv1.3`, lowest first.
    pub ssl_protocols: Vec<String>,
    /// OpenSSL cipher names (IANA names for TLS 1.3 suites), the first preferred: the
    /// first has priority 1.
    pub ciphers: Vec<String>,
    /// `application`, `network`.
    pub supported_load_balancer_types: Vec<String>,
}

/// Every policy, in the order DescribeSSLPolicies lists them.
pub fn all() -> &'static [SslPolicy] {
    static POLICIES: OnceLock<Vec<SslPolicy>> = OnceLock::new();
    POLICIES.get_or_init(|| {
        // The table is part of the source and a test reads it: it cannot fail here.
        serde_json::from_str(include_str!("elb_ssl_policies.json")).unwrap_or_default()
    })
}

/// The policy named `name` (names are case-sensitive, as on AWS).
pub fn find(name: &str) -> Option<&'static SslPolicy> {
    all().iter().find(|policy| policy.name == name)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_table_reads_and_holds_together() {
        let policies = all();
        assert_eq!(policies.len(), 46);
        assert_eq!(policies[0].name, DEFAULT_SSL_POLICY);
        let default = find(DEFAULT_SSL_POLICY).unwrap();
        assert_eq!(default.ssl_protocols, ["TLSv1", "TLSv1.1", "TLSv1.2"]);
        assert_eq!(default.ciphers.len(), 18);
        assert_eq!(default.ciphers[0], "ECDHE-ECDSA-AES128-GCM-SHA256");
        let only_13 = find("ELBSecurityPolicy-TLS13-1-3-2021-06").unwrap();
        assert_eq!(only_13.ssl_protocols, ["TLSv1.3"]);
        assert!(find("elbsecuritypolicy-2016-08").is_none());
        let known = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];
        for policy in policies {
            assert!(!policy.ciphers.is_empty(), "{}", policy.name);
            assert!(
                policy
                    .ssl_protocols
                    .iter()
                    .all(|p| known.contains(&p.as_str())),
                "{}",
                policy.name
            );
            // TLS 1.3 suites appear exactly when the policy allows TLS 1.3.
            let tls13 = policy.ciphers.iter().any(|c| c.starts_with("TLS_"));
            assert_eq!(
                tls13,
                policy.ssl_protocols.iter().any(|p| p == "TLSv1.3"),
                "{}",
                policy.name
            );
            assert!(
                policy
                    .supported_load_balancer_types
                    .iter()
                    .any(|t| t == "network"),
                "{}",
                policy.name
            );
            let mut unique = policy.ciphers.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(unique.len(), policy.ciphers.len(), "{}", policy.name);
        }
        let mut names: Vec<&str> = policies.iter().map(|p| p.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), policies.len());
    }
}
