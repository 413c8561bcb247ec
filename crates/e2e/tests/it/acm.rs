//! AWS Certificate Manager on the management endpoint (JSON 1.1, `X-Amz-Target:
//! CertificateManager.*`): certificates imported, described, listed, re-imported, tagged and
//! deleted as ACM does it, with the blobs base64-encoded as the SDKs send them. Serving them
//! for custom domains is in `gateway::https`.

use base64::Engine as _;
use serde_json::{Value, json};

use crate::harness::*;

pub const RSA_PEM: &str = include_str!("../fixtures/acm-rsa2048.pem");
pub const RSA_KEY: &str = include_str!("../fixtures/acm-rsa2048.key");

/// Calls an ACM operation; returns the status and the JSON answer.
pub async fn acm(server: &TestServer, operation: &str, body: Value) -> (u16, Value) {
    json11(server, &format!("CertificateManager.{operation}"), body).await
}

pub async fn acm_ok(server: &TestServer, operation: &str, body: Value) -> Value {
    let (status, answer) = acm(server, operation, body).await;
    assert_eq!(status, 200, "{operation}: {answer}");
    answer
}

/// Calls an ACM operation that must fail with `code`; returns the message.
async fn acm_err(server: &TestServer, operation: &str, body: Value, code: &str) -> String {
    let (status, answer) = acm(server, operation, body).await;
    assert_eq!(
        (status, answer["__type"].as_str()),
        (400, Some(code)),
        "{operation}: {answer}"
    );
    answer["message"].as_str().unwrap_or_default().to_owned()
}

/// Calls an ACM operation that must fail with `code` and a message containing `part`.
async fn refused(server: &TestServer, operation: &str, body: Value, code: &str, part: &str) {
    let message = acm_err(server, operation, body, code).await;
    assert!(
        message.contains(part),
        "{operation}: {message} should contain {part}"
    );
}

/// Requests a certificate; returns its ARN.
async fn requested(server: &TestServer, body: Value) -> String {
    acm_ok(server, "RequestCertificate", body).await["CertificateArn"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// A CA made for the test, and a leaf for `names` it signed: (CA PEM, leaf PEM, key PEM).
pub fn issued(ca_name: &str, names: &[&str]) -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::new()).unwrap();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, ca_name);
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>()).unwrap();
    params.distinguished_name.push(DnType::CommonName, names[0]);
    let leaf = params.signed_by(&key, &ca, &ca_key).unwrap();
    (ca.pem(), leaf.pem(), key.serialize_pem())
}

/// Imports a certificate (and its chain); returns its ARN.
pub async fn import(
    server: &TestServer,
    certificate: &str,
    key: &str,
    chain: Option<&str>,
) -> String {
    let mut body = json!({"Certificate": b64(certificate), "PrivateKey": b64(key)});
    if let Some(chain) = chain {
        body["CertificateChain"] = json!(b64(chain));
    }
    acm_ok(server, "ImportCertificate", body).await["CertificateArn"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn certificates_are_imported_described_and_listed_as_acm_does() {
    let server = TestServer::start().await;
    let answer = acm_ok(
        &server,
        "ImportCertificate",
        json!({"Certificate": b64(RSA_PEM), "PrivateKey": b64(RSA_KEY),
               "Tags": [{"Key": "team", "Value": "edge"}]}),
    )
    .await;
    let rsa = answer["CertificateArn"].as_str().unwrap().to_owned();
    let id = rsa
        .strip_prefix("arn:aws:acm:us-east-1:000000000000:certificate/")
        .unwrap();
    assert_eq!(id.len(), 36, "a UUID: {id}");

    let described = acm_ok(
        &server,
        "DescribeCertificate",
        json!({"CertificateArn": rsa}),
    )
    .await;
    let c = &described["Certificate"];
    assert_eq!(c["CertificateArn"], rsa.as_str());
    assert_eq!(c["DomainName"], "api.example.com");
    assert_eq!(
        c["SubjectAlternativeNames"],
        json!(["api.example.com", "*.api.example.com"])
    );
    assert_eq!(c["Type"], "IMPORTED");
    assert_eq!(c["Status"], "ISSUED");
    assert_eq!(c["KeyAlgorithm"], "RSA_2048");
    assert_eq!(c["SignatureAlgorithm"], "SHA256WITHRSA");
    assert_eq!(c["Subject"], "CN=api.example.com,O=Example Corp,C=US");
    assert_eq!(
        c["Serial"],
        "2c:2d:43:c6:07:a7:5a:e2:da:55:50:49:54:9b:02:22:3b:ea:71:07"
    );
    assert_eq!(c["NotBefore"], 1_795_795_230);
    assert_eq!(c["NotAfter"], 4_949_395_230_i64);
    assert!(c["ImportedAt"].as_i64().unwrap() > 1_795_795_230);
    assert_eq!(c["InUseBy"], json!([]));
    assert_eq!(
        c["KeyUsages"],
        json!([{"Name": "DIGITAL_SIGNATURE"}, {"Name": "KEY_ENCIPHERMENT"}])
    );
    assert_eq!(
        c["ExtendedKeyUsages"],
        json!([{"Name": "TLS_WEB_SERVER_AUTHENTICATION", "OID": "1.3.6.1.5.5.7.3.1"}])
    );
    let got = acm_ok(&server, "GetCertificate", json!({"CertificateArn": rsa})).await;
    assert_eq!(got["Certificate"], RSA_PEM);
    assert!(got.get("CertificateChain").is_none());

    // An EC certificate with its chain: ListCertificates shows RSA 1024/2048 keys unless
    // asked for other key types, as ACM does.
    let (ca, leaf, key) = issued("test CA", &["shop.example.com"]);
    let ec = import(&server, &leaf, &key, Some(&ca)).await;
    let got = acm_ok(&server, "GetCertificate", json!({"CertificateArn": ec})).await;
    assert_eq!(got["CertificateChain"], ca.as_str());
    let listed = acm_ok(&server, "ListCertificates", json!({})).await;
    let arns: Vec<&str> = listed["CertificateSummaryList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["CertificateArn"].as_str().unwrap())
        .collect();
    assert_eq!(arns, [rsa.as_str()]);
    let summary = &listed["CertificateSummaryList"][0];
    assert_eq!(summary["DomainName"], "api.example.com");
    assert_eq!(summary["InUse"], false);
    assert_eq!(
        summary["KeyUsages"],
        json!(["DIGITAL_SIGNATURE", "KEY_ENCIPHERMENT"])
    );
    let both = json!({"Includes": {"keyTypes": ["RSA_2048", "EC_prime256v1"]}, "MaxItems": 1});
    let first = acm_ok(&server, "ListCertificates", both.clone()).await;
    assert_eq!(
        first["CertificateSummaryList"][0]["CertificateArn"],
        rsa.as_str()
    );
    let token = first["NextToken"].as_str().unwrap();
    let mut next = both.clone();
    next["NextToken"] = json!(token);
    let second = acm_ok(&server, "ListCertificates", next).await;
    assert_eq!(
        second["CertificateSummaryList"][0]["CertificateArn"],
        ec.as_str()
    );
    assert_eq!(
        second["CertificateSummaryList"][0]["KeyAlgorithm"],
        "EC_prime256v1"
    );
    assert!(second.get("NextToken").is_none());
    let expired = acm_ok(
        &server,
        "ListCertificates",
        json!({"CertificateStatuses": ["EXPIRED"], "Includes": {"keyTypes": ["RSA_2048", "EC_prime256v1"]}}),
    )
    .await;
    assert_eq!(expired["CertificateSummaryList"], json!([]));

    // Tags.
    acm_ok(
        &server,
        "AddTagsToCertificate",
        json!({"CertificateArn": rsa, "Tags": [{"Key": "tier", "Value": "1"}]}),
    )
    .await;
    acm_ok(
        &server,
        "RemoveTagsFromCertificate",
        json!({"CertificateArn": rsa, "Tags": [{"Key": "team", "Value": "not-edge"}, {"Key": "tier"}]}),
    )
    .await;
    let tags = acm_ok(
        &server,
        "ListTagsForCertificate",
        json!({"CertificateArn": rsa}),
    )
    .await;
    assert_eq!(tags["Tags"], json!([{"Key": "team", "Value": "edge"}]));

    // Re-import: same ARN, the new certificate.
    let (_, leaf2, key2) = issued("another CA", &["api.example.com"]);
    let again = acm_ok(
        &server,
        "ImportCertificate",
        json!({"CertificateArn": rsa, "Certificate": b64(&leaf2), "PrivateKey": b64(&key2)}),
    )
    .await;
    assert_eq!(again["CertificateArn"], rsa.as_str());
    let got = acm_ok(&server, "GetCertificate", json!({"CertificateArn": rsa})).await;
    assert_eq!(got["Certificate"], leaf2.as_str());
    let c = &acm_ok(
        &server,
        "DescribeCertificate",
        json!({"CertificateArn": rsa}),
    )
    .await["Certificate"];
    assert_eq!(c["KeyAlgorithm"], "EC_prime256v1");
    assert_eq!(c["Issuer"], "CN=another CA");

    // Kept across a restart.
    let mut server = server;
    server.restart().await;
    let got = acm_ok(&server, "GetCertificate", json!({"CertificateArn": rsa})).await;
    assert_eq!(got["Certificate"], leaf2.as_str());
    let tags = acm_ok(
        &server,
        "ListTagsForCertificate",
        json!({"CertificateArn": rsa}),
    )
    .await;
    assert_eq!(tags["Tags"], json!([{"Key": "team", "Value": "edge"}]));

    // A certificate a domain name uses cannot be deleted.
    let client = server.client();
    create_regional_domain(&client, "shop.example.com", &ec).await;
    let c = &acm_ok(
        &server,
        "DescribeCertificate",
        json!({"CertificateArn": ec}),
    )
    .await["Certificate"];
    assert_eq!(
        c["InUseBy"],
        json!(["arn:aws:apigateway:us-east-1::/domainnames/shop.example.com"])
    );
    let message = acm_err(
        &server,
        "DeleteCertificate",
        json!({"CertificateArn": ec}),
        "ResourceInUseException",
    )
    .await;
    assert!(message.contains("shop.example.com"), "{message}");
    client
        .delete_domain_name()
        .domain_name("shop.example.com")
        .send()
        .await
        .unwrap();
    acm_ok(&server, "DeleteCertificate", json!({"CertificateArn": ec})).await;
    let message = acm_err(
        &server,
        "DescribeCertificate",
        json!({"CertificateArn": ec}),
        "ResourceNotFoundException",
    )
    .await;
    assert_eq!(message, format!("Could not find certificate {ec}."));
}

#[tokio::test]
async fn imports_acm_would_refuse_are_refused_and_nothing_is_kept() {
    let server = TestServer::start().await;
    let (_, leaf, key) = issued("test CA", &["a.example.com"]);
    let (_, _, other_key) = issued("test CA", &["b.example.com"]);
    let cases = [
        (
            json!({"Certificate": b64(&leaf), "PrivateKey": b64(&other_key)}),
            "ValidationException",
            "The private key does not match the certificate.",
        ),
        (
            json!({"Certificate": b64(&format!("{leaf}{leaf}")), "PrivateKey": b64(&key)}),
            "ValidationException",
            "The certificate field contains more than one certificate. You can specify only one certificate in this field.",
        ),
        (
            json!({"Certificate": b64("not a certificate"), "PrivateKey": b64(&key)}),
            "ValidationException",
            "The certificate is not PEM-encoded or is not valid.",
        ),
        (
            json!({"Certificate": b64(&leaf), "PrivateKey": b64("no key")}),
            "ValidationException",
            "The private key is not PEM-encoded or is not valid.",
        ),
        (
            json!({"Certificate": b64(&leaf)}),
            "ValidationException",
            "1 validation error detected: Value null at 'privateKey' failed to satisfy constraint: Member must not be null",
        ),
        (
            json!({"Certificate": b64(&leaf), "PrivateKey": b64(&key),
                   "Tags": [{"Key": "aws:owner", "Value": "x"}]}),
            "InvalidTagException",
            "",
        ),
        // A key the TLS library cannot sign with (RSA under 2,048 bits).
        (
            json!({"Certificate": b64(include_str!("../fixtures/acm-rsa1024.pem")),
                   "PrivateKey": b64(include_str!("../fixtures/acm-rsa1024.key"))}),
            "ValidationException",
            "The private key is not supported. Use an unencrypted RSA (2048 to 4096 bits) or EC (P-256, P-384) key in PEM.",
        ),
    ];
    for (body, code, message) in cases {
        let said = acm_err(&server, "ImportCertificate", body.clone(), code).await;
        if !message.is_empty() {
            assert_eq!(said, message, "{body}");
        }
    }
    let arn = import(&server, &leaf, &key, None).await;
    assert!(
        acm_err(
            &server,
            "ImportCertificate",
            json!({"CertificateArn": arn, "Certificate": b64(&leaf), "PrivateKey": b64(&key),
                   "Tags": [{"Key": "a", "Value": "b"}]}),
            "ValidationException",
        )
        .await
        .contains("tags when reimporting")
    );
    let missing =
        "arn:aws:acm:us-east-1:000000000000:certificate/00000000-0000-0000-0000-000000000000";
    acm_err(
        &server,
        "ImportCertificate",
        json!({"CertificateArn": missing, "Certificate": b64(&leaf), "PrivateKey": b64(&key)}),
        "ResourceNotFoundException",
    )
    .await;
    acm_err(
        &server,
        "DescribeCertificate",
        json!({"CertificateArn": "not-an-arn"}),
        "InvalidArnException",
    )
    .await;
    for bad in [
        json!({"MaxItems": 0}),
        json!({"SortBy": "NAME"}),
        json!({"CertificateStatuses": ["GONE"]}),
    ] {
        acm_err(&server, "ListCertificates", bad, "ValidationException").await;
    }
    let all = acm_ok(
        &server,
        "ListCertificates",
        json!({"Includes": {"keyTypes": ["EC_prime256v1"]}}),
    )
    .await;
    assert_eq!(all["CertificateSummaryList"].as_array().unwrap().len(), 1);
}

/// RequestCertificate issues a certificate at once, signed by the server's own authority,
/// with the validation records ACM would ask for, and ACM's idempotency and checks.
#[tokio::test]
async fn requested_certificates_are_issued_by_the_server_authority() {
    let mut server = TestServer::start().await;
    let arn = requested(
        &server,
        json!({"DomainName": "example.com", "SubjectAlternativeNames": ["*.example.com", "api.example.org"],
               "ValidationMethod": "DNS", "IdempotencyToken": "deploy_1",
               "Tags": [{"Key": "team", "Value": "edge"}]}),
    )
    .await;
    assert!(
        arn.starts_with("arn:aws:acm:us-east-1:000000000000:certificate/"),
        "{arn}"
    );
    // The same idempotency token answers the same certificate.
    let again = acm_ok(
        &server,
        "RequestCertificate",
        json!({"DomainName": "example.com", "ValidationMethod": "DNS", "IdempotencyToken": "deploy_1"}),
    )
    .await;
    assert_eq!(again["CertificateArn"], arn.as_str());

    let described = acm_ok(
        &server,
        "DescribeCertificate",
        json!({"CertificateArn": arn}),
    )
    .await;
    let c = &described["Certificate"];
    assert_eq!(c["Type"], "AMAZON_ISSUED", "{c}");
    assert_eq!(c["Status"], "ISSUED");
    assert_eq!(c["DomainName"], "example.com");
    assert_eq!(
        c["SubjectAlternativeNames"],
        json!(["example.com", "*.example.com", "api.example.org"])
    );
    assert_eq!(c["KeyAlgorithm"], "RSA_2048");
    assert_eq!(c["Issuer"], "CN=Causeway ACM Root CA,O=Causeway");
    assert!(c.get("ImportedAt").is_none(), "{c}");
    assert!(
        c["IssuedAt"].is_number() && c["CreatedAt"].is_number(),
        "{c}"
    );
    assert!(
        c["NotAfter"].as_i64().unwrap() - c["NotBefore"].as_i64().unwrap() == 395 * 86_400,
        "{c}"
    );
    assert_eq!(
        c["Options"],
        json!({"CertificateTransparencyLoggingPreference": "ENABLED", "Export": "DISABLED"})
    );
    let options = c["DomainValidationOptions"].as_array().unwrap();
    assert_eq!(options.len(), 3, "{c}");
    for option in options {
        assert_eq!(option["ValidationStatus"], "SUCCESS");
        assert_eq!(option["ValidationMethod"], "DNS");
        assert_eq!(option["ResourceRecord"]["Type"], "CNAME");
        let name = option["ResourceRecord"]["Name"].as_str().unwrap();
        let value = option["ResourceRecord"]["Value"].as_str().unwrap();
        assert!(
            name.starts_with('_')
                && name.ends_with(&format!(
                    ".{}.",
                    option["ValidationDomain"].as_str().unwrap()
                )),
            "{option}"
        );
        assert!(value.ends_with(".acm-validations.aws."), "{option}");
    }
    // A wildcard is validated by its base name's record.
    assert_eq!(options[0]["ResourceRecord"], options[1]["ResourceRecord"]);
    assert_ne!(options[0]["ResourceRecord"], options[2]["ResourceRecord"]);

    // The chain is the authority, which signed the certificate.
    let got = acm_ok(&server, "GetCertificate", json!({"CertificateArn": arn})).await;
    let chain = got["CertificateChain"].as_str().unwrap().to_owned();
    assert!(chain.contains("BEGIN CERTIFICATE"), "{got}");
    let listed = acm_ok(&server, "ListCertificates", json!({})).await;
    let summary = &listed["CertificateSummaryList"][0];
    assert_eq!(summary["Type"], "AMAZON_ISSUED", "{listed}");
    assert_eq!(summary["ExportOption"], "DISABLED");
    let tags = acm_ok(
        &server,
        "ListTagsForCertificate",
        json!({"CertificateArn": arn}),
    )
    .await;
    assert_eq!(tags["Tags"], json!([{"Key": "team", "Value": "edge"}]));

    // EMAIL validation, and an EC key, which ListCertificates leaves out unless asked.
    let ec = requested(
        &server,
        json!({"DomainName": "mail.example.net", "KeyAlgorithm": "EC_prime256v1",
               "Options": {"CertificateTransparencyLoggingPreference": "DISABLED"}}),
    )
    .await;
    let described = acm_ok(
        &server,
        "DescribeCertificate",
        json!({"CertificateArn": ec}),
    )
    .await;
    let c = &described["Certificate"];
    assert_eq!(c["KeyAlgorithm"], "EC_prime256v1", "{c}");
    assert_eq!(c["DomainValidationOptions"][0]["ValidationMethod"], "EMAIL");
    assert_eq!(
        c["DomainValidationOptions"][0]["ValidationEmails"][0],
        "admin@mail.example.net"
    );
    assert_eq!(
        c["Options"]["CertificateTransparencyLoggingPreference"],
        "DISABLED"
    );
    let listed = acm_ok(&server, "ListCertificates", json!({})).await;
    assert_eq!(
        listed["CertificateSummaryList"].as_array().unwrap().len(),
        1
    );
    let listed = acm_ok(
        &server,
        "ListCertificates",
        json!({"Includes": {"keyTypes": ["EC_prime256v1"]}}),
    )
    .await;
    assert_eq!(
        listed["CertificateSummaryList"][0]["CertificateArn"],
        ec.as_str()
    );

    // What ACM refuses.
    for (body, part) in [
        (json!({}), "Value null at 'domainName'"),
        (
            json!({"DomainName": "-bad-.example.com"}),
            "at 'domainName' failed to satisfy constraint: Member must satisfy regular expression pattern",
        ),
        (json!({"DomainName": "localhost"}), "at 'domainName'"),
        (
            json!({"DomainName": "a.example.com", "SubjectAlternativeNames": ["ok.example.com", "bad name"]}),
            "at 'subjectAlternativeNames.2.member'",
        ),
        (
            json!({"DomainName": "a.example.com", "ValidationMethod": "PHONE"}),
            "[EMAIL, DNS, HTTP]",
        ),
        (
            json!({"DomainName": "a.example.com", "KeyAlgorithm": "RSA_8192"}),
            "at 'keyAlgorithm'",
        ),
        (
            json!({"DomainName": "a.example.com", "KeyAlgorithm": "RSA_4096"}),
            "not RSA_4096",
        ),
        (
            json!({"DomainName": "a.example.com", "IdempotencyToken": "not-a-word"}),
            "at 'idempotencyToken'",
        ),
        (
            json!({"DomainName": "a.example.com", "CertificateAuthorityArn":
            "arn:aws:acm-pca:us-east-1:000000000000:certificate-authority/x"}),
            "Private certificates",
        ),
    ] {
        let message = acm_err(&server, "RequestCertificate", body, "ValidationException").await;
        assert!(message.contains(part), "{message} should contain {part}");
    }
    refused(
        &server,
        "ImportCertificate",
        json!({"CertificateArn": arn, "Certificate": b64(RSA_PEM), "PrivateKey": b64(RSA_KEY)}),
        "ValidationException",
        "only imported certificates",
    )
    .await;

    // The authority is kept: after a restart, new certificates have the same chain.
    server.restart().await;
    let after = requested(&server, json!({"DomainName": "later.example.com"})).await;
    let got = acm_ok(&server, "GetCertificate", json!({"CertificateArn": after})).await;
    assert_eq!(got["CertificateChain"].as_str(), Some(chain.as_str()));
}

/// Runs `openssl` with `args` (off the test's thread).
async fn openssl(args: &[&str]) -> std::process::Output {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new("openssl")
            .args(args)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

/// ExportCertificate gives a certificate requested as exportable, its chain, and its key
/// encrypted with the caller's passphrase, which OpenSSL decrypts into the certificate's key.
#[tokio::test]
async fn exportable_certificates_come_out_with_their_key_encrypted() {
    let server = TestServer::start().await;
    let request = |export: &str, algorithm: &str| {
        json!({"DomainName": "export.example.com", "KeyAlgorithm": algorithm,
               "Options": {"Export": export}})
    };
    let dir = tempfile::tempdir().unwrap();
    for algorithm in ["RSA_2048", "EC_prime256v1"] {
        let arn = requested(&server, request("ENABLED", algorithm)).await;
        let exported = acm_ok(
            &server,
            "ExportCertificate",
            json!({"CertificateArn": arn, "Passphrase": b64("correct horse")}),
        )
        .await;
        let key = exported["PrivateKey"].as_str().unwrap();
        assert!(
            key.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"),
            "{exported}"
        );
        assert!(
            exported["CertificateChain"]
                .as_str()
                .unwrap()
                .contains("BEGIN CERTIFICATE")
        );
        let (key_file, cert_file) = (dir.path().join("key.pem"), dir.path().join("cert.pem"));
        std::fs::write(&key_file, key).unwrap();
        std::fs::write(&cert_file, exported["Certificate"].as_str().unwrap()).unwrap();
        let (key_path, cert_path) = (
            key_file.display().to_string(),
            cert_file.display().to_string(),
        );
        let from_key = openssl(&[
            "pkey",
            "-in",
            &key_path,
            "-passin",
            "pass:correct horse",
            "-pubout",
        ])
        .await;
        assert!(
            from_key.status.success(),
            "{}",
            String::from_utf8_lossy(&from_key.stderr)
        );
        let from_cert = openssl(&["x509", "-in", &cert_path, "-noout", "-pubkey"]).await;
        assert_eq!(
            String::from_utf8_lossy(&from_key.stdout),
            String::from_utf8_lossy(&from_cert.stdout),
            "{algorithm}"
        );
        let wrong = openssl(&["pkey", "-in", &key_path, "-passin", "pass:wrong horse"]).await;
        assert!(!wrong.status.success());
    }

    // Only certificates requested as exportable.
    let kept = requested(&server, request("DISABLED", "RSA_2048")).await;
    let imported = import(&server, RSA_PEM, RSA_KEY, None).await;
    for arn in [&kept, &imported] {
        refused(
            &server,
            "ExportCertificate",
            json!({"CertificateArn": arn, "Passphrase": b64("correct horse")}),
            "ValidationException",
            "cannot be exported",
        )
        .await;
    }
    refused(
        &server,
        "ExportCertificate",
        json!({"CertificateArn": kept}),
        "ValidationException",
        "Value null at 'passphrase'",
    )
    .await;
    refused(
        &server,
        "ExportCertificate",
        json!({"CertificateArn": kept, "Passphrase": b64("abc")}),
        "ValidationException",
        "between 4 and 128",
    )
    .await;
}

/// UpdateCertificateOptions changes a requested certificate's options: transparency logging
/// either way, export only off.
#[tokio::test]
async fn requested_certificates_options_are_updated() {
    let server = TestServer::start().await;
    let arn = requested(
        &server,
        json!({"DomainName": "options.example.com", "KeyAlgorithm": "EC_prime256v1",
               "Options": {"Export": "ENABLED"}}),
    )
    .await;
    async fn options(server: &TestServer, arn: &str) -> Value {
        acm_ok(
            server,
            "DescribeCertificate",
            json!({"CertificateArn": arn}),
        )
        .await["Certificate"]["Options"]
            .clone()
    }
    acm_ok(
        &server,
        "UpdateCertificateOptions",
        json!({"CertificateArn": arn, "Options": {"CertificateTransparencyLoggingPreference": "DISABLED"}}),
    )
    .await;
    assert_eq!(
        options(&server, &arn).await,
        json!({"CertificateTransparencyLoggingPreference": "DISABLED", "Export": "ENABLED"})
    );
    acm_ok(
        &server,
        "UpdateCertificateOptions",
        json!({"CertificateArn": arn, "Options": {"Export": "DISABLED"}}),
    )
    .await;
    assert_eq!(options(&server, &arn).await["Export"], "DISABLED");
    let imported = import(&server, RSA_PEM, RSA_KEY, None).await;
    let unknown = "arn:aws:acm:us-east-1:000000000000:certificate/none";
    let export =
        |arn: &str, export: &str| json!({"CertificateArn": arn, "Options": {"Export": export}});
    for (operation, body, code, part) in [
        (
            "ExportCertificate",
            json!({"CertificateArn": arn, "Passphrase": b64("correct horse")}),
            "ValidationException",
            "cannot be exported",
        ),
        (
            "UpdateCertificateOptions",
            export(&arn, "ENABLED"),
            "ValidationException",
            "only be enabled when",
        ),
        (
            "UpdateCertificateOptions",
            export(&arn, "MAYBE"),
            "ValidationException",
            "[ENABLED, DISABLED]",
        ),
        (
            "UpdateCertificateOptions",
            json!({"CertificateArn": arn}),
            "ValidationException",
            "Value null at 'options'",
        ),
        (
            "UpdateCertificateOptions",
            export(&imported, "DISABLED"),
            "InvalidStateException",
            "was imported",
        ),
        (
            "UpdateCertificateOptions",
            export(unknown, "DISABLED"),
            "ResourceNotFoundException",
            "Could not find",
        ),
    ] {
        refused(&server, operation, body, code, part).await;
    }
}
