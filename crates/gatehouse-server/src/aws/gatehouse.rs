//! `Gatehouse.*`: operations Identity Center offers only in its console — a user's portal
//! sessions and MFA devices, and the MFA settings — on the same JSON protocol and SigV4 keys.
//! boto3 and the AWS CLI call them with the model in `clients/botocore` (see docs/api.md).

use gatehouse_core::Ctx;
use gatehouse_core::model::{MfaMode, MfaSettings, MfaSettingsChange, NoDevice};
use serde_json::{Value, json};

use super::identitystore::string_member;
use super::{ApiError, epoch};
use crate::AppState;

pub async fn dispatch(state: &AppState, ctx: &Ctx, operation: &str, input: Value) -> Result<Value, ApiError> {
    let svc = &state.services;
    match operation {
        "DescribeMfaDeviceManagementForDirectory" => Ok(json!({"Settings": settings_json(&svc.describe_mfa_settings(ctx).await?)})),
        "PutMfaDeviceManagementForDirectory" => {
            svc.update_mfa_settings(ctx, settings_change(input.get("Settings").unwrap_or(&Value::Null))?).await?;
            Ok(json!({}))
        }
        _ => {
            if let Some(out) = super::gatehouse_apps::dispatch(state, ctx, operation, &input).await? {
                return Ok(out);
            }
            if let Some(out) = super::gatehouse_accounts::dispatch(state, ctx, operation, &input).await? {
                return Ok(out);
            }
            user_operation(state, ctx, operation, &input).await
        }
    }
}

async fn user_operation(state: &AppState, ctx: &Ctx, operation: &str, input: &Value) -> Result<Value, ApiError> {
    let svc = &state.services;
    let user_id = string_member(input, "UserId")?;
    let text = |name: &str| input.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
    match operation {
        "ListUserSessions" => {
            let sessions = svc.list_user_sessions(ctx, &user_id).await?;
            let list: Vec<Value> = sessions
                .iter()
                .map(|s| {
                    json!({"SessionId": s.session_id, "Stage": s.stage.as_str(), "SourceIp": s.source_ip, "UserAgent": s.user_agent,
                           "CreatedAt": epoch(&s.created_at), "LastSeenAt": epoch(&s.last_seen_at), "ExpiresAt": epoch(&s.expires_at)})
                })
                .collect();
            Ok(json!({"Sessions": list}))
        }
        "RevokeUserSessions" => Ok(json!({"SessionsRevoked": svc.revoke_user_sessions(ctx, &user_id).await?})),
        "ListMfaDevicesForUser" => {
            let devices = svc.list_mfa_devices(ctx, &user_id).await?;
            let list: Vec<Value> = devices
                .iter()
                .map(|d| {
                    let mut v = json!({"DeviceId": d.device_id, "DeviceName": d.name, "DeviceType": d.kind.as_str(), "CreatedAt": epoch(&d.created_at)});
                    if let Some(t) = &d.last_used_at {
                        v["LastUsedAt"] = json!(epoch(t));
                    }
                    v
                })
                .collect();
            Ok(json!({"Devices": list}))
        }
        "StartVirtualMfaDeviceRegistration" => {
            let e = svc.start_totp_registration(ctx, &user_id).await?;
            Ok(json!({"Secret": e.secret, "OtpauthUri": e.uri}))
        }
        "CompleteVirtualMfaDeviceRegistration" => {
            let d = svc.complete_totp_registration(ctx, &user_id, &text("Secret"), &text("Code"), &text("DeviceName")).await?;
            Ok(json!({"DeviceId": d.device_id, "DeviceName": d.name, "DeviceType": d.kind.as_str()}))
        }
        "UpdateMfaDeviceForUser" => {
            svc.rename_mfa_device(ctx, &user_id, &text("DeviceId"), &text("DeviceName")).await?;
            Ok(json!({}))
        }
        "DeleteMfaDeviceForUser" => {
            svc.delete_mfa_device(ctx, &user_id, &text("DeviceId")).await?;
            Ok(json!({}))
        }
        other => Err(ApiError::new(axum::http::StatusCode::BAD_REQUEST, "UnknownOperationException", format!("Unknown operation {other}"))),
    }
}

fn settings_json(s: &MfaSettings) -> Value {
    json!({"Mode": s.mode.as_str(), "AuthenticatorApps": s.authenticator_apps, "SecurityKeys": s.security_keys,
           "NoDevice": s.no_device.as_str(), "UsersManageDevices": s.users_manage_devices})
}

/// The members present change; the model has already checked their types and enum values.
fn settings_change(input: &Value) -> Result<MfaSettingsChange, ApiError> {
    let text = |name: &str| input.get(name).and_then(Value::as_str);
    let flag = |name: &str| match input.get(name) {
        None => Ok(None),
        Some(v) => v.as_bool().map(Some).ok_or_else(|| ApiError::validation(format!("Settings.{name}: must be a boolean"))),
    };
    Ok(MfaSettingsChange {
        mode: text("Mode").map(|m| MfaMode::parse(m).ok_or_else(|| ApiError::validation("Settings.Mode: unknown mode"))).transpose()?,
        no_device: text("NoDevice")
            .map(|v| NoDevice::parse(v).ok_or_else(|| ApiError::validation("Settings.NoDevice: unknown action")))
            .transpose()?,
        authenticator_apps: flag("AuthenticatorApps")?,
        security_keys: flag("SecurityKeys")?,
        users_manage_devices: flag("UsersManageDevices")?,
    })
}
