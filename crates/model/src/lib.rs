//! Pure domain model of Causeway: the REST API resources, their validation rules and the
//! application of PATCH operations.
//!
//! Nothing here does I/O, reads the clock or draws random numbers: ids and timestamps come in
//! as arguments, so every rule can be tested with plain values. The types derive serde because
//! they are also the persisted form (see `ARCHITECTURE.md`); the AWS wire shapes live in
//! `causeway-wire`.

pub mod acm;
pub mod arn;
pub mod authorizer;
pub mod aws_service;
pub mod documentation;
pub mod elb;
pub mod elb_api;
pub mod elb_ssl;
pub mod entities;
pub mod enums;
pub mod error;
pub mod gateway;
pub mod gateway_responses;
pub mod mtls;
pub mod node;
pub mod openapi;
pub mod patch;
pub mod policy;
pub mod routing_rule;
pub mod schemas;
pub mod usage;
pub mod validate;
pub mod waf;

pub use entities::*;
pub use enums::*;
pub use error::ApiError;
