//! Forward-only migrations, one schema for SQLite and PostgreSQL. Each migration names tables
//! and columns literally (not through entities) so that it never changes once released.

use gatehouse_core::model::AuditRecord;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(M0001Foundation),
            Box::new(M0002RateBuckets),
            Box::new(M0003KeysetIndexes),
            Box::new(M0004SettingsAndSessionKeys),
            Box::new(M0005ScimTokens),
            Box::new(M0006WideIntegers),
            Box::new(M0007PortalSignIn),
            Box::new(M0008UniqueCredentials),
            Box::new(M0009Applications),
            Box::new(M0010PermissionSets),
            Box::new(M0011SsoOidc),
            Box::new(M0012ExternalIdp),
            Box::new(M0013IdpSessionTags),
            Box::new(M0014AuditUserName),
        ]
    }
}

fn a(name: &str) -> Alias {
    Alias::new(name)
}

fn ts(name: &str) -> ColumnDef {
    timestamp_with_time_zone(a(name))
}

fn index(table: &str, name: &str, cols: &[&str], unique: bool) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(a(table));
    for c in cols {
        i.col(a(c));
    }
    if unique {
        i.unique();
    }
    i.to_owned()
}

fn fk_cascade(name: &str, from: &str, col: &str, to: &str, to_col: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create().name(name).from(a(from), a(col)).to(a(to), a(to_col)).on_delete(ForeignKeyAction::Cascade).to_owned()
}

struct M0001Foundation;

impl MigrationName for M0001Foundation {
    fn name(&self) -> &str {
        "m0001_foundation"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0001Foundation {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(a("instance"))
                .col(integer(a("id")).primary_key())
                .col(string(a("instance_arn")))
                .col(string(a("identity_store_id")))
                .col(string(a("organization_id")))
                .col(string(a("root_id")))
                .col(string(a("management_account_id")))
                .col(ts("created_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(a("users"))
                .col(string(a("user_id")).primary_key())
                .col(string(a("identity_store_id")))
                .col(string_len(a("user_name"), 128))
                .col(string(a("user_name_lower")))
                .col(string_null(a("primary_email_lower")))
                .col(text_null(a("display_name")))
                .col(text_null(a("display_name_lower")))
                .col(text_null(a("given_name")))
                .col(text_null(a("family_name")))
                .col(boolean(a("active")))
                .col(text(a("profile")))
                .col(ts("created_at"))
                .col(string(a("created_by")))
                .col(ts("updated_at"))
                .col(string(a("updated_by")))
                .col(big_integer(a("revision")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("users", "ux_users_name", &["identity_store_id", "user_name_lower"], true)).await?;
        m.create_index(index("users", "ux_users_email", &["identity_store_id", "primary_email_lower"], true)).await?;

        m.create_table(
            Table::create()
                .table(a("user_passwords"))
                .col(string(a("user_id")).primary_key())
                .col(text(a("hash")))
                .col(boolean(a("must_change")))
                .col(text(a("history")))
                .col(ts("updated_at"))
                .foreign_key(&mut fk_cascade("fk_user_passwords_user", "user_passwords", "user_id", "users", "user_id"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(a("groups"))
                .col(string(a("group_id")).primary_key())
                .col(string(a("identity_store_id")))
                .col(text(a("display_name")))
                .col(text(a("display_name_lower")))
                .col(text_null(a("description")))
                .col(text(a("external_ids")))
                .col(ts("created_at"))
                .col(string(a("created_by")))
                .col(ts("updated_at"))
                .col(string(a("updated_by")))
                .col(big_integer(a("revision")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("groups", "ux_groups_name", &["identity_store_id", "display_name_lower"], true)).await?;

        m.create_table(
            Table::create()
                .table(a("external_ids"))
                .col(big_pk_auto(a("id")))
                .col(string(a("identity_store_id")))
                .col(string(a("resource_type")))
                .col(string(a("resource_id")))
                .col(string_len(a("issuer"), 256))
                .col(string_len(a("external_id"), 256))
                .to_owned(),
        )
        .await?;
        m.create_index(index("external_ids", "ux_external_ids", &["identity_store_id", "resource_type", "issuer", "external_id"], true))
            .await?;
        m.create_index(index("external_ids", "ix_external_ids_resource", &["resource_id"], false)).await?;

        m.create_table(
            Table::create()
                .table(a("group_memberships"))
                .col(string(a("membership_id")).primary_key())
                .col(string(a("identity_store_id")))
                .col(string(a("group_id")))
                .col(string(a("user_id")))
                .col(ts("created_at"))
                .col(string(a("created_by")))
                .foreign_key(&mut fk_cascade("fk_memberships_group", "group_memberships", "group_id", "groups", "group_id"))
                .foreign_key(&mut fk_cascade("fk_memberships_user", "group_memberships", "user_id", "users", "user_id"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("group_memberships", "ux_memberships_pair", &["group_id", "user_id"], true)).await?;
        m.create_index(index("group_memberships", "ix_memberships_user", &["user_id"], false)).await?;

        m.create_table(
            Table::create()
                .table(a("org_units"))
                .col(string(a("id")).primary_key())
                .col(string(a("name")))
                .col(string_null(a("parent_id")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("org_units", "ix_org_units_parent", &["parent_id"], false)).await?;

        m.create_table(
            Table::create()
                .table(a("accounts"))
                .col(string_len(a("id"), 12).primary_key())
                .col(string(a("name")))
                .col(string(a("email")))
                .col(string(a("parent_id")))
                .col(string(a("status")))
                .col(string(a("joined_method")))
                .col(ts("joined_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("accounts", "ix_accounts_parent", &["parent_id"], false)).await?;

        m.create_table(
            Table::create()
                .table(a("access_keys"))
                .col(string(a("access_key_id")).primary_key())
                .col(string(a("user_name")))
                .col(text(a("sealed_secret")))
                .col(text(a("managed_policies")))
                .col(text(a("inline_policies")))
                .col(ts("created_at"))
                .col(timestamp_with_time_zone_null(a("last_used_at")))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(a("audit_events"))
                .col(big_pk_auto(a("seq")))
                .col(string(a("event_id")))
                .col(ts("event_time"))
                .col(string(a("event_source")))
                .col(string(a("event_name")))
                .col(boolean(a("read_only")))
                .col(string_null(a("error_code")))
                .col(text(a("record")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("audit_events", "ux_audit_event_id", &["event_id"], true)).await?;
        m.create_index(index("audit_events", "ix_audit_time", &["event_time"], false)).await?;
        m.create_index(index("audit_events", "ix_audit_name", &["event_name"], false)).await?;

        m.create_table(
            Table::create()
                .table(a("jobs"))
                .col(string(a("id")).primary_key())
                .col(string(a("kind")))
                .col(text(a("payload")))
                .col(string(a("status")))
                .col(integer(a("attempts")))
                .col(ts("run_after"))
                .col(string_null(a("locked_by")))
                .col(timestamp_with_time_zone_null(a("locked_until")))
                .col(text_null(a("last_error")))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("jobs", "ix_jobs_due", &["status", "run_after"], false)).await?;

        // A one-row table every SQLite transaction writes first, so that it holds the write lock
        // from its start (BEGIN IMMEDIATE semantics) and never fails upgrading a read snapshot.
        m.create_table(Table::create().table(a("write_lock")).col(integer(a("id")).primary_key()).col(big_integer(a("n"))).to_owned())
            .await?;
        m.exec_stmt(Query::insert().into_table(a("write_lock")).columns([a("id"), a("n")]).values_panic([1.into(), 0.into()]).to_owned())
            .await?;
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("migrations are forward-only".into()))
    }
}

struct M0002RateBuckets;

impl MigrationName for M0002RateBuckets {
    fn name(&self) -> &str {
        "m0002_rate_buckets"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0002RateBuckets {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Token buckets shared by all nodes: tokens left and when they were last counted (epoch s).
        m.create_table(
            Table::create()
                .table(a("rate_buckets"))
                .col(string(a("key")).primary_key())
                .col(double(a("tokens")))
                .col(double(a("updated_at")))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("migrations are forward-only".into()))
    }
}

struct M0003KeysetIndexes;

impl MigrationName for M0003KeysetIndexes {
    fn name(&self) -> &str {
        "m0003_keyset_indexes"
    }
}

/// Lists page by id within a store, group or user (keyset pagination). Without an index in that
/// order the database sorts every matching row for each page.
#[async_trait::async_trait]
impl MigrationTrait for M0003KeysetIndexes {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(index("users", "ix_users_page", &["identity_store_id", "user_id"], false)).await?;
        m.create_index(index("groups", "ix_groups_page", &["identity_store_id", "group_id"], false)).await?;
        m.create_index(index("group_memberships", "ix_memberships_group_page", &["group_id", "membership_id"], false)).await?;
        m.create_index(index("group_memberships", "ix_memberships_user_page", &["user_id", "membership_id"], false)).await?;
        m.create_index(index("accounts", "ix_accounts_parent_page", &["parent_id", "id"], false)).await
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("migrations are forward-only".into()))
    }
}

struct M0004SettingsAndSessionKeys;

impl MigrationName for M0004SettingsAndSessionKeys {
    fn name(&self) -> &str {
        "m0004_settings_and_session_keys"
    }
}

/// Instance-wide settings that change at run time (network configuration, later provisioning and
/// MFA settings), one JSON value per name; and temporary access keys: a session token (stored as
/// its hash) and an expiry.
#[async_trait::async_trait]
impl MigrationTrait for M0004SettingsAndSessionKeys {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(a("settings"))
                .col(string(a("name")).primary_key())
                .col(text(a("value")))
                .col(ts("updated_at"))
                .to_owned(),
        )
        .await?;
        m.alter_table(Table::alter().table(a("access_keys")).add_column(string_null(a("session_token_hash"))).to_owned()).await?;
        m.alter_table(Table::alter().table(a("access_keys")).add_column(timestamp_with_time_zone_null(a("expires_at"))).to_owned()).await
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("migrations are forward-only".into()))
    }
}

struct M0005ScimTokens;

impl MigrationName for M0005ScimTokens {
    fn name(&self) -> &str {
        "m0005_scim_tokens"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0005ScimTokens {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(a("scim_tokens"))
                .col(string(a("token_id")).primary_key())
                .col(string(a("token_hash")))
                .col(ts("created_at"))
                .col(ts("expires_at"))
                .col(timestamp_with_time_zone_null(a("last_used_at")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("scim_tokens", "ux_scim_tokens_hash", &["token_hash"], true)).await
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("migrations are forward-only".into()))
    }
}

struct M0006WideIntegers;

impl MigrationName for M0006WideIntegers {
    fn name(&self) -> &str {
        "m0006_wide_integers"
    }
}

/// Every integer column is 64-bit, as SQLite's are: the SQLite writer (sqlite_writer.rs) reads
/// integers as 64-bit values, so entities declare i64 throughout.
#[async_trait::async_trait]
impl MigrationTrait for M0006WideIntegers {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != sea_orm::DbBackend::Postgres {
            return Ok(());
        }
        for (table, column) in [("instance", "id"), ("jobs", "attempts")] {
            m.alter_table(Table::alter().table(a(table)).modify_column(ColumnDef::new(a(column)).big_integer().not_null()).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("migrations are forward-only".into()))
    }
}

struct M0007PortalSignIn;

impl MigrationName for M0007PortalSignIn {
    fn name(&self) -> &str {
        "m0007_portal_sign_in"
    }
}

/// Portal sessions, MFA devices, trusted browsers, emailed links and codes, and the sign-in
/// throttle. Secrets are stored as hashes (tokens) or encrypted (device secrets).
#[async_trait::async_trait]
impl MigrationTrait for M0007PortalSignIn {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(a("portal_sessions"))
                .col(string(a("session_id")).primary_key())
                .col(string(a("token_hash")))
                .col(string(a("user_id")))
                .col(string(a("stage")))
                .col(string(a("auth_workflow_id")))
                .col(string(a("verified")))
                .col(boolean(a("enrolled_device")))
                .col(string(a("source_ip")))
                .col(text(a("user_agent")))
                .col(ts("created_at"))
                .col(ts("last_seen_at"))
                .col(ts("expires_at"))
                .col(text_null(a("pending")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("portal_sessions", "ux_portal_sessions_token", &["token_hash"], true)).await?;
        m.create_index(index("portal_sessions", "ix_portal_sessions_user", &["user_id"], false)).await?;
        m.create_table(
            Table::create()
                .table(a("mfa_devices"))
                .col(string(a("device_id")).primary_key())
                .col(string(a("user_id")))
                .col(string(a("kind")))
                .col(string(a("name")))
                .col(text(a("secret")))
                .col(string_null(a("credential_id")))
                .col(big_integer_null(a("last_step")))
                .col(ts("created_at"))
                .col(timestamp_with_time_zone_null(a("last_used_at")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("mfa_devices", "ix_mfa_devices_user", &["user_id"], false)).await?;
        m.create_table(
            Table::create()
                .table(a("trusted_devices"))
                .col(string(a("token_hash")).primary_key())
                .col(string(a("user_id")))
                .col(text(a("browser")))
                .col(string(a("source_ip")))
                .col(ts("created_at"))
                .col(ts("expires_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("trusted_devices", "ix_trusted_devices_user", &["user_id"], false)).await?;
        m.create_table(
            Table::create()
                .table(a("email_tokens"))
                .col(string(a("token_hash")).primary_key())
                .col(string(a("user_id")))
                .col(string(a("purpose")))
                .col(ts("created_at"))
                .col(ts("expires_at"))
                .col(timestamp_with_time_zone_null(a("used_at")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("email_tokens", "ix_email_tokens_user", &["user_id", "purpose"], false)).await?;
        // (user_id) is a prefix of ix_memberships_user_page (user_id, membership_id): the shorter
        // index only cost every membership insert one more B-tree write.
        m.drop_index(Index::drop().name("ix_memberships_user").table(a("group_memberships")).to_owned()).await?;
        m.create_table(
            Table::create()
                .table(a("signin_throttle"))
                .col(string(a("key")).primary_key())
                .col(big_integer(a("failures")))
                .col(ts("last_failure_at"))
                .col(timestamp_with_time_zone_null(a("locked_until")))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration("migrations are forward-only".into()))
    }
}

struct M0008UniqueCredentials;

impl MigrationName for M0008UniqueCredentials {
    fn name(&self) -> &str {
        "m0008_unique_credentials"
    }
}

/// A WebAuthn credential belongs to one user only (the spec's "MUST assert that the credential id
/// was not registered before"): the unique index settles a race that the service's check loses.
/// TOTP devices have no credential id; NULLs never collide on either backend.
/// `drift_steps` is how far an authenticator app's clock is off, learned when it is resynced.
#[async_trait::async_trait]
impl MigrationTrait for M0008UniqueCredentials {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(index("mfa_devices", "ux_mfa_devices_credential", &["credential_id"], true)).await?;
        m.alter_table(Table::alter().table(a("mfa_devices")).add_column(big_integer(a("drift_steps")).default(0)).to_owned()).await
    }
}

struct M0009Applications;

impl MigrationName for M0009Applications {
    fn name(&self) -> &str {
        "m0009_applications"
    }
}

/// SAML applications, their signing certificates (private keys sealed) and assignments.
#[async_trait::async_trait]
impl MigrationTrait for M0009Applications {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(a("applications"))
                .col(string(a("application_id")).primary_key())
                .col(string(a("provider")))
                .col(string(a("name")))
                .col(string_null(a("description")))
                .col(boolean(a("enabled")))
                .col(boolean(a("visible")))
                .col(string(a("sign_in_origin")))
                .col(text_null(a("application_url")))
                .col(text(a("saml")))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("app_certificates"))
                .col(string(a("certificate_id")).primary_key())
                .col(string(a("application_id")))
                .col(text(a("certificate_pem")))
                .col(text(a("sealed_key")))
                .col(big_integer(a("key_size")))
                .col(string(a("algorithm")))
                .col(boolean(a("active")))
                .col(ts("not_before"))
                .col(ts("not_after"))
                .col(ts("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("app_certificates", "ix_app_certificates_app", &["application_id"], false)).await?;
        m.create_table(
            Table::create()
                .table(a("app_assignments"))
                .col(string(a("application_id")))
                .col(string(a("principal")))
                .col(ts("created_at"))
                .primary_key(Index::create().col(a("application_id")).col(a("principal")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("app_assignments", "ix_app_assignments_principal", &["principal"], false)).await
    }
}

struct M0010PermissionSets;

impl MigrationName for M0010PermissionSets {
    fn name(&self) -> &str {
        "m0010_permission_sets"
    }
}

/// Permission sets, account and OU assignments, asynchronous requests, provisioned roles, tags
/// and leases.
#[async_trait::async_trait]
impl MigrationTrait for M0010PermissionSets {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(a("permission_sets"))
                .col(string(a("permission_set_id")).primary_key())
                .col(string(a("name")))
                .col(string(a("name_lower")))
                .col(text_null(a("description")))
                .col(big_integer(a("session_minutes")))
                .col(text_null(a("relay_state")))
                .col(text(a("policies")))
                .col(big_integer(a("version")))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("permission_sets", "ux_permission_sets_name", &["name_lower"], true)).await?;
        m.create_table(
            Table::create()
                .table(a("account_assignments"))
                .col(string(a("account_id")))
                .col(string(a("permission_set_id")))
                .col(string(a("principal")))
                .col(boolean(a("direct")))
                .col(text(a("via_ous")))
                .col(ts("created_at"))
                .primary_key(Index::create().col(a("account_id")).col(a("permission_set_id")).col(a("principal")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("account_assignments", "ix_account_assignments_principal", &["principal", "account_id"], false)).await?;
        m.create_index(index("account_assignments", "ix_account_assignments_ps", &["permission_set_id"], false)).await?;
        m.create_table(
            Table::create()
                .table(a("ou_assignments"))
                .col(string(a("ou_id")))
                .col(string(a("permission_set_id")))
                .col(string(a("principal")))
                .col(ts("created_at"))
                .primary_key(Index::create().col(a("ou_id")).col(a("permission_set_id")).col(a("principal")))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("sso_requests"))
                .col(string(a("request_id")).primary_key())
                .col(string(a("kind")))
                .col(string(a("status")))
                .col(text_null(a("failure_reason")))
                .col(string_null(a("account_id")))
                .col(string(a("permission_set_id")))
                .col(string_null(a("principal")))
                .col(string_null(a("via_ou")))
                .col(boolean(a("internal")))
                .col(ts("created_at"))
                .col(ts("updated_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("sso_requests", "ix_sso_requests_kind_status", &["kind", "status", "request_id"], false)).await?;
        m.create_table(
            Table::create()
                .table(a("provisioned_roles"))
                .col(string(a("account_id")))
                .col(string(a("permission_set_id")))
                .col(string(a("role_name")))
                .col(big_integer(a("version")))
                .col(ts("updated_at"))
                .primary_key(Index::create().col(a("account_id")).col(a("permission_set_id")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("provisioned_roles", "ix_provisioned_roles_ps", &["permission_set_id", "account_id"], false)).await?;
        m.create_table(
            Table::create()
                .table(a("resource_tags"))
                .col(string(a("resource_arn")))
                .col(string(a("tag_key")))
                .col(text(a("tag_value")))
                .primary_key(Index::create().col(a("resource_arn")).col(a("tag_key")))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("leases"))
                .col(string(a("lease_key")).primary_key())
                .col(string(a("holder")))
                .col(ts("until"))
                .to_owned(),
        )
        .await
    }
}

struct M0011SsoOidc;

impl MigrationName for M0011SsoOidc {
    fn name(&self) -> &str {
        "m0011_sso_oidc"
    }
}

/// SSO OIDC clients, device authorizations, authorization codes and the portal API's tokens.
#[async_trait::async_trait]
impl MigrationTrait for M0011SsoOidc {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(a("oidc_clients"))
                .col(string(a("client_id")).primary_key())
                .col(string(a("secret_hash")))
                .col(text(a("name")))
                .col(string(a("client_type")))
                .col(text(a("scopes")))
                .col(text(a("redirect_uris")))
                .col(text(a("grant_types")))
                .col(ts("created_at"))
                .col(ts("expires_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("device_authorizations"))
                .col(string(a("device_code_hash")).primary_key())
                .col(string(a("user_code")))
                .col(string(a("client_id")))
                .col(string(a("status")))
                .col(string_null(a("user_id")))
                .col(big_integer(a("interval_seconds")))
                .col(timestamp_with_time_zone_null(a("last_polled_at")))
                .col(ts("created_at"))
                .col(ts("expires_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("device_authorizations", "ix_device_authorizations_user_code", &["user_code"], false)).await?;
        m.create_table(
            Table::create()
                .table(a("sso_tokens"))
                .col(string(a("token_id")).primary_key())
                .col(string(a("access_hash")))
                .col(string_null(a("refresh_hash")))
                .col(string(a("client_id")))
                .col(string(a("user_id")))
                .col(text(a("scopes")))
                .col(ts("created_at"))
                .col(ts("expires_at"))
                .col(ts("refresh_expires_at"))
                .col(boolean(a("revoked")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("sso_tokens", "ux_sso_tokens_access", &["access_hash"], true)).await?;
        m.create_index(index("sso_tokens", "ix_sso_tokens_refresh", &["refresh_hash"], false)).await?;
        m.create_index(index("sso_tokens", "ix_sso_tokens_user", &["user_id"], false)).await?;
        m.create_table(
            Table::create()
                .table(a("authorization_codes"))
                .col(string(a("code_hash")).primary_key())
                .col(string(a("client_id")))
                .col(string(a("user_id")))
                .col(text(a("redirect_uri")))
                .col(string(a("code_challenge")))
                .col(text(a("scopes")))
                .col(ts("created_at"))
                .col(ts("expires_at"))
                .col(boolean(a("used")))
                .to_owned(),
        )
        .await
    }
}

struct M0012ExternalIdp;

impl MigrationName for M0012ExternalIdp {
    fn name(&self) -> &str {
        "m0012_external_idp"
    }
}

/// Gatehouse as a SAML service provider: the AuthnRequests it has sent and not yet seen answered,
/// and the assertions it has accepted (the replay cache), shared by every node, until they expire.
#[async_trait::async_trait]
impl MigrationTrait for M0012ExternalIdp {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(a("saml_sp_ids"))
                .col(string(a("kind")))
                .col(string(a("id")))
                .col(ts("expires_at"))
                .primary_key(Index::create().col(a("kind")).col(a("id")))
                .to_owned(),
        )
        .await?;
        m.create_index(index("saml_sp_ids", "ix_saml_sp_ids_expires", &["expires_at"], false)).await
    }
}

struct M0013IdpSessionTags;

impl MigrationName for M0013IdpSessionTags {
    fn name(&self) -> &str {
        "m0013_idp_session_tags"
    }
}

/// The attributes for access control the external IdP last sent for each user (its
/// `AccessControl:<Key>` attributes), which take precedence over the configured ones.
#[async_trait::async_trait]
impl MigrationTrait for M0013IdpSessionTags {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(a("user_idp_tags"))
                .col(string(a("user_id")).primary_key())
                .col(text(a("tags")))
                .col(ts("updated_at"))
                .foreign_key(&mut fk_cascade("fk_user_idp_tags_user", "user_idp_tags", "user_id", "users", "user_id"))
                .to_owned(),
        )
        .await
    }
}

struct M0014AuditUserName;

impl MigrationName for M0014AuditUserName {
    fn name(&self) -> &str {
        "m0014_audit_user_name"
    }
}

/// Who acted, beside each audit record, so the console's audit log can be searched by user;
/// the records already written get theirs from their JSON.
#[async_trait::async_trait]
impl MigrationTrait for M0014AuditUserName {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(a("audit_events")).add_column(string_null(a("user_name"))).to_owned()).await?;
        m.create_index(index("audit_events", "ix_audit_user", &["user_name", "seq"], false)).await?;
        let db = m.get_connection();
        let mut last = 0i64;
        loop {
            let select = Query::select()
                .columns([a("seq"), a("record")])
                .from(a("audit_events"))
                .and_where(Expr::col(a("seq")).gt(last))
                .order_by(a("seq"), Order::Asc)
                .limit(1000)
                .to_owned();
            let rows = db.query_all(&select).await?;
            let Some(row) = rows.last() else { return Ok(()) };
            last = row.try_get("", "seq")?;
            for row in rows {
                let (seq, record): (i64, String) = (row.try_get("", "seq")?, row.try_get("", "record")?);
                let Some(name) = serde_json::from_str::<AuditRecord>(&record).ok().and_then(|r| r.user_name()) else { continue };
                let update =
                    Query::update().table(a("audit_events")).value(a("user_name"), name).and_where(Expr::col(a("seq")).eq(seq)).to_owned();
                db.execute(&update).await?;
            }
        }
    }
}
