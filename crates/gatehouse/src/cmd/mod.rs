pub mod access_keys;
pub mod apps;
pub mod audit;
pub mod data;
pub mod groups;
pub mod identity_source;
pub mod key;
pub mod mfa;
pub mod org;
pub mod scim;
pub mod serve;
pub mod users;

use gatehouse_core::{Ctx, Services};

use crate::app::service_error;

/// The operator's context: the OS user running the command, as the management account's root.
pub fn operator_ctx(services: &Services) -> anyhow::Result<Ctx> {
    let os_user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into());
    services.operator_ctx(&os_user).map_err(service_error)
}
