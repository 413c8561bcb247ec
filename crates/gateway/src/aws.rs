//! Where AWS integrations call AWS services other than Lambda (`--aws-endpoint`), and the
//! credentials their requests are signed with.
//!
//! One endpoint can serve every service (LocalStack, moto's server: they tell services
//! apart by the signature's scope), and a service can have its own (`sqs=URL` for
//! ElasticMQ, `dynamodb=URL` for DynamoDB Local). Requests are signed with SigV4 by the AWS
//! SDKs' own signer (`aws-sigv4`), for the uri's region and service.

use std::collections::BTreeMap;
use std::time::SystemTime;

use crate::endpoint::HttpUrl;

/// Credentials AWS integrations sign with.
#[derive(Clone, PartialEq, Eq)]
pub struct AwsCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

impl AwsCredentials {
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, as the AWS SDKs
    /// read them; `None` without the first two.
    pub fn from_environment() -> Option<AwsCredentials> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Some(AwsCredentials {
            access_key_id: var("AWS_ACCESS_KEY_ID")?,
            secret_access_key: var("AWS_SECRET_ACCESS_KEY")?,
            session_token: var("AWS_SESSION_TOKEN"),
        })
    }

    /// The credentials AWS emulators take by convention (`test`/`test`), for a server
    /// started without any: the emulators read the service from the signature, so an
    /// unsigned request would reach the wrong one.
    pub fn emulator() -> AwsCredentials {
        AwsCredentials {
            access_key_id: "test".to_owned(),
            secret_access_key: "test".to_owned(),
            session_token: None,
        }
    }
}

/// The endpoints AWS services are called at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsServices {
    default: Option<HttpUrl>,
    services: BTreeMap<String, HttpUrl>,
    credentials: AwsCredentials,
}

impl AwsServices {
    pub fn new(credentials: AwsCredentials) -> AwsServices {
        AwsServices {
            default: None,
            services: BTreeMap::new(),
            credentials,
        }
    }

    /// Reads one `--aws-endpoint` value: `URL` (every service) or `SERVICE=URL` (one
    /// service, by its endpoint prefix as integration uris name it: `sqs`, `dynamodb`,
    /// `states`, ...).
    pub fn add(&mut self, spec: &str) -> Result<(), String> {
        let (service, url) = match spec.split_once('=') {
            Some((service, url)) if !service.contains('/') => (Some(service.trim()), url),
            _ => (None, spec),
        };
        let url = HttpUrl::parse(url.trim()).map_err(|why| {
            format!("{why}: give URL or SERVICE=URL, such as http://localhost:4566 or sqs=http://localhost:9324")
        })?;
        match service {
            None => self.default = Some(url),
            Some(service)
                if !service.is_empty()
                    && service
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.') =>
            {
                self.services.insert(service.to_ascii_lowercase(), url);
            }
            Some(service) => {
                return Err(format!(
                    "'{service}' is not a service's endpoint prefix (such as sqs, dynamodb or states)"
                ));
            }
        }
        Ok(())
    }

    /// Gives `service` this endpoint unless it has one of its own already.
    pub fn set_if_absent(&mut self, service: &str, url: HttpUrl) {
        self.services.entry(service.to_owned()).or_insert(url);
    }

    /// Where `service` is called.
    pub fn endpoint(&self, service: &str) -> Option<&HttpUrl> {
        self.services.get(service).or(self.default.as_ref())
    }

    pub fn credentials(&self) -> &AwsCredentials {
        &self.credentials
    }
}

/// A request to sign.
#[derive(Debug)]
pub struct Unsigned<'a> {
    pub method: &'a str,
    /// The whole URL: `http[s]://authority/path?query`.
    pub url: &'a str,
    /// The headers to sign besides `host` (which the URL gives).
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
    pub region: &'a str,
    pub service: &'a str,
    /// S3's rules: paths encoded once and not normalised, `x-amz-content-sha256` sent.
    pub s3: bool,
}

/// The headers that sign `request` with SigV4 (`authorization`, `x-amz-date`, and
/// `x-amz-security-token` and `x-amz-content-sha256` where they apply).
pub fn sign(
    request: &Unsigned<'_>,
    credentials: &AwsCredentials,
) -> Result<Vec<(&'static str, String)>, String> {
    use aws_sigv4::http_request::{
        PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
        UriPathNormalizationMode,
    };
    let identity = aws_credential_types::Credentials::new(
        &credentials.access_key_id,
        &credentials.secret_access_key,
        credentials.session_token.clone(),
        None,
        "causeway",
    )
    .into();
    let mut settings = SigningSettings::default();
    if request.s3 {
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    }
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(request.region)
        .name(request.service)
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .map_err(|e| format!("cannot sign the request: {e}"))?
        .into();
    let signable = SignableRequest::new(
        request.method,
        request.url,
        request.headers.iter().copied(),
        SignableBody::Bytes(request.body),
    )
    .map_err(|e| format!("cannot sign the request: {e}"))?;
    let (instructions, _) = aws_sigv4::http_request::sign(signable, &params)
        .map_err(|e| format!("cannot sign the request: {e}"))?
        .into_parts();
    let (headers, _) = instructions.into_parts();
    Ok(headers
        .into_iter()
        .map(|header| (header.name(), header.value().to_owned()))
        .collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_per_service_or_for_all() {
        let mut services = AwsServices::new(AwsCredentials::emulator());
        assert_eq!(services.endpoint("sqs"), None);
        services.add("http://localhost:4566").unwrap();
        services.add("sqs=http://127.0.0.1:9324/").unwrap();
        services.set_if_absent("sqs", HttpUrl::parse("http://other:1").unwrap());
        services.set_if_absent("s3", HttpUrl::parse("http://minio:9000").unwrap());
        assert_eq!(
            services.endpoint("sqs").map(HttpUrl::to_text).as_deref(),
            Some("http://127.0.0.1:9324")
        );
        assert_eq!(
            services.endpoint("s3").map(HttpUrl::to_text).as_deref(),
            Some("http://minio:9000")
        );
        assert_eq!(
            services
                .endpoint("dynamodb")
                .map(HttpUrl::to_text)
                .as_deref(),
            Some("http://localhost:4566")
        );
        for bad in [
            "localhost:4566",
            "sqs=",
            "s q s=http://x",
            "=http://x",
            "ftp://x",
        ] {
            assert!(services.add(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn signatures_verify_as_aws_checks_them() {
        let credentials = AwsCredentials {
            access_key_id: "AKIDEXAMPLE".to_owned(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_owned(),
            session_token: Some("token".to_owned()),
        };
        let identity = causeway_sigv4::Identity::new(
            "default",
            (
                "AKIDEXAMPLE",
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                Some("token"),
            ),
            "arn:aws:iam::000000000000:user/gateway",
            None,
        )
        .unwrap();
        let body = br#"{"TableName":"t"}"#;
        let mut headers = vec![
            ("content-type", "application/x-amz-json-1.0".to_owned()),
            ("x-amz-target", "DynamoDB_20120810.PutItem".to_owned()),
        ];
        let borrowed: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let signature = sign(
            &Unsigned {
                method: "POST",
                url: "http://localhost:4566/?Action=PutItem",
                headers: &borrowed,
                body,
                region: "eu-west-1",
                service: "dynamodb",
                s3: false,
            },
            &credentials,
        )
        .unwrap();
        headers.extend(signature);
        headers.push(("host", "localhost:4566".to_owned()));
        let request = causeway_sigv4::Request {
            method: "POST",
            path: "/",
            query: "Action=PutItem",
            headers: headers.iter().map(|(n, v)| (*n, v.as_bytes())).collect(),
        };
        let parsed = causeway_sigv4::parse(&request).unwrap();
        assert_eq!(parsed.scope(), {
            let date = &parsed.timestamp[..8];
            format!("{date}/eu-west-1/dynamodb/aws4_request")
        });
        causeway_sigv4::verify(
            &request,
            &parsed,
            &identity,
            &causeway_sigv4::payload_hash(body),
        )
        .unwrap();
        // The target is signed: another one does not verify, nor does another body.
        let mut other = request.clone();
        for header in &mut other.headers {
            if header.0 == "x-amz-target" {
                header.1 = b"DynamoDB_20120810.DeleteTable";
            }
        }
        assert!(
            causeway_sigv4::verify(
                &other,
                &parsed,
                &identity,
                &causeway_sigv4::payload_hash(body)
            )
            .is_err()
        );
        assert!(
            causeway_sigv4::verify(
                &request,
                &parsed,
                &identity,
                &causeway_sigv4::payload_hash(b"{}"),
            )
            .is_err()
        );

        let s3 = sign(
            &Unsigned {
                method: "GET",
                url: "http://localhost:4566/bucket/a%20b",
                headers: &[],
                body: b"",
                region: "us-east-1",
                service: "s3",
                s3: true,
            },
            &credentials,
        )
        .unwrap();
        assert!(s3.iter().any(|(name, _)| *name == "x-amz-content-sha256"));
    }
}
