//! SeaORM entities: one module per table. JSON payloads are stored as text so that both backends
//! treat them alike; columns that are searched or unique are kept alongside.

pub mod access_key;
pub mod account;
pub mod account_assignment;
pub mod app_assignment;
pub mod app_certificate;
pub mod application;
pub mod audit_event;
pub mod authorization_code;
pub mod device_authorization;
pub mod email_token;
pub mod external_id;
pub mod group;
pub mod instance;
pub mod job;
pub mod lease;
pub mod membership;
pub mod mfa_device;
pub mod oidc_client;
pub mod org_unit;
pub mod ou_assignment;
pub mod permission_set;
pub mod portal_session;
pub mod provisioned_role;
pub mod resource_tag;
pub mod saml_sp_id;
pub mod scim_token;
pub mod setting;
pub mod signin_throttle;
pub mod sso_request;
pub mod sso_token;
pub mod trusted_device;
pub mod user;
pub mod user_idp_tags;
pub mod user_password;
