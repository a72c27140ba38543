pub mod access_key;
pub mod audit;
pub mod identity;
pub mod job;
pub mod org;

pub use access_key::*;
pub use audit::*;
pub use identity::*;
pub use job::*;
pub use org::*;
pub mod network;
pub use network::*;
pub mod scim_token;
pub use scim_token::*;
pub mod condition;
pub mod signin;
pub use signin::*;
