//! SCIM 2.0 (RFC 7643/7644) for Gatehouse's `/scim/v2` front door: filter
//! and PATCH-path parsing, the PATCH engine, discovery documents, attribute
//! projection and the error body.
//!
//! Pure code: no I/O. Resources are plain `serde_json::Value`s holding the
//! full SCIM JSON of a User or Group (extensions under their URN keys), so
//! the server maps them to and from its own model. Every input, however
//! malformed, yields a value or a [`ScimError`], never a panic.
//!
//! ```
//! use gatehouse_scim::{apply_patch, parse_filter};
//! use serde_json::json;
//!
//! let filter = parse_filter(r#"userName eq "bjensen""#).unwrap();
//! assert!(filter.matches(&json!({"userName": "BJensen"})));
//!
//! let group = json!({"id": "g1", "displayName": "Ops", "members": [{"value": "u1"}]});
//! let body = json!({
//!     "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
//!     "Operations": [{"op": "Add", "path": "members", "value": [{"value": "u2"}]}]
//! });
//! let outcome = apply_patch(group, body).unwrap();
//! assert_eq!(outcome.members_added, ["u2"]);
//! ```

pub mod error;
pub mod filter;
mod json;
pub mod patch;
pub mod projection;
pub mod schema;

pub use error::{ScimError, ScimType};
pub use filter::{AttrPath, CompareOp, Filter, PatchPath, parse_filter, parse_path};
pub use patch::{PatchOutcome, apply_patch};
pub use projection::project;
pub use schema::{ListResponse, Schema};
