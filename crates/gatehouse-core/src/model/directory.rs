//! Active Directory over LDAP as the identity source: the connection, the attribute mappings
//! (`${dir:…}`, the guide's "Attribute mappings" and "Default mappings"), the three user-name forms
//! people type, and the flattening of nested groups. Pure: the LDAP calls are
//! [`crate::directory::DirectoryGateway`]'s.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The issuer of the external id that ties a Gatehouse user or group to its directory object
/// (the id is the object's `objectGUID`, which survives renames and moves).
pub const AD_ISSUER: &str = "ActiveDirectory";

/// The directory attributes a mapping may reference (the guide's "Supported attributes in your
/// Microsoft AD directory").
pub const DIR_ATTRIBUTES: [&str; 11] = [
    "email",
    "displayname",
    "distinguishedName",
    "firstname",
    "guid",
    "initials",
    "lastname",
    "proxyAddresses",
    "proxyAddresses:smtp",
    "proxyAddresses:SMTP",
    "windowsUpn",
];

/// The Gatehouse user attributes the directory fills (the guide's "Default mappings" table;
/// `AD_GUID` is always the object's GUID, the key synchronization follows, so it is not mapped).
pub const MAPPED_ATTRIBUTES: [&str; 7] = ["email", "familyName", "givenName", "middleName", "name", "preferredUsername", "subject"];

/// The LDAP attributes a directory user is read with.
pub const USER_LDAP_ATTRIBUTES: [&str; 10] = [
    "objectGUID",
    "sAMAccountName",
    "userPrincipalName",
    "mail",
    "displayName",
    "givenName",
    "sn",
    "initials",
    "proxyAddresses",
    "userAccountControl",
];

/// The LDAP attributes a directory group is read with.
pub const GROUP_LDAP_ATTRIBUTES: [&str; 5] = ["objectGUID", "cn", "sAMAccountName", "description", "member"];

/// The connection to the directory and how its objects become Gatehouse users and groups.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct LdapDirectory {
    /// `ldaps://host[:port]`, or `ldap://host[:port]` with StartTLS.
    pub url: String,
    /// Upgrade an `ldap://` connection with StartTLS. Plain LDAP is refused unless
    /// `allow_plaintext` says otherwise (passwords cross this connection).
    #[serde(default)]
    pub start_tls: bool,
    #[serde(default)]
    pub allow_plaintext: bool,
    /// A CA certificate (PEM) trusted for the directory's TLS certificate, besides the system's.
    #[serde(default)]
    pub ca_certificate_pem: Option<String>,
    /// The service account that searches the directory.
    pub bind_dn: String,
    /// Its password, encrypted under the master key.
    pub bind_password_sealed: String,
    /// Where users and groups are searched (subtree).
    pub user_base_dn: String,
    pub group_base_dn: String,
    pub user_filter: String,
    pub group_filter: String,
    /// The NetBIOS domain name people type in `DOMAIN\user` (e.g. `CORP`).
    pub domain: String,
    /// `${dir:…}` sources by Gatehouse attribute.
    pub mappings: BTreeMap<String, String>,
    /// Synchronize this often (minutes; 0: only on demand).
    pub sync_interval_minutes: u32,
    #[serde(default)]
    pub last_sync: Option<SyncSummary>,
}

pub const DEFAULT_USER_FILTER: &str = "(&(objectClass=user)(!(objectClass=computer)))";
pub const DEFAULT_GROUP_FILTER: &str = "(objectClass=group)";
pub const DEFAULT_SYNC_MINUTES: u32 = 60;

/// The guide's default mappings.
pub fn default_mappings() -> BTreeMap<String, String> {
    [
        ("email", "${dir:windowsUpn}"),
        ("familyName", "${dir:lastname}"),
        ("givenName", "${dir:firstname}"),
        ("middleName", "${dir:initials}"),
        ("name", "${dir:displayname}"),
        ("preferredUsername", "${dir:displayname}"),
        ("subject", "${dir:windowsUpn}"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// What the last synchronization did.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SyncSummary {
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub users_created: u64,
    pub users_updated: u64,
    pub users_deleted: u64,
    pub groups_created: u64,
    pub groups_updated: u64,
    pub groups_deleted: u64,
    pub memberships_added: u64,
    pub memberships_removed: u64,
    /// Directory users that could not be synchronized (e.g. a mapped attribute is empty), with why.
    #[serde(default)]
    pub skipped: Vec<String>,
    /// Why the synchronization failed, if it did (nothing was changed then).
    #[serde(default)]
    pub error: Option<String>,
}

impl SyncSummary {
    /// One line for people: when, and what changed (or why it failed).
    pub fn describe(&self) -> String {
        let when = self.finished_at.map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string()).unwrap_or_default();
        if let Some(e) = &self.error {
            return format!("{when}: failed: {e}");
        }
        let skipped =
            if self.skipped.is_empty() { String::new() } else { format!("; {} skipped: {}", self.skipped.len(), self.skipped.join("; ")) };
        format!(
            "{when}: users {} created, {} updated, {} deleted; groups {} created, {} updated, {} deleted; memberships {} added, {} removed{skipped}",
            self.users_created,
            self.users_updated,
            self.users_deleted,
            self.groups_created,
            self.groups_updated,
            self.groups_deleted,
            self.memberships_added,
            self.memberships_removed,
        )
    }
}

/// A directory object as searched: its DN, its GUID in AD's string form, and its text attributes
/// (names lowercased, as LDAP compares them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirEntry {
    pub dn: String,
    pub guid: String,
    pub attrs: BTreeMap<String, Vec<String>>,
}

impl DirEntry {
    pub fn first(&self, ldap_attribute: &str) -> Option<&str> {
        self.attrs.get(&ldap_attribute.to_ascii_lowercase()).and_then(|v| v.first()).map(String::as_str).filter(|s| !s.is_empty())
    }

    pub fn all(&self, ldap_attribute: &str) -> &[String] {
        self.attrs.get(&ldap_attribute.to_ascii_lowercase()).map(Vec::as_slice).unwrap_or_default()
    }

    /// The value of one `${dir:…}` attribute.
    pub fn dir_value(&self, name: &str) -> Option<String> {
        let prefixed = |prefix: &str| {
            self.all("proxyAddresses").iter().find_map(|v| v.strip_prefix(prefix)).filter(|v| !v.is_empty()).map(str::to_string)
        };
        match name {
            "distinguishedName" => Some(self.dn.clone()),
            "guid" => Some(self.guid.clone()).filter(|g| !g.is_empty()),
            // Exchange marks the primary address `SMTP:` and secondary ones `smtp:`.
            "proxyAddresses:SMTP" => prefixed("SMTP:"),
            "proxyAddresses:smtp" => prefixed("smtp:"),
            "proxyAddresses" => self.first("proxyAddresses").map(str::to_string),
            other => ldap_attribute(other).and_then(|a| self.first(a)).map(str::to_string),
        }
    }
}

/// The LDAP attribute behind a plain `${dir:…}` name.
fn ldap_attribute(dir_name: &str) -> Option<&'static str> {
    Some(match dir_name {
        "email" => "mail",
        "displayname" => "displayName",
        "firstname" => "givenName",
        "initials" => "initials",
        "lastname" => "sn",
        "windowsUpn" => "userPrincipalName",
        _ => return None,
    })
}

use gatehouse_saml::template::Piece;

fn pieces(source: &str) -> Result<Vec<Piece<'_>>, String> {
    gatehouse_saml::template::parse(source, "dir", &DIR_ATTRIBUTES)
}

/// Check mappings as an administrator saves them: known attributes, each source at least one
/// `${dir:…}` reference (the guide: every directory attribute in the form `${dir:AttributeName}`),
/// and `subject`, which becomes the user name, always mapped.
pub fn validate_mappings(mappings: &BTreeMap<String, String>) -> Result<(), String> {
    for (attribute, source) in mappings {
        if !MAPPED_ATTRIBUTES.contains(&attribute.as_str()) {
            return Err(format!("'{attribute}' is not a mapped user attribute (one of {})", MAPPED_ATTRIBUTES.join(", ")));
        }
        let p = pieces(source)?;
        if !p.iter().any(|p| matches!(p, Piece::Ref(_))) {
            return Err(format!("'{attribute}' must map to at least one ${{dir:…}} attribute"));
        }
    }
    if !mappings.contains_key("subject") {
        return Err("'subject' must be mapped: it is the user name".into());
    }
    Ok(())
}

/// The Gatehouse attributes an entry gives. A mapping whose directory attribute is empty gives
/// nothing (the user keeps no value for it); the caller decides which ones are required.
pub fn evaluate(mappings: &BTreeMap<String, String>, entry: &DirEntry) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    'rows: for (attribute, source) in mappings {
        let Ok(p) = pieces(source) else { continue };
        let mut text = String::new();
        for piece in p {
            match piece {
                Piece::Text(t) => text.push_str(t),
                Piece::Ref(name) => match entry.dir_value(name) {
                    Some(v) => text.push_str(&v),
                    None => continue 'rows,
                },
            }
        }
        let text = text.trim();
        if !text.is_empty() {
            out.insert(attribute.clone(), text.to_string());
        }
    }
    out
}

/// How a person typed their name at sign-in (the guide's troubleshooting entry "Users can't sign
/// in when their user name is in UPN format": plain, `DOMAIN\user`, or `user@domain`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginName {
    /// `sAMAccountName`.
    Plain(String),
    /// `DOMAIN\sAMAccountName`, with a domain that is the directory's.
    DownLevel(String),
    /// `userPrincipalName`.
    Upn(String),
}

impl LoginName {
    /// Read what was typed; `None` for a down-level name in another domain or an empty name.
    pub fn parse(typed: &str, domain: &str) -> Option<LoginName> {
        let typed = typed.trim();
        if let Some((d, name)) = typed.split_once('\\') {
            let domain_short = domain.split('.').next().unwrap_or(domain);
            let ours = d.eq_ignore_ascii_case(domain) || d.eq_ignore_ascii_case(domain_short);
            return (ours && valid_name(name)).then(|| LoginName::DownLevel(name.to_string()));
        }
        if typed.contains('@') {
            return valid_name(typed).then(|| LoginName::Upn(typed.to_string()));
        }
        valid_name(typed).then(|| LoginName::Plain(typed.to_string()))
    }

    /// The LDAP filter that finds this person among the directory's users (values escaped).
    pub fn filter(&self, user_filter: &str) -> String {
        let clause = match self {
            LoginName::Plain(n) | LoginName::DownLevel(n) => format!("(sAMAccountName={})", escape_filter_value(n)),
            LoginName::Upn(n) => format!("(userPrincipalName={})", escape_filter_value(n)),
        };
        format!("(&{user_filter}{clause})")
    }
}

/// Names are 1–256 characters without control characters or a second `\`.
fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 256 && !s.chars().any(|c| c.is_control() || c == '\\')
}

/// RFC 4515 escaping of a value inside a filter.
pub fn escape_filter_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '*' | '(' | ')' | '\\' | '\0' => out.push_str(&format!("\\{:02x}", c as u32)),
            _ => out.push(c),
        }
    }
    out
}

/// Whether AD marks the account disabled (`userAccountControl` bit ACCOUNTDISABLE, 0x2).
pub fn account_disabled(entry: &DirEntry) -> bool {
    entry.first("userAccountControl").and_then(|v| v.parse::<i64>().ok()).is_some_and(|v| v & 2 != 0)
}

/// What synchronization writes: every directory group that is assigned or nested in one that is,
/// each with the users it holds directly or through nested groups ("flattened"), and the users
/// to keep up to date (assigned directly, or members of such a group).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncScope {
    /// Group GUID → member user GUIDs (flattened).
    pub groups: BTreeMap<String, BTreeSet<String>>,
    pub users: BTreeSet<String>,
}

/// Work out the scope from the directory's groups (GUID → member DNs), the DNs of users and
/// groups, and the GUIDs assigned in Gatehouse. Cycles end where they meet a group already seen.
pub fn sync_scope(
    groups: &[DirEntry],
    user_guid_by_dn: &BTreeMap<String, String>,
    assigned_groups: &BTreeSet<String>,
    assigned_users: &BTreeSet<String>,
) -> SyncScope {
    let by_dn: BTreeMap<String, &DirEntry> = groups.iter().map(|g| (g.dn.to_ascii_lowercase(), g)).collect();
    let by_guid: BTreeMap<&str, &DirEntry> = groups.iter().map(|g| (g.guid.as_str(), g)).collect();
    let users_by_dn: BTreeMap<String, &String> = user_guid_by_dn.iter().map(|(dn, g)| (dn.to_ascii_lowercase(), g)).collect();
    let mut scope = SyncScope {
        users: assigned_users.iter().filter(|g| users_by_dn.values().any(|u| u == g)).cloned().collect(),
        ..Default::default()
    };
    for top in assigned_groups {
        let Some(root) = by_guid.get(top.as_str()) else { continue };
        // Walk down from each assigned group; every group met is written too, with its own
        // flattened members.
        let mut stack = vec![*root];
        let mut seen = BTreeSet::new();
        while let Some(group) = stack.pop() {
            if !seen.insert(group.guid.clone()) {
                continue;
            }
            if !scope.groups.contains_key(&group.guid) {
                let members = flattened_members(group, &by_dn, &users_by_dn);
                scope.users.extend(members.iter().cloned());
                scope.groups.insert(group.guid.clone(), members);
            }
            for member in group.all("member") {
                if let Some(nested) = by_dn.get(&member.to_ascii_lowercase()) {
                    stack.push(nested);
                }
            }
        }
    }
    scope
}

/// The users in a group, directly or through any depth of nesting.
fn flattened_members(
    group: &DirEntry,
    groups_by_dn: &BTreeMap<String, &DirEntry>,
    users_by_dn: &BTreeMap<String, &String>,
) -> BTreeSet<String> {
    let mut users = BTreeSet::new();
    let mut seen = BTreeSet::from([group.dn.to_ascii_lowercase()]);
    let mut stack = vec![group];
    while let Some(g) = stack.pop() {
        for member in g.all("member") {
            let key = member.to_ascii_lowercase();
            if let Some(guid) = users_by_dn.get(&key) {
                users.insert((*guid).clone());
            } else if let Some(nested) = groups_by_dn.get(&key)
                && seen.insert(key)
            {
                stack.push(nested);
            }
        }
    }
    users
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(dn: &str, guid: &str, attrs: &[(&str, &[&str])]) -> DirEntry {
        DirEntry {
            dn: dn.into(),
            guid: guid.into(),
            attrs: attrs.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.iter().map(|s| s.to_string()).collect())).collect(),
        }
    }

    fn alice() -> DirEntry {
        entry(
            "cn=Alice Liddell,ou=Users,dc=corp",
            "g-alice",
            &[
                ("userPrincipalName", &["alice@corp.example.com"]),
                ("givenName", &["Alice"]),
                ("sn", &["Liddell"]),
                ("initials", &["B"]),
                ("displayName", &["Alice Liddell"]),
                ("proxyAddresses", &["smtp:a@old.example.com", "SMTP:alice@corp.example.com"]),
            ],
        )
    }

    #[test]
    fn default_mappings_follow_the_guide() {
        let got = evaluate(&default_mappings(), &alice());
        assert_eq!(got["subject"], "alice@corp.example.com");
        assert_eq!(got["email"], "alice@corp.example.com");
        assert_eq!(got["givenName"], "Alice");
        assert_eq!(got["familyName"], "Liddell");
        assert_eq!(got["middleName"], "B");
        assert_eq!(got["name"], "Alice Liddell");
        assert_eq!(got["preferredUsername"], "Alice Liddell");
        validate_mappings(&default_mappings()).unwrap();
    }

    #[test]
    fn combinations_and_proxy_addresses() {
        let mut m = default_mappings();
        m.insert("preferredUsername".into(), "${dir:lastname}${dir:firstname}".into());
        m.insert("email".into(), "${dir:proxyAddresses:SMTP}".into());
        m.insert("name".into(), "${dir:proxyAddresses:smtp} (${dir:distinguishedName})".into());
        let got = evaluate(&m, &alice());
        assert_eq!(got["preferredUsername"], "LiddellAlice");
        assert_eq!(got["email"], "alice@corp.example.com");
        assert_eq!(got["name"], "a@old.example.com (cn=Alice Liddell,ou=Users,dc=corp)");
    }

    #[test]
    fn an_empty_directory_attribute_gives_nothing() {
        let mut m = default_mappings();
        m.insert("email".into(), "${dir:email}".into());
        assert!(!evaluate(&m, &alice()).contains_key("email"));
    }

    #[test]
    fn mappings_are_checked() {
        let mut m = default_mappings();
        m.insert("email".into(), "${user:email}".into());
        assert!(validate_mappings(&m).unwrap_err().contains("not a supported attribute"));
        let mut m = default_mappings();
        m.insert("email".into(), "plain text".into());
        assert!(validate_mappings(&m).is_err());
        let mut m = default_mappings();
        m.insert("AD_GUID".into(), "${dir:guid}".into());
        assert!(validate_mappings(&m).is_err());
        let mut m = default_mappings();
        m.remove("subject");
        assert!(validate_mappings(&m).is_err());
        let mut m = default_mappings();
        m.insert("name".into(), "${dir:displayname".into());
        assert!(validate_mappings(&m).is_err());
    }

    #[test]
    fn the_three_name_forms() {
        assert_eq!(LoginName::parse("alice", "CORP"), Some(LoginName::Plain("alice".into())));
        assert_eq!(LoginName::parse("corp\\alice", "CORP"), Some(LoginName::DownLevel("alice".into())));
        assert_eq!(LoginName::parse("CORP\\alice", "corp.example.com"), Some(LoginName::DownLevel("alice".into())));
        assert_eq!(LoginName::parse("OTHER\\alice", "CORP"), None);
        assert_eq!(LoginName::parse("alice@corp.example.com", "CORP"), Some(LoginName::Upn("alice@corp.example.com".into())));
        assert_eq!(LoginName::parse("", "CORP"), None);
        assert_eq!(LoginName::parse("a\\b\\c", "a"), None);
    }

    #[test]
    fn filters_escape_what_people_type() {
        let f = LoginName::Plain("*)(uid=*".into()).filter("(objectClass=user)");
        assert_eq!(f, "(&(objectClass=user)(sAMAccountName=\\2a\\29\\28uid=\\2a))");
        assert_eq!(escape_filter_value("Zoë(x)"), "Zoë\\28x\\29");
    }

    #[test]
    fn nested_groups_flatten_into_each_assigned_parent_and_cycles_end() {
        let users: BTreeMap<String, String> = [("cn=alice,ou=u", "A"), ("cn=bob,ou=u", "B"), ("cn=carol,ou=u", "C"), ("cn=dave,ou=u", "D")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let groups = vec![
            entry("cn=eng,ou=g", "ENG", &[("member", &["cn=alice,ou=u", "CN=Backend,OU=g"])]),
            entry("cn=backend,ou=g", "BE", &[("member", &["cn=bob,ou=u", "cn=platform,ou=g"])]),
            entry("cn=platform,ou=g", "PL", &[("member", &["cn=carol,ou=u", "cn=eng,ou=g"])]),
            entry("cn=sales,ou=g", "SA", &[("member", &["cn=dave,ou=u"])]),
        ];
        let scope = sync_scope(&groups, &users, &BTreeSet::from(["ENG".to_string()]), &BTreeSet::new());
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(scope.groups["ENG"], set(&["A", "B", "C"]));
        assert_eq!(scope.groups["BE"], set(&["A", "B", "C"]), "the cycle back to eng brings alice in");
        assert_eq!(scope.groups["PL"], set(&["A", "B", "C"]));
        assert!(!scope.groups.contains_key("SA"), "not assigned, not nested");
        assert_eq!(scope.users, set(&["A", "B", "C"]));

        let direct = sync_scope(&groups, &users, &BTreeSet::new(), &BTreeSet::from(["D".to_string(), "gone".to_string()]));
        assert!(direct.groups.is_empty());
        assert_eq!(direct.users, set(&["D"]), "a user no longer in the directory is not in scope");
    }

    #[test]
    fn disabled_accounts() {
        assert!(account_disabled(&entry("x", "g", &[("userAccountControl", &["514"])])));
        assert!(!account_disabled(&entry("x", "g", &[("userAccountControl", &["512"])])));
        assert!(!account_disabled(&entry("x", "g", &[])));
    }
}
