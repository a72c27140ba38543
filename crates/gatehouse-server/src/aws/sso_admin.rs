//! `SWBExternalService.*` (sso-admin): the instance and applications — their assignments and
//! providers. Protocol work only; the rules live in the services.

use gatehouse_core::Ctx;
use gatehouse_core::model::{AppAssignment, Application, Instance, PrincipalType, SignInOrigin};
use gatehouse_core::services::applications::{ApplicationChange, NewApplication, PortalOptionsChange};
use gatehouse_saml::catalog::Template;
use serde_json::{Value, json};

use super::{ApiError, epoch, page_args, paged};
use crate::AppState;

pub(super) fn text<'a>(input: &'a Value, name: &str) -> Result<&'a str, ApiError> {
    input.get(name).and_then(Value::as_str).ok_or_else(|| ApiError::validation(format!("{name}: is required")))
}

pub(super) fn opt_text(input: &Value, name: &str) -> Option<String> {
    input.get(name).and_then(Value::as_str).map(str::to_string)
}

fn status(input: &Value) -> Option<bool> {
    input.get("Status").and_then(Value::as_str).map(|s| s == "ENABLED")
}

fn portal_options(input: &Value) -> PortalOptionsChange {
    let p = input.get("PortalOptions");
    let sign_in = p.and_then(|p| p.get("SignInOptions"));
    PortalOptionsChange {
        visible: p.and_then(|p| p.get("Visibility")).and_then(Value::as_str).map(|v| v == "ENABLED"),
        sign_in_origin: sign_in.and_then(|s| s.get("Origin")).and_then(Value::as_str).map(|o| match o {
            "APPLICATION" => SignInOrigin::Application,
            _ => SignInOrigin::IdentityCenter,
        }),
        application_url: sign_in.and_then(|s| s.get("ApplicationUrl")).and_then(Value::as_str).map(str::to_string),
    }
}

pub(super) fn principal_type(input: &Value) -> Result<PrincipalType, ApiError> {
    PrincipalType::parse(text(input, "PrincipalType")?).ok_or_else(|| ApiError::validation("PrincipalType: must be USER or GROUP"))
}

fn instance_json(state: &AppState, i: &Instance) -> Value {
    json!({
        "InstanceArn": i.instance_arn,
        "IdentityStoreId": i.identity_store_id,
        "OwnerAccountId": i.management_account_id,
        "Name": state.services.instance_name(),
        "CreatedDate": epoch(&i.created_at),
        "Status": "ACTIVE",
        "PrimaryRegion": state.services.config().region,
    })
}

fn application_json(state: &AppState, a: &Application) -> Value {
    let svc = &state.services;
    let instance = svc.instance().ok();
    let mut sign_in = json!({"Origin": a.sign_in_origin.as_str()});
    if let Some(url) = &a.application_url {
        sign_in["ApplicationUrl"] = json!(url);
    }
    let mut v = json!({
        "ApplicationArn": svc.application_arn(&a.application_id).unwrap_or_default(),
        "ApplicationProviderArn": gatehouse_core::ids::application_provider_arn(&a.provider),
        "Name": a.name,
        "ApplicationAccount": instance.map(|i| i.management_account_id.clone()),
        "InstanceArn": instance.map(|i| i.instance_arn.clone()),
        "Status": if a.enabled { "ENABLED" } else { "DISABLED" },
        "PortalOptions": {"SignInOptions": sign_in, "Visibility": if a.visible { "ENABLED" } else { "DISABLED" }},
        "CreatedDate": epoch(&a.created_at),
        "CreatedFrom": svc.config().region,
    });
    if let Some(d) = &a.description {
        v["Description"] = json!(d);
    }
    v
}

fn assignment_json(state: &AppState, a: &AppAssignment) -> Value {
    json!({"ApplicationArn": state.services.application_arn(&a.application_id).unwrap_or_default(),
           "PrincipalId": a.principal_id, "PrincipalType": a.principal_type.as_str()})
}

fn provider_json(t: &Template) -> Value {
    json!({
        "ApplicationProviderArn": gatehouse_core::ids::application_provider_arn(t.id),
        "FederationProtocol": "SAML",
        "DisplayData": {"DisplayName": t.name, "Description": t.description},
    })
}

pub async fn dispatch(state: &AppState, ctx: &Ctx, operation: &str, input: Value) -> Result<Value, ApiError> {
    let svc = &state.services;
    let app_id = || -> Result<String, ApiError> { Ok(svc.application_id_of(text(&input, "ApplicationArn")?)?) };
    match operation {
        "ListInstances" => {
            let i = svc.read_instance(ctx, "ListInstances").await?;
            Ok(json!({"Instances": [instance_json(state, &i)]}))
        }
        "DescribeInstance" => {
            svc.require_instance(text(&input, "InstanceArn")?)?;
            let i = svc.read_instance(ctx, "DescribeInstance").await?;
            Ok(instance_json(state, &i))
        }
        "CreateApplication" => {
            svc.require_instance(text(&input, "InstanceArn")?)?;
            let new = NewApplication {
                provider_arn: text(&input, "ApplicationProviderArn")?.to_string(),
                name: text(&input, "Name")?.to_string(),
                description: opt_text(&input, "Description"),
                enabled: status(&input),
                portal: portal_options(&input),
            };
            let app = svc.create_application(ctx, new).await?;
            Ok(json!({"ApplicationArn": svc.application_arn(&app.application_id)?}))
        }
        "DescribeApplication" => Ok(application_json(state, &svc.describe_application(ctx, &app_id()?).await?)),
        "ListApplications" => {
            svc.require_instance(text(&input, "InstanceArn")?)?;
            let page = page_args(state, &input, operation, 50, ApiError::from)?;
            let filter = input.get("Filter");
            if let Some(account) = filter.and_then(|f| f.get("ApplicationAccount")).and_then(Value::as_str)
                && account != svc.instance()?.management_account_id
            {
                return Ok(json!({"Applications": []}));
            }
            let provider = filter.and_then(|f| f.get("ApplicationProvider")).and_then(Value::as_str);
            let apps = svc.list_applications(ctx, provider, &page).await?;
            Ok(paged(state, operation, "Applications", apps, |a| application_json(state, a)))
        }
        "UpdateApplication" => {
            let change = ApplicationChange {
                name: opt_text(&input, "Name"),
                description: opt_text(&input, "Description"),
                enabled: status(&input),
                portal: portal_options(&input),
            };
            svc.update_application(ctx, &app_id()?, change).await?;
            Ok(json!({}))
        }
        "DeleteApplication" => {
            svc.delete_application(ctx, &app_id()?).await?;
            Ok(json!({}))
        }
        "CreateApplicationAssignment" => {
            svc.create_app_assignment(ctx, &app_id()?, principal_type(&input)?, text(&input, "PrincipalId")?).await?;
            Ok(json!({}))
        }
        "DeleteApplicationAssignment" => {
            svc.delete_app_assignment(ctx, &app_id()?, principal_type(&input)?, text(&input, "PrincipalId")?).await?;
            Ok(json!({}))
        }
        "DescribeApplicationAssignment" => {
            let a = svc.describe_app_assignment(ctx, &app_id()?, principal_type(&input)?, text(&input, "PrincipalId")?).await?;
            Ok(assignment_json(state, &a))
        }
        "ListApplicationAssignments" => {
            let page = page_args(state, &input, operation, 100, ApiError::from)?;
            let list = svc.list_app_assignments(ctx, &app_id()?, &page).await?;
            Ok(paged(state, operation, "ApplicationAssignments", list, |a| assignment_json(state, a)))
        }
        "ListApplicationAssignmentsForPrincipal" => {
            svc.require_instance(text(&input, "InstanceArn")?)?;
            let list = svc.list_app_assignments_for_principal(ctx, principal_type(&input)?, text(&input, "PrincipalId")?).await?;
            let wanted = input.get("Filter").and_then(|f| f.get("ApplicationArn")).and_then(Value::as_str);
            let items: Vec<Value> =
                list.iter().map(|a| assignment_json(state, a)).filter(|v| wanted.is_none_or(|w| v["ApplicationArn"] == w)).collect();
            Ok(json!({"ApplicationAssignments": items}))
        }
        "ListApplicationProviders" => {
            let providers = svc.list_application_providers(ctx).await?;
            Ok(json!({"ApplicationProviders": providers.iter().map(|t| provider_json(t)).collect::<Vec<_>>()}))
        }
        "DescribeApplicationProvider" => {
            Ok(provider_json(svc.describe_application_provider(ctx, text(&input, "ApplicationProviderArn")?).await?))
        }
        other => match super::permission_sets::dispatch(state, ctx, other, &input).await? {
            Some(out) => Ok(out),
            None => Err(ApiError::unknown_operation(other)),
        },
    }
}
