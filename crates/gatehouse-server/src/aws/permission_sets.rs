//! `SWBExternalService.*` (sso-admin): permission sets, their policies, account assignments,
//! provisioning, tags and attributes for access control. Protocol work only.

use gatehouse_core::Ctx;
use gatehouse_core::model::{
    AccessControlAttribute, AccountAssignment, Boundary, CustomerPolicyRef, PermissionSet, RequestKind, RequestStatus, SsoRequest, Tag,
};
use gatehouse_core::services::applications::iso_duration;
use gatehouse_core::services::permission_sets::{NewPermissionSet, PermissionSetChange, PolicyChange, managed_policy_name};
use serde_json::{Value, json};

use super::sso_admin::{opt_text, principal_type, text};
use super::{ApiError, epoch, page_args, paged};
use crate::AppState;

fn permission_set_json(state: &AppState, ps: &PermissionSet) -> Value {
    let mut v = json!({
        "Name": ps.name,
        "PermissionSetArn": state.services.permission_set_arn(&ps.permission_set_id).unwrap_or_default(),
        "CreatedDate": epoch(&ps.created_at),
        "SessionDuration": iso_duration(ps.session_minutes),
    });
    if let Some(d) = &ps.description {
        v["Description"] = json!(d);
    }
    if let Some(r) = &ps.relay_state {
        v["RelayState"] = json!(r);
    }
    v
}

fn request_json(state: &AppState, r: &SsoRequest) -> Value {
    let mut v = json!({
        "Status": r.status.as_str(),
        "RequestId": r.request_id,
        "PermissionSetArn": state.services.permission_set_arn(&r.permission_set_id).unwrap_or_default(),
        "CreatedDate": epoch(&r.created_at),
    });
    if let Some(reason) = &r.failure_reason {
        v["FailureReason"] = json!(reason);
    }
    match r.kind {
        RequestKind::Provision => {
            if let Some(a) = &r.account_id {
                v["AccountId"] = json!(a);
            }
        }
        _ => {
            v["TargetId"] = json!(r.account_id);
            v["TargetType"] = json!("AWS_ACCOUNT");
            if let Some((kind, id)) = &r.principal {
                v["PrincipalType"] = json!(kind.as_str());
                v["PrincipalId"] = json!(id);
            }
        }
    }
    v
}

fn request_metadata_json(r: &SsoRequest) -> Value {
    json!({"Status": r.status.as_str(), "RequestId": r.request_id, "CreatedDate": epoch(&r.created_at)})
}

fn assignment_json(state: &AppState, a: &AccountAssignment) -> Value {
    json!({
        "AccountId": a.account_id,
        "PermissionSetArn": state.services.permission_set_arn(&a.permission_set_id).unwrap_or_default(),
        "PrincipalType": a.principal_type.as_str(),
        "PrincipalId": a.principal_id,
    })
}

fn customer_ref(v: Option<&Value>) -> Result<CustomerPolicyRef, ApiError> {
    let v = v.ok_or_else(|| ApiError::validation("CustomerManagedPolicyReference: is required"))?;
    Ok(CustomerPolicyRef {
        name: v.get("Name").and_then(Value::as_str).unwrap_or_default().to_string(),
        path: v.get("Path").and_then(Value::as_str).unwrap_or("/").to_string(),
    })
}

fn customer_ref_json(r: &CustomerPolicyRef) -> Value {
    json!({"Name": r.name, "Path": r.path})
}

fn tags(input: &Value) -> Vec<Tag> {
    input
        .get("Tags")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|t| Tag {
                    key: t.get("Key").and_then(Value::as_str).unwrap_or_default().to_string(),
                    value: t.get("Value").and_then(Value::as_str).unwrap_or_default().to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn access_control_attributes(input: &Value) -> Vec<AccessControlAttribute> {
    input
        .pointer("/InstanceAccessControlAttributeConfiguration/AccessControlAttributes")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|a| AccessControlAttribute {
                    key: a.get("Key").and_then(Value::as_str).unwrap_or_default().to_string(),
                    sources: a
                        .pointer("/Value/Source")
                        .and_then(Value::as_array)
                        .map(|s| s.iter().filter_map(Value::as_str).map(str::to_string).collect())
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn status_filter(input: &Value) -> Option<RequestStatus> {
    input.pointer("/Filter/Status").and_then(Value::as_str).and_then(RequestStatus::parse)
}

fn provisioning_filter(input: &Value) -> Option<bool> {
    input.get("ProvisioningStatus").and_then(Value::as_str).map(|s| s == "LATEST_PERMISSION_SET_PROVISIONED")
}

/// The operations of this family; None when `operation` is not one of them.
pub async fn dispatch(state: &AppState, ctx: &Ctx, operation: &str, input: &Value) -> Result<Option<Value>, ApiError> {
    let svc = &state.services;
    let ps_id = || -> Result<String, ApiError> { Ok(svc.permission_set_id_of(text(input, "PermissionSetArn")?)?) };
    let instance = || -> Result<(), ApiError> { Ok(svc.require_instance(text(input, "InstanceArn")?)?) };
    let policy_change = |change: PolicyChange| async move {
        instance()?;
        svc.change_permission_set_policies(ctx, &ps_id()?, change).await?;
        Ok::<Value, ApiError>(json!({}))
    };
    let out = match operation {
        "UpdateInstance" => {
            instance()?;
            svc.update_instance_name(ctx, opt_text(input, "Name")).await?;
            json!({})
        }
        "CreatePermissionSet" => {
            instance()?;
            let new = NewPermissionSet {
                name: text(input, "Name")?.to_string(),
                description: opt_text(input, "Description"),
                session_duration: opt_text(input, "SessionDuration"),
                relay_state: opt_text(input, "RelayState"),
                tags: tags(input),
                policies: Default::default(),
            };
            let ps = svc.create_permission_set(ctx, new).await?;
            json!({"PermissionSet": permission_set_json(state, &ps)})
        }
        "DescribePermissionSet" => {
            instance()?;
            json!({"PermissionSet": permission_set_json(state, &svc.describe_permission_set(ctx, &ps_id()?).await?)})
        }
        "UpdatePermissionSet" => {
            instance()?;
            let change = PermissionSetChange {
                description: opt_text(input, "Description"),
                session_duration: opt_text(input, "SessionDuration"),
                relay_state: opt_text(input, "RelayState"),
            };
            svc.update_permission_set(ctx, &ps_id()?, change).await?;
            json!({})
        }
        "ListPermissionSets" => {
            instance()?;
            let page = page_args(state, input, operation, 100, ApiError::from)?;
            let list = svc.list_permission_sets(ctx, &page).await?;
            paged(state, operation, "PermissionSets", list, |p| json!(svc.permission_set_arn(&p.permission_set_id).unwrap_or_default()))
        }
        "DeletePermissionSet" => {
            instance()?;
            svc.delete_permission_set(ctx, &ps_id()?).await?;
            json!({})
        }
        "AttachManagedPolicyToPermissionSet" => {
            policy_change(PolicyChange::AttachManaged(text(input, "ManagedPolicyArn")?.to_string())).await?
        }
        "DetachManagedPolicyFromPermissionSet" => {
            policy_change(PolicyChange::DetachManaged(text(input, "ManagedPolicyArn")?.to_string())).await?
        }
        "PutInlinePolicyToPermissionSet" => policy_change(PolicyChange::PutInline(text(input, "InlinePolicy")?.to_string())).await?,
        "DeleteInlinePolicyFromPermissionSet" => policy_change(PolicyChange::DeleteInline).await?,
        "AttachCustomerManagedPolicyReferenceToPermissionSet" => {
            policy_change(PolicyChange::AttachCustomer(customer_ref(input.get("CustomerManagedPolicyReference"))?)).await?
        }
        "DetachCustomerManagedPolicyReferenceFromPermissionSet" => {
            policy_change(PolicyChange::DetachCustomer(customer_ref(input.get("CustomerManagedPolicyReference"))?)).await?
        }
        "PutPermissionsBoundaryToPermissionSet" => {
            let b = input.get("PermissionsBoundary");
            let boundary = match (
                b.and_then(|b| b.get("ManagedPolicyArn")).and_then(Value::as_str),
                b.and_then(|b| b.get("CustomerManagedPolicyReference")),
            ) {
                (Some(arn), None) => Boundary::Managed(arn.to_string()),
                (None, Some(r)) => Boundary::Customer(customer_ref(Some(r))?),
                _ => {
                    return Err(ApiError::validation(
                        "PermissionsBoundary: give exactly one of ManagedPolicyArn and CustomerManagedPolicyReference",
                    ));
                }
            };
            policy_change(PolicyChange::PutBoundary(boundary)).await?
        }
        "DeletePermissionsBoundaryFromPermissionSet" => policy_change(PolicyChange::DeleteBoundary).await?,
        // At most ten policies: one page always holds them all.
        "ListManagedPoliciesInPermissionSet" => {
            instance()?;
            let policies = svc.permission_set_policies(ctx, "ListManagedPoliciesInPermissionSet", &ps_id()?).await?;
            let items: Vec<Value> = policies.managed.iter().map(|arn| json!({"Name": managed_policy_name(arn), "Arn": arn})).collect();
            json!({"AttachedManagedPolicies": items})
        }
        "ListCustomerManagedPolicyReferencesInPermissionSet" => {
            instance()?;
            let policies = svc.permission_set_policies(ctx, "ListCustomerManagedPolicyReferencesInPermissionSet", &ps_id()?).await?;
            json!({"CustomerManagedPolicyReferences": policies.customer_managed.iter().map(customer_ref_json).collect::<Vec<_>>()})
        }
        "GetInlinePolicyForPermissionSet" => {
            instance()?;
            let policies = svc.permission_set_policies(ctx, "GetInlinePolicyForPermissionSet", &ps_id()?).await?;
            match policies.inline {
                Some(doc) => json!({"InlinePolicy": doc}),
                None => json!({}),
            }
        }
        "GetPermissionsBoundaryForPermissionSet" => {
            instance()?;
            let policies = svc.permission_set_policies(ctx, "GetPermissionsBoundaryForPermissionSet", &ps_id()?).await?;
            match policies.boundary {
                Some(Boundary::Managed(arn)) => json!({"PermissionsBoundary": {"ManagedPolicyArn": arn}}),
                Some(Boundary::Customer(r)) => json!({"PermissionsBoundary": {"CustomerManagedPolicyReference": customer_ref_json(&r)}}),
                None => {
                    return Err(ApiError::from(gatehouse_core::Error::not_found(
                        gatehouse_core::error::ResourceType::PermissionSet,
                        "the permission set has no permissions boundary",
                    )));
                }
            }
        }
        "CreateAccountAssignment" | "DeleteAccountAssignment" => {
            instance()?;
            let (account, ps, kind, principal) = (text(input, "TargetId")?, ps_id()?, principal_type(input)?, text(input, "PrincipalId")?);
            if operation == "CreateAccountAssignment" {
                let r = svc.create_account_assignment(ctx, account, &ps, kind, principal).await?;
                json!({"AccountAssignmentCreationStatus": request_json(state, &r)})
            } else {
                let r = svc.delete_account_assignment(ctx, account, &ps, kind, principal).await?;
                json!({"AccountAssignmentDeletionStatus": request_json(state, &r)})
            }
        }
        "DescribeAccountAssignmentCreationStatus" => {
            instance()?;
            let r = svc.describe_request(ctx, RequestKind::Create, text(input, "AccountAssignmentCreationRequestId")?).await?;
            json!({"AccountAssignmentCreationStatus": request_json(state, &r)})
        }
        "DescribeAccountAssignmentDeletionStatus" => {
            instance()?;
            let r = svc.describe_request(ctx, RequestKind::Delete, text(input, "AccountAssignmentDeletionRequestId")?).await?;
            json!({"AccountAssignmentDeletionStatus": request_json(state, &r)})
        }
        "DescribePermissionSetProvisioningStatus" => {
            instance()?;
            let r = svc.describe_request(ctx, RequestKind::Provision, text(input, "ProvisionPermissionSetRequestId")?).await?;
            json!({"PermissionSetProvisioningStatus": request_json(state, &r)})
        }
        "ListAccountAssignmentCreationStatus" | "ListAccountAssignmentDeletionStatus" | "ListPermissionSetProvisioningStatus" => {
            instance()?;
            let (kind, key) = match operation {
                "ListAccountAssignmentCreationStatus" => (RequestKind::Create, "AccountAssignmentsCreationStatus"),
                "ListAccountAssignmentDeletionStatus" => (RequestKind::Delete, "AccountAssignmentsDeletionStatus"),
                _ => (RequestKind::Provision, "PermissionSetsProvisioningStatus"),
            };
            let page = page_args(state, input, operation, 100, ApiError::from)?;
            let list = svc.list_requests(ctx, kind, status_filter(input), &page).await?;
            paged(state, operation, key, list, request_metadata_json)
        }
        "ListAccountAssignments" => {
            instance()?;
            let page = page_args(state, input, operation, 100, ApiError::from)?;
            let list = svc.list_account_assignments(ctx, text(input, "AccountId")?, &ps_id()?, &page).await?;
            paged(state, operation, "AccountAssignments", list, |a| assignment_json(state, a))
        }
        "ListAccountAssignmentsForPrincipal" => {
            instance()?;
            let page = page_args(state, input, operation, 100, ApiError::from)?;
            let account = input.pointer("/Filter/AccountId").and_then(Value::as_str);
            let list = svc
                .list_account_assignments_for_principal(ctx, principal_type(input)?, text(input, "PrincipalId")?, account, &page)
                .await?;
            paged(state, operation, "AccountAssignments", list, |a| assignment_json(state, a))
        }
        "ProvisionPermissionSet" => {
            instance()?;
            let account = match text(input, "TargetType")? {
                "AWS_ACCOUNT" => Some(
                    text(input, "TargetId").map_err(|_| ApiError::validation("TargetId: is required when TargetType is AWS_ACCOUNT"))?,
                ),
                _ => None,
            };
            let r = svc.provision_permission_set(ctx, &ps_id()?, account).await?;
            json!({"PermissionSetProvisioningStatus": request_json(state, &r)})
        }
        "ListAccountsForProvisionedPermissionSet" => {
            instance()?;
            let page = page_args(state, input, operation, 100, ApiError::from)?;
            let list = svc.list_accounts_for_provisioned_permission_set(ctx, &ps_id()?, provisioning_filter(input), &page).await?;
            paged(state, operation, "AccountIds", list, |a| json!(a))
        }
        "ListPermissionSetsProvisionedToAccount" => {
            instance()?;
            let page = page_args(state, input, operation, 100, ApiError::from)?;
            let list =
                svc.list_permission_sets_provisioned_to_account(ctx, text(input, "AccountId")?, provisioning_filter(input), &page).await?;
            paged(state, operation, "PermissionSets", list, |id| json!(svc.permission_set_arn(id).unwrap_or_default()))
        }
        "TagResource" => {
            svc.tag_resource(ctx, text(input, "ResourceArn")?, tags(input)).await?;
            json!({})
        }
        "UntagResource" => {
            let keys = input
                .get("TagKeys")
                .and_then(Value::as_array)
                .map(|k| k.iter().filter_map(Value::as_str).map(str::to_string).collect())
                .unwrap_or_default();
            svc.untag_resource(ctx, text(input, "ResourceArn")?, keys).await?;
            json!({})
        }
        "ListTagsForResource" => {
            let list = svc.list_tags_for_resource(ctx, text(input, "ResourceArn")?).await?;
            json!({"Tags": list.iter().map(|t| json!({"Key": t.key, "Value": t.value})).collect::<Vec<_>>()})
        }
        "CreateInstanceAccessControlAttributeConfiguration" => {
            instance()?;
            svc.create_access_control_attributes(ctx, access_control_attributes(input)).await?;
            json!({})
        }
        "UpdateInstanceAccessControlAttributeConfiguration" => {
            instance()?;
            svc.update_access_control_attributes(ctx, access_control_attributes(input)).await?;
            json!({})
        }
        "DescribeInstanceAccessControlAttributeConfiguration" => {
            instance()?;
            let attrs = svc.describe_access_control_attributes(ctx).await?;
            let list: Vec<Value> = attrs.iter().map(|a| json!({"Key": a.key, "Value": {"Source": a.sources}})).collect();
            json!({"Status": "ENABLED", "InstanceAccessControlAttributeConfiguration": {"AccessControlAttributes": list}})
        }
        "DeleteInstanceAccessControlAttributeConfiguration" => {
            instance()?;
            svc.delete_access_control_attributes(ctx).await?;
            json!({})
        }
        _ => return Ok(None),
    };
    Ok(Some(out))
}
