//! The identity store's rules, proven through the service layer on every backend, each mutating
//! step also checked in the audit log.

use gatehouse_core::Error;
use gatehouse_core::model::{ExternalId, GroupProfile, GroupQuery, Page, TypedValue, UserQuery};
use gatehouse_core::services::{ServiceConfig, UserChange};
use serde_json::json;

use crate::harness::*;

fn group(name: &str) -> GroupProfile {
    GroupProfile { display_name: name.into(), description: Some("d".into()), external_ids: vec![] }
}

#[tokio::test]
async fn user_name_and_email_unique_case_insensitively() {
    each_backend(|e| async move {
        let alice = e.svc.create_user(&e.ctx, profile("alice", "alice@example.com")).await.unwrap();
        let rec = last_event(&e.svc, "CreateUser").await;
        assert_eq!(rec.event_source, "identitystore.amazonaws.com");
        assert_eq!(rec.request_parameters["userName"], "alice");
        assert_eq!(rec.response_elements["userId"], alice.user_id.as_str());
        assert_eq!(rec.user_identity["type"], "Root");
        assert!(rec.error_code.is_none());

        let err = e.svc.create_user(&e.ctx, profile("ALICE", "other@example.com")).await.unwrap_err();
        assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
        assert!(err.to_string().contains("user name"), "{err}");
        let rec = last_event(&e.svc, "CreateUser").await;
        assert_eq!(rec.error_code.as_deref(), Some("ConflictException"));
        assert!(rec.response_elements.is_null());

        let err = e.svc.create_user(&e.ctx, profile("bob", "ALICE@Example.COM")).await.unwrap_err();
        assert!(matches!(err, Error::Conflict { .. }) && err.to_string().contains("email"), "{err}");

        // The failed creations wrote nothing.
        let all = e.svc.list_users(&e.ctx, UserQuery::default(), Page::default()).await.unwrap();
        assert_eq!(all.items.len(), 2, "Administrator and alice only");

        // Look-ups ignore case too.
        let found = e.svc.find_user_by_name(&e.ctx, "AlIcE").await.unwrap();
        assert_eq!(found.user_id, alice.user_id);

        // An update cannot take another user's email.
        let bob = e.svc.create_user(&e.ctx, profile("bob", "bob@example.com")).await.unwrap();
        let change = UserChange::new(json!(["emails"]), |p, _| {
            p.emails[0].value = Some("Alice@example.com".into());
            Ok(())
        });
        assert!(matches!(e.svc.update_user(&e.ctx, &bob.user_id, change).await, Err(Error::Conflict { .. })));
    })
    .await;
}

#[tokio::test]
async fn external_ids_are_unique_and_searchable() {
    each_backend(|e| async move {
        let mut p = profile("carol", "carol@example.com");
        p.external_ids = vec![ExternalId { issuer: "okta".into(), id: "00u1".into() }];
        let carol = e.svc.create_user(&e.ctx, p).await.unwrap();
        let mut p2 = profile("dave", "dave@example.com");
        p2.external_ids = vec![ExternalId { issuer: "okta".into(), id: "00u1".into() }];
        assert!(matches!(e.svc.create_user(&e.ctx, p2).await, Err(Error::Conflict { .. })));
        let q = UserQuery { external_id: Some(ExternalId { issuer: "okta".into(), id: "00u1".into() }), ..Default::default() };
        let found = e.svc.list_users(&e.ctx, q, Page::default()).await.unwrap();
        assert_eq!(found.items.len(), 1);
        assert_eq!(found.items[0].user_id, carol.user_id);
        assert_eq!(found.items[0].profile.external_ids[0].id, "00u1");
    })
    .await;
}

#[tokio::test]
async fn user_name_cannot_change() {
    each_backend(|e| async move {
        let u = e.svc.create_user(&e.ctx, profile("erin", "erin@example.com")).await.unwrap();
        for new_name in ["erin2", "ERIN"] {
            let change = UserChange::new(json!(["userName"]), move |p, _| {
                p.user_name = new_name.into();
                Ok(())
            });
            let err = e.svc.update_user(&e.ctx, &u.user_id, change).await.unwrap_err();
            assert!(matches!(&err, Error::Validation { field, .. } if field == "UserName"), "{err:?}");
        }
        let rec = last_event(&e.svc, "UpdateUser").await;
        assert_eq!(rec.error_code.as_deref(), Some("ValidationException"));
        assert_eq!(e.svc.describe_user(&e.ctx, &u.user_id).await.unwrap().profile.user_name, "erin");

        // Other attributes change, and the revision moves on.
        let change = UserChange::new(json!(["title"]), |p, _| {
            p.title = Some("Engineer".into());
            Ok(())
        });
        let updated = e.svc.update_user(&e.ctx, &u.user_id, change).await.unwrap();
        assert_eq!(updated.profile.title.as_deref(), Some("Engineer"));
        assert_eq!(updated.meta.revision, 2);
        let rec = last_event(&e.svc, "UpdateUser").await;
        assert!(rec.error_code.is_none());
        assert_eq!(rec.request_parameters["operations"], json!(["title"]));
    })
    .await;
}

#[tokio::test]
async fn disabled_user_restrictions() {
    each_backend(|e| async move {
        let u = e.svc.create_user(&e.ctx, profile("frank", "frank@example.com")).await.unwrap();
        let g = e.svc.create_group(&e.ctx, group("Ops")).await.unwrap();
        let disabled = e.svc.set_user_active(&e.ctx, &u.user_id, false).await.unwrap();
        assert!(!disabled.active);
        let rec = last_event(&e.svc, "DisableUser").await;
        assert_eq!(rec.event_source, "sso-directory.amazonaws.com");
        assert!(rec.error_code.is_none());

        let edit = UserChange::new(json!(["title"]), |p, _| {
            p.title = Some("x".into());
            Ok(())
        });
        assert!(matches!(e.svc.update_user(&e.ctx, &u.user_id, edit).await, Err(Error::Conflict { .. })));
        assert_eq!(last_event(&e.svc, "UpdateUser").await.error_code.as_deref(), Some("ConflictException"));
        assert!(matches!(e.svc.reset_password(&e.ctx, &u.user_id).await, Err(Error::Conflict { .. })));
        assert_eq!(last_event(&e.svc, "ResetUserPassword").await.error_code.as_deref(), Some("ConflictException"));
        assert!(matches!(e.svc.set_password(&e.ctx, &u.user_id, "Fine-Pass1", false).await, Err(Error::Conflict { .. })));
        assert!(matches!(e.svc.create_group_membership(&e.ctx, &g.group_id, &u.user_id).await, Err(Error::Conflict { .. })));
        assert_eq!(last_event(&e.svc, "CreateGroupMembership").await.error_code.as_deref(), Some("ConflictException"));
        assert!(matches!(e.svc.list_group_memberships_for_member(&e.ctx, &u.user_id, Page::default()).await, Err(Error::Conflict { .. })));

        // Enabling is allowed, and afterwards everything works again.
        let enabled = e.svc.set_user_active(&e.ctx, &u.user_id, true).await.unwrap();
        assert!(enabled.active);
        assert_eq!(last_event(&e.svc, "EnableUser").await.request_parameters["userId"], u.user_id.as_str());
        e.svc.create_group_membership(&e.ctx, &g.group_id, &u.user_id).await.unwrap();
        e.svc.reset_password(&e.ctx, &u.user_id).await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn password_policy_and_history() {
    each_backend(|e| async move {
        let u = e.svc.create_user(&e.ctx, profile("grace", "grace@example.com")).await.unwrap();
        for weak in ["Sh0rt!", "nouppercase1!", "NOLOWERCASE1!", "NoDigits!!", "NoSymbols123", &format!("Aa1!{}", "x".repeat(61))] {
            let err = e.svc.set_password(&e.ctx, &u.user_id, weak, false).await.unwrap_err();
            assert!(matches!(&err, Error::Validation { field, .. } if field == "Password"), "{weak}: {err:?}");
        }
        let rec = last_event(&e.svc, "UpdatePassword").await;
        assert_eq!(rec.error_code.as_deref(), Some("ValidationException"));
        let text = serde_json::to_string(&rec).unwrap();
        assert!(!text.contains("NoSymbols123") && !text.contains("xxxxxxxx"), "no password in the audit record");

        let pw = ["First-Pass1", "Second-Pass2", "Third-Pass3", "Fourth-Pass4"];
        for p in &pw[..3] {
            e.svc.set_password(&e.ctx, &u.user_id, p, false).await.unwrap();
        }
        // The last three (Third, Second, First) cannot be reused.
        for p in &pw[..3] {
            let err = e.svc.set_password(&e.ctx, &u.user_id, p, false).await.unwrap_err();
            assert!(err.to_string().contains("last three"), "{p}: {err}");
        }
        e.svc.set_password(&e.ctx, &u.user_id, pw[3], false).await.unwrap();
        // Now First is four passwords back and may be used again; Second is still in the window.
        assert!(e.svc.set_password(&e.ctx, &u.user_id, pw[1], false).await.is_err());
        e.svc.set_password(&e.ctx, &u.user_id, pw[0], false).await.unwrap();
        assert!(e.svc.verify_password(&u.user_id, pw[0]).await.unwrap());
        assert!(!e.svc.verify_password(&u.user_id, pw[3]).await.unwrap());
        assert!(!e.svc.password_must_change(&u.user_id).await.unwrap());

        // An administrator's one-time password satisfies the policy and must be changed.
        let otp = e.svc.reset_password(&e.ctx, &u.user_id).await.unwrap();
        gatehouse_core::password::check_policy("p", &otp).unwrap();
        assert!(e.svc.verify_password(&u.user_id, &otp).await.unwrap());
        assert!(e.svc.password_must_change(&u.user_id).await.unwrap());
        let rec = last_event(&e.svc, "ResetUserPassword").await;
        assert!(!serde_json::to_string(&rec).unwrap().contains(otp.as_str()), "one-time password leaked into audit");
        assert_eq!(rec.response_elements["password"], "HIDDEN_DUE_TO_SECURITY_REASONS");
    })
    .await;
}

#[tokio::test]
async fn deleting_removes_memberships() {
    each_backend(|e| async move {
        let a = e.svc.create_user(&e.ctx, profile("henry", "henry@example.com")).await.unwrap();
        let b = e.svc.create_user(&e.ctx, profile("iris", "iris@example.com")).await.unwrap();
        let g1 = e.svc.create_group(&e.ctx, group("Dev")).await.unwrap();
        let g2 = e.svc.create_group(&e.ctx, group("Ops")).await.unwrap();
        for g in [&g1, &g2] {
            for u in [&a, &b] {
                e.svc.create_group_membership(&e.ctx, &g.group_id, &u.user_id).await.unwrap();
            }
        }
        assert!(matches!(e.svc.create_group_membership(&e.ctx, &g1.group_id, &a.user_id).await, Err(Error::Conflict { .. })));
        // A group cannot be a member of a group.
        let err = e.svc.create_group_membership(&e.ctx, &g1.group_id, &g2.group_id).await.unwrap_err();
        assert!(matches!(&err, Error::Validation { field, .. } if field == "MemberId"), "{err:?}");

        e.svc.delete_user(&e.ctx, &a.user_id).await.unwrap();
        let rec = last_event(&e.svc, "DeleteUser").await;
        assert_eq!(rec.additional_event_data["membershipsRemoved"], 2);
        assert!(matches!(e.svc.describe_user(&e.ctx, &a.user_id).await, Err(Error::NotFound { .. })));
        let m1 = e.svc.list_group_memberships(&e.ctx, &g1.group_id, Page::default()).await.unwrap();
        assert_eq!(m1.items.iter().map(|m| m.user_id.as_str()).collect::<Vec<_>>(), vec![b.user_id.as_str()]);

        e.svc.delete_group(&e.ctx, &g1.group_id).await.unwrap();
        assert_eq!(last_event(&e.svc, "DeleteGroup").await.additional_event_data["membershipsRemoved"], 1);
        let left = e.svc.list_group_memberships_for_member(&e.ctx, &b.user_id, Page::default()).await.unwrap();
        assert_eq!(left.items.len(), 1);
        assert_eq!(left.items[0].group_id, g2.group_id);

        // Deleting what does not exist is a NotFound, audited.
        assert!(matches!(e.svc.delete_user(&e.ctx, &a.user_id).await, Err(Error::NotFound { .. })));
        assert_eq!(last_event(&e.svc, "DeleteUser").await.error_code.as_deref(), Some("ResourceNotFoundException"));
    })
    .await;
}

#[tokio::test]
async fn groups_unique_and_validated() {
    each_backend(|e| async move {
        let g = e.svc.create_group(&e.ctx, group("Engineering")).await.unwrap();
        assert!(matches!(e.svc.create_group(&e.ctx, group("ENGINEERING")).await, Err(Error::Conflict { .. })));
        let err = e.svc.create_group(&e.ctx, group(&"x".repeat(1025))).await.unwrap_err();
        assert!(matches!(&err, Error::Validation { field, .. } if field == "DisplayName"));
        let renamed = e.svc.update_group(&e.ctx, &g.group_id, group("Platform")).await.unwrap();
        assert_eq!(renamed.profile.display_name, "Platform");
        assert_eq!(e.svc.find_group_by_name(&e.ctx, "platform").await.unwrap().group_id, g.group_id);
        let all = e.svc.list_groups(&e.ctx, GroupQuery::default(), Page::default()).await.unwrap();
        assert_eq!(all.items.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn bad_input_names_the_field() {
    each_backend(|e| async move {
        type Mutate = Box<dyn Fn(&mut gatehouse_core::model::UserProfile)>;
        let cases: Vec<(&str, Mutate)> = vec![
            ("UserName", Box::new(|p| p.user_name = "a".repeat(129))),
            ("UserName", Box::new(|p| p.user_name = "with space".into())),
            ("UserName", Box::new(|p| p.user_name = String::new())),
            ("Emails[0].Value", Box::new(|p| p.emails[0].value = Some("not-an-email".into()))),
            (
                "Emails",
                Box::new(|p| {
                    p.emails[0].primary = false;
                    p.emails.push(TypedValue { value: Some("other@example.com".into()), kind: None, display: None, primary: false });
                }),
            ),
            ("DisplayName", Box::new(|p| p.display_name = Some("d".repeat(1025)))),
            ("DisplayName", Box::new(|p| p.display_name = None)),
            ("Name.GivenName", Box::new(|p| p.name.given_name = None)),
            ("Name.FamilyName", Box::new(|p| p.name.family_name = Some("\u{0}".into()))),
            ("Title", Box::new(|p| p.title = Some("t".repeat(1025)))),
        ];
        for (field, mutate) in cases {
            let mut p = profile("judy", "judy@example.com");
            mutate(&mut p);
            let err = e.svc.create_user(&e.ctx, p).await.unwrap_err();
            assert!(matches!(&err, Error::Validation { field: f, .. } if f == field), "{field}: {err:?}");
            let rec = last_event(&e.svc, "CreateUser").await;
            assert_eq!(rec.error_code.as_deref(), Some("ValidationException"));
            assert!(rec.error_message.as_deref().unwrap_or("").starts_with(field), "{:?}", rec.error_message);
        }
        let users = e.svc.list_users(&e.ctx, UserQuery::default(), Page::default()).await.unwrap();
        assert_eq!(users.items.len(), 1, "nothing half-written");
    })
    .await;
}

#[tokio::test]
async fn quotas_are_enforced() {
    let config = ServiceConfig { max_users: 2, max_groups: 1, ..ServiceConfig::default() };
    each_backend_with(config, |e| async move {
        e.svc.create_user(&e.ctx, profile("kim", "kim@example.com")).await.unwrap();
        let err = e.svc.create_user(&e.ctx, profile("lee", "lee@example.com")).await.unwrap_err();
        assert!(matches!(err, Error::QuotaExceeded { .. }), "{err:?}");
        assert_eq!(last_event(&e.svc, "CreateUser").await.error_code.as_deref(), Some("ServiceQuotaExceededException"));
        e.svc.create_group(&e.ctx, group("one")).await.unwrap();
        assert!(matches!(e.svc.create_group(&e.ctx, group("two")).await, Err(Error::QuotaExceeded { .. })));
    })
    .await;
}

#[tokio::test]
async fn pagination_walks_every_user_once() {
    each_backend(|e| async move {
        for i in 0..25 {
            e.svc.create_user(&e.ctx, profile(&format!("u{i:02}"), &format!("u{i:02}@example.com"))).await.unwrap();
        }
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = e.svc.list_users(&e.ctx, UserQuery::default(), Page { after, limit: 7 }).await.unwrap();
            assert!(page.items.len() <= 7);
            seen.extend(page.items.into_iter().map(|u| u.user_id));
            after = page.next;
            if after.is_none() {
                break;
            }
        }
        let unique: std::collections::BTreeSet<_> = seen.iter().collect();
        assert_eq!(seen.len(), 26);
        assert_eq!(unique.len(), 26);
    })
    .await;
}
