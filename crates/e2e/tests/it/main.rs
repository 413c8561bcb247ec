//! End-to-end tests: a real Causeway server, the unmodified `aws-sdk-apigateway` client and
//! raw HTTP, over loopback sockets. Assertions encode what Amazon API Gateway (REST, v1) does.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

mod acm;
mod apikeys;
mod authorizers;
mod client_certificates;
mod deployments;
mod documentation;
mod elbv2;
mod gateway;
mod gateway_responses;
mod methods;
mod models;
mod nlb_engine;
mod openapi;
mod persistence;
mod python_clients;
mod resources;
mod restapis;
mod sigv4;
mod stages;
mod tags;
mod usageplans;
mod vpclinks;
mod wire_errors;
