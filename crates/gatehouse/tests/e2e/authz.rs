//! Every operation is authorized by the policy engine: keys holding managed or inline policies get
//! exactly what their policies allow, and each denial is audited.

use gatehouse_core::clock::ManualClock;
use gatehouse_core::model::{Page, UserQuery};
use gatehouse_core::services::{KeyAuth, ServiceConfig};
use gatehouse_core::{Ctx, Error};
use std::sync::Arc;

use crate::harness::*;

async fn key_ctx(e: &Env, name: &str, managed: &[&str], inline: &[&str]) -> Ctx {
    let key = e
        .svc
        .create_access_key(&e.ctx, name, managed.iter().map(|s| s.to_string()).collect(), inline.iter().map(|s| s.to_string()).collect())
        .await
        .unwrap();
    let rec = last_event(&e.svc, "CreateAccessKey").await;
    assert!(!serde_json::to_string(&rec).unwrap().contains(key.secret_access_key.as_str()), "secret leaked into audit");
    let KeyAuth::Valid(principal, secret) = e.svc.authenticate_access_key(&key.info.access_key_id, None).await.unwrap() else {
        panic!("a new key authenticates")
    };
    assert_eq!(secret.as_str(), key.secret_access_key.as_str(), "secret decrypts to what was shown");
    Ctx::new(principal, "192.0.2.10", "pytest/boto3")
}

#[tokio::test]
async fn directory_read_only_reads_but_cannot_write() {
    each_backend(|e| async move {
        let u = e.svc.create_user(&e.ctx, profile("reader-target", "rt@example.com")).await.unwrap();
        let ro = key_ctx(&e, "auditor", &["AWSSSODirectoryReadOnly"], &[]).await;
        assert_eq!(e.svc.describe_user(&ro, &u.user_id).await.unwrap().user_id, u.user_id);
        e.svc.list_users(&ro, UserQuery::default(), Page::default()).await.unwrap();
        // Reads are audited too (written in batches; last_event flushes first).
        let read = last_event(&e.svc, "DescribeUser").await;
        assert!(read.read_only && read.error_code.is_none());
        assert_eq!(read.user_identity["userName"], "auditor");
        assert_eq!(read.request_parameters["userId"], u.user_id.as_str());

        let err = e.svc.create_user(&ro, profile("nope", "nope@example.com")).await.unwrap_err();
        let Error::AccessDenied { message } = &err else { panic!("{err:?}") };
        let mgmt = &e.svc.instance().unwrap().management_account_id;
        assert_eq!(
            message,
            &format!(
                "User: arn:aws:iam::{mgmt}:user/auditor is not authorized to perform: identitystore:CreateUser on resource: arn:aws:identitystore::{mgmt}:identitystore/{}",
                e.svc.instance().unwrap().identity_store_id
            )
        );
        let rec = last_event(&e.svc, "CreateUser").await;
        assert_eq!(rec.error_code.as_deref(), Some("AccessDeniedException"));
        assert_eq!(rec.user_identity["type"], "IAMUser");
        assert_eq!(rec.user_identity["userName"], "auditor");
        assert!(rec.user_identity["accessKeyId"].as_str().unwrap().starts_with("AKIA"));
        assert_eq!(rec.source_ip_address, "192.0.2.10");
        assert_eq!(rec.user_agent, "pytest/boto3");

        for result in [
            e.svc.delete_user(&ro, &u.user_id).await.err(),
            e.svc.set_user_active(&ro, &u.user_id, false).await.err(),
            e.svc.reset_password(&ro, &u.user_id).await.err(),
        ] {
            assert!(matches!(result, Some(Error::AccessDenied { .. })), "{result:?}");
        }
        assert_eq!(last_event(&e.svc, "DisableUser").await.error_code.as_deref(), Some("AccessDeniedException"));
        assert!(e.svc.describe_user(&e.ctx, &u.user_id).await.unwrap().active, "nothing changed");
    })
    .await;
}

#[tokio::test]
async fn inline_policy_with_explicit_deny() {
    each_backend(|e| async move {
        let keep = e.svc.create_user(&e.ctx, profile("keep", "keep@example.com")).await.unwrap();
        let other = e.svc.create_user(&e.ctx, profile("other", "other@example.com")).await.unwrap();
        let policy = format!(
            r#"{{"Version":"2012-10-17","Statement":[
                {{"Effect":"Allow","Action":"identitystore:*","Resource":"*"}},
                {{"Effect":"Deny","Action":"identitystore:DeleteUser","Resource":"arn:aws:identitystore:::user/{}"}}]}}"#,
            keep.user_id
        );
        let ctx = key_ctx(&e, "scoped", &[], &[&policy]).await;
        let err = e.svc.delete_user(&ctx, &keep.user_id).await.unwrap_err();
        assert!(err.to_string().ends_with("with an explicit deny"), "{err}");
        e.svc.delete_user(&ctx, &other.user_id).await.unwrap();
        // sso-directory actions are outside the inline policy: implicit deny.
        assert!(matches!(e.svc.set_user_active(&ctx, &keep.user_id, false).await, Err(Error::AccessDenied { .. })));
    })
    .await;
}

#[tokio::test]
async fn bootstrap_key_is_master_administrator_and_bad_policies_are_refused() {
    each_backend(|e| async move {
        let keys = e.svc.list_access_keys(&e.ctx).await.unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].managed_policies, vec!["AWSSSOMasterAccountAdministrator".to_string()]);
        let KeyAuth::Valid(principal, _) = e.svc.authenticate_access_key(&keys[0].access_key_id, None).await.unwrap() else {
            panic!("the listed key authenticates")
        };
        let boot = Ctx::new(principal, "127.0.0.1", "test");
        e.svc.create_user(&boot, profile("made-by-key", "mbk@example.com")).await.unwrap();

        let err = e.svc.create_access_key(&e.ctx, "x", vec!["NoSuchPolicy".into()], vec![]).await.unwrap_err();
        assert!(matches!(&err, Error::Validation { field, .. } if field == "PolicyName"), "{err:?}");
        for bad in ["{not json", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}"#] {
            let err = e.svc.create_access_key(&e.ctx, "x", vec![], vec![bad.into()]).await.unwrap_err();
            assert!(matches!(&err, Error::Validation { field, .. } if field == "PolicyDocument[0]"), "{err:?}");
        }
        assert!(matches!(e.svc.authenticate_access_key("AKIAUNKNOWNUNKNOWN00", None).await.unwrap(), KeyAuth::Unknown));
        e.svc.delete_access_key(&e.ctx, &keys[0].access_key_id).await.unwrap();
        assert!(matches!(e.svc.authenticate_access_key(&keys[0].access_key_id, None).await.unwrap(), KeyAuth::Unknown));
    })
    .await;
}

/// Temporary credentials: the session token must come with the key, and an expired key is refused
/// as expired (ExpiredTokenException at the front door), on the service's clock.
#[tokio::test]
async fn temporary_keys_need_their_token_and_expire() {
    for db in databases().await {
        let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
        let svc = open_services_at(&db, ServiceConfig::default(), clock.clone()).await;
        svc.bootstrap().await.unwrap();
        let ctx = svc.operator_ctx("tester").unwrap();
        let managed = vec!["AWSSSOReadOnly".to_string()];
        let key = svc.create_session_key(&ctx, "ci", managed.clone(), vec![], 900).await.unwrap();
        let id = key.info.access_key_id.clone();
        let token = key.session_token.clone().expect("a session token");
        assert!(id.starts_with("ASIA") && key.info.expires_at.is_some());
        assert!(matches!(svc.authenticate_access_key(&id, Some(&token)).await.unwrap(), KeyAuth::Valid(..)));
        assert!(matches!(svc.authenticate_access_key(&id, None).await.unwrap(), KeyAuth::BadToken));
        assert!(matches!(svc.authenticate_access_key(&id, Some("forged")).await.unwrap(), KeyAuth::BadToken));
        clock.advance(chrono::Duration::seconds(901));
        assert!(matches!(svc.authenticate_access_key(&id, Some(&token)).await.unwrap(), KeyAuth::Expired));
        for seconds in [60, 50_000] {
            let err = svc.create_session_key(&ctx, "ci", managed.clone(), vec![], seconds).await.unwrap_err();
            assert!(matches!(err, Error::Validation { ref field, .. } if field == "DurationSeconds"), "{err:?}");
        }
        drop(db);
    }
}

/// SCIM access tokens: at most two active, a year by default, refused once expired or deleted, and
/// provisioning cannot be disabled while a token exists.
#[tokio::test]
async fn scim_tokens_lifecycle_and_expiry() {
    use gatehouse_core::services::ScimAuthError;
    for db in databases().await {
        let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
        let svc = open_services_at(&db, ServiceConfig::default(), clock.clone()).await;
        svc.bootstrap().await.unwrap();
        let ctx = svc.operator_ctx("tester").unwrap();
        assert!(matches!(svc.create_scim_token(&ctx).await, Err(Error::Conflict { .. })), "not enabled yet");
        let first = svc.enable_provisioning(&ctx).await.unwrap().expect("the first token");
        assert!(svc.enable_provisioning(&ctx).await.unwrap().is_none(), "enabling again issues nothing");
        let second = svc.create_scim_token(&ctx).await.unwrap();
        assert!(matches!(svc.create_scim_token(&ctx).await, Err(Error::QuotaExceeded { .. })));
        assert!(svc.authenticate_scim(&first.token).await.unwrap().is_ok());
        assert_eq!(svc.authenticate_scim("nope").await.unwrap().unwrap_err(), ScimAuthError::Invalid);
        assert!(matches!(svc.disable_provisioning(&ctx).await, Err(Error::Conflict { .. })));
        svc.delete_scim_token(&ctx, &first.info.token_id).await.unwrap();
        assert_eq!(svc.authenticate_scim(&first.token).await.unwrap().unwrap_err(), ScimAuthError::Invalid);
        clock.advance(chrono::Duration::days(366));
        assert_eq!(svc.authenticate_scim(&second.token).await.unwrap().unwrap_err(), ScimAuthError::Expired);
        // An expired token no longer counts as active: a replacement can be issued.
        let third = svc.create_scim_token(&ctx).await.unwrap();
        assert!(svc.authenticate_scim(&third.token).await.unwrap().is_ok());
        for t in [&second, &third] {
            svc.delete_scim_token(&ctx, &t.info.token_id).await.unwrap();
        }
        svc.disable_provisioning(&ctx).await.unwrap();
        drop(db);
    }
}
