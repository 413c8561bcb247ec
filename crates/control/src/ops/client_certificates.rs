//! GenerateClientCertificate, GetClientCertificate(s), UpdateClientCertificate,
//! DeleteClientCertificate.
//!
//! A client certificate is what the gateway shows HTTPS backends of the stages that name
//! it (`clientCertificateId`), so that a backend can accept the gateway's requests and no
//! one else's. As on AWS it is self-signed, issued to `C=US, L=Seattle, CN=ApiGateway`, and
//! valid for 365 days; the backend trusts exactly this certificate.

use causeway_model::{ApiError, ClientCertificate, patch};
use causeway_wire::input;
use causeway_wire::output::{self, Page, TagsField};

use crate::Reply;
use crate::ctx::{Ctx, Query, check_tags, empty, json, paginate, patch_operations};
use crate::state::kind;

/// AWS's text for an unknown id (inferred: AWS's "Invalid ... identifier specified" form).
pub const NOT_FOUND: &str = "Invalid Client Certificate identifier specified";

/// How long a certificate is valid: 365 days, as on AWS.
const VALIDITY_SECONDS: i64 = 365 * 24 * 3600;

fn certificate<'a>(cx: &'a Ctx<'_>, id: &str) -> Result<&'a ClientCertificate, ApiError> {
    cx.state
        .client_certificates
        .get(id)
        .ok_or_else(|| ApiError::not_found(NOT_FOUND))
}

/// A new self-signed certificate and its private key, both PEM-encoded, valid from `now`
/// (epoch seconds) for [`VALIDITY_SECONDS`].
/// The key is RSA 2048, signed with SHA-256, as AWS's.
fn generate(now: i64, serial: [u8; 8]) -> Result<(String, String), ApiError> {
    use rcgen::{
        CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, KeyUsagePurpose,
        SerialNumber,
    };
    let failed = |error: rcgen::Error| {
        ApiError::Internal(format!("could not generate a client certificate: {error}"))
    };
    let time = |seconds: i64| {
        time::OffsetDateTime::from_unix_timestamp(seconds)
            .map_err(|error| ApiError::Internal(format!("certificate dates: {error}")))
    };
    let key = crate::keys::rsa_2048().map_err(|error| {
        ApiError::Internal(format!("could not generate a client certificate: {error}"))
    })?;
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::CountryName, "US");
    name.push(DnType::LocalityName, "Seattle");
    name.push(DnType::CommonName, "ApiGateway");
    params.distinguished_name = name;
    params.not_before = time(now)?;
    params.not_after = time(now + VALIDITY_SECONDS)?;
    // A positive 64-bit serial, as AWS's certificates have.
    let mut serial = serial;
    serial[0] &= 0x7f;
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let certificate = params.self_signed(&key).map_err(failed)?;
    Ok((crlf(&certificate.pem()), key.serialize_pem()))
}

/// PEM text with CRLF line breaks, as AWS returns `pemEncodedCertificate`.
fn crlf(pem: &str) -> String {
    pem.lines().collect::<Vec<_>>().join("\r\n")
}

pub fn generate_certificate(cx: &mut Ctx<'_>, body: &[u8]) -> Result<Reply, ApiError> {
    let req: input::GenerateClientCertificate = causeway_wire::decode(body)?;
    let tags = req.tags.unwrap_or_default();
    check_tags(&tags)?;
    let taken: Vec<String> = cx.state.client_certificates.keys().cloned().collect();
    let id = cx.new_id(6, |id| taken.iter().any(|t| t == id));
    let serial = cx.random_bytes::<8>();
    let (pem, key) = generate(cx.now, serial)?;
    let created = ClientCertificate {
        client_certificate_id: id.clone(),
        description: req.description.filter(|d| !d.is_empty()),
        pem_encoded_certificate: pem,
        private_key_pem: key,
        created_date: cx.now,
        expiration_date: cx.now + VALIDITY_SECONDS,
        tags,
    };
    cx.put(kind::CLIENT_CERTIFICATE, id.clone(), &created)?;
    let reply = output::ClientCertificate::from_model(&created, TagsField::IfAny);
    cx.state.client_certificates.insert(id, created);
    json(201, &reply)
}

pub fn get(cx: &mut Ctx<'_>, id: &str) -> Result<Reply, ApiError> {
    json(
        200,
        &output::ClientCertificate::from_model(certificate(cx, id)?, TagsField::Include),
    )
}

pub fn list(cx: &mut Ctx<'_>, query: &Query) -> Result<Reply, ApiError> {
    // By id: the position of the next page is the id it starts at.
    let items = cx
        .state
        .client_certificates
        .values()
        .map(|c| {
            (
                c.client_certificate_id.clone(),
                output::ClientCertificate::from_model(c, TagsField::IfAny),
            )
        })
        .collect();
    let (item, position) = paginate(items, query)?;
    json(200, &Page { item, position })
}

pub fn update(cx: &mut Ctx<'_>, id: &str, body: &[u8]) -> Result<Reply, ApiError> {
    let ops = patch_operations(body, "updateClientCertificateInput")?;
    let updated = patch::apply_client_certificate(certificate(cx, id)?, &ops)?;
    cx.put(kind::CLIENT_CERTIFICATE, id.to_owned(), &updated)?;
    let reply = output::ClientCertificate::from_model(&updated, TagsField::Include);
    cx.state.client_certificates.insert(id.to_owned(), updated);
    json(200, &reply)
}

/// Deletes a certificate that no stage names. A certificate in use is kept, with the
/// stages that name it in the message: deleting it would leave those stages' backends,
/// which trust only this certificate, refusing every request.
pub fn delete(cx: &mut Ctx<'_>, id: &str) -> Result<Reply, ApiError> {
    certificate(cx, id)?;
    let users: Vec<String> = cx
        .state
        .apis
        .values()
        .flat_map(|api| {
            api.stages
                .values()
                .filter(|s| s.client_certificate_id.as_deref() == Some(id))
                .map(|s| format!("{}/{}", api.api.id, s.stage_name))
                .collect::<Vec<_>>()
        })
        .collect();
    if !users.is_empty() {
        return Err(ApiError::bad_request(format!(
            "Cannot delete client certificate '{id}': the stages [{}] (in format [RestApiId/StageName]) use it. Remove it from them first (update-stage --patch-operations op=remove,path=/clientCertificateId)",
            users.join(", ")
        )));
    }
    cx.delete(kind::CLIENT_CERTIFICATE, id.to_owned());
    cx.state.client_certificates.remove(id);
    empty(202)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::unwrap_used)]
    fn generated_certificates_are_self_signed_for_a_year() {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
        use std::sync::Arc;
        use std::time::Duration;
        use tokio_rustls::rustls;

        let now = 1_700_000_000;
        let (pem, key) = generate(now, [0xff; 8]).unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\r\n"), "{pem}");
        assert!(pem.ends_with("\r\n-----END CERTIFICATE-----"), "{pem}");
        assert!(!pem.replace("\r\n", "").contains('\n'));
        let certificate = CertificateDer::from_pem_slice(pem.as_bytes()).unwrap();
        let der = certificate.as_ref();
        for name in [&b"ApiGateway"[..], b"Seattle", b"US"] {
            assert!(der.windows(name.len()).any(|w| w == name));
        }
        // An RSA key (rsaEncryption), signed with sha256WithRSAEncryption, as AWS's.
        let rsa_encryption = [
            0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
        ];
        let sha256_with_rsa = [
            0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b,
        ];
        assert!(der.windows(11).any(|w| w == rsa_encryption));
        assert!(der.windows(11).any(|w| w == sha256_with_rsa));
        // The serial is positive: its top bit cleared.
        assert!(
            der.windows(10)
                .any(|w| w == [0x02, 0x08, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
        );

        // The key is the certificate's.
        let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap();
        let signer = rustls::crypto::ring::sign::any_supported_type(&key).unwrap();
        let public = signer.public_key().unwrap();
        assert!(der.windows(public.len()).any(|w| w == public.as_ref()));

        // A backend that trusts exactly this certificate accepts it while it is valid, and
        // only then.
        let mut roots = rustls::RootCertStore::empty();
        roots.add(certificate.clone()).unwrap();
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            Arc::new(rustls::crypto::ring::default_provider()),
        )
        .build()
        .unwrap();
        let at =
            |seconds: i64| UnixTime::since_unix_epoch(Duration::from_secs(seconds.unsigned_abs()));
        verifier
            .verify_client_cert(&certificate, &[], at(now + 60))
            .unwrap();
        verifier
            .verify_client_cert(&certificate, &[], at(now + VALIDITY_SECONDS - 60))
            .unwrap();
        assert!(
            verifier
                .verify_client_cert(&certificate, &[], at(now + VALIDITY_SECONDS + 60))
                .is_err()
        );
        assert!(
            verifier
                .verify_client_cert(&certificate, &[], at(now - 60))
                .is_err()
        );
    }

    #[test]
    fn pem_lines_end_with_crlf() {
        assert_eq!(crlf("a\nb\nc\n"), "a\r\nb\r\nc");
    }
}
