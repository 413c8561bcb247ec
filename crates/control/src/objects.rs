//! Where the control plane reads objects from: S3, for custom domains' mutual TLS
//! truststores (`s3://bucket/key`). The server plugs in a client of an S3-compatible
//! endpoint with [`crate::Control::attach_object_source`].

use std::future::Future;
use std::pin::Pin;

/// The future of one object's bytes, or why it could not be read (told to the caller).
pub type ObjectFuture = Pin<Box<dyn Future<Output = Result<Vec<u8>, String>> + Send + 'static>>;

/// Reads objects from S3.
pub trait ObjectSource: Send + Sync + std::fmt::Debug {
    /// The object at `bucket`/`key`, in the version named if any.
    fn get(&self, bucket: &str, key: &str, version: Option<&str>) -> ObjectFuture;
}
