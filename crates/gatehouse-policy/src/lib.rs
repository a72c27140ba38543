//! IAM policy language for Gatehouse: parse identity-based policy documents
//! and decide whether a request is allowed.
//!
//! Pure code: no I/O, no global state other than the lazily parsed managed
//! policies. Every input (however malformed) yields a value or an error,
//! never a panic; the `fuzz/` target checks this.
//!
//! ```
//! use gatehouse_policy::{Context, Decision, Policy, Request, evaluate};
//!
//! let policy = Policy::parse(r#"{
//!     "Version": "2012-10-17",
//!     "Statement": {"Effect": "Allow", "Action": "sso:List*", "Resource": "*"}
//! }"#).unwrap();
//! let context = Context::new();
//! let request = Request { action: "sso:ListInstances", resource: "*", context: &context };
//! assert_eq!(evaluate(&[policy], &request), Decision::Allow);
//! ```

mod condition;
mod context;
mod document;
mod error;
mod evaluate;
mod json;
pub mod managed;
mod matcher;
mod variables;

pub use context::Context;
pub use document::Policy;
pub use error::PolicyError;
pub use evaluate::{Decision, Request, evaluate};
