//! Sign-in through the external identity provider, Gatehouse being its SAML service provider:
//! the portal sends the browser to the IdP with an AuthnRequest, and the IdP posts its Response to
//! the ACS. The Response is checked fail-closed (`gatehouse_saml::sp`) against the trusted
//! certificates only; it must answer a request this service sent (unless IdP-initiated sign-in
//! is enabled), may be used once, and its NameID (format emailAddress) must name an existing
//! user exactly — no just-in-time creation (the guide). Every outcome is audited as
//! ExternalIdPDirectoryLogin, a refusal with its reason.

use chrono::Duration;
use serde_json::json;

use super::events::{Attempt, Outcome};
use super::{SignInError, SignInResult, Step};
use crate::error::{Error, Result};
use crate::model::{ExternalIdp, IdentitySourceKind, PortalSession, User};
use crate::services::{Client, Services};
use crate::store::Tx;

/// How long an AuthnRequest waits for its answer.
const REQUEST_MINUTES: i64 = 10;
/// Clock skew allowed between the IdP and Gatehouse (the issue: at most 3 minutes).
const MAX_SKEW_MINUTES: i64 = 3;
const EMAIL_FORMAT: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";
/// Attributes for access control sent by the IdP: `<prefix><Key>`.
const ACCESS_CONTROL: &str = "https://aws.amazon.com/SAML/Attributes/AccessControl:";
/// The guide's limit on attributes for access control.
const MAX_ACCESS_CONTROL: usize = 50;
/// The credential an external sign-in proves, in the sign-in events.
pub const EXTERNAL_CREDENTIAL: &str = "SAML";

/// The IdP's attributes for access control, within the guide's limits: at most 50, each with
/// one plain-text value, no name twice.
fn access_control_tags(login: &gatehouse_saml::sp::ExternalLogin) -> std::result::Result<Vec<(String, String)>, String> {
    let mut tags: Vec<(String, String)> = Vec::new();
    for (name, values) in &login.attributes {
        let Some(key) = name.strip_prefix(ACCESS_CONTROL) else { continue };
        if login.structured_attributes.contains(name) {
            return Err(format!("the attribute for access control '{key}' holds XML, not a plain value"));
        }
        let [value] = values.as_slice() else {
            return Err(format!("the attribute for access control '{key}' has {} values; it must have one", values.len()));
        };
        let key_ok = !key.is_empty() && key.chars().count() <= 128;
        if !key_ok || value.chars().count() > 256 {
            return Err(format!("the attribute for access control '{key}' is too long or has no key"));
        }
        if tags.iter().any(|(k, _)| k == key) {
            return Err(format!("the attribute for access control '{key}' is sent twice"));
        }
        tags.push((key.to_string(), value.clone()));
    }
    if tags.len() > MAX_ACCESS_CONTROL {
        return Err(format!("{} attributes for access control were sent; at most {MAX_ACCESS_CONTROL} are allowed", tags.len()));
    }
    Ok(tags)
}

impl Services {
    /// The external IdP's settings, when it is the identity source.
    pub async fn external_idp(&self) -> Result<Option<ExternalIdp>> {
        let source = self.identity_source().await?;
        Ok(if source.kind == IdentitySourceKind::ExternalIdp { source.external } else { None })
    }

    /// The identity source as stored now (no caller: sign-in pages need it before anyone is known).
    pub async fn identity_source(&self) -> Result<crate::model::IdentitySource> {
        let mut tx = self.store.begin_read().await?;
        let source = self.identity_source_in(&mut tx).await;
        tx.rollback().await?;
        source
    }

    /// The URL that sends the browser to the IdP with a new AuthnRequest; `next` comes back as
    /// the RelayState.
    pub async fn start_external_sign_in(&self, next: &str) -> Result<String> {
        let idp = self.external_idp().await?.ok_or_else(|| Error::conflict("No external identity provider is the identity source"))?;
        let sp = self.sp_configuration();
        let now = self.clock.now();
        let (id, url) = gatehouse_saml::sp::authn_request_redirect(&sp.entity_id, &sp.acs_url, &idp.sso_url, Some(next), now)
            .map_err(|e| Error::internal(e.to_string()))?;
        let mut tx = self.store.begin().await?;
        tx.purge_sp_ids(now).await?;
        tx.insert_sp_id("request", &id, now + Duration::minutes(REQUEST_MINUTES)).await?;
        tx.commit().await?;
        Ok(url)
    }

    /// The ACS: the IdP's Response (base64, as posted). Signed in — or on to Gatehouse MFA when
    /// the IdP's settings ask for it — or refused with the reason.
    pub async fn complete_external_sign_in(&self, client: &Client, saml_response: &str, login_to: &str) -> SignInResult<Step> {
        let workflow = crate::ids::new_uuid();
        let mut tx = self.store.begin().await?;
        let (user, require_mfa, tags) = match self.accept_response(&mut tx, saml_response).await? {
            Ok(found) => found,
            Err((name_id, reason)) => {
                tx.rollback().await?;
                let a = Attempt { user_name: &name_id, source_ip: &client.source_ip, user_agent: &client.user_agent, workflow: &workflow };
                self.write_events(vec![self.external_login_event(&a, Some(&reason))]).await?;
                return Err(SignInError::ExternalRefused(reason));
            }
        };
        let a = Attempt {
            user_name: &user.profile.user_name,
            source_ip: &client.source_ip,
            user_agent: &client.user_agent,
            workflow: &workflow,
        };
        tx.put_idp_tags(&user.user_id, &tags, self.clock.now()).await?;
        let mut events = vec![self.external_login_event(&a, None)];
        let session = self.externally_verified(&user, client, &workflow);
        let session = if require_mfa {
            self.after_password(&mut tx, session, &user, client, login_to, &mut events).await?
        } else {
            let mut s = session;
            self.complete(&mut s, &user.profile.user_name, client, login_to, &mut events);
            s
        };
        let step = self.save_step(tx, session, events, true).await?;
        self.send_email_code(step).await
    }

    /// The user the Response signs in, and whether Gatehouse MFA follows; or the NameID (if
    /// read) and why the Response is refused. The one-time IDs it uses are written in `tx`.
    async fn accept_response(
        &self,
        tx: &mut Box<dyn Tx>,
        saml_response: &str,
    ) -> Result<std::result::Result<(User, bool, Vec<(String, String)>), (String, String)>> {
        let refuse = |name: &str, why: String| Ok(Err((name.to_string(), why)));
        let source = self.identity_source_in(tx).await?;
        let idp = match source.external {
            Some(idp) if source.kind == IdentitySourceKind::ExternalIdp => idp,
            _ => return refuse("", "an external identity provider is not the identity source".into()),
        };
        let sp = self.sp_configuration();
        let pems: Vec<&str> = idp.certificates.iter().map(|c| c.pem.as_str()).collect();
        let now = self.clock.now();
        let skew = Duration::minutes(MAX_SKEW_MINUTES);
        let expect = gatehouse_saml::sp::Expectations {
            sp_entity_id: &sp.entity_id,
            acs_url: &sp.acs_url,
            idp_entity_id: &idp.entity_id,
            trusted_cert_pems: &pems,
            allow_sha1: idp.allow_sha1,
            now,
            max_skew: skew,
        };
        let login = match gatehouse_saml::sp::validate_response(saml_response, &expect) {
            Ok(l) => l,
            Err(rejection) => return refuse("", rejection.to_string()),
        };
        let name = login.name_id.as_str();
        if !tx.insert_sp_id("assertion", &login.assertion_id, login.not_on_or_after + skew).await? {
            return refuse(name, format!("assertion {} was used already", login.assertion_id));
        }
        match &login.in_response_to {
            Some(id) if !tx.take_sp_id("request", id, now).await? => {
                return refuse(name, format!("InResponseTo {id} does not answer an outstanding request of this service"));
            }
            None if !idp.allow_idp_initiated => {
                return refuse(name, "the response answers no request, and IdP-initiated sign-in is not enabled".into());
            }
            _ => {}
        }
        if login.name_id_format != EMAIL_FORMAT {
            return refuse(name, format!("the NameID format is '{}'; it must be {EMAIL_FORMAT}", login.name_id_format));
        }
        let tags = match access_control_tags(&login) {
            Ok(tags) => tags,
            Err(why) => return refuse(name, why),
        };
        let user = tx.find_user_by_name(&self.store_id()?, name).await?.filter(|u| u.profile.user_name == name);
        match user {
            None => refuse(name, format!("no user has the username '{name}' (users are not created at sign-in)")),
            Some(u) if !u.active => refuse(name, format!("the user '{name}' is disabled")),
            Some(u) => Ok(Ok((u, idp.require_mfa, tags))),
        }
    }

    /// A new sign-in the IdP vouched for, before any Gatehouse MFA.
    fn externally_verified(&self, user: &User, client: &Client, workflow: &str) -> PortalSession {
        let mut session = self.password_verified(user, client, workflow);
        session.verified = vec![EXTERNAL_CREDENTIAL.to_string()];
        session
    }

    fn external_login_event(&self, a: &Attempt<'_>, refused: Option<&str>) -> crate::model::AuditRecord {
        let outcome = if refused.is_some() { Outcome::Failure } else { Outcome::Success };
        let mut record = self.signin_event(a, "ExternalIdPDirectoryLogin", json!({"AuthWorkflowID": a.workflow}), outcome);
        if let Some(why) = refused {
            record.error_code = Some("ExternalIdPLoginFailed".into());
            record.error_message = Some(why.to_string());
        }
        record
    }
}
