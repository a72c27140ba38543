//! Shared pieces of Gatehouse's load generators (`bench-api-load`, `bench-scim-load`).

pub mod http;
pub mod stats;
