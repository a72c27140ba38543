//! Between rows and the domain model, and from driver errors to `StoreError`.

use chrono::{DateTime, Utc};
use gatehouse_core::error::StoreError;
use gatehouse_core::model::*;
use sea_orm::{DbErr, RuntimeErr, SqlErr};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::entity::{access_key, account, group, job, membership, user};

pub fn db_err(e: DbErr) -> StoreError {
    if let Some(SqlErr::UniqueConstraintViolation(m)) = e.sql_err() {
        return StoreError::Unique(m);
    }
    // The SQLite writer (sqlite_writer.rs) passes SQLite's own message on.
    if let DbErr::Exec(RuntimeErr::Internal(m)) = &e
        && m.starts_with("UNIQUE constraint failed")
    {
        return StoreError::Unique(m.clone());
    }
    match e {
        DbErr::ConnectionAcquire(c) => StoreError::Unavailable(c.to_string()),
        DbErr::Conn(c) => StoreError::Unavailable(c.to_string()),
        other => {
            let text = other.to_string();
            // Connection-level failures surface as query errors too (server gone, socket closed).
            let lower = text.to_lowercase();
            if lower.contains("connection") || lower.contains("pool timed out") || lower.contains("io error") {
                StoreError::Unavailable(text)
            } else {
                StoreError::Other(text)
            }
        }
    }
}

pub fn to_json<T: Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Other(format!("serialize: {e}")))
}

pub fn from_json<T: DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Other(format!("stored JSON does not parse: {e}")))
}

pub fn user_row(u: &User) -> Result<user::Model, StoreError> {
    let p = &u.profile;
    Ok(user::Model {
        user_id: u.user_id.clone(),
        identity_store_id: u.identity_store_id.clone(),
        user_name: p.user_name.clone(),
        user_name_lower: p.user_name.to_lowercase(),
        primary_email_lower: p.primary_email().map(str::to_lowercase),
        display_name: p.display_name.clone(),
        display_name_lower: p.display_name.as_ref().map(|d| d.to_lowercase()),
        given_name: p.name.given_name.clone(),
        family_name: p.name.family_name.clone(),
        active: u.active,
        profile: to_json(p)?,
        created_at: u.meta.created_at,
        created_by: u.meta.created_by.clone(),
        updated_at: u.meta.updated_at,
        updated_by: u.meta.updated_by.clone(),
        revision: u.meta.revision,
    })
}

pub fn user_from(m: user::Model) -> Result<User, StoreError> {
    Ok(User {
        identity_store_id: m.identity_store_id,
        user_id: m.user_id,
        profile: from_json(&m.profile)?,
        active: m.active,
        meta: meta(m.created_at, m.created_by, m.updated_at, m.updated_by, m.revision),
    })
}

fn meta(created_at: DateTime<Utc>, created_by: String, updated_at: DateTime<Utc>, updated_by: String, revision: i64) -> Meta {
    Meta { created_at, created_by, updated_at, updated_by, revision }
}

pub fn group_row(g: &Group) -> Result<group::Model, StoreError> {
    Ok(group::Model {
        group_id: g.group_id.clone(),
        identity_store_id: g.identity_store_id.clone(),
        display_name: g.profile.display_name.clone(),
        display_name_lower: g.profile.display_name.to_lowercase(),
        description: g.profile.description.clone(),
        external_ids: to_json(&g.profile.external_ids)?,
        created_at: g.meta.created_at,
        created_by: g.meta.created_by.clone(),
        updated_at: g.meta.updated_at,
        updated_by: g.meta.updated_by.clone(),
        revision: g.meta.revision,
    })
}

pub fn group_from(m: group::Model) -> Result<Group, StoreError> {
    Ok(Group {
        identity_store_id: m.identity_store_id,
        group_id: m.group_id,
        profile: GroupProfile { display_name: m.display_name, description: m.description, external_ids: from_json(&m.external_ids)? },
        meta: meta(m.created_at, m.created_by, m.updated_at, m.updated_by, m.revision),
    })
}

pub fn membership_from(m: membership::Model) -> Membership {
    Membership {
        identity_store_id: m.identity_store_id,
        membership_id: m.membership_id,
        group_id: m.group_id,
        user_id: m.user_id,
        created_at: m.created_at,
        created_by: m.created_by,
    }
}

pub fn account_row(a: &Account) -> account::Model {
    account::Model {
        id: a.id.clone(),
        name: a.name.clone(),
        email: a.email.clone(),
        parent_id: a.parent_id.clone(),
        status: a.status.clone(),
        joined_method: a.joined_method.clone(),
        joined_at: a.joined_at,
    }
}

pub fn account_from(m: account::Model) -> Account {
    Account {
        id: m.id,
        name: m.name,
        email: m.email,
        parent_id: m.parent_id,
        status: m.status,
        joined_method: m.joined_method,
        joined_at: m.joined_at,
    }
}

pub fn access_key_from(m: access_key::Model) -> Result<AccessKeyRecord, StoreError> {
    Ok(AccessKeyRecord {
        access_key_id: m.access_key_id,
        user_name: m.user_name,
        sealed_secret: m.sealed_secret,
        managed_policies: from_json(&m.managed_policies)?,
        inline_policies: from_json(&m.inline_policies)?,
        created_at: m.created_at,
        last_used_at: m.last_used_at,
        session_token_hash: m.session_token_hash,
        expires_at: m.expires_at,
    })
}

pub fn job_row(j: &Job) -> Result<job::Model, StoreError> {
    Ok(job::Model {
        id: j.id.clone(),
        kind: j.kind.clone(),
        payload: to_json(&j.payload)?,
        status: j.status.clone(),
        attempts: j.attempts.into(),
        run_after: j.run_after,
        locked_by: j.locked_by.clone(),
        locked_until: j.locked_until,
        last_error: j.last_error.clone(),
        created_at: j.created_at,
        updated_at: j.updated_at,
    })
}

pub fn job_from(m: job::Model) -> Result<Job, StoreError> {
    Ok(Job {
        id: m.id,
        kind: m.kind,
        payload: from_json(&m.payload)?,
        status: m.status,
        attempts: i32::try_from(m.attempts).unwrap_or(i32::MAX),
        run_after: m.run_after,
        locked_by: m.locked_by,
        locked_until: m.locked_until,
        last_error: m.last_error,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}
