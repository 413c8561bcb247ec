//! ARNs: the apigateway resource ARNs used for tagging, and the load balancer ARNs a VPC link
//! targets.

/// A taggable apigateway resource named by an ARN
/// (`arn:aws:apigateway:{region}::/restapis/{id}` and friends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagTarget {
    /// `/restapis/{id}`
    RestApi(String),
    /// `/restapis/{id}/stages/{stage}`
    Stage(String, String),
    /// `/vpclinks/{id}`
    VpcLink(String),
    /// `/apikeys/{id}`
    ApiKey(String),
    /// `/usageplans/{id}`
    UsagePlan(String),
    /// `/domainnames/{name}`
    DomainName(String),
    /// `/clientcertificates/{id}`
    ClientCertificate(String),
}

/// Parses an apigateway resource ARN. The region is not checked, as callers build ARNs from
/// their own configuration and a mismatch only means "not found".
pub fn parse_tag_target(arn: &str) -> Option<TagTarget> {
    let rest = arn.strip_prefix("arn:")?;
    let mut parts = rest.splitn(5, ':');
    let _partition = parts.next()?;
    if parts.next()? != "apigateway" {
        return None;
    }
    let _region = parts.next()?;
    let _account = parts.next()?;
    let path = parts.next()?;
    let segments: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
    match segments.as_slice() {
        ["restapis", id] if !id.is_empty() => Some(TagTarget::RestApi((*id).to_owned())),
        ["restapis", id, "stages", stage] if !id.is_empty() && !stage.is_empty() => {
            Some(TagTarget::Stage((*id).to_owned(), (*stage).to_owned()))
        }
        ["vpclinks", id] if !id.is_empty() => Some(TagTarget::VpcLink((*id).to_owned())),
        ["apikeys", id] if !id.is_empty() => Some(TagTarget::ApiKey((*id).to_owned())),
        ["usageplans", id] if !id.is_empty() => Some(TagTarget::UsagePlan((*id).to_owned())),
        ["domainnames", name] if !name.is_empty() => {
            Some(TagTarget::DomainName(name.to_ascii_lowercase()))
        }
        ["clientcertificates", id] if !id.is_empty() => {
            Some(TagTarget::ClientCertificate((*id).to_owned()))
        }
        _ => None,
    }
}

/// The parts of an Elastic Load Balancing load balancer ARN
/// (`arn:aws:elasticloadbalancing:{region}:{account}:loadbalancer/{net|app}/{name}/{id}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadBalancerArn {
    pub region: String,
    pub account: String,
    /// `net` for a network load balancer, `app` for an application one.
    pub kind: String,
    pub name: String,
    pub id: String,
}

/// Parses a load balancer ARN; `None` when it is not well formed.
pub fn parse_load_balancer_arn(arn: &str) -> Option<LoadBalancerArn> {
    let rest = arn.strip_prefix("arn:")?;
    let mut parts = rest.splitn(5, ':');
    let partition = parts.next()?;
    if partition.is_empty() || parts.next()? != "elasticloadbalancing" {
        return None;
    }
    let region = parts.next()?;
    let account = parts.next()?;
    let resource = parts.next()?;
    let segments: Vec<&str> = resource.split('/').collect();
    match segments.as_slice() {
        ["loadbalancer", kind, name, id]
            if !region.is_empty()
                && !account.is_empty()
                && !name.is_empty()
                && !id.is_empty()
                && id.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            Some(LoadBalancerArn {
                region: region.to_owned(),
                account: account.to_owned(),
                kind: (*kind).to_owned(),
                name: (*name).to_owned(),
                id: (*id).to_owned(),
            })
        }
        _ => None,
    }
}

/// What an Elastic Load Balancing ARN names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElbResourceKind {
    /// `loadbalancer/{net|app|gwy}/{name}/{id}`
    LoadBalancer,
    /// `targetgroup/{name}/{id}`
    TargetGroup,
    /// `listener/{net|app|gwy}/{lbName}/{lbId}/{id}`
    Listener,
    /// `listener-rule/...` (listener rules, which network load balancers do not have)
    ListenerRule,
}

/// Tells which kind of Elastic Load Balancing resource a well-formed ARN names; `None` when
/// it is not an `elasticloadbalancing` ARN of one of those shapes.
pub fn parse_elb_arn(arn: &str) -> Option<ElbResourceKind> {
    let rest = arn.strip_prefix("arn:")?;
    let mut parts = rest.splitn(5, ':');
    let partition = parts.next()?;
    if partition.is_empty() || parts.next()? != "elasticloadbalancing" {
        return None;
    }
    let region = parts.next()?;
    let account = parts.next()?;
    let resource = parts.next()?;
    if region.is_empty() || account.is_empty() {
        return None;
    }
    let segments: Vec<&str> = resource.split('/').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return None;
    }
    let hex_id = |id: &str| id.chars().all(|c| c.is_ascii_alphanumeric());
    match segments.as_slice() {
        ["loadbalancer", _, _, id] if hex_id(id) => Some(ElbResourceKind::LoadBalancer),
        ["targetgroup", _, id] if hex_id(id) => Some(ElbResourceKind::TargetGroup),
        ["listener", _, _, _, id] if hex_id(id) => Some(ElbResourceKind::Listener),
        ["listener-rule", _, _, _, _, id] if hex_id(id) => Some(ElbResourceKind::ListenerRule),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_targets() {
        assert_eq!(
            parse_tag_target("arn:aws:apigateway:us-east-1::/restapis/abc"),
            Some(TagTarget::RestApi("abc".into()))
        );
        assert_eq!(
            parse_tag_target("arn:aws:apigateway:us-east-1::/restapis/abc/stages/prod"),
            Some(TagTarget::Stage("abc".into(), "prod".into()))
        );
        assert_eq!(
            parse_tag_target("arn:aws:apigateway:us-east-1::/restapis/"),
            None
        );
        assert_eq!(parse_tag_target("arn:aws:s3:::bucket"), None);
        assert_eq!(parse_tag_target("nonsense"), None);
    }

    #[test]
    fn elb_arns() {
        let p = "arn:aws:elasticloadbalancing:us-east-1:000000000000";
        assert_eq!(
            parse_elb_arn(&format!("{p}:loadbalancer/net/a/0123456789abcdef")),
            Some(ElbResourceKind::LoadBalancer)
        );
        assert_eq!(
            parse_elb_arn(&format!("{p}:targetgroup/tg/0123456789abcdef")),
            Some(ElbResourceKind::TargetGroup)
        );
        assert_eq!(
            parse_elb_arn(&format!(
                "{p}:listener/net/a/0123456789abcdef/fedcba9876543210"
            )),
            Some(ElbResourceKind::Listener)
        );
        assert_eq!(parse_elb_arn(&format!("{p}:targetgroup/tg")), None);
        assert_eq!(parse_elb_arn(&format!("{p}:targetgroup//x")), None);
        assert_eq!(parse_elb_arn("tg-name"), None);
    }

    #[test]
    fn load_balancer_arns() {
        let arn = parse_load_balancer_arn(
            "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/net/my-nlb/0123456789abcdef",
        );
        assert_eq!(
            arn.map(|a| (a.kind, a.name)),
            Some(("net".into(), "my-nlb".into()))
        );
        assert!(parse_load_balancer_arn("not-an-arn").is_none());
        assert!(
            parse_load_balancer_arn("arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/x/1")
                .is_none()
        );
    }
}
