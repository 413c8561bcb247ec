//! The error every management operation answers with: an AWS error code and a message.

use std::fmt;

/// An AWS-shaped management error. The variant owns the HTTP status and the
/// `x-amzn-ErrorType` code; the message is the text AWS would give, written so that a user
/// can act on it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// 400 `BadRequestException`: the request is understood but not acceptable.
    #[error("{0}")]
    BadRequest(String),
    /// 400 `ValidationException`: an enum or pattern constraint of the AWS model is violated.
    #[error("{0}")]
    Validation(String),
    /// 400 `SerializationException`: the body is not the JSON the operation expects.
    #[error("{0}")]
    Serialization(String),
    /// 404 `NotFoundException`.
    #[error("{0}")]
    NotFound(String),
    /// 409 `ConflictException`.
    #[error("{0}")]
    Conflict(String),
    /// 413: the request body is larger than the operation accepts.
    #[error("{0}")]
    TooLarge(String),
    /// 429 `LimitExceededException`.
    #[error("{0}")]
    LimitExceeded(String),
    /// 429 `TooManyRequestsException`.
    #[error("{0}")]
    TooManyRequests(String),
    /// 404 `UnknownOperationException`: no operation has this method and path.
    #[error("{0}")]
    UnknownOperation(String),
    /// 500 `InternalFailure`: a fault of the server, never of the caller.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// The HTTP status of the error.
    pub fn status(&self) -> u16 {
        match self {
            ApiError::BadRequest(_) | ApiError::Validation(_) | ApiError::Serialization(_) => 400,
            ApiError::NotFound(_) | ApiError::UnknownOperation(_) => 404,
            ApiError::Conflict(_) => 409,
            ApiError::TooLarge(_) => 413,
            ApiError::LimitExceeded(_) | ApiError::TooManyRequests(_) => 429,
            ApiError::Internal(_) => 500,
        }
    }

    /// The AWS error code sent in `x-amzn-ErrorType`.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "BadRequestException",
            ApiError::Validation(_) => "ValidationException",
            ApiError::Serialization(_) => "SerializationException",
            ApiError::NotFound(_) => "NotFoundException",
            ApiError::Conflict(_) => "ConflictException",
            ApiError::TooLarge(_) => "RequestEntityTooLargeException",
            ApiError::LimitExceeded(_) => "LimitExceededException",
            ApiError::TooManyRequests(_) => "TooManyRequestsException",
            ApiError::UnknownOperation(_) => "UnknownOperationException",
            ApiError::Internal(_) => "InternalFailure",
        }
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        match self {
            ApiError::BadRequest(m)
            | ApiError::Validation(m)
            | ApiError::Serialization(m)
            | ApiError::NotFound(m)
            | ApiError::Conflict(m)
            | ApiError::TooLarge(m)
            | ApiError::LimitExceeded(m)
            | ApiError::TooManyRequests(m)
            | ApiError::UnknownOperation(m)
            | ApiError::Internal(m) => m,
        }
    }

    /// Shorthand for a `BadRequestException` with a formatted message.
    pub fn bad_request(message: impl fmt::Display) -> ApiError {
        ApiError::BadRequest(message.to_string())
    }

    /// Shorthand for a `NotFoundException` with a formatted message.
    pub fn not_found(message: impl fmt::Display) -> ApiError {
        ApiError::NotFound(message.to_string())
    }

    /// Shorthand for a `ConflictException` with a formatted message.
    pub fn conflict(message: impl fmt::Display) -> ApiError {
        ApiError::Conflict(message.to_string())
    }
}
