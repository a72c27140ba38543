//! Gatehouse's domain: services (the only writers), the model, storage traits and the small
//! pure helpers they share. Front doors (HTTP, CLI) call [`services::Services`] and nothing else.

pub mod clock;
pub mod crypto;
pub mod directory;
pub mod error;
pub mod iam;
pub mod ids;
pub mod mail;
pub mod model;
pub mod password;
pub mod services;
pub mod store;
pub mod validate;

pub use error::{Error, Result};
pub use services::{Ctx, Services};
