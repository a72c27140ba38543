//! The organization tree: a root, organizational units and the AWS accounts Gatehouse federates
//! into. Administrators change it from the CLI; the Organizations API reads it.

use serde_json::json;

use super::Services;
use super::op::{Op, Source};
use super::principal::Ctx;
use crate::error::{Error, ResourceType, Result};
use crate::ids;
use crate::model::{Account, OrgUnit, Page, Paged};
use crate::validate;

/// Which kind of child ListChildren asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildType {
    Account,
    OrganizationalUnit,
}

/// A node of the tree: the root, an OU or an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Root(String),
    Unit(OrgUnit),
    Account(Account),
}

impl Node {
    pub fn id(&self) -> &str {
        match self {
            Node::Root(id) => id,
            Node::Unit(u) => &u.id,
            Node::Account(a) => &a.id,
        }
    }
}

fn check_account_fields(name: &str, email: &str) -> Result<()> {
    validate::text("Name", name, 128)?;
    validate::length("Email", email, 6, 64)?;
    validate::email("Email", email)
}

impl Services {
    fn org_arn(&self) -> Result<String> {
        let i = self.instance()?;
        Ok(ids::organization_arn(&i.management_account_id, &i.organization_id))
    }

    /// The ARN Organizations gives an account, OU or root id.
    pub fn org_node_arn(&self, id: &str) -> Result<String> {
        let i = self.instance()?;
        let (m, o) = (&i.management_account_id, &i.organization_id);
        Ok(if id.starts_with("r-") {
            ids::root_arn(m, o, id)
        } else if id.starts_with("ou-") {
            ids::ou_arn(m, o, id)
        } else {
            ids::organizations_account_arn(m, o, id)
        })
    }

    /// The root or an OU, for use as a parent; NotFound(Parent) otherwise.
    async fn load_parent(&self, op: &mut Op<'_>, parent_id: &str) -> Result<OrgUnit> {
        op.tx.get_org_unit(parent_id).await?.ok_or_else(|| Error::not_found(ResourceType::Parent, parent_id))
    }

    async fn load_account(&self, op: &mut Op<'_>, account_id: &str) -> Result<Account> {
        op.tx.get_account(account_id).await?.ok_or_else(|| Error::not_found(ResourceType::Account, account_id))
    }

    async fn load_unit(&self, op: &mut Op<'_>, ou_id: &str) -> Result<OrgUnit> {
        match op.tx.get_org_unit(ou_id).await? {
            Some(u) if u.parent_id.is_some() => Ok(u),
            _ => Err(Error::not_found(ResourceType::OrganizationalUnit, ou_id)),
        }
    }

    /// Add an AWS account to the organization (id generated when not given).
    pub async fn add_account(&self, ctx: &Ctx, id: Option<String>, name: &str, email: &str, parent_id: Option<String>) -> Result<Account> {
        let params = json!({"accountId": id, "accountName": name, "email": email, "parentId": parent_id});
        let mut op = self.begin(ctx, Source::Organizations, "CreateAccount", false, params).await?;
        let result = async {
            op.authorize(&self.org_arn()?)?;
            let id = id.unwrap_or_else(ids::new_account_id);
            if !ids::is_account_id(&id) {
                return Err(Error::validation("AccountId", "must be 12 digits"));
            }
            check_account_fields(name, email)?;
            let parent = parent_id.unwrap_or(self.instance()?.root_id.clone());
            self.load_parent(&mut op, &parent).await?;
            if op.tx.get_account(&id).await?.is_some() {
                return Err(Error::conflict_reason(format!("Account {id} is already in the organization"), "DUPLICATE_ACCOUNT"));
            }
            if op.tx.find_account_by_email(email).await?.is_some() {
                return Err(Error::conflict_reason(
                    format!("An account with email {email} is already in the organization"),
                    "EMAIL_ALREADY_EXISTS",
                ));
            }
            let account = Account {
                id,
                name: name.to_string(),
                email: email.to_string(),
                parent_id: parent,
                status: "ACTIVE".into(),
                joined_method: "INVITED".into(),
                joined_at: self.clock.now(),
            };
            op.tx.insert_account(&account).await?;
            let queued = self.follow_ou_assignments(&mut op, &account).await?;
            op.additional("accountAssignmentRequestsQueued", json!(queued));
            op.respond(json!({"accountId": account.id}));
            op.resource("AWS::Organizations::Account", self.org_node_arn(&account.id)?);
            Ok(account)
        }
        .await;
        op.finish(result).await
    }

    pub async fn update_account(&self, ctx: &Ctx, account_id: &str, name: Option<String>, email: Option<String>) -> Result<Account> {
        let params = json!({"accountId": account_id, "accountName": name, "email": email});
        let mut op = self.begin(ctx, Source::Organizations, "UpdateAccount", false, params).await?;
        let result = async {
            op.authorize(&self.org_node_arn(account_id)?)?;
            let mut account = self.load_account(&mut op, account_id).await?;
            if let Some(n) = name {
                account.name = n;
            }
            if let Some(e) = email {
                if let Some(other) = op.tx.find_account_by_email(&e).await?
                    && other.id != account.id
                {
                    return Err(Error::conflict_reason(
                        format!("An account with email {e} is already in the organization"),
                        "EMAIL_ALREADY_EXISTS",
                    ));
                }
                account.email = e;
            }
            check_account_fields(&account.name, &account.email)?;
            op.tx.update_account(&account).await?;
            Ok(account)
        }
        .await;
        op.finish(result).await
    }

    pub async fn move_account(&self, ctx: &Ctx, account_id: &str, destination: &str) -> Result<Account> {
        let params = json!({"accountId": account_id, "destinationParentId": destination});
        let mut op = self.begin(ctx, Source::Organizations, "MoveAccount", false, params).await?;
        let result = async {
            op.authorize(&self.org_node_arn(account_id)?)?;
            let mut account = self.load_account(&mut op, account_id).await?;
            self.load_parent(&mut op, destination).await?;
            op.additional("sourceParentId", json!(account.parent_id));
            account.parent_id = destination.to_string();
            op.tx.update_account(&account).await?;
            let queued = self.follow_ou_assignments(&mut op, &account).await?;
            op.additional("accountAssignmentRequestsQueued", json!(queued));
            Ok(account)
        }
        .await;
        op.finish(result).await
    }

    /// Remove an account from the organization; the management account stays.
    pub async fn remove_account(&self, ctx: &Ctx, account_id: &str) -> Result<()> {
        let params = json!({"accountId": account_id});
        let mut op = self.begin(ctx, Source::Organizations, "RemoveAccountFromOrganization", false, params).await?;
        let result = async {
            op.authorize(&self.org_node_arn(account_id)?)?;
            self.load_account(&mut op, account_id).await?;
            if account_id == self.instance()?.management_account_id {
                return Err(Error::conflict_reason("The management account cannot be removed from the organization", "MASTER_ACCOUNT"));
            }
            op.tx.delete_account(account_id).await?;
            Ok(())
        }
        .await;
        op.finish(result).await
    }

    pub async fn create_ou(&self, ctx: &Ctx, parent_id: &str, name: &str) -> Result<OrgUnit> {
        let params = json!({"parentId": parent_id, "name": name});
        let mut op = self.begin(ctx, Source::Organizations, "CreateOrganizationalUnit", false, params).await?;
        let result = async {
            op.authorize(&self.org_node_arn(parent_id)?)?;
            validate::text("Name", name, 128)?;
            self.load_parent(&mut op, parent_id).await?;
            self.check_sibling_name(&mut op, parent_id, name, None).await?;
            let unit =
                OrgUnit { id: ids::new_ou_id(&self.instance()?.root_id), name: name.to_string(), parent_id: Some(parent_id.to_string()) };
            op.tx.insert_org_unit(&unit).await?;
            op.respond(json!({"organizationalUnit": {"id": unit.id}}));
            op.resource("AWS::Organizations::OrganizationalUnit", self.org_node_arn(&unit.id)?);
            Ok(unit)
        }
        .await;
        op.finish(result).await
    }

    pub async fn rename_ou(&self, ctx: &Ctx, ou_id: &str, name: &str) -> Result<OrgUnit> {
        let params = json!({"organizationalUnitId": ou_id, "name": name});
        let mut op = self.begin(ctx, Source::Organizations, "UpdateOrganizationalUnit", false, params).await?;
        let result = async {
            op.authorize(&self.org_node_arn(ou_id)?)?;
            validate::text("Name", name, 128)?;
            let mut unit = self.load_unit(&mut op, ou_id).await?;
            let parent = unit.parent_id.clone().unwrap_or_default();
            self.check_sibling_name(&mut op, &parent, name, Some(ou_id)).await?;
            unit.name = name.to_string();
            op.tx.update_org_unit(&unit).await?;
            Ok(unit)
        }
        .await;
        op.finish(result).await
    }

    /// Move an OU under another parent; never under itself or its own descendants.
    pub async fn move_ou(&self, ctx: &Ctx, ou_id: &str, destination: &str) -> Result<OrgUnit> {
        let params = json!({"organizationalUnitId": ou_id, "destinationParentId": destination});
        let mut op = self.begin(ctx, Source::Organizations, "MoveOrganizationalUnit", false, params).await?;
        let result = async {
            op.authorize(&self.org_node_arn(ou_id)?)?;
            let mut unit = self.load_unit(&mut op, ou_id).await?;
            let mut cursor = Some(self.load_parent(&mut op, destination).await?);
            while let Some(node) = cursor {
                if node.id == ou_id {
                    return Err(Error::validation(
                        "DestinationParentId",
                        "an organizational unit cannot move under itself or its own descendants",
                    ));
                }
                cursor = match node.parent_id {
                    Some(p) => op.tx.get_org_unit(&p).await?,
                    None => None,
                };
            }
            self.check_sibling_name(&mut op, destination, &unit.name.clone(), Some(ou_id)).await?;
            unit.parent_id = Some(destination.to_string());
            op.tx.update_org_unit(&unit).await?;
            Ok(unit)
        }
        .await;
        op.finish(result).await
    }

    /// Delete an empty OU.
    pub async fn delete_ou(&self, ctx: &Ctx, ou_id: &str) -> Result<()> {
        let params = json!({"organizationalUnitId": ou_id});
        let mut op = self.begin(ctx, Source::Organizations, "DeleteOrganizationalUnit", false, params).await?;
        let result = async {
            op.authorize(&self.org_node_arn(ou_id)?)?;
            self.load_unit(&mut op, ou_id).await?;
            let one = Page { after: None, limit: 1 };
            if !op.tx.list_accounts_in(ou_id, &one).await?.items.is_empty() || !op.tx.list_org_units_in(ou_id, &one).await?.items.is_empty()
            {
                return Err(Error::conflict_reason(
                    format!("Organizational unit {ou_id} still has accounts or organizational units: move or remove them first"),
                    "ORGANIZATIONAL_UNIT_NOT_EMPTY",
                ));
            }
            op.tx.delete_org_unit(ou_id).await?;
            Ok(())
        }
        .await;
        op.finish(result).await
    }

    async fn check_sibling_name(&self, op: &mut Op<'_>, parent_id: &str, name: &str, except: Option<&str>) -> Result<()> {
        let mut after = None;
        loop {
            let page = op.tx.list_org_units_in(parent_id, &Page { after, limit: 500 }).await?;
            if page.items.iter().any(|u| u.name.eq_ignore_ascii_case(name) && Some(u.id.as_str()) != except) {
                return Err(Error::conflict_reason(
                    format!("An organizational unit named '{name}' already exists under {parent_id}"),
                    "DUPLICATE_ORGANIZATIONAL_UNIT",
                ));
            }
            after = page.next;
            if after.is_none() {
                return Ok(());
            }
        }
    }

    // ---- reads (the Organizations API) ----

    async fn read<T>(
        &self,
        ctx: &Ctx,
        name: &'static str,
        params: serde_json::Value,
        run: impl AsyncFnOnce(&mut Op<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut op = self.begin(ctx, Source::Organizations, name, true, params).await?;
        let result = async {
            op.authorize(&self.org_arn()?)?;
            run(&mut op).await
        }
        .await;
        op.finish(result).await
    }

    pub async fn describe_organization(&self, ctx: &Ctx) -> Result<(crate::model::Instance, Account)> {
        self.read(ctx, "DescribeOrganization", json!(null), async |op| {
            let i = self.instance()?.clone();
            let m = self.load_account(op, &i.management_account_id).await?;
            Ok((i, m))
        })
        .await
    }

    pub async fn list_roots(&self, ctx: &Ctx) -> Result<Vec<String>> {
        self.read(ctx, "ListRoots", json!({}), async |_| Ok(vec![self.instance()?.root_id.clone()])).await
    }

    pub async fn list_accounts(&self, ctx: &Ctx, page: Page) -> Result<Paged<Account>> {
        self.read(ctx, "ListAccounts", json!({"maxResults": page.limit}), async |op| Ok(op.tx.list_accounts(&page).await?)).await
    }

    pub async fn list_accounts_for_parent(&self, ctx: &Ctx, parent_id: &str, page: Page) -> Result<Paged<Account>> {
        self.read(ctx, "ListAccountsForParent", json!({"parentId": parent_id}), async |op| {
            self.load_parent(op, parent_id).await?;
            Ok(op.tx.list_accounts_in(parent_id, &page).await?)
        })
        .await
    }

    pub async fn list_ous_for_parent(&self, ctx: &Ctx, parent_id: &str, page: Page) -> Result<Paged<OrgUnit>> {
        self.read(ctx, "ListOrganizationalUnitsForParent", json!({"parentId": parent_id}), async |op| {
            self.load_parent(op, parent_id).await?;
            Ok(op.tx.list_org_units_in(parent_id, &page).await?)
        })
        .await
    }

    pub async fn describe_account(&self, ctx: &Ctx, account_id: &str) -> Result<Account> {
        self.read(ctx, "DescribeAccount", json!({"accountId": account_id}), async |op| self.load_account(op, account_id).await).await
    }

    pub async fn describe_ou(&self, ctx: &Ctx, ou_id: &str) -> Result<OrgUnit> {
        self.read(ctx, "DescribeOrganizationalUnit", json!({"organizationalUnitId": ou_id}), async |op| self.load_unit(op, ou_id).await)
            .await
    }

    /// The parent of an account or OU (a list of one, as the API returns it).
    pub async fn list_parents(&self, ctx: &Ctx, child_id: &str) -> Result<Vec<Node>> {
        self.read(ctx, "ListParents", json!({"childId": child_id}), async |op| {
            let parent = if let Some(a) = op.tx.get_account(child_id).await? {
                a.parent_id
            } else {
                match op.tx.get_org_unit(child_id).await? {
                    Some(OrgUnit { parent_id: Some(p), .. }) => p,
                    _ => return Err(Error::not_found(ResourceType::Child, child_id)),
                }
            };
            let node = op.tx.get_org_unit(&parent).await?.ok_or_else(|| Error::internal(format!("dangling parent {parent}")))?;
            Ok(vec![if node.parent_id.is_none() { Node::Root(node.id) } else { Node::Unit(node) }])
        })
        .await
    }

    pub async fn list_children(&self, ctx: &Ctx, parent_id: &str, kind: ChildType, page: Page) -> Result<Paged<String>> {
        self.read(ctx, "ListChildren", json!({"parentId": parent_id}), async |op| {
            self.load_parent(op, parent_id).await?;
            Ok(match kind {
                ChildType::Account => {
                    let p = op.tx.list_accounts_in(parent_id, &page).await?;
                    Paged { items: p.items.into_iter().map(|a| a.id).collect(), next: p.next }
                }
                ChildType::OrganizationalUnit => {
                    let p = op.tx.list_org_units_in(parent_id, &page).await?;
                    Paged { items: p.items.into_iter().map(|u| u.id).collect(), next: p.next }
                }
            })
        })
        .await
    }
}
