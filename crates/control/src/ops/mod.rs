//! The management operations, one module per resource family.

pub mod account;
pub mod api_mappings;
pub mod apikeys;
pub mod authorizers;
pub mod client_certificates;
pub mod deployments;
pub mod documentation;
pub mod domain_names;
pub mod domain_names_v2;
pub mod gateway_responses;
pub mod methods;
pub mod models;
pub mod nodes;
pub mod openapi;
pub mod request_validators;
pub mod resources;
pub mod restapis;
pub mod routing_rules;
pub mod stages;
pub mod tags;
pub mod test_invoke;
pub mod usage;
pub mod usageplans;
pub mod vpclinks;
pub mod vpclinks_v2;
