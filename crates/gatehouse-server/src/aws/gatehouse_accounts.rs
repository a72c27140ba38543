//! `Gatehouse.*` operations for AWS accounts: connections (endpoints and credentials), the IAM
//! identity provider's repair and removal, assignments to organizational units, and the
//! auto-reprovision setting. Protocol work only.

use gatehouse_core::Ctx;
use gatehouse_core::services::permission_sets::ConnectionChange;
use serde_json::{Value, json};

use super::ApiError;
use super::sso_admin::{opt_text, principal_type, text};
use crate::AppState;

pub async fn dispatch(state: &AppState, ctx: &Ctx, operation: &str, input: &Value) -> Result<Option<Value>, ApiError> {
    let svc = &state.services;
    let account = input.get("AccountId").and_then(Value::as_str);
    let out = match operation {
        "PutAccountConnection" => {
            let change = ConnectionChange {
                iam_endpoint: opt_text(input, "IamEndpoint"),
                sts_endpoint: opt_text(input, "StsEndpoint"),
                region: opt_text(input, "Region"),
                partition: opt_text(input, "Partition"),
                access_key_id: opt_text(input, "AccessKeyId"),
                secret_access_key: opt_text(input, "SecretAccessKey"),
                role_arn: opt_text(input, "RoleArn"),
                saml_endpoint: opt_text(input, "SamlEndpoint"),
            };
            svc.put_account_connection(ctx, account, change).await?;
            json!({})
        }
        "DescribeAccountConnection" => {
            let c = svc.describe_account_connection(ctx, account).await?;
            let mut conn = json!({});
            for (key, value) in [
                ("IamEndpoint", &c.iam_endpoint),
                ("StsEndpoint", &c.sts_endpoint),
                ("Region", &c.region),
                ("Partition", &c.partition),
                ("AccessKeyId", &c.access_key_id),
                ("RoleArn", &c.role_arn),
                ("SamlEndpoint", &c.saml_endpoint),
            ] {
                if let Some(v) = value {
                    conn[key] = json!(v);
                }
            }
            json!({"Connection": conn})
        }
        "RepairIdentityProvider" => json!({"SamlProviderArn": svc.repair_identity_provider(ctx, text(input, "AccountId")?).await?}),
        "RemoveIdentityProvider" => json!({"SamlProviderArn": svc.remove_identity_provider(ctx, text(input, "AccountId")?).await?}),
        "CreateOrganizationalUnitAssignment" | "DeleteOrganizationalUnitAssignment" => {
            svc.require_instance(text(input, "InstanceArn")?)?;
            let ps = svc.permission_set_id_of(text(input, "PermissionSetArn")?)?;
            let (ou, kind, principal) = (text(input, "TargetId")?, principal_type(input)?, text(input, "PrincipalId")?);
            let requests = if operation == "CreateOrganizationalUnitAssignment" {
                svc.create_ou_assignment(ctx, ou, &ps, kind, principal).await?
            } else {
                svc.delete_ou_assignment(ctx, ou, &ps, kind, principal).await?
            };
            json!({"RequestIds": requests.iter().map(|r| r.request_id.clone()).collect::<Vec<_>>()})
        }
        "ListOrganizationalUnitAssignments" => {
            svc.require_instance(text(input, "InstanceArn")?)?;
            let list = svc.list_ou_assignments(ctx, input.get("TargetId").and_then(Value::as_str)).await?;
            let items: Vec<Value> = list
                .iter()
                .map(|a| {
                    json!({"TargetId": a.ou_id, "PermissionSetArn": svc.permission_set_arn(&a.permission_set_id).unwrap_or_default(),
                           "PrincipalType": a.principal_type.as_str(), "PrincipalId": a.principal_id})
                })
                .collect();
            json!({"Assignments": items})
        }
        "PutProvisioningSettings" => {
            let on = input.get("AutoReprovision").and_then(Value::as_bool).unwrap_or(false);
            svc.put_provisioning_settings(ctx, on).await?;
            json!({})
        }
        "DescribeProvisioningSettings" => json!({"AutoReprovision": svc.describe_provisioning_settings(ctx).await?}),
        _ => return Ok(None),
    };
    Ok(Some(out))
}
