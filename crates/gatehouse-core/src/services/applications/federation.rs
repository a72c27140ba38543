//! Signing in to an application: SP-initiated (an AuthnRequest over HTTP-Redirect or HTTP-POST,
//! checked before the user signs in) and IdP-initiated (a portal tile). Each issued Response is a
//! `Federate` event; each refusal is a failed one, naming why.

use base64::Engine;
use gatehouse_saml::mapping::{Mapping, UserValues};
use gatehouse_saml::{AuthnRequest, ResponseSpec, SignWhat, authn_request};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::super::Services;
use super::super::op::Source;
use super::super::principal::Ctx;
use super::super::signin::SessionInfo;
use super::validate_mappings;
use crate::error::{Error, Result};
use crate::model::{Application, Page, PrincipalType, SignedParts, User};

/// How long a checked AuthnRequest waits for the user to sign in.
const PENDING_MINUTES: i64 = 15;
/// An AuthnRequest's IssueInstant may be this far from our clock.
const REQUEST_SKEW_MINUTES: i64 = 10;

/// An AuthnRequest as it arrived.
#[derive(Debug, Clone)]
pub enum SamlBinding<'a> {
    /// HTTP-Redirect: the decoded SAMLRequest and RelayState, and the raw query (the signature
    /// covers its exact bytes).
    Redirect { saml_request: &'a str, relay_state: Option<&'a str>, raw_query: &'a str },
    /// HTTP-POST: the form fields.
    Post { saml_request: &'a str, relay_state: Option<&'a str> },
}

/// A checked AuthnRequest, carried (sealed) through the user's sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingRequest {
    pub application_id: String,
    pub request_id: String,
    pub relay_state: Option<String>,
    pub issued_at: i64,
}

/// Where a sign-in sends the browser.
#[derive(Debug, Clone)]
pub enum Federation {
    /// The application's start URL: it sends its own AuthnRequest (SP-initiated).
    StartUrl(String),
    /// A signed Response to post to the ACS.
    Response(SamlSignIn),
}

/// A Response ready for the browser to post to the application.
#[derive(Debug, Clone)]
pub struct SamlSignIn {
    pub application_name: String,
    pub acs_url: String,
    /// Base64 of the XML, the SAMLResponse form field.
    pub saml_response: String,
    pub relay_state: Option<String>,
    /// The XML itself (administrator mode shows it).
    pub xml: String,
}

/// The NameID Format URI of a mapping format name.
fn name_id_uri(format: &str) -> &'static str {
    match format {
        "emailAddress" => "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
        "persistent" => "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
        "transient" => "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
        _ => "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
    }
}

fn refused(message: impl Into<String>) -> Error {
    Error::validation("SAMLRequest", message)
}

impl Services {
    /// This IdP as an application knows it: `<public url>/saml/<id>`.
    pub fn idp_entity_id(&self, app_id: &str) -> String {
        format!("{}/saml/{app_id}", self.config.public_url.trim_end_matches('/'))
    }

    pub fn idp_sso_url(&self, app_id: &str) -> String {
        format!("{}/sso", self.idp_entity_id(app_id))
    }

    /// The IdP metadata of an application: its entity ID, SSO endpoints and every certificate
    /// (the inactive one too, so an SP can trust both while a rotation is under way).
    pub async fn idp_metadata(&self, app_id: &str) -> Result<String> {
        let mut tx = self.store.begin_read().await?;
        let app = self.load_application(&mut tx, app_id).await?;
        let certs = tx.list_app_certificates(app_id).await?;
        tx.rollback().await?;
        let mut ordered: Vec<_> = certs.iter().filter(|c| c.active).chain(certs.iter().filter(|c| !c.active)).collect();
        ordered.dedup_by_key(|c| c.certificate_id.clone());
        let b64 = ordered
            .iter()
            .map(|c| gatehouse_saml::cert::pem_to_der(&c.certificate_pem).map(|d| base64::engine::general_purpose::STANDARD.encode(d)))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::internal(e.to_string()))?;
        Ok(gatehouse_saml::metadata::idp_metadata(
            &self.idp_entity_id(app_id),
            &self.idp_sso_url(app_id),
            &b64,
            app.saml.require_signed_requests,
        ))
    }

    /// The active certificate (PEM), for the "Download certificate" link.
    pub async fn idp_certificate(&self, app_id: &str) -> Result<String> {
        let mut tx = self.store.begin_read().await?;
        self.load_application(&mut tx, app_id).await?;
        let certs = tx.list_app_certificates(app_id).await?;
        tx.rollback().await?;
        certs.into_iter().find(|c| c.active).map(|c| c.certificate_pem).ok_or_else(|| Error::internal("no active certificate"))
    }

    /// Check an AuthnRequest before the user signs in: a bad one is refused at once, with the
    /// reason, and recorded as a failed Federate event. A good one yields no event yet.
    pub async fn check_authn_request(&self, ctx: &Ctx, app_id: &str, binding: SamlBinding<'_>) -> Result<PendingRequest> {
        let binding_name = if matches!(binding, SamlBinding::Redirect { .. }) { "HTTP-Redirect" } else { "HTTP-POST" };
        let mut op = self.begin(ctx, Source::Sso, "Federate", true, json!({"applicationId": app_id, "binding": binding_name})).await?;
        op.record_as_write();
        let result = async {
            let app = self.load_application(&mut op.tx, app_id).await?;
            let (SamlBinding::Redirect { saml_request, .. } | SamlBinding::Post { saml_request, .. }) = &binding;
            if saml_request.trim().is_empty() {
                return Err(refused("The request has no SAMLRequest: start the sign-in from the application"));
            }
            let (request, relay_state) = match &binding {
                SamlBinding::Redirect { saml_request, relay_state, .. } => (authn_request::from_redirect(saml_request), relay_state),
                SamlBinding::Post { saml_request, relay_state } => (authn_request::from_post(saml_request), relay_state),
            };
            let request = request.map_err(|e| refused(e.to_string()))?;
            op.additional("authnRequestId", json!(request.id));
            op.additional("issuer", json!(request.issuer));
            self.check_request(&app, &request, &binding)?;
            Ok(PendingRequest {
                application_id: app.application_id.clone(),
                request_id: request.id,
                relay_state: relay_state.map(str::to_string),
                issued_at: self.clock.now().timestamp(),
            })
        }
        .await;
        match result {
            // Nothing to record until the Response is issued.
            Ok(pending) => Ok(pending),
            Err(e) => op.finish(Err(e)).await,
        }
    }

    fn check_request(&self, app: &Application, request: &AuthnRequest, binding: &SamlBinding<'_>) -> Result<()> {
        if !app.enabled {
            return Err(disabled(app));
        }
        let saml = &app.saml;
        if saml.acs_url.is_empty() {
            return Err(refused(format!("The application '{}' has no ACS URL configured yet", app.name)));
        }
        if !saml.audience.is_empty() && request.issuer != saml.audience {
            return Err(refused(format!(
                "The AuthnRequest's issuer '{}' is not this application's SAML audience '{}'",
                request.issuer, saml.audience
            )));
        }
        if let Some(acs) = &request.acs_url
            && acs != &saml.acs_url
        {
            return Err(refused(format!(
                "The AuthnRequest asks for the response at '{acs}', which is not the application's registered ACS URL"
            )));
        }
        if let Some(b) = &request.protocol_binding
            && b != gatehouse_saml::metadata::POST_BINDING
        {
            return Err(refused(format!("Responses are sent with the HTTP-POST binding only, not {b}")));
        }
        if let Some(d) = &request.destination
            && d != &self.idp_sso_url(&app.application_id)
        {
            return Err(refused(format!("The AuthnRequest is addressed to '{d}', not to this application's sign-in URL")));
        }
        if let Ok(at) = chrono::DateTime::parse_from_rfc3339(&request.issue_instant) {
            if (self.clock.now() - at.with_timezone(&chrono::Utc)).num_minutes().abs() > REQUEST_SKEW_MINUTES {
                return Err(refused("The AuthnRequest's IssueInstant is more than 10 minutes from now"));
            }
        } else {
            return Err(refused("The AuthnRequest has no valid IssueInstant"));
        }
        if let Some(asked) = request.name_id_format.as_deref().filter(|f| !f.ends_with(":unspecified")) {
            let format = super::subject_format(&saml.mappings).unwrap_or("persistent");
            if format != "unspecified" && name_id_uri(format) != asked {
                return Err(refused(format!(
                    "The application asks for NameID format {asked}, but its Subject mapping gives {}",
                    name_id_uri(format)
                )));
            }
        }
        let certs: Vec<&str> = saml.sp_certificates.iter().map(String::as_str).collect();
        let signed = match binding {
            SamlBinding::Redirect { raw_query, .. } => authn_request::verify_redirect_signature(raw_query, &certs),
            SamlBinding::Post { .. } => authn_request::verify_post_signature(request, &certs),
        }
        .map_err(|e| refused(format!("The AuthnRequest's signature is not valid: {e}")))?;
        if saml.require_signed_requests && !signed {
            return Err(refused("This application must sign its AuthnRequests, and this one is not signed"));
        }
        Ok(())
    }

    /// Seal a checked request into a URL-safe token (authenticated encryption under the master
    /// key), for the trip through sign-in.
    pub fn seal_pending(&self, pending: &PendingRequest) -> String {
        let json = serde_json::to_string(pending).unwrap_or_default();
        self.key.encrypt_str(&json).replace('+', "-").replace('/', "_").replace('=', "")
    }

    pub fn open_pending(&self, app_id: &str, token: &str) -> Result<PendingRequest> {
        let bad = || refused("This sign-in request is invalid or expired; start again from the application");
        let mut b64 = token.replace('-', "+").replace('_', "/");
        while !b64.len().is_multiple_of(4) {
            b64.push('=');
        }
        let text = self.key.decrypt_string(&b64).map_err(|_| bad())?;
        let pending: PendingRequest = serde_json::from_str(&text).map_err(|_| bad())?;
        let age = self.clock.now().timestamp() - pending.issued_at;
        if pending.application_id != app_id || !(0..=PENDING_MINUTES * 60).contains(&age) {
            return Err(bad());
        }
        Ok(pending)
    }

    /// Issue a signed Response for the signed-in user: IdP-initiated when `request` is None.
    pub async fn federate(&self, ctx: &Ctx, session: &SessionInfo, app_id: &str, request: Option<&PendingRequest>) -> Result<SamlSignIn> {
        match self.sign_in_to(ctx, session, app_id, request, false).await? {
            Federation::Response(r) => Ok(r),
            Federation::StartUrl(_) => Err(Error::internal("a start URL where a response was asked for")),
        }
    }

    /// A portal tile: the start URL when the application has one (unless `show_response`, the
    /// administrator mode), else an IdP-initiated Response. Either way only for assigned users
    /// of an enabled application.
    pub async fn open_tile(&self, ctx: &Ctx, session: &SessionInfo, app_id: &str, show_response: bool) -> Result<Federation> {
        self.sign_in_to(ctx, session, app_id, None, !show_response).await
    }

    async fn sign_in_to(
        &self,
        ctx: &Ctx,
        session: &SessionInfo,
        app_id: &str,
        request: Option<&PendingRequest>,
        follow_start_url: bool,
    ) -> Result<Federation> {
        let initiated = if request.is_some() { "SP" } else { "IdP" };
        let params = json!({"applicationId": app_id, "initiatedBy": initiated, "authnRequestId": request.map(|r| &r.request_id)});
        let mut op = self.begin(ctx, Source::Sso, "Federate", true, params).await?;
        op.record_as_write();
        let result = async {
            let (app, certs) = self.application_with_certificates(&mut op.tx, app_id).await?;
            op.resource("AWS::SSO::Application", self.application_arn(app_id)?);
            if !app.enabled {
                return Err(disabled(&app));
            }
            if app.saml.acs_url.is_empty() {
                return Err(refused(format!("The application '{}' has no ACS URL configured yet", app.name)));
            }
            let user = &session.user;
            let names_mapped = app.saml.mappings.iter().any(|m| m.source.contains("${user:groups}"));
            let (assigned, groups) = self.access_of(&mut op.tx, app_id, &user.user_id, names_mapped).await?;
            if !assigned {
                return Err(Error::AccessDenied {
                    message: format!(
                        "You are not assigned to the application '{}'. Ask your administrator to assign you or one of your groups to it.",
                        app.name
                    ),
                });
            }
            if follow_start_url && let Some(url) = &app.application_url {
                op.respond(json!({"startUrl": url}));
                return Ok(Federation::StartUrl(url.clone()));
            }
            let mappings: Vec<Mapping> = validate_mappings(&app.saml.mappings)?;
            let values = user_values(user, groups.into_iter().map(|(_, name)| name).collect());
            let (name_id, attributes) = gatehouse_saml::mapping::evaluate(&mappings, &values).map_err(|e| {
                Error::validation(
                    e.attribute.clone(),
                    format!(
                        "The application '{}' needs ${{user:{}}} for its attribute '{}', and your user has no value for it. Ask your administrator to fill it in.",
                        app.name, e.user_attribute, e.attribute
                    ),
                )
            })?;
            let cert = certs.into_iter().find(|c| c.active).ok_or_else(|| Error::internal("the application has no active certificate"))?;
            let signer = self.signer_of(&cert)?;
            let now = self.clock.now();
            let spec = ResponseSpec {
                issuer: self.idp_entity_id(app_id),
                acs_url: app.saml.acs_url.clone(),
                audience: if app.saml.audience.is_empty() { app.saml.acs_url.clone() } else { app.saml.audience.clone() },
                in_response_to: request.map(|r| r.request_id.clone()),
                name_id: name_id.clone(),
                attributes,
                now,
                not_before: now,
                not_on_or_after: now + chrono::Duration::minutes(i64::from(app.saml.session_minutes)),
                authn_instant: session.session.created_at,
                session_index: session.session.session_id.clone(),
                sign: match app.saml.signed_parts {
                    SignedParts::Assertion => SignWhat::Assertion,
                    SignedParts::Response => SignWhat::Response,
                    SignedParts::Both => SignWhat::Both,
                },
            };
            let built = spec.build(&signer).map_err(|e| Error::internal(format!("signing the response: {e}")))?;
            op.respond(json!({"responseId": built.response_id, "assertionId": built.assertion_id,
                              "nameIdFormat": name_id.format, "certificateId": cert.certificate_id}));
            let relay_state = match request {
                Some(r) => r.relay_state.clone(),
                None => app.saml.relay_state.clone(),
            };
            Ok(Federation::Response(SamlSignIn {
                application_name: app.name.clone(),
                acs_url: app.saml.acs_url.clone(),
                saml_response: base64::engine::general_purpose::STANDARD.encode(built.xml.as_bytes()),
                relay_state,
                xml: built.xml,
            }))
        }
        .await;
        op.finish(result).await
    }

    /// An application and its certificates, from this node's cache when it read them lately.
    async fn application_with_certificates(
        &self,
        tx: &mut Box<dyn crate::store::Tx>,
        app_id: &str,
    ) -> Result<(Application, Vec<crate::model::AppCertificate>)> {
        if let Some(found) = self.app_cache.get(app_id) {
            return Ok(found);
        }
        let app = self.load_application(tx, app_id).await?;
        let certs = tx.list_app_certificates(app_id).await?;
        self.app_cache.put(app_id, (app.clone(), certs.clone()));
        Ok((app, certs))
    }

    /// Whether the user or one of their groups is assigned to the application, and their groups
    /// (with names when asked for), from this node's cache when it read them lately.
    async fn access_of(
        &self,
        tx: &mut Box<dyn crate::store::Tx>,
        app_id: &str,
        user_id: &str,
        with_names: bool,
    ) -> Result<(bool, Vec<(String, String)>)> {
        let key = format!("{app_id}\n{user_id}\n{with_names}");
        if let Some(found) = self.access_cache.get(&key) {
            return Ok(found);
        }
        let groups = self.groups_of(tx, user_id, with_names).await?;
        let mut principals = vec![(PrincipalType::User, user_id.to_string())];
        principals.extend(groups.iter().map(|(id, _)| (PrincipalType::Group, id.clone())));
        let assigned = tx.find_app_assignments_of(&principals).await?.iter().any(|a| a.application_id == app_id);
        self.access_cache.put(&key, (assigned, groups.clone()));
        Ok((assigned, groups))
    }

    /// The groups a user belongs to directly: (id, display name); the names only when asked for
    /// (they cost a read per group).
    pub(crate) async fn groups_of(
        &self,
        tx: &mut Box<dyn crate::store::Tx>,
        user_id: &str,
        with_names: bool,
    ) -> Result<Vec<(String, String)>> {
        let store = self.store_id()?;
        let mut out = Vec::new();
        let mut page = Page { after: None, limit: 1000 };
        loop {
            let batch = tx.list_memberships_of_user(&store, user_id, &page).await?;
            for m in &batch.items {
                if !with_names {
                    out.push((m.group_id.clone(), String::new()));
                } else if let Some(g) = tx.get_group(&store, &m.group_id).await? {
                    out.push((g.group_id.clone(), g.profile.display_name.clone()));
                }
            }
            match batch.next {
                Some(next) => page.after = Some(next),
                None => return Ok(out),
            }
        }
    }

    /// The applications shown on a user's portal home: enabled, visible, and assigned to the
    /// user or one of their groups. Sorted by name.
    pub async fn my_applications(&self, ctx: &Ctx, session: &SessionInfo) -> Result<Vec<Application>> {
        let mut op = self.begin(ctx, Source::Sso, "ListApplications", true, json!({})).await?;
        let result = async {
            let user_id = &session.user.user_id;
            let groups = self.groups_of(&mut op.tx, user_id, false).await?;
            let mut principals = vec![(PrincipalType::User, user_id.clone())];
            principals.extend(groups.into_iter().map(|(id, _)| (PrincipalType::Group, id)));
            let mut ids: Vec<String> = op.tx.find_app_assignments_of(&principals).await?.into_iter().map(|a| a.application_id).collect();
            ids.sort();
            ids.dedup();
            let mut apps = Vec::new();
            for id in ids {
                if let Some(app) = op.tx.get_application(&id).await?.filter(|a| a.enabled && a.visible) {
                    apps.push(app);
                }
            }
            apps.sort_by_key(|a| a.name.to_lowercase());
            Ok(apps)
        }
        .await;
        op.finish(result).await
    }
}

fn disabled(app: &Application) -> Error {
    Error::AccessDenied { message: format!("The application '{}' is disabled. Ask your administrator to enable it.", app.name) }
}

/// The values `${user:…}` references resolve to.
fn user_values(user: &User, groups: Vec<String>) -> UserValues {
    let p = &user.profile;
    let mut v = UserValues::new();
    let mut put = |key: &'static str, value: Option<&String>| {
        if let Some(s) = value.filter(|s| !s.is_empty()) {
            v.insert(key, vec![s.clone()]);
        }
    };
    // A user from Active Directory has the directory's mappings: subject is its user name and
    // preferredUsername its own attribute (the guide's default mappings).
    if crate::services::directory::from_directory(user) {
        put("subject", Some(&p.user_name));
        put("preferredUsername", p.nick_name.as_ref().or(Some(&p.user_name)));
    } else {
        put("subject", Some(&user.user_id));
        put("preferredUsername", Some(&p.user_name));
    }
    put("name", p.display_name.as_ref());
    put("givenName", p.name.given_name.as_ref());
    put("familyName", p.name.family_name.as_ref());
    put("middleName", p.name.middle_name.as_ref());
    put("email", p.emails.iter().find(|e| e.primary).and_then(|e| e.value.as_ref()));
    put("AD_GUID", p.external_ids.first().map(|e| &e.id));
    v.insert("groups", groups);
    v
}
