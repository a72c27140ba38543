//! The organization tree's rules through the service layer, with audit records.

use gatehouse_core::Error;
use gatehouse_core::model::Page;
use gatehouse_core::services::{ChildType, Node};

use crate::harness::*;

#[tokio::test]
async fn organization_tree_rules() {
    each_backend(|e| async move {
        let i = e.svc.instance().unwrap().clone();
        let root = i.root_id.clone();
        let eng = e.svc.create_ou(&e.ctx, &root, "Engineering").await.unwrap();
        assert!(eng.id.starts_with(&format!("ou-{}-", &root[2..])));
        let dev = e.svc.create_ou(&e.ctx, &eng.id, "Dev").await.unwrap();
        assert!(matches!(e.svc.create_ou(&e.ctx, &root, "engineering").await, Err(Error::Conflict { .. })));
        assert!(matches!(e.svc.create_ou(&e.ctx, "ou-none-00000000", "x").await, Err(Error::NotFound { .. })));

        let acct =
            e.svc.add_account(&e.ctx, Some("111122223333".into()), "Sandbox", "sandbox@example.com", Some(dev.id.clone())).await.unwrap();
        assert_eq!(last_event(&e.svc, "CreateAccount").await.event_source, "organizations.amazonaws.com");
        assert!(matches!(
            e.svc.add_account(&e.ctx, Some("111122223333".into()), "Again", "again@example.com", None).await,
            Err(Error::Conflict { .. })
        ));
        assert!(matches!(e.svc.add_account(&e.ctx, None, "Dup mail", "SANDBOX@example.com", None).await, Err(Error::Conflict { .. })));
        let err = e.svc.add_account(&e.ctx, Some("12345".into()), "Bad", "bad@example.com", None).await.unwrap_err();
        assert!(matches!(&err, Error::Validation { field, .. } if field == "AccountId"));

        // An OU cannot move under itself or its descendants; a non-empty OU cannot be deleted.
        let err = e.svc.move_ou(&e.ctx, &eng.id, &dev.id).await.unwrap_err();
        assert!(matches!(&err, Error::Validation { field, .. } if field == "DestinationParentId"), "{err:?}");
        assert!(matches!(e.svc.delete_ou(&e.ctx, &dev.id).await, Err(Error::Conflict { .. })));
        assert_eq!(last_event(&e.svc, "DeleteOrganizationalUnit").await.error_code.as_deref(), Some("ConflictException"));
        e.svc.move_account(&e.ctx, &acct.id, &root).await.unwrap();
        e.svc.delete_ou(&e.ctx, &dev.id).await.unwrap();
        e.svc.rename_ou(&e.ctx, &eng.id, "Platform").await.unwrap();

        let parents = e.svc.list_parents(&e.ctx, &acct.id).await.unwrap();
        assert_eq!(parents, vec![Node::Root(root.clone())]);
        let children = e.svc.list_children(&e.ctx, &root, ChildType::Account, Page::default()).await.unwrap();
        assert_eq!(children.items.len(), 2, "management account and sandbox");
        let ous = e.svc.list_ous_for_parent(&e.ctx, &root, Page::default()).await.unwrap();
        assert_eq!(ous.items.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(), vec!["Platform"]);

        // The management account stays.
        let err = e.svc.remove_account(&e.ctx, &i.management_account_id).await.unwrap_err();
        assert!(matches!(err, Error::Conflict { .. }));
        e.svc.remove_account(&e.ctx, &acct.id).await.unwrap();
        assert!(matches!(e.svc.describe_account(&e.ctx, &acct.id).await, Err(Error::NotFound { .. })));
    })
    .await;
}
