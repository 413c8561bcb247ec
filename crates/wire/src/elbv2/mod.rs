//! The wire of the Elastic Load Balancing v2 API (query protocol): form-encoded parameters in,
//! XML answers and error envelopes out.
//!
//! Requests are `POST /` with an `application/x-www-form-urlencoded` body (a GET with the same
//! query string is read the same way); [`params::Params`] decodes them. Answers are written
//! with [`output`] on the small [`xml::Xml`] writer.

pub mod output;
pub mod params;
pub mod xml;

pub use params::Params;

#[cfg(test)]
mod tests;
