//! The authentication preface: the node's hello and the gateway's reply, exchanged once
//! right after TLS and before HTTP/2 starts.
//!
//! Each message is a 4-byte big-endian length followed by that many bytes of JSON:
//!
//! ```text
//! node → gateway   {"version":1,"node_id":"node-1","token":"…"}
//! gateway → node   {"ok":true}
//!                  {"ok":false,"reason":"unknown node or bad token"}   (then close)
//! ```
//!
//! It is not a framing for data: after a successful reply both sides speak HTTP/2 on the
//! same TLS stream. A length above [`MAX_HELLO_BYTES`] is refused before anything is
//! allocated for it.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The only version of the preface so far.
pub(crate) const VERSION: u32 = 1;

/// The largest hello or reply accepted, in bytes of JSON.
pub const MAX_HELLO_BYTES: u32 = 16 * 1024;

/// What the node says first.
#[derive(Serialize, Deserialize)]
pub(crate) struct Hello {
    pub(crate) version: u32,
    pub(crate) node_id: String,
    pub(crate) token: String,
}

impl fmt::Debug for Hello {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The token is a credential: never in logs.
        f.debug_struct("Hello")
            .field("version", &self.version)
            .field("node_id", &self.node_id)
            .finish_non_exhaustive()
    }
}

/// The gateway's answer.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Reply {
    pub(crate) ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reason: Option<String>,
}

impl Reply {
    pub(crate) fn accepted() -> Reply {
        Reply {
            ok: true,
            reason: None,
        }
    }

    pub(crate) fn refused(reason: impl Into<String>) -> Reply {
        Reply {
            ok: false,
            reason: Some(reason.into()),
        }
    }
}

/// Why a preface message could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FrameError {
    #[error("preface message of {0} bytes is larger than {MAX_HELLO_BYTES}")]
    TooLarge(u32),
    #[error("malformed preface message: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Writes one length-prefixed JSON message and flushes it.
pub(crate) async fn write<W, T>(io: &mut W, message: &T) -> std::io::Result<()>
where
    W: AsyncWrite + Unpin,
    T: Serialize,
{
    let body = serde_json::to_vec(message)?;
    let length = u32::try_from(body.len())
        .ok()
        .filter(|length| *length <= MAX_HELLO_BYTES)
        .ok_or_else(|| std::io::Error::other("preface message too large"))?;
    let mut frame = Vec::with_capacity(4 + body.len());
    frame.extend_from_slice(&length.to_be_bytes());
    frame.extend_from_slice(&body);
    io.write_all(&frame).await?;
    io.flush().await
}

/// Reads one length-prefixed JSON message, refusing lengths above [`MAX_HELLO_BYTES`]
/// before reading (or allocating for) the body.
pub(crate) async fn read<R, T>(io: &mut R) -> Result<T, FrameError>
where
    R: AsyncRead + Unpin,
    T: DeserializeOwned,
{
    let mut length = [0u8; 4];
    io.read_exact(&mut length).await?;
    let length = u32::from_be_bytes(length);
    if length > MAX_HELLO_BYTES {
        return Err(FrameError::TooLarge(length));
    }
    // At most MAX_HELLO_BYTES, so the conversion cannot truncate.
    let mut body = vec![0u8; length as usize];
    io.read_exact(&mut body).await?;
    Ok(serde_json::from_slice(&body)?)
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "a test fails loudly on the unexpected")]
mod tests {
    use super::*;

    #[tokio::test]
    async fn messages_round_trip_with_a_big_endian_length() {
        let mut buffer = Vec::new();
        let hello = Hello {
            version: VERSION,
            node_id: "node-1".into(),
            token: "secret".into(),
        };
        write(&mut buffer, &hello).await.unwrap();
        let json = br#"{"version":1,"node_id":"node-1","token":"secret"}"#;
        assert_eq!(&buffer[..4], &(json.len() as u32).to_be_bytes());
        assert_eq!(&buffer[4..], json);
        let back: Hello = read(&mut buffer.as_slice()).await.unwrap();
        assert_eq!(
            (back.node_id.as_str(), back.token.as_str()),
            ("node-1", "secret")
        );
        assert!(!format!("{back:?}").contains("secret"));

        let mut buffer = Vec::new();
        write(&mut buffer, &Reply::refused("bad token"))
            .await
            .unwrap();
        assert_eq!(&buffer[4..], br#"{"ok":false,"reason":"bad token"}"#);
        let mut buffer = Vec::new();
        write(&mut buffer, &Reply::accepted()).await.unwrap();
        assert_eq!(&buffer[4..], br#"{"ok":true}"#);
    }

    #[tokio::test]
    async fn oversized_and_malformed_messages_are_errors() {
        let huge = u32::MAX.to_be_bytes();
        let error = read::<_, Hello>(&mut huge.as_slice()).await.unwrap_err();
        assert!(matches!(error, FrameError::TooLarge(u32::MAX)), "{error}");

        let mut garbage = 3u32.to_be_bytes().to_vec();
        garbage.extend_from_slice(b"{{{");
        let error = read::<_, Hello>(&mut garbage.as_slice()).await.unwrap_err();
        assert!(matches!(error, FrameError::Malformed(_)), "{error}");

        let truncated = 10u32.to_be_bytes();
        let error = read::<_, Hello>(&mut truncated.as_slice())
            .await
            .unwrap_err();
        assert!(matches!(error, FrameError::Io(_)), "{error}");
    }
}
