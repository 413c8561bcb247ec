//! The credentials a server knows: read from a file in the AWS shared-credentials format
//! (`~/.aws/credentials`), each profile one identity.

use std::collections::HashMap;
use std::sync::Arc;

/// One identity: the access key it signs with and who it is.
#[derive(Clone, PartialEq, Eq)]
pub struct Identity {
    /// The profile it was read from.
    pub profile: String,
    /// `aws_access_key_id`.
    pub access_key: String,
    /// `aws_secret_access_key`.
    pub(crate) secret: String,
    /// `aws_session_token`: temporary credentials must send it (`X-Amz-Security-Token`).
    pub session_token: Option<String>,
    /// Who signs: an IAM user, an assumed role's session, or an account's root.
    pub arn: String,
    /// The account of the ARN.
    pub account_id: String,
    /// What AWS reports as the caller (`$context.identity.caller` and `user`): a user's id
    /// (`AIDA…`), a role session's `AROA…:session`, or the account id for root.
    pub principal_id: String,
}

impl Identity {
    /// `aws_secret_access_key`: what requests made on the identity's behalf are signed with
    /// (AWS integrations that pass the caller's credentials on).
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// An identity from its parts; the ARN must be an IAM user's, an assumed role's session
    /// or an account's root.
    pub fn new(
        profile: &str,
        (access_key, secret, session_token): (&str, &str, Option<&str>),
        arn: &str,
        user_id: Option<&str>,
    ) -> Result<Identity, KeyringError> {
        let (account_id, principal_id) = principal(arn, user_id)
            .ok_or_else(|| KeyringError(format!(
                "profile [{profile}]: arn must be an IAM user's (arn:aws:iam::123456789012:user/NAME), an assumed role's session (arn:aws:sts::123456789012:assumed-role/ROLE/SESSION) or an account's root (arn:aws:iam::123456789012:root), not '{arn}'"
            )))?;
        Ok(Identity {
            profile: profile.to_owned(),
            access_key: access_key.to_owned(),
            secret: secret.to_owned(),
            session_token: session_token.map(str::to_owned),
            arn: arn.to_owned(),
            account_id,
            principal_id,
        })
    }
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("profile", &self.profile)
            .field("access_key", &self.access_key)
            .field("arn", &self.arn)
            .finish_non_exhaustive()
    }
}

/// The account and principal id of an ARN, or `None` when it names no signer.
fn principal(arn: &str, user_id: Option<&str>) -> Option<(String, String)> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_partition), Some(service), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let id = |prefix: &str| {
        user_id
            .map(str::to_owned)
            .unwrap_or_else(|| derived_id(prefix, arn))
    };
    let principal_id = match (service, resource.split_once('/')) {
        ("iam", None) if resource == "root" => account.to_owned(),
        ("iam", Some(("user", name))) if !name.is_empty() => id("AIDA"),
        ("sts", Some(("assumed-role", rest))) => {
            let (role, session) = rest.rsplit_once('/')?;
            if role.is_empty() || session.is_empty() {
                return None;
            }
            format!("{}:{session}", id("AROA"))
        }
        _ => return None,
    };
    Some((account.to_owned(), principal_id))
}

/// A stable id in AWS's form (`AIDA` or `AROA` and 17 characters), made from the ARN, for
/// identities whose file gives none.
fn derived_id(prefix: &str, arn: &str) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let digest = ring::digest::digest(&ring::digest::SHA256, arn.as_bytes());
    let mut id = String::with_capacity(21);
    id.push_str(prefix);
    id.extend(
        digest.as_ref()[..17]
            .iter()
            .map(|b| char::from(ALPHABET[usize::from(b & 31)])),
    );
    id
}

/// The identities a server knows now: a keyring that a reloaded credentials file replaces
/// while requests are being checked against it.
#[derive(Debug)]
pub struct Credentials {
    current: std::sync::RwLock<Arc<Keyring>>,
}

impl Credentials {
    pub fn new(keyring: Keyring) -> Credentials {
        Credentials {
            current: std::sync::RwLock::new(Arc::new(keyring)),
        }
    }

    /// The keyring in force.
    pub fn keyring(&self) -> Arc<Keyring> {
        match self.current.read() {
            Ok(current) => current.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Puts another keyring in force; requests being checked finish with the one they read.
    pub fn replace(&self, keyring: Keyring) {
        let keyring = Arc::new(keyring);
        match self.current.write() {
            Ok(mut current) => *current = keyring,
            Err(poisoned) => *poisoned.into_inner() = keyring,
        }
    }
}

/// Why a credentials file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KeyringError(pub String);

/// The identities a server knows, by access key id.
#[derive(Debug, Clone, Default)]
pub struct Keyring {
    by_key: HashMap<String, Arc<Identity>>,
}

impl Keyring {
    /// Reads a credentials file in the AWS shared-credentials format: each profile with
    /// `aws_access_key_id` and `aws_secret_access_key` (and `aws_session_token` for
    /// temporary credentials) is an identity. Two keys of Causeway's own say who it is:
    /// `arn` (default `arn:aws:iam::{account}:user/{profile}`) and `user_id` (default: one
    /// derived from the ARN). Profiles without keys (a role to assume, say) are skipped.
    pub fn from_credentials_file(text: &str, account_id: &str) -> Result<Keyring, KeyringError> {
        let file = ini::Ini::load_from_str(text).map_err(|error| {
            KeyringError(format!("the credentials file does not read: {error}"))
        })?;
        let mut keyring = Keyring::default();
        for (section, properties) in file.iter() {
            let Some(section) = section else {
                if properties.iter().next().is_some() {
                    return Err(KeyringError(
                        "the credentials file has settings before its first [profile] line".into(),
                    ));
                }
                continue;
            };
            let profile = section.strip_prefix("profile ").unwrap_or(section).trim();
            let key = properties.get("aws_access_key_id").map(str::trim);
            let secret = properties.get("aws_secret_access_key").map(str::trim);
            let (key, secret) = match (key, secret) {
                (None, None) => continue,
                (Some(key), Some(secret)) if !key.is_empty() && !secret.is_empty() => (key, secret),
                _ => {
                    return Err(KeyringError(format!(
                        "profile [{profile}] needs both aws_access_key_id and aws_secret_access_key"
                    )));
                }
            };
            if key.contains('/') {
                return Err(KeyringError(format!(
                    "profile [{profile}]: an access key id cannot hold '/'"
                )));
            }
            let default_arn = format!("arn:aws:iam::{account_id}:user/{profile}");
            let arn = properties.get("arn").map(str::trim).unwrap_or(&default_arn);
            let identity = Identity::new(
                profile,
                (
                    key,
                    secret,
                    properties.get("aws_session_token").map(str::trim),
                ),
                arn,
                properties.get("user_id").map(str::trim),
            )?;
            if let Some(other) = keyring.by_key.get(key) {
                return Err(KeyringError(format!(
                    "profiles [{}] and [{profile}] have the same aws_access_key_id",
                    other.profile
                )));
            }
            keyring.by_key.insert(key.to_owned(), Arc::new(identity));
        }
        if keyring.by_key.is_empty() {
            return Err(KeyringError(
                "the credentials file has no profile with aws_access_key_id and aws_secret_access_key".into(),
            ));
        }
        Ok(keyring)
    }

    /// A keyring of the given identities.
    pub fn of(identities: impl IntoIterator<Item = Identity>) -> Keyring {
        Keyring {
            by_key: identities
                .into_iter()
                .map(|identity| (identity.access_key.clone(), Arc::new(identity)))
                .collect(),
        }
    }

    /// The identity of an access key id.
    pub fn get(&self, access_key: &str) -> Option<&Arc<Identity>> {
        self.by_key.get(access_key)
    }

    /// How many identities it holds.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_aws_format() -> Result<(), KeyringError> {
        let text = "\
# a comment
[default]
aws_access_key_id = AKIDEXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY

[profile ops]
aws_access_key_id=ASIAOPS
aws_secret_access_key=secret2
aws_session_token=token
arn = arn:aws:sts::111122223333:assumed-role/Ops/alice
user_id = AROAEXAMPLEID

[assume]
role_arn = arn:aws:iam::111122223333:role/Other
source_profile = default

[root]
aws_access_key_id = ROOTKEY
aws_secret_access_key = s
arn = arn:aws:iam::123456789012:root
";
        let keyring = Keyring::from_credentials_file(text, "000000000000")?;
        assert_eq!(keyring.len(), 3);
        let default = keyring
            .get("AKIDEXAMPLE")
            .ok_or(KeyringError("default".into()))?;
        assert_eq!(default.arn, "arn:aws:iam::000000000000:user/default");
        assert_eq!(default.account_id, "000000000000");
        assert!(default.principal_id.starts_with("AIDA"));
        assert_eq!(default.principal_id.len(), 21);
        assert_eq!(default.secret, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        let ops = keyring.get("ASIAOPS").ok_or(KeyringError("ops".into()))?;
        assert_eq!(ops.profile, "ops");
        assert_eq!(ops.session_token.as_deref(), Some("token"));
        assert_eq!(ops.account_id, "111122223333");
        assert_eq!(ops.principal_id, "AROAEXAMPLEID:alice");
        let root = keyring.get("ROOTKEY").ok_or(KeyringError("root".into()))?;
        assert_eq!(root.principal_id, "123456789012");
        assert!(!format!("{root:?}").contains("secret"));
        Ok(())
    }

    #[test]
    fn refuses_what_cannot_be_used() {
        for (text, words) in [
            ("", "no profile"),
            ("[a]\naws_access_key_id = K\n", "needs both"),
            (
                "[a]\naws_access_key_id = K\naws_secret_access_key = s\n[b]\naws_access_key_id = K\naws_secret_access_key = t\n",
                "same aws_access_key_id",
            ),
            (
                "[a]\naws_access_key_id = K\naws_secret_access_key = s\narn = arn:aws:iam::1:user/x\n",
                "arn must be",
            ),
            (
                "[a]\naws_access_key_id = K\naws_secret_access_key = s\narn = arn:aws:iam::123456789012:role/x\n",
                "arn must be",
            ),
            ("key = value\n[a]\n", "before its first"),
        ] {
            match Keyring::from_credentials_file(text, "000000000000") {
                Ok(_) => panic!("{text:?} was accepted"),
                Err(error) => assert!(error.0.contains(words), "{text:?}: {error}"),
            }
        }
    }
}
