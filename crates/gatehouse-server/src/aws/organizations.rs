//! `AWSOrganizationsV20161128.*` read operations over Gatehouse's organization tree, with the
//! Organizations error names (`InvalidInputException`, `AccountNotFoundException`, …).

use axum::http::StatusCode;
use gatehouse_core::error::ResourceType;
use gatehouse_core::model::{Account, OrgUnit, Page};
use gatehouse_core::services::{ChildType, Node};
use gatehouse_core::{Ctx, Error};
use serde_json::{Value, json};

use super::{ApiError, epoch, page_args, paged};
use crate::AppState;

/// Organizations names its errors differently from identitystore.
pub fn error(e: Error) -> ApiError {
    let message = e.to_string();
    match &e {
        Error::Validation { .. } => ApiError::new(StatusCode::BAD_REQUEST, "InvalidInputException", message),
        Error::NotFound { resource_type, .. } => {
            let code = match resource_type {
                ResourceType::Account => "AccountNotFoundException",
                ResourceType::OrganizationalUnit => "OrganizationalUnitNotFoundException",
                ResourceType::Parent => "ParentNotFoundException",
                ResourceType::Child => "ChildNotFoundException",
                _ => "InvalidInputException",
            };
            ApiError::new(StatusCode::BAD_REQUEST, code, message)
        }
        Error::Throttled { .. } => ApiError::new(StatusCode::BAD_REQUEST, "TooManyRequestsException", message),
        Error::Internal { .. } | Error::Unavailable { .. } => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ServiceException",
            "AWS Organizations can't complete your request because of an internal service error.",
        ),
        _ => ApiError::from(e),
    }
}

fn required(input: &Value, name: &str) -> Result<String, ApiError> {
    input.get(name).and_then(Value::as_str).map(str::to_string).ok_or_else(|| error(Error::validation(name, "is required")))
}

fn page(state: &AppState, input: &Value, operation: &str) -> Result<Page, ApiError> {
    page_args(state, input, operation, 20, error)
}

fn account_json(state: &AppState, a: &Account) -> Value {
    json!({
        "Id": a.id,
        "Arn": state.services.org_node_arn(&a.id).unwrap_or_default(),
        "Email": a.email,
        "Name": a.name,
        "Status": a.status,
        "State": a.status,
        "JoinedMethod": a.joined_method,
        "JoinedTimestamp": epoch(&a.joined_at),
    })
}

fn ou_json(state: &AppState, u: &OrgUnit) -> Value {
    json!({"Id": u.id, "Arn": state.services.org_node_arn(&u.id).unwrap_or_default(), "Name": u.name})
}

pub async fn dispatch(state: &AppState, ctx: &Ctx, operation: &str, input: Value) -> Result<Value, ApiError> {
    let svc = &state.services;
    match operation {
        "DescribeOrganization" => {
            let (i, m) = svc.describe_organization(ctx).await.map_err(error)?;
            Ok(json!({"Organization": {
                "Id": i.organization_id,
                "Arn": gatehouse_core::ids::organization_arn(&i.management_account_id, &i.organization_id),
                "FeatureSet": "ALL",
                "MasterAccountArn": svc.org_node_arn(&m.id).unwrap_or_default(),
                "MasterAccountId": m.id,
                "MasterAccountEmail": m.email,
                "AvailablePolicyTypes": [],
            }}))
        }
        "ListRoots" => {
            let roots = svc.list_roots(ctx).await.map_err(error)?;
            let list: Vec<Value> = roots
                .iter()
                .map(|r| json!({"Id": r, "Arn": svc.org_node_arn(r).unwrap_or_default(), "Name": "Root", "PolicyTypes": []}))
                .collect();
            Ok(json!({"Roots": list}))
        }
        "ListAccounts" => {
            let page = page(state, &input, operation)?;
            let list = svc.list_accounts(ctx, page).await.map_err(error)?;
            Ok(paged(state, operation, "Accounts", list, |a| account_json(state, a)))
        }
        "ListAccountsForParent" => {
            let parent = required(&input, "ParentId")?;
            let page = page(state, &input, operation)?;
            let list = svc.list_accounts_for_parent(ctx, &parent, page).await.map_err(error)?;
            Ok(paged(state, operation, "Accounts", list, |a| account_json(state, a)))
        }
        "ListOrganizationalUnitsForParent" => {
            let parent = required(&input, "ParentId")?;
            let page = page(state, &input, operation)?;
            let list = svc.list_ous_for_parent(ctx, &parent, page).await.map_err(error)?;
            Ok(paged(state, operation, "OrganizationalUnits", list, |u| ou_json(state, u)))
        }
        "DescribeAccount" => {
            let a = svc.describe_account(ctx, &required(&input, "AccountId")?).await.map_err(error)?;
            Ok(json!({"Account": account_json(state, &a)}))
        }
        "DescribeOrganizationalUnit" => {
            let u = svc.describe_ou(ctx, &required(&input, "OrganizationalUnitId")?).await.map_err(error)?;
            Ok(json!({"OrganizationalUnit": ou_json(state, &u)}))
        }
        "ListParents" => {
            let parents = svc.list_parents(ctx, &required(&input, "ChildId")?).await.map_err(error)?;
            let list: Vec<Value> = parents
                .iter()
                .map(|p| json!({"Id": p.id(), "Type": if matches!(p, Node::Root(_)) { "ROOT" } else { "ORGANIZATIONAL_UNIT" }}))
                .collect();
            Ok(json!({"Parents": list}))
        }
        "ListChildren" => {
            let parent = required(&input, "ParentId")?;
            let (kind, label) = match input.get("ChildType").and_then(Value::as_str) {
                Some("ACCOUNT") => (ChildType::Account, "ACCOUNT"),
                Some("ORGANIZATIONAL_UNIT") => (ChildType::OrganizationalUnit, "ORGANIZATIONAL_UNIT"),
                _ => return Err(error(Error::validation("ChildType", "must be ACCOUNT or ORGANIZATIONAL_UNIT"))),
            };
            let page = page(state, &input, operation)?;
            let list = svc.list_children(ctx, &parent, kind, page).await.map_err(error)?;
            Ok(paged(state, operation, "Children", list, |id| json!({"Id": id, "Type": label})))
        }
        other => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "UnknownOperationException",
            format!("AWSOrganizationsV20161128.{other} is not supported"),
        )),
    }
}
