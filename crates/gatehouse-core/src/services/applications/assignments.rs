//! Who may sign in to an application: users, and groups assigned directly (the guide: members
//! of nested groups are not reached).

use serde_json::json;

use super::super::Services;
use super::super::op::Source;
use super::super::principal::Ctx;
use crate::error::{Error, ResourceType, Result};
use crate::model::{AppAssignment, Page, Paged, PrincipalType};
use crate::store::Tx;

impl Services {
    pub(crate) async fn require_principal(&self, tx: &mut Box<dyn Tx>, kind: PrincipalType, id: &str) -> Result<()> {
        let store = self.store_id()?;
        let found = match kind {
            PrincipalType::User => tx.get_user(&store, id).await?.is_some(),
            PrincipalType::Group => tx.get_group(&store, id).await?.is_some(),
        };
        if found {
            Ok(())
        } else {
            let rt = if kind == PrincipalType::User { ResourceType::User } else { ResourceType::Group };
            Err(Error::not_found(rt, id))
        }
    }

    pub async fn create_app_assignment(&self, ctx: &Ctx, app_id: &str, kind: PrincipalType, principal_id: &str) -> Result<()> {
        let request = json!({"applicationId": app_id, "principalType": kind.as_str(), "principalId": principal_id});
        let mut op = self.begin(ctx, Source::Sso, "CreateApplicationAssignment", false, request).await?;
        let result = async {
            let arn = self.application_arn(app_id)?;
            op.authorize(&arn)?;
            self.load_application(&mut op.tx, app_id).await?;
            self.require_principal(&mut op.tx, kind, principal_id).await?;
            let assignment = AppAssignment {
                application_id: app_id.to_string(),
                principal_type: kind,
                principal_id: principal_id.to_string(),
                created_at: self.clock.now(),
            };
            match op.tx.insert_app_assignment(&assignment).await {
                Err(crate::error::StoreError::Unique(_)) => {
                    Err(Error::conflict(format!("{} {principal_id} is already assigned to this application", kind.as_str())))
                }
                other => Ok(other?),
            }?;
            op.resource("AWS::SSO::Application", arn);
            Ok(())
        }
        .await;
        op.finish(result).await
    }

    pub async fn delete_app_assignment(&self, ctx: &Ctx, app_id: &str, kind: PrincipalType, principal_id: &str) -> Result<()> {
        let request = json!({"applicationId": app_id, "principalType": kind.as_str(), "principalId": principal_id});
        let mut op = self.begin(ctx, Source::Sso, "DeleteApplicationAssignment", false, request).await?;
        let result = async {
            let arn = self.application_arn(app_id)?;
            op.authorize(&arn)?;
            self.load_application(&mut op.tx, app_id).await?;
            if !op.tx.delete_app_assignment(app_id, kind, principal_id).await? {
                return Err(Error::not_found(ResourceType::ApplicationAssignment, format!("{}/{principal_id}", kind.as_str())));
            }
            op.resource("AWS::SSO::Application", arn);
            Ok(())
        }
        .await;
        op.finish(result).await
    }

    pub async fn describe_app_assignment(&self, ctx: &Ctx, app_id: &str, kind: PrincipalType, principal_id: &str) -> Result<AppAssignment> {
        let request = json!({"applicationId": app_id, "principalType": kind.as_str(), "principalId": principal_id});
        let mut op = self.begin(ctx, Source::Sso, "DescribeApplicationAssignment", true, request).await?;
        let result = async {
            op.authorize(&self.application_arn(app_id)?)?;
            self.load_application(&mut op.tx, app_id).await?;
            let found = op.tx.find_app_assignments_of(&[(kind, principal_id.to_string())]).await?;
            found
                .into_iter()
                .find(|a| a.application_id == app_id)
                .ok_or_else(|| Error::not_found(ResourceType::ApplicationAssignment, format!("{}/{principal_id}", kind.as_str())))
        }
        .await;
        op.finish(result).await
    }

    pub async fn list_app_assignments(&self, ctx: &Ctx, app_id: &str, page: &Page) -> Result<Paged<AppAssignment>> {
        let mut op = self.begin(ctx, Source::Sso, "ListApplicationAssignments", true, json!({"applicationId": app_id})).await?;
        let result = async {
            op.authorize(&self.application_arn(app_id)?)?;
            self.load_application(&mut op.tx, app_id).await?;
            Ok(op.tx.list_app_assignments(app_id, page).await?)
        }
        .await;
        op.finish(result).await
    }

    /// The applications a user or group is assigned to (directly).
    pub async fn list_app_assignments_for_principal(
        &self,
        ctx: &Ctx,
        kind: PrincipalType,
        principal_id: &str,
    ) -> Result<Vec<AppAssignment>> {
        let request = json!({"principalType": kind.as_str(), "principalId": principal_id});
        let mut op = self.begin(ctx, Source::Sso, "ListApplicationAssignmentsForPrincipal", true, request).await?;
        let result = async {
            op.authorize(&self.instance()?.instance_arn)?;
            self.require_principal(&mut op.tx, kind, principal_id).await?;
            Ok(op.tx.find_app_assignments_of(&[(kind, principal_id.to_string())]).await?)
        }
        .await;
        op.finish(result).await
    }
}
