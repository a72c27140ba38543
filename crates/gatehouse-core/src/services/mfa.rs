//! MFA devices and the instance's MFA settings (the guide's "Multi-factor authentication").
//! Users manage their own devices in the portal when the settings allow it; administrators manage
//! anyone's (CLI and API now, console later). Event names are Identity Center's.

use serde_json::json;

use super::Services;
use super::op::{Op, Source};
use super::principal::{Ctx, PrincipalKind};
use super::signin::MFA_SETTING;
use super::signin::totp;
use crate::error::{Error, Result};
use crate::ids;
use crate::model::{MfaDevice, MfaKind, MfaSettings, MfaSettingsChange};

/// The guide: at most two authenticator apps per user.
pub const MAX_AUTHENTICATOR_APPS: usize = 2;
/// The guide: at most six security keys or built-in authenticators per user.
pub const MAX_SECURITY_KEYS: usize = 6;
const MAX_NAME: usize = 64;

/// An authenticator app registration in progress: show the secret (and its QR code) once.
#[derive(Debug, Clone)]
pub struct TotpEnrollment {
    pub secret: String,
    pub uri: String,
    pub qr_svg: String,
}

/// The QR code and URI of a secret already handed out (a registration form shown again after a
/// wrong code).
pub fn totp_enrollment(secret: &str, user_name: &str) -> Result<TotpEnrollment> {
    super::signin::totp::enrollment(secret.to_string(), user_name)
}

impl Services {
    /// Users may manage their own devices only when the settings say so.
    pub(crate) async fn check_self_service(&self, ctx: &Ctx) -> Result<()> {
        if matches!(ctx.principal.kind, PrincipalKind::PortalUser { .. }) && !self.mfa_settings().await?.users_manage_devices {
            return Err(Error::AccessDenied { message: "Only administrators can manage MFA devices".into() });
        }
        Ok(())
    }

    pub async fn list_mfa_devices(&self, ctx: &Ctx, user_id: &str) -> Result<Vec<MfaDevice>> {
        let mut op = self.begin(ctx, Source::SsoDirectory, "ListMfaDevicesForUser", true, json!({"UserId": user_id})).await?;
        let result = async {
            op.authorize(&ids::user_arn(user_id))?;
            Ok(op.tx.list_mfa_devices(user_id).await?)
        }
        .await;
        op.finish(result).await
    }

    /// A new authenticator secret for `user_id` (nothing is stored until the first code proves
    /// the app has it).
    pub async fn start_totp_registration(&self, ctx: &Ctx, user_id: &str) -> Result<TotpEnrollment> {
        let mut op = self.begin(ctx, Source::SsoDirectory, "StartVirtualMfaDeviceRegistration", true, json!({"UserId": user_id})).await?;
        let result = async {
            op.authorize(&ids::user_arn(user_id))?;
            self.check_self_service(ctx).await?;
            let user = super::users::load_user(&mut op, &self.store_id()?, user_id).await?;
            let settings = self.mfa_settings().await?;
            if !settings.authenticator_apps {
                return Err(Error::validation("DeviceType", "Authenticator apps are not allowed by the MFA settings"));
            }
            let secret = totp::new_secret();
            totp::enrollment(secret, &user.profile.user_name)
        }
        .await;
        op.finish(result).await
    }

    /// Register the authenticator app holding `secret`, proven by a current `code`.
    pub async fn complete_totp_registration(&self, ctx: &Ctx, user_id: &str, secret: &str, code: &str, name: &str) -> Result<MfaDevice> {
        let name = device_name(name, MfaKind::Totp)?;
        let params = json!({"UserId": user_id, "DeviceName": name});
        let mut op = self.begin(ctx, Source::SsoDirectory, "CompleteVirtualMfaDeviceRegistration", false, params).await?;
        let result = async {
            op.authorize(&ids::user_arn(user_id))?;
            self.check_self_service(ctx).await?;
            let now = self.clock.now();
            let step = totp::matching_step(secret, code, now.timestamp().max(0) as u64, None)?
                .ok_or_else(|| Error::validation("Code", "The code is incorrect. Enter the code your app shows now."))?;
            let device = MfaDevice {
                device_id: ids::new_uuid(),
                user_id: user_id.to_string(),
                kind: MfaKind::Totp,
                name,
                secret: self.key.encrypt_str(secret),
                credential_id: None,
                last_step: Some(step),
                drift_steps: 0,
                created_at: now,
                last_used_at: None,
            };
            self.add_device(&mut op, &device).await?;
            Ok(device)
        }
        .await;
        op.finish(result).await
    }

    /// Store a new device within its limits: per kind, and unique names per user.
    pub(crate) async fn add_device(&self, op: &mut Op<'_>, device: &MfaDevice) -> Result<()> {
        let user = super::users::load_user(op, &self.store_id()?, &device.user_id).await?;
        if !user.active {
            return Err(super::users::disabled(&device.user_id, "given an MFA device"));
        }
        let existing = op.tx.list_mfa_devices(&device.user_id).await?;
        let (max, what) = match device.kind {
            MfaKind::Totp => (MAX_AUTHENTICATOR_APPS, "authenticator apps"),
            MfaKind::WebAuthn => (MAX_SECURITY_KEYS, "security keys and built-in authenticators"),
        };
        if existing.iter().filter(|d| d.kind == device.kind).count() >= max {
            return Err(Error::QuotaExceeded { message: format!("A user can register at most {max} {what}") });
        }
        if existing.iter().any(|d| d.name.eq_ignore_ascii_case(&device.name)) {
            return Err(Error::conflict(format!("An MFA device named '{}' is already registered", device.name)));
        }
        op.tx.insert_mfa_device(device).await.map_err(|e| match e {
            // Only a credential id can collide: a key belongs to one user.
            crate::error::StoreError::Unique(_) => Error::conflict("This security key is already registered"),
            other => other.into(),
        })?;
        op.resource("AWS::IdentityStore::User", ids::user_arn(&device.user_id));
        op.respond(json!({"DeviceId": device.device_id, "DeviceName": device.name, "DeviceType": device.kind.as_str()}));
        Ok(())
    }

    pub async fn rename_mfa_device(&self, ctx: &Ctx, user_id: &str, device_id: &str, name: &str) -> Result<MfaDevice> {
        let params = json!({"UserId": user_id, "DeviceId": device_id, "DeviceName": name});
        let mut op = self.begin(ctx, Source::SsoDirectory, "UpdateMfaDeviceForUser", false, params).await?;
        let result = async {
            op.authorize(&ids::user_arn(user_id))?;
            self.check_self_service(ctx).await?;
            let devices = op.tx.list_mfa_devices(user_id).await?;
            let mut device = devices.iter().find(|d| d.device_id == device_id).cloned().ok_or_else(|| no_device(device_id))?;
            device.name = device_name(name, device.kind)?;
            if devices.iter().any(|d| d.device_id != device_id && d.name.eq_ignore_ascii_case(&device.name)) {
                return Err(Error::conflict(format!("An MFA device named '{}' is already registered", device.name)));
            }
            op.tx.update_mfa_device(&device).await?;
            Ok(device)
        }
        .await;
        op.finish(result).await
    }

    pub async fn delete_mfa_device(&self, ctx: &Ctx, user_id: &str, device_id: &str) -> Result<()> {
        let params = json!({"UserId": user_id, "DeviceId": device_id});
        let mut op = self.begin(ctx, Source::SsoDirectory, "DeleteMfaDeviceForUser", false, params).await?;
        let result = async {
            op.authorize(&ids::user_arn(user_id))?;
            self.check_self_service(ctx).await?;
            if !op.tx.delete_mfa_device(user_id, device_id).await? {
                return Err(no_device(device_id));
            }
            op.resource("AWS::IdentityStore::User", ids::user_arn(user_id));
            Ok(())
        }
        .await;
        op.finish(result).await
    }

    /// The instance's MFA settings, for an administrator.
    pub async fn describe_mfa_settings(&self, ctx: &Ctx) -> Result<MfaSettings> {
        let mut op = self.begin(ctx, Source::SsoDirectory, "DescribeMfaDeviceManagementForDirectory", true, json!({})).await?;
        let result = async {
            op.authorize(&self.identity_store_arn()?)?;
            super::signin::parse_mfa_settings(op.tx.get_setting(MFA_SETTING).await?)
        }
        .await;
        op.finish(result).await
    }

    /// Change the instance's MFA settings.
    pub async fn put_mfa_settings(&self, ctx: &Ctx, settings: &MfaSettings) -> Result<()> {
        self.update_mfa_settings(ctx, MfaSettingsChange::from(settings)).await.map(|_| ())
    }

    /// Change some of the MFA settings (read and written in one transaction): the result.
    pub async fn update_mfa_settings(&self, ctx: &Ctx, change: MfaSettingsChange) -> Result<MfaSettings> {
        let mut op = self
            .begin(ctx, Source::SsoDirectory, "PutMfaDeviceManagementForDirectory", false, serde_json::to_value(change).unwrap_or_default())
            .await?;
        let result = async {
            op.authorize(&self.identity_store_arn()?)?;
            let mut settings = super::signin::parse_mfa_settings(op.tx.get_setting(MFA_SETTING).await?)?;
            change.apply(&mut settings);
            if settings.mode != crate::model::MfaMode::Never && !settings.authenticator_apps && !settings.security_keys {
                return Err(Error::validation("MfaTypes", "Choose at least one MFA type, or set MFA to never"));
            }
            let text = serde_json::to_string(&settings).map_err(|e| Error::internal(e.to_string()))?;
            op.tx.put_setting(MFA_SETTING, &text, self.clock.now()).await?;
            op.respond(serde_json::to_value(&settings).unwrap_or_default());
            Ok(settings)
        }
        .await;
        op.finish(result).await
    }

    /// The authenticator app among a user's devices that `code` matches now (its step recorded).
    pub(crate) fn match_totp(&self, devices: &[MfaDevice], code: &str) -> Result<Option<MfaDevice>> {
        totp::match_device(&self.key, devices, code, self.clock.now().timestamp().max(0) as u64)
    }
}

fn no_device(device_id: &str) -> Error {
    Error::NotFound { resource_type: crate::error::ResourceType::MfaDevice, resource_id: device_id.to_string() }
}

/// A device name: trimmed, 1 to 64 printable characters; empty means the kind's label.
pub(crate) fn device_name(name: &str, kind: MfaKind) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Ok(kind.label().to_string());
    }
    if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(Error::validation("DeviceName", format!("A device name has 1 to {MAX_NAME} printable characters")));
    }
    Ok(name.to_string())
}
