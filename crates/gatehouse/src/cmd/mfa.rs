//! `gatehouse mfa …`: the instance's MFA settings and users' MFA devices, as an administrator.

use clap::{Subcommand, ValueEnum};
use gatehouse_core::model::{MfaMode, MfaSettings, MfaSettingsChange, NoDevice};
use serde_json::json;
use std::io::BufRead;

use super::operator_ctx;
use super::users::resolve;
use crate::app::{self, service_error};
use crate::config::Config;
use crate::output::{self, OutputFormat};

#[derive(Subcommand)]
pub enum MfaCommand {
    /// Show the MFA settings.
    Show,
    /// Change the MFA settings; options not given keep their value.
    Set {
        /// When to prompt users for MFA.
        #[arg(long, value_enum)]
        mode: Option<Mode>,
        /// Allow authenticator apps.
        #[arg(long)]
        authenticator_apps: Option<bool>,
        /// Allow security keys and built-in authenticators.
        #[arg(long)]
        security_keys: Option<bool>,
        /// What happens when a user who must use MFA has no device.
        #[arg(long, value_enum)]
        no_device: Option<NoDeviceChoice>,
        /// Who can manage MFA devices.
        #[arg(long, value_enum)]
        device_management: Option<DeviceManagement>,
    },
    /// A user's MFA devices.
    #[command(subcommand)]
    Device(DeviceCommand),
}

#[derive(Subcommand)]
pub enum DeviceCommand {
    /// List a user's devices.
    List { user: String },
    /// Register an authenticator app for a user: prints the secret key and otpauth URI, then reads
    /// the app's current code from standard input.
    AddApp {
        user: String,
        #[arg(long, default_value = "Authenticator app")]
        name: String,
    },
    /// Rename a device.
    Rename { user: String, device_id: String, name: String },
    /// Delete a device.
    Delete { user: String, device_id: String },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Mode {
    /// Only when the sign-in context changes (the default).
    ContextAware,
    /// Every sign-in.
    AlwaysOn,
    /// MFA is disabled.
    Never,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum NoDeviceChoice {
    /// Sign in without MFA (the default).
    Allow,
    /// Require them to register a device at sign-in.
    RequireRegistration,
    /// Require a one-time code sent by email.
    EmailCode,
    /// Block the sign-in.
    Block,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum DeviceManagement {
    /// Users manage their own devices (and administrators too).
    Users,
    /// Only administrators.
    Admins,
}

fn print_settings(out: OutputFormat, s: &MfaSettings) {
    // The CLI spells the API's names in lower case with hyphens.
    let cli = |api: &str| api.to_lowercase().replace('_', "-");
    let (mode, no_device) = (cli(s.mode.as_str()), cli(s.no_device.as_str()));
    let fields = vec![
        ("Prompt for MFA", mode.to_string()),
        ("Authenticator apps", s.authenticator_apps.to_string()),
        ("Security keys and built-in authenticators", s.security_keys.to_string()),
        ("Users without a device", no_device.to_string()),
        ("Device management", if s.users_manage_devices { "users" } else { "admins" }.to_string()),
    ];
    output::print_fields(out, fields, s);
}

pub async fn run(config: Config, out: OutputFormat, command: MfaCommand) -> anyhow::Result<()> {
    let opened = app::open(&config).await?;
    let svc = &opened.services;
    let ctx = operator_ctx(svc)?;
    let result = async {
        match command {
            MfaCommand::Show => print_settings(out, &svc.mfa_settings().await.map_err(service_error)?),
            MfaCommand::Set { mode, authenticator_apps, security_keys, no_device, device_management } => {
                let change = MfaSettingsChange {
                    mode: mode.map(|m| match m {
                        Mode::ContextAware => MfaMode::ContextAware,
                        Mode::AlwaysOn => MfaMode::AlwaysOn,
                        Mode::Never => MfaMode::Never,
                    }),
                    authenticator_apps,
                    security_keys,
                    no_device: no_device.map(|n| match n {
                        NoDeviceChoice::Allow => NoDevice::Allow,
                        NoDeviceChoice::RequireRegistration => NoDevice::RequireRegistration,
                        NoDeviceChoice::EmailCode => NoDevice::EmailCode,
                        NoDeviceChoice::Block => NoDevice::Block,
                    }),
                    users_manage_devices: device_management.map(|d| matches!(d, DeviceManagement::Users)),
                };
                let s = svc.update_mfa_settings(&ctx, change).await.map_err(service_error)?;
                print_settings(out, &s);
            }
            MfaCommand::Device(DeviceCommand::List { user }) => {
                let u = resolve(svc, &ctx, &user).await?;
                let devices = svc.list_mfa_devices(&ctx, &u.user_id).await.map_err(service_error)?;
                let rows = devices
                    .iter()
                    .map(|d| {
                        vec![
                            d.device_id.clone(),
                            d.name.clone(),
                            d.kind.label().to_string(),
                            d.created_at.to_rfc3339(),
                            d.last_used_at.map(|t| t.to_rfc3339()).unwrap_or_else(|| "never".into()),
                        ]
                    })
                    .collect();
                output::print(out, &["DEVICE ID", "NAME", "TYPE", "REGISTERED", "LAST USED"], rows, &json!({"Devices": devices}));
            }
            MfaCommand::Device(DeviceCommand::AddApp { user, name }) => {
                let u = resolve(svc, &ctx, &user).await?;
                let e = svc.start_totp_registration(&ctx, &u.user_id).await.map_err(service_error)?;
                eprintln!("Secret key: {}\notpauth URI: {}\nEnter the app's current code:", e.secret, e.uri);
                let mut code = String::new();
                std::io::stdin().lock().read_line(&mut code)?;
                let d = svc.complete_totp_registration(&ctx, &u.user_id, &e.secret, code.trim(), &name).await.map_err(service_error)?;
                println!("Registered {} ({}) for {}.", d.name, d.device_id, u.profile.user_name);
            }
            MfaCommand::Device(DeviceCommand::Rename { user, device_id, name }) => {
                let u = resolve(svc, &ctx, &user).await?;
                let d = svc.rename_mfa_device(&ctx, &u.user_id, &device_id, &name).await.map_err(service_error)?;
                println!("Device {} is now named {}.", d.device_id, d.name);
            }
            MfaCommand::Device(DeviceCommand::Delete { user, device_id }) => {
                let u = resolve(svc, &ctx, &user).await?;
                svc.delete_mfa_device(&ctx, &u.user_id, &device_id).await.map_err(service_error)?;
                println!("Device {device_id} is deleted.");
            }
        }
        Ok(())
    }
    .await;
    opened.close().await;
    result
}
