//! The AWS access portal URL and its one-time, permanent customization (the guide's "How to
//! customize the user portal URL"). Identity Center turns `d-xxxxxxxxxx.awsapps.com/start` into
//! `<subdomain>.awsapps.com/start`; Gatehouse does the same under its `portal_domain`: the
//! customized address answers with a redirect to the portal at `public_url`, so sign-in,
//! WebAuthn and SAML keep one origin while people remember the short name.

use serde_json::json;

use super::Services;
use super::op::Source;
use super::principal::Ctx;
use crate::error::{Error, Result};

const SETTING: &str = "portal-alias";

/// The guide's subdomain: 3 to 63 lowercase letters, digits and hyphens, not at either end; `d-`
/// is the identity store's own prefix.
pub fn check_alias(alias: &str) -> Result<()> {
    let ok = (3..=63).contains(&alias.len())
        && alias.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !alias.starts_with('-')
        && !alias.ends_with('-')
        && !alias.starts_with("d-");
    if ok {
        Ok(())
    } else {
        Err(Error::validation(
            "Alias",
            format!("'{alias}' must be 3 to 63 lowercase letters, digits and hyphens, not starting with d- or a hyphen"),
        ))
    }
}

/// `public_url`'s scheme and port around another host name.
fn url_on_host(public_url: &str, host: &str) -> String {
    let (scheme, rest) = public_url.split_once("://").unwrap_or(("https", public_url));
    let authority = rest.split('/').next().unwrap_or_default();
    let port = authority.rsplit_once(':').map(|(_, p)| format!(":{p}")).unwrap_or_default();
    format!("{scheme}://{host}{port}")
}

impl Services {
    /// The customized subdomain, if any (cached like the other reads: a change on another node is
    /// seen within READ_CACHE_TTL).
    pub async fn portal_alias(&self) -> Result<Option<String>> {
        if let Some(cached) = self.portal_alias_cache.get(SETTING) {
            return Ok(cached);
        }
        let mut tx = self.store.begin_read().await?;
        let alias = tx.get_setting(SETTING).await?.filter(|a| !a.is_empty());
        tx.rollback().await?;
        self.portal_alias_cache.put(SETTING, alias.clone());
        Ok(alias)
    }

    pub fn portal_domain(&self) -> Option<&str> {
        self.config.portal_domain.as_deref()
    }

    /// The address to give users: the customized one once there is one.
    pub async fn portal_url(&self) -> String {
        let canonical = format!("{}/start", self.config.public_url.trim_end_matches('/'));
        match (self.portal_alias().await.ok().flatten(), &self.config.portal_domain) {
            (Some(alias), Some(domain)) => format!("{}/start", url_on_host(&self.config.public_url, &format!("{alias}.{domain}"))),
            _ => canonical,
        }
    }

    /// Whether `start_url` names this portal, at its canonical or customized address.
    pub async fn is_portal_url(&self, start_url: &str) -> bool {
        let given = start_url.trim_end_matches('/');
        let canonical = format!("{}/start", self.config.public_url.trim_end_matches('/'));
        given.starts_with(&canonical) || given.starts_with(self.portal_url().await.as_str())
    }

    /// Where a request for `host` (the Host header) should go instead: the canonical public URL
    /// when it came to the customized address.
    pub async fn redirect_for_host(&self, host: &str) -> Option<String> {
        let domain = self.config.portal_domain.as_deref()?;
        let name = host.rsplit_once(':').map_or(host, |(h, _)| h);
        let alias = name.strip_suffix(domain)?.strip_suffix('.')?;
        (self.portal_alias().await.ok().flatten().as_deref() == Some(alias))
            .then(|| self.config.public_url.trim_end_matches('/').to_string())
    }

    /// Customize the portal URL: once, for good (the guide). Needs `portal_domain`.
    pub async fn customize_portal_url(&self, ctx: &Ctx, alias: &str) -> Result<String> {
        let mut op = self.begin(ctx, Source::SsoDirectory, "CreateAlias", false, json!({"alias": alias})).await?;
        let result = async {
            op.authorize(&self.identity_store_arn()?)?;
            let Some(domain) = &self.config.portal_domain else {
                return Err(Error::validation(
                    "Alias",
                    "this Gatehouse has no portal_domain: set it (a domain whose subdomains reach Gatehouse) to customize the portal URL",
                ));
            };
            check_alias(alias)?;
            if let Some(existing) = op.tx.get_setting(SETTING).await?.filter(|a| !a.is_empty()) {
                return Err(Error::conflict(format!("The portal URL was customized as {existing}.{domain} already; it cannot be changed")));
            }
            op.tx.put_setting(SETTING, alias, self.clock.now()).await?;
            let url = format!("{}/start", url_on_host(&self.config.public_url, &format!("{alias}.{domain}")));
            op.respond(json!({"alias": alias, "portalUrl": url}));
            Ok(url)
        }
        .await;
        let out = op.finish(result).await;
        self.portal_alias_cache.clear();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_follow_the_subdomain_rules() {
        for good in ["acme", "acme-corp", "a1b", "x".repeat(63).as_str()] {
            assert!(check_alias(good).is_ok(), "{good}");
        }
        for bad in ["ab", "Acme", "-acme", "acme-", "d-1234567890", "acme.corp", "x".repeat(64).as_str()] {
            assert!(check_alias(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_customized_url_keeps_the_scheme_and_port() {
        assert_eq!(url_on_host("http://localhost:8080", "acme.localhost"), "http://acme.localhost:8080");
        assert_eq!(url_on_host("https://sso.example.com/", "acme.sso.example.com"), "https://acme.sso.example.com");
    }
}
