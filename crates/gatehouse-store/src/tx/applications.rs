//! Applications, their certificates and assignments on the one transaction type.

use super::signin::replace;
use super::*;
use crate::entity::{app_assignment, app_certificate, application};
use gatehouse_core::error::StoreError;

fn app_row(a: &Application) -> StoreResult<application::Model> {
    Ok(application::Model {
        application_id: a.application_id.clone(),
        provider: a.provider.clone(),
        name: a.name.clone(),
        description: a.description.clone(),
        enabled: a.enabled,
        visible: a.visible,
        sign_in_origin: a.sign_in_origin.as_str().to_string(),
        application_url: a.application_url.clone(),
        saml: serde_json::to_string(&a.saml).map_err(|e| StoreError::Other(e.to_string()))?,
        created_at: a.created_at,
        updated_at: a.updated_at,
    })
}

fn app_from(m: application::Model) -> StoreResult<Application> {
    Ok(Application {
        sign_in_origin: match m.sign_in_origin.as_str() {
            "APPLICATION" => SignInOrigin::Application,
            _ => SignInOrigin::IdentityCenter,
        },
        saml: serde_json::from_str(&m.saml).map_err(|e| StoreError::Other(format!("stored SAML configuration: {e}")))?,
        application_id: m.application_id,
        provider: m.provider,
        name: m.name,
        description: m.description,
        enabled: m.enabled,
        visible: m.visible,
        application_url: m.application_url,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn cert_from(m: app_certificate::Model) -> AppCertificate {
    AppCertificate {
        certificate_id: m.certificate_id,
        application_id: m.application_id,
        certificate_pem: m.certificate_pem,
        sealed_key: m.sealed_key,
        key_size: m.key_size as u32,
        algorithm: m.algorithm,
        active: m.active,
        not_before: m.not_before,
        not_after: m.not_after,
        created_at: m.created_at,
    }
}

fn principal_key(kind: PrincipalType, id: &str) -> String {
    format!("{}/{id}", kind.as_str())
}

fn assignment_from(m: app_assignment::Model) -> StoreResult<AppAssignment> {
    let (kind, id) = m
        .principal
        .split_once('/')
        .and_then(|(k, id)| Some((PrincipalType::parse(k)?, id)))
        .ok_or_else(|| StoreError::Other(format!("stored assignment principal {:?}", m.principal)))?;
    Ok(AppAssignment { application_id: m.application_id, principal_type: kind, principal_id: id.to_string(), created_at: m.created_at })
}

#[async_trait]
impl ApplicationRepo for SeaTx {
    async fn insert_application(&mut self, a: &Application) -> StoreResult<()> {
        app_row(a)?.into_active_model().insert_row(self.db()).await.map_err(db_err)
    }

    async fn update_application(&mut self, a: &Application) -> StoreResult<()> {
        let mut am = app_row(a)?.into_active_model().reset_all();
        am.application_id = sea_orm::ActiveValue::Unchanged(a.application_id.clone());
        replace(self.db(), am).await
    }

    async fn get_application(&mut self, id: &str) -> StoreResult<Option<Application>> {
        application::Entity::find_by_id(id.to_string()).one(self.db()).await.map_err(db_err)?.map(app_from).transpose()
    }

    async fn list_applications(&mut self, provider: Option<&str>, page: &Page) -> StoreResult<Paged<Application>> {
        let mut find = application::Entity::find();
        if let Some(p) = provider {
            find = find.filter(application::Column::Provider.eq(p));
        }
        if let Some(after) = &page.after {
            find = find.filter(application::Column::ApplicationId.gt(after.clone()));
        }
        let rows = find.order_by_asc(application::Column::ApplicationId).limit(page.limit + 1).all(self.db()).await.map_err(db_err)?;
        let apps = rows.into_iter().map(app_from).collect::<StoreResult<Vec<_>>>()?;
        Ok(page_of(apps, page, |a| a.application_id.clone()))
    }

    async fn delete_application(&mut self, id: &str) -> StoreResult<bool> {
        app_certificate::Entity::delete_many()
            .filter(app_certificate::Column::ApplicationId.eq(id))
            .exec(self.db())
            .await
            .map_err(db_err)?;
        app_assignment::Entity::delete_many().filter(app_assignment::Column::ApplicationId.eq(id)).exec(self.db()).await.map_err(db_err)?;
        Ok(application::Entity::delete_by_id(id.to_string()).exec(self.db()).await.map_err(db_err)?.rows_affected > 0)
    }

    async fn insert_app_certificate(&mut self, c: &AppCertificate) -> StoreResult<()> {
        app_certificate::Model {
            certificate_id: c.certificate_id.clone(),
            application_id: c.application_id.clone(),
            certificate_pem: c.certificate_pem.clone(),
            sealed_key: c.sealed_key.clone(),
            key_size: i64::from(c.key_size),
            algorithm: c.algorithm.clone(),
            active: c.active,
            not_before: c.not_before,
            not_after: c.not_after,
            created_at: c.created_at,
        }
        .into_active_model()
        .insert_row(self.db())
        .await
        .map_err(db_err)
    }

    async fn list_app_certificates(&mut self, application_id: &str) -> StoreResult<Vec<AppCertificate>> {
        let rows = app_certificate::Entity::find()
            .filter(app_certificate::Column::ApplicationId.eq(application_id))
            .order_by_asc(app_certificate::Column::CreatedAt)
            .order_by_asc(app_certificate::Column::CertificateId)
            .all(self.db())
            .await
            .map_err(db_err)?;
        Ok(rows.into_iter().map(cert_from).collect())
    }

    async fn activate_app_certificate(&mut self, application_id: &str, certificate_id: &str) -> StoreResult<bool> {
        let found = app_certificate::Entity::find_by_id(certificate_id.to_string())
            .filter(app_certificate::Column::ApplicationId.eq(application_id))
            .one(self.db())
            .await
            .map_err(db_err)?;
        if found.is_none() {
            return Ok(false);
        }
        app_certificate::Entity::update_many()
            .col_expr(app_certificate::Column::Active, Expr::value(false))
            .filter(app_certificate::Column::ApplicationId.eq(application_id))
            .exec(self.db())
            .await
            .map_err(db_err)?;
        app_certificate::Entity::update_many()
            .col_expr(app_certificate::Column::Active, Expr::value(true))
            .filter(app_certificate::Column::CertificateId.eq(certificate_id))
            .exec(self.db())
            .await
            .map_err(db_err)?;
        Ok(true)
    }

    async fn delete_app_certificate(&mut self, application_id: &str, certificate_id: &str) -> StoreResult<bool> {
        let r = app_certificate::Entity::delete_many()
            .filter(app_certificate::Column::CertificateId.eq(certificate_id))
            .filter(app_certificate::Column::ApplicationId.eq(application_id))
            .exec(self.db())
            .await
            .map_err(db_err)?;
        Ok(r.rows_affected > 0)
    }

    async fn insert_app_assignment(&mut self, a: &AppAssignment) -> StoreResult<()> {
        app_assignment::Model {
            application_id: a.application_id.clone(),
            principal: principal_key(a.principal_type, &a.principal_id),
            created_at: a.created_at,
        }
        .into_active_model()
        .insert_row(self.db())
        .await
        .map_err(db_err)
    }

    async fn delete_app_assignment(&mut self, application_id: &str, kind: PrincipalType, principal_id: &str) -> StoreResult<bool> {
        let r = app_assignment::Entity::delete_many()
            .filter(app_assignment::Column::ApplicationId.eq(application_id))
            .filter(app_assignment::Column::Principal.eq(principal_key(kind, principal_id)))
            .exec(self.db())
            .await
            .map_err(db_err)?;
        Ok(r.rows_affected > 0)
    }

    async fn list_app_assignments(&mut self, application_id: &str, page: &Page) -> StoreResult<Paged<AppAssignment>> {
        let mut find = app_assignment::Entity::find().filter(app_assignment::Column::ApplicationId.eq(application_id));
        if let Some(after) = &page.after {
            find = find.filter(app_assignment::Column::Principal.gt(after.clone()));
        }
        let rows = find.order_by_asc(app_assignment::Column::Principal).limit(page.limit + 1).all(self.db()).await.map_err(db_err)?;
        let items = rows.into_iter().map(assignment_from).collect::<StoreResult<Vec<_>>>()?;
        Ok(page_of(items, page, |a| principal_key(a.principal_type, &a.principal_id)))
    }

    async fn find_app_assignments_of(&mut self, principals: &[(PrincipalType, String)]) -> StoreResult<Vec<AppAssignment>> {
        if principals.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = principals.iter().map(|(k, id)| principal_key(*k, id)).collect();
        let rows = app_assignment::Entity::find()
            .filter(app_assignment::Column::Principal.is_in(keys))
            .order_by_asc(app_assignment::Column::ApplicationId)
            .all(self.db())
            .await
            .map_err(db_err)?;
        rows.into_iter().map(assignment_from).collect()
    }

    async fn delete_app_assignments_of(&mut self, kind: PrincipalType, principal_id: &str) -> StoreResult<u64> {
        let r = app_assignment::Entity::delete_many()
            .filter(app_assignment::Column::Principal.eq(principal_key(kind, principal_id)))
            .exec(self.db())
            .await
            .map_err(db_err)?;
        Ok(r.rows_affected)
    }
}
