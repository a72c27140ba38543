//! Conditions (SCIM filters in the identity store's words) evaluated by the database, on every
//! backend: every attribute and operator, nesting, element matching, LIKE escaping, absent
//! attributes and pagination, each asserted as the exact set of ids returned.

use std::collections::{BTreeMap, BTreeSet};

use gatehouse_core::Error;
use gatehouse_core::model::condition::{Attr, Condition, Op, Value};
use gatehouse_core::model::{
    EnterpriseUser, ExternalId, Group, GroupProfile, GroupQuery, Name, Page, TypedValue, User, UserProfile, UserQuery,
};

use crate::harness::*;

/// Every user of the seeded store (the bootstrap Administrator included).
const ALL: [&str; 11] = ["Administrator", "alice", "bob", "carol", "dave", "eve", "frank", "grace", "heidi", "Ivan.Ivanov", "judy"];

struct World {
    users: BTreeMap<String, User>,
    groups: BTreeMap<String, Group>,
}

impl World {
    fn uid(&self, name: &str) -> String {
        self.users.get(name).unwrap_or_else(|| panic!("no user {name}")).user_id.clone()
    }
    fn gid(&self, name: &str) -> String {
        self.groups.get(name).unwrap_or_else(|| panic!("no group {name}")).group_id.clone()
    }
}

fn email(value: &str, kind: Option<&str>, primary: bool) -> TypedValue {
    TypedValue { value: Some(value.into()), kind: kind.map(Into::into), primary, display: None }
}

struct Seed {
    name: &'static str,
    display: &'static str,
    given: &'static str,
    family: &'static str,
    title: Option<&'static str>,
    department: Option<&'static str>,
    emails: Vec<TypedValue>,
    external_ids: Vec<(&'static str, &'static str)>,
    phones: Vec<TypedValue>,
}

fn seeds() -> Vec<Seed> {
    let s = |name, display, given, family, title, department, emails, external_ids| Seed {
        phones: vec![],
        name,
        display,
        given,
        family,
        title,
        department,
        emails,
        external_ids,
    };
    vec![
        s(
            "alice",
            "Alice Anders",
            "Alice",
            "Anders",
            Some("Engineer"),
            Some("R&D"),
            vec![email("alice@example.com", Some("work"), true), email("alice.home@mail.org", Some("home"), false)],
            vec![("okta", "00uA")],
        ),
        s(
            "bob",
            "Bob Brown",
            "Bob",
            "Brown",
            Some("Senior Engineer"),
            Some("Sales"),
            vec![email("bob@example.com", Some("work"), true)],
            vec![("okta", "00uB")],
        ),
        s(
            "carol",
            "Carol Chen",
            "Carol",
            "Chen",
            Some("50%_off Manager"),
            None,
            vec![email("carol@Example.ORG", Some("work"), true), email("carol@home.example.com", Some("home"), false)],
            vec![("entra", "C-1")],
        ),
        s(
            "dave",
            "Dave_D",
            "Dave",
            "Davis",
            Some("500 Xoff Manager"),
            Some("Support"),
            vec![email("dave@example.com", Some("work"), true)],
            vec![],
        ),
        s("eve", "Eve D", "Eve", "Evans", None, None, vec![email("eve@example.net", None, true)], vec![]),
        s(
            "frank",
            "Frank Fox",
            "Frank",
            "Fox",
            Some("Wow!Now"),
            Some("Sales"),
            vec![email("frank@example.com", Some("home"), true)],
            vec![("okta", "00uF"), ("entra", "F-2")],
        ),
        s(
            "grace",
            "Grace Green",
            "Grace",
            "Green",
            Some("engineer"),
            Some("r&d"),
            vec![email("grace@work.example.com", Some("work"), false), email("grace@example.com", Some("home"), true)],
            vec![],
        ),
        s(
            "heidi",
            "Heidi Hill",
            "Heidi",
            "Hill",
            Some("Manager"),
            Some("Support"),
            vec![email("heidi@example.com", Some("work"), true)],
            vec![],
        ),
        // The only address: primary without saying so.
        s("Ivan.Ivanov", "Ivan I", "Ivan", "Ivanov", None, None, vec![email("ivan@corp.test", None, false)], vec![]),
        s(
            "judy",
            "Judy Jones",
            "Judy",
            "Jones",
            Some("Wow Now"),
            None,
            // The work-looking address is the home one and the other way round.
            vec![email("judy@work.example.com", Some("home"), false), email("judy@home.example.com", Some("work"), true)],
            vec![],
        ),
    ]
}

/// Ten users (three with phone numbers), three groups with members; bob and heidi disabled last (after joining groups).
async fn seed(e: &Env) -> World {
    for mut s in seeds() {
        s.phones = match s.name {
            "alice" => vec![email("+1 555 0100", Some("work"), true)],
            "frank" => vec![email("+1 555 0199", Some("mobile"), false)],
            "grace" => vec![email("+44 20 7946 0000", Some("work"), false)],
            _ => vec![],
        };
        let p = UserProfile {
            phone_numbers: s.phones,
            user_name: s.name.into(),
            display_name: Some(s.display.into()),
            name: Name { given_name: Some(s.given.into()), family_name: Some(s.family.into()), ..Default::default() },
            title: s.title.map(Into::into),
            enterprise: EnterpriseUser { department: s.department.map(Into::into), ..Default::default() },
            emails: s.emails,
            external_ids: s.external_ids.iter().map(|(i, x)| ExternalId { issuer: (*i).into(), id: (*x).into() }).collect(),
            ..Default::default()
        };
        e.svc.create_user(&e.ctx, p).await.unwrap_or_else(|err| panic!("create {}: {err}", s.name));
    }
    let all = e.svc.list_users(&e.ctx, UserQuery::default(), Page { after: None, limit: 100 }).await.unwrap();
    let ids: BTreeMap<String, String> = all.items.iter().map(|u| (u.profile.user_name.clone(), u.user_id.clone())).collect();
    let groups = [
        ("Engineering", Some("Builds things"), vec![("okta", "g-eng")], vec!["alice", "grace", "Ivan.Ivanov"]),
        ("Sales Team", Some("Sells 100% of things"), vec![], vec!["bob", "frank"]),
        ("Empty Crew", None, vec![("entra", "G-3")], vec![]),
    ];
    for (name, description, external, members) in groups {
        let g = e
            .svc
            .create_group(
                &e.ctx,
                GroupProfile {
                    display_name: name.into(),
                    description: description.map(Into::into),
                    external_ids: external.iter().map(|(i, x)| ExternalId { issuer: (*i).into(), id: (*x).into() }).collect(),
                },
            )
            .await
            .unwrap();
        for m in members {
            e.svc.create_group_membership(&e.ctx, &g.group_id, &ids[m]).await.unwrap();
        }
    }
    for name in ["bob", "heidi"] {
        e.svc.set_user_active(&e.ctx, &ids[name], false).await.unwrap();
    }
    // Read everything back as stored (timestamps as the database keeps them).
    let users = e.svc.list_users(&e.ctx, UserQuery::default(), Page { after: None, limit: 100 }).await.unwrap();
    let groups = e.svc.list_groups(&e.ctx, GroupQuery::default(), Page { after: None, limit: 100 }).await.unwrap();
    let w = World {
        users: users.items.into_iter().map(|u| (u.profile.user_name.clone(), u)).collect(),
        groups: groups.items.into_iter().map(|g| (g.profile.display_name.clone(), g)).collect(),
    };
    assert_eq!(w.users.len(), ALL.len());
    assert_eq!(w.groups.len(), 3);
    w
}

fn cmp(attr: Attr, op: Op, value: Value) -> Condition {
    Condition::Compare { attr, op, value }
}
fn s(v: &str) -> Value {
    Value::Str(v.into())
}
fn prof(path: &[&str]) -> Attr {
    Attr::Profile(path.iter().map(|p| p.to_string()).collect())
}
fn emails(field: &str) -> Attr {
    Attr::AnyOf { list: "Emails".into(), field: field.into() }
}
fn not(c: Condition) -> Condition {
    Condition::Not(Box::new(c))
}
fn element(c: Condition) -> Condition {
    Condition::Element { list: "Emails".into(), condition: Box::new(c) }
}
fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Every user but these.
fn but(except: &[&str]) -> Vec<&'static str> {
    ALL.iter().copied().filter(|n| !except.contains(n)).collect()
}

async fn list_users(e: &Env, c: &Condition) -> Result<Vec<User>, Error> {
    let q = UserQuery { condition: Some(c.clone()), ..Default::default() };
    let page = e.svc.list_users(&e.ctx, q, Page { after: None, limit: 100 }).await?;
    assert!(page.next.is_none());
    Ok(page.items)
}

/// The condition returns exactly these users (compared by id).
async fn expect_users(e: &Env, w: &World, c: Condition, expected: &[&str]) {
    let got = list_users(e, &c).await.unwrap_or_else(|err| panic!("on {}: {c:?}: {err:?}", e.backend));
    let got_ids: BTreeSet<String> = got.iter().map(|u| u.user_id.clone()).collect();
    let want_ids: BTreeSet<String> = expected.iter().map(|n| w.uid(n)).collect();
    if got_ids != want_ids {
        let names: BTreeSet<&str> = got.iter().map(|u| u.profile.user_name.as_str()).collect();
        let want: BTreeSet<&str> = expected.iter().copied().collect();
        panic!("on {}: {c:?}\n   got {names:?}\n  want {want:?}", e.backend);
    }
    assert_eq!(got.len(), got_ids.len(), "no duplicates");
}

async fn expect_groups(e: &Env, w: &World, c: Condition, expected: &[&str]) {
    let q = GroupQuery { condition: Some(c.clone()), ..Default::default() };
    let page = e
        .svc
        .list_groups(&e.ctx, q, Page { after: None, limit: 100 })
        .await
        .unwrap_or_else(|err| panic!("on {}: {c:?}: {err:?}", e.backend));
    let got_ids: BTreeSet<String> = page.items.iter().map(|g| g.group_id.clone()).collect();
    let want_ids: BTreeSet<String> = expected.iter().map(|n| w.gid(n)).collect();
    let names: BTreeSet<&str> = page.items.iter().map(|g| g.profile.display_name.as_str()).collect();
    assert_eq!(got_ids, want_ids, "on {}: {c:?}: got {names:?}, want {expected:?}", e.backend);
}

async fn expect_invalid_users(e: &Env, c: Condition) {
    match list_users(e, &c).await {
        Err(Error::Validation { .. }) => {}
        other => panic!("on {}: {c:?}: expected a validation error, got {other:?}", e.backend),
    }
}

async fn expect_invalid_groups(e: &Env, c: Condition) {
    let q = GroupQuery { condition: Some(c.clone()), ..Default::default() };
    match e.svc.list_groups(&e.ctx, q, Page::default()).await {
        Err(Error::Validation { .. }) => {}
        other => panic!("on {}: {c:?}: expected a validation error, got {other:?}", e.backend),
    }
}

#[tokio::test]
async fn condition_on_user_columns() {
    each_backend(|e| async move {
        let w = seed(&e).await;
        let e = &e;
        let w = &w;

        // id: exact, case-sensitive.
        let alice = w.uid("alice");
        expect_users(e, w, cmp(Attr::Id, Op::Eq, s(&alice)), &["alice"]).await;
        if alice.to_uppercase() != alice {
            expect_users(e, w, cmp(Attr::Id, Op::Eq, s(&alice.to_uppercase())), &[]).await;
        }
        let middle = &alice[9..18];
        if middle.to_uppercase() != middle {
            expect_users(e, w, cmp(Attr::Id, Op::Co, s(&middle.to_uppercase())), &[]).await;
        }
        expect_users(e, w, cmp(Attr::Id, Op::Ne, s(&alice)), &but(&["alice"])).await;
        expect_users(e, w, cmp(Attr::Id, Op::Sw, s(&alice[..13])), &["alice"]).await;
        expect_users(e, w, cmp(Attr::Id, Op::Ew, s(&alice[24..])), &["alice"]).await;
        expect_users(e, w, cmp(Attr::Id, Op::Co, s(&alice[9..18])), &["alice"]).await;
        expect_users(e, w, cmp(Attr::Id, Op::Sw, s("")), &ALL).await;
        expect_users(e, w, Condition::Present(Attr::Id), &ALL).await;
        let mut by_id: Vec<&User> = w.users.values().collect();
        by_id.sort_by(|a, b| a.user_id.cmp(&b.user_id));
        let pivot = by_id[4].user_id.as_str();
        let names = |r: &[&User]| r.iter().map(|u| u.profile.user_name.clone()).collect::<Vec<_>>();
        expect_users(e, w, cmp(Attr::Id, Op::Gt, s(pivot)), &refs(&names(&by_id[5..]))).await;
        expect_users(e, w, cmp(Attr::Id, Op::Ge, s(pivot)), &refs(&names(&by_id[4..]))).await;
        expect_users(e, w, cmp(Attr::Id, Op::Lt, s(pivot)), &refs(&names(&by_id[..4]))).await;
        expect_users(e, w, cmp(Attr::Id, Op::Le, s(pivot)), &refs(&names(&by_id[..5]))).await;

        // userName: case-insensitive.
        expect_users(e, w, cmp(Attr::UserName, Op::Eq, s("ALICE")), &["alice"]).await;
        expect_users(e, w, cmp(Attr::UserName, Op::Eq, s("ivan.ivanov")), &["Ivan.Ivanov"]).await;
        expect_users(e, w, cmp(Attr::UserName, Op::Ne, s("Alice")), &but(&["alice"])).await;
        expect_users(e, w, cmp(Attr::UserName, Op::Sw, s("a")), &["Administrator", "alice"]).await;
        expect_users(e, w, cmp(Attr::UserName, Op::Ew, s("OV")), &["Ivan.Ivanov"]).await;
        expect_users(e, w, cmp(Attr::UserName, Op::Co, s("R")), &["Administrator", "carol", "frank", "grace"]).await;
        expect_users(e, w, cmp(Attr::UserName, Op::Gt, s("HEIDI")), &["Ivan.Ivanov", "judy"]).await;
        expect_users(e, w, cmp(Attr::UserName, Op::Ge, s("heidi")), &["heidi", "Ivan.Ivanov", "judy"]).await;
        expect_users(e, w, cmp(Attr::UserName, Op::Lt, s("B")), &["Administrator", "alice"]).await;
        expect_users(e, w, cmp(Attr::UserName, Op::Le, s("bob")), &["Administrator", "alice", "bob"]).await;
        expect_users(e, w, Condition::Present(Attr::UserName), &ALL).await;
        expect_users(e, w, cmp(Attr::UserName, Op::Eq, Value::Null), &[]).await;

        // displayName: case-insensitive; `_` in the value is literal.
        expect_users(e, w, cmp(Attr::DisplayName, Op::Eq, s("dave_d")), &["dave"]).await;
        expect_users(e, w, cmp(Attr::DisplayName, Op::Co, s("E_D")), &["dave"]).await;
        expect_users(e, w, cmp(Attr::DisplayName, Op::Co, s("e d")), &["eve"]).await;
        expect_users(e, w, cmp(Attr::DisplayName, Op::Sw, s("g")), &["grace"]).await;
        expect_users(e, w, cmp(Attr::DisplayName, Op::Ew, s(" i")), &["Ivan.Ivanov"]).await;
        expect_users(e, w, cmp(Attr::DisplayName, Op::Ne, s("administrator")), &but(&["Administrator"])).await;
        expect_users(e, w, cmp(Attr::DisplayName, Op::Gt, s("iz")), &["judy"]).await;

        // active.
        expect_users(e, w, cmp(Attr::Active, Op::Eq, Value::Bool(false)), &["bob", "heidi"]).await;
        expect_users(e, w, cmp(Attr::Active, Op::Eq, Value::Bool(true)), &but(&["bob", "heidi"])).await;
        expect_users(e, w, cmp(Attr::Active, Op::Ne, Value::Bool(true)), &["bob", "heidi"]).await;
        expect_users(e, w, not(cmp(Attr::Active, Op::Eq, Value::Bool(false))), &but(&["bob", "heidi"])).await;
        expect_users(e, w, Condition::Present(Attr::Active), &ALL).await;

        // externalId: any of the user's external ids, case-sensitive.
        expect_users(e, w, cmp(Attr::ExternalId, Op::Eq, s("00uA")), &["alice"]).await;
        expect_users(e, w, cmp(Attr::ExternalId, Op::Eq, s("00ua")), &[]).await;
        expect_users(e, w, cmp(Attr::ExternalId, Op::Eq, s("F-2")), &["frank"]).await;
        expect_users(e, w, cmp(Attr::ExternalId, Op::Eq, s("00uF")), &["frank"]).await;
        expect_users(e, w, cmp(Attr::ExternalId, Op::Sw, s("00u")), &["alice", "bob", "frank"]).await;
        expect_users(e, w, cmp(Attr::ExternalId, Op::Co, s("-")), &["carol", "frank"]).await;
        expect_users(e, w, cmp(Attr::ExternalId, Op::Ew, s("2")), &["frank"]).await;
        expect_users(e, w, cmp(Attr::ExternalId, Op::Ew, s("a")), &[]).await;
        expect_users(e, w, cmp(Attr::ExternalId, Op::Gt, s("C")), &["carol", "frank"]).await;
        expect_users(e, w, cmp(Attr::ExternalId, Op::Le, s("00uB")), &["alice", "bob"]).await;
        expect_users(e, w, cmp(Attr::ExternalId, Op::Ne, s("00uA")), &but(&["alice"])).await;
        expect_users(e, w, Condition::Present(Attr::ExternalId), &["alice", "bob", "carol", "frank"]).await;
        expect_users(e, w, cmp(Attr::ExternalId, Op::Eq, Value::Null), &but(&["alice", "bob", "carol", "frank"])).await;

        // meta.created / meta.lastModified, as times and as RFC 3339 strings.
        let carol_created = w.users["carol"].meta.created_at;
        let after_carol = ["dave", "eve", "frank", "grace", "heidi", "Ivan.Ivanov", "judy"];
        let computed: Vec<&str> = ALL.iter().copied().filter(|n| w.users[*n].meta.created_at > carol_created).collect::<Vec<_>>();
        assert_eq!(computed, after_carol.to_vec(), "users are created in order");
        for v in [Value::Time(carol_created), s(&carol_created.to_rfc3339())] {
            expect_users(e, w, cmp(Attr::Created, Op::Gt, v.clone()), &after_carol).await;
            expect_users(e, w, cmp(Attr::Created, Op::Ge, v.clone()), &[&["carol"][..], &after_carol[..]].concat()).await;
            expect_users(e, w, cmp(Attr::Created, Op::Lt, v.clone()), &["Administrator", "alice", "bob"]).await;
            expect_users(e, w, cmp(Attr::Created, Op::Le, v.clone()), &["Administrator", "alice", "bob", "carol"]).await;
            expect_users(e, w, cmp(Attr::Created, Op::Eq, v.clone()), &["carol"]).await;
            expect_users(e, w, cmp(Attr::Created, Op::Ne, v.clone()), &but(&["carol"])).await;
        }
        // An offset in the string is honored.
        let shifted = carol_created.with_timezone(&chrono::FixedOffset::east_opt(2 * 3600).expect("offset")).to_rfc3339();
        expect_users(e, w, cmp(Attr::Created, Op::Eq, s(&shifted)), &["carol"]).await;
        // bob and heidi were disabled after everyone was created.
        let last_created = w.users.values().map(|u| u.meta.created_at).max().expect("users");
        expect_users(e, w, cmp(Attr::LastModified, Op::Gt, Value::Time(last_created)), &["bob", "heidi"]).await;
        expect_users(e, w, cmp(Attr::LastModified, Op::Le, Value::Time(last_created)), &but(&["bob", "heidi"])).await;
        expect_users(e, w, Condition::Present(Attr::LastModified), &ALL).await;

        // The condition adds to the query's other fields.
        let q = UserQuery { active: Some(true), condition: Some(cmp(prof(&["Title"]), Op::Co, s("engineer"))), ..Default::default() };
        let found = e.svc.list_users(&e.ctx, q, Page::default()).await.unwrap();
        let ids: BTreeSet<String> = found.items.iter().map(|u| u.user_id.clone()).collect();
        assert_eq!(ids, [w.uid("alice"), w.uid("grace")].into_iter().collect());
    })
    .await;
}

#[tokio::test]
async fn condition_on_profile_json() {
    each_backend(|e| async move {
        let w = seed(&e).await;
        let e = &e;
        let w = &w;

        expect_users(e, w, cmp(prof(&["Name", "GivenName"]), Op::Eq, s("ALICE")), &["alice"]).await;
        expect_users(e, w, cmp(prof(&["Name", "FamilyName"]), Op::Gt, s("G")), &["grace", "heidi", "Ivan.Ivanov", "judy"]).await;
        expect_users(e, w, cmp(prof(&["Name", "FamilyName"]), Op::Ge, s("green")), &["grace", "heidi", "Ivan.Ivanov", "judy"]).await;
        expect_users(e, w, cmp(prof(&["Name", "FamilyName"]), Op::Lt, s("c")), &["Administrator", "alice", "bob"]).await;
        expect_users(e, w, cmp(prof(&["Name", "FamilyName"]), Op::Le, s("BROWN")), &["Administrator", "alice", "bob"]).await;
        expect_users(e, w, cmp(prof(&["Title"]), Op::Eq, s("engineer")), &["alice", "grace"]).await;
        expect_users(e, w, cmp(prof(&["Title"]), Op::Co, s("ENGINEER")), &["alice", "bob", "grace"]).await;
        expect_users(e, w, cmp(prof(&["Title"]), Op::Sw, s("wow")), &["frank", "judy"]).await;
        expect_users(e, w, cmp(prof(&["Title"]), Op::Ew, s("MANAGER")), &["carol", "dave", "heidi"]).await;
        // ne holds for users without a title too.
        expect_users(e, w, cmp(prof(&["Title"]), Op::Ne, s("Engineer")), &but(&["alice", "grace"])).await;
        expect_users(e, w, not(cmp(prof(&["Title"]), Op::Co, s("engineer"))), &but(&["alice", "bob", "grace"])).await;
        let titled = ["alice", "bob", "carol", "dave", "frank", "grace", "heidi", "judy"];
        expect_users(e, w, Condition::Present(prof(&["Title"])), &titled).await;
        expect_users(e, w, cmp(prof(&["Title"]), Op::Eq, Value::Null), &but(&titled)).await;
        expect_users(e, w, cmp(prof(&["Title"]), Op::Ne, Value::Null), &titled).await;
        expect_users(e, w, not(Condition::Present(prof(&["Title"]))), &["Administrator", "eve", "Ivan.Ivanov"]).await;
        expect_users(e, w, cmp(prof(&["Enterprise", "Department"]), Op::Eq, s("R&D")), &["alice", "grace"]).await;
        expect_users(e, w, cmp(prof(&["Enterprise", "Department"]), Op::Ne, s("sales")), &but(&["bob", "frank"])).await;
        expect_users(e, w, Condition::Present(prof(&["Enterprise", "Department"])), &["alice", "bob", "dave", "frank", "grace", "heidi"])
            .await;
        // A path nobody has: never equal, always not equal.
        expect_users(e, w, cmp(prof(&["Nope"]), Op::Eq, s("x")), &[]).await;
        expect_users(e, w, cmp(prof(&["Nope"]), Op::Ne, s("x")), &ALL).await;
        expect_users(e, w, cmp(prof(&["Name", "Nope", "Deeper"]), Op::Eq, Value::Null), &ALL).await;

        // LIKE wildcards and the escape character in values are literal.
        expect_users(e, w, cmp(prof(&["Title"]), Op::Co, s("0%_o")), &["carol"]).await;
        expect_users(e, w, cmp(prof(&["Title"]), Op::Sw, s("50%_")), &["carol"]).await;
        expect_users(e, w, cmp(prof(&["Title"]), Op::Co, s("%")), &["carol"]).await;
        expect_users(e, w, cmp(prof(&["Title"]), Op::Co, s("_")), &["carol"]).await;
        expect_users(e, w, cmp(prof(&["Title"]), Op::Co, s("w!n")), &["frank"]).await;
        expect_users(e, w, cmp(prof(&["Title"]), Op::Ew, s("!now")), &["frank"]).await;
        expect_users(e, w, cmp(prof(&["Title"]), Op::Co, s("!")), &["frank"]).await;
        expect_users(e, w, cmp(prof(&["Title"]), Op::Co, s("!!")), &[]).await;
        expect_users(e, w, cmp(prof(&["Title"]), Op::Co, s("'")), &[]).await;

        // Multi-valued: any element.
        expect_users(e, w, cmp(emails("Value"), Op::Eq, s("ALICE@example.com")), &["alice"]).await;
        expect_users(e, w, cmp(emails("Value"), Op::Eq, s("alice.home@mail.org")), &["alice"]).await;
        let at_example_com = ["Administrator", "alice", "bob", "dave", "frank", "grace", "heidi"];
        expect_users(e, w, cmp(emails("Value"), Op::Ew, s("@EXAMPLE.com")), &at_example_com).await;
        expect_users(e, w, cmp(emails("Value"), Op::Co, s("example.org")), &["carol"]).await;
        expect_users(e, w, cmp(emails("Value"), Op::Sw, s("judy@work")), &["judy"]).await;
        expect_users(e, w, cmp(emails("Value"), Op::Gt, s("j")), &["judy"]).await;
        // ne: no element equals (so users without emails match too).
        expect_users(e, w, cmp(emails("Value"), Op::Ne, s("alice@example.com")), &but(&["alice"])).await;
        expect_users(e, w, not(cmp(emails("Value"), Op::Ew, s("@example.com"))), &but(&at_example_com)).await;
        expect_users(e, w, Condition::Present(emails("Value")), &ALL).await;
        expect_users(e, w, cmp(emails("Value"), Op::Eq, Value::Null), &[]).await;
        let phones = || Attr::AnyOf { list: "PhoneNumbers".into(), field: "Value".into() };
        expect_users(e, w, Condition::Present(phones()), &["alice", "frank", "grace"]).await;
        expect_users(e, w, cmp(phones(), Op::Eq, Value::Null), &but(&["alice", "frank", "grace"])).await;
        expect_users(e, w, cmp(phones(), Op::Ne, s("+1 555 0100")), &but(&["alice"])).await;
        expect_users(e, w, cmp(phones(), Op::Sw, s("+1 ")), &["alice", "frank"]).await;
        expect_users(e, w, Condition::Present(emails("Type")), &but(&["eve", "Ivan.Ivanov"])).await;
        expect_users(e, w, cmp(emails("Type"), Op::Eq, s("HOME")), &["alice", "carol", "frank", "grace", "judy"]).await;
        expect_users(e, w, cmp(emails("Primary"), Op::Eq, Value::Bool(true)), &but(&["Ivan.Ivanov"])).await;
        expect_users(e, w, cmp(emails("Primary"), Op::Eq, Value::Bool(false)), &["alice", "carol", "grace", "Ivan.Ivanov", "judy"]).await;
        expect_users(e, w, cmp(emails("Primary"), Op::Ne, Value::Bool(true)), &["Ivan.Ivanov"]).await;
        expect_users(e, w, cmp(Attr::AnyOf { list: "Nope".into(), field: "Value".into() }, Op::Eq, s("x")), &[]).await;
        // Not a list: no elements, no error.
        expect_users(e, w, cmp(Attr::AnyOf { list: "Name".into(), field: "GivenName".into() }, Op::Eq, s("alice")), &[]).await;
        expect_users(e, w, cmp(Attr::AnyOf { list: "Title".into(), field: "Value".into() }, Op::Ne, s("alice")), &ALL).await;
    })
    .await;
}

#[tokio::test]
async fn condition_elements_and_nesting() {
    each_backend(|e| async move {
        let w = seed(&e).await;
        let e = &e;
        let w = &w;

        let work = cmp(emails("Type"), Op::Eq, s("work"));
        let at_work_domain = cmp(emails("Value"), Op::Co, s("work.example"));
        // One element must satisfy both: judy's work-domain address is her home one.
        expect_users(e, w, element(Condition::All(vec![work.clone(), at_work_domain.clone()])), &["grace"]).await;
        // Without Element, each may hold on a different element.
        expect_users(e, w, Condition::All(vec![work.clone(), at_work_domain.clone()]), &["grace", "judy"]).await;
        expect_users(e, w, element(Condition::All(vec![work.clone(), not(cmp(emails("Value"), Op::Ew, s("example.com")))])), &["carol"])
            .await;
        let home_primary =
            element(Condition::All(vec![cmp(emails("Type"), Op::Eq, s("home")), cmp(emails("Primary"), Op::Eq, Value::Bool(true))]));
        expect_users(e, w, home_primary.clone(), &["frank", "grace"]).await;
        expect_users(e, w, not(home_primary), &but(&["frank", "grace"])).await;
        expect_users(
            e,
            w,
            element(Condition::Any(vec![cmp(emails("Type"), Op::Eq, s("home")), cmp(emails("Value"), Op::Sw, s("eve"))])),
            &["alice", "carol", "eve", "frank", "grace", "judy"],
        )
        .await;
        // ne inside an element holds for an element without that field (eve's address has no type).
        expect_users(
            e,
            w,
            element(Condition::All(vec![cmp(emails("Type"), Op::Ne, s("work")), cmp(emails("Primary"), Op::Eq, Value::Bool(true))])),
            &["eve", "frank", "grace"],
        )
        .await;
        expect_users(e, w, element(Condition::All(vec![work.clone(), Condition::Present(emails("Display"))])), &[]).await;
        expect_users(e, w, element(cmp(emails("Type"), Op::Eq, Value::Null)), &["eve", "Ivan.Ivanov"]).await;
        // Other attributes inside an element still refer to the user.
        expect_users(e, w, element(Condition::All(vec![work.clone(), cmp(Attr::Active, Op::Eq, Value::Bool(false))])), &["bob", "heidi"])
            .await;
        expect_users(
            e,
            w,
            Condition::All(vec![element(cmp(emails("Value"), Op::Sw, s("alice"))), cmp(Attr::Active, Op::Eq, Value::Bool(true))]),
            &["alice"],
        )
        .await;

        // And / Or / Not nesting.
        expect_users(
            e,
            w,
            Condition::Any(vec![
                Condition::All(vec![cmp(prof(&["Title"]), Op::Co, s("engineer")), not(cmp(Attr::Active, Op::Eq, Value::Bool(true)))]),
                cmp(Attr::UserName, Op::Eq, s("eve")),
            ]),
            &["bob", "eve"],
        )
        .await;
        expect_users(
            e,
            w,
            not(Condition::Any(vec![cmp(prof(&["Enterprise", "Department"]), Op::Eq, s("Sales")), Condition::Present(prof(&["Title"]))])),
            &["Administrator", "eve", "Ivan.Ivanov"],
        )
        .await;
        expect_users(
            e,
            w,
            Condition::All(vec![
                not(not(cmp(Attr::Active, Op::Eq, Value::Bool(false)))),
                Condition::Any(vec![
                    cmp(prof(&["Enterprise", "Department"]), Op::Eq, s("support")),
                    cmp(prof(&["Enterprise", "Department"]), Op::Eq, s("SALES")),
                ]),
            ]),
            &["bob", "heidi"],
        )
        .await;
        expect_users(
            e,
            w,
            not(Condition::All(vec![Condition::Present(Attr::ExternalId), cmp(prof(&["Title"]), Op::Ne, s("wow!now"))])),
            &but(&["alice", "bob", "carol"]),
        )
        .await;
        expect_users(e, w, Condition::All(vec![]), &ALL).await;
        expect_users(e, w, Condition::Any(vec![]), &[]).await;
        expect_users(e, w, not(Condition::Any(vec![])), &ALL).await;
        expect_users(e, w, not(Condition::All(vec![])), &[]).await;
        // A long disjunction.
        let many = Condition::Any(
            (0..300)
                .map(|i| cmp(Attr::UserName, Op::Eq, s(&format!("nobody{i}"))))
                .chain([cmp(Attr::UserName, Op::Eq, s("judy"))])
                .collect(),
        );
        expect_users(e, w, many, &["judy"]).await;
    })
    .await;
}

#[tokio::test]
async fn condition_on_groups() {
    each_backend(|e| async move {
        let w = seed(&e).await;
        let e = &e;
        let w = &w;
        let all = ["Engineering", "Sales Team", "Empty Crew"];

        let eng = w.gid("Engineering");
        expect_groups(e, w, cmp(Attr::Id, Op::Eq, s(&eng)), &["Engineering"]).await;
        expect_groups(e, w, cmp(Attr::Id, Op::Ne, s(&eng)), &["Sales Team", "Empty Crew"]).await;
        expect_groups(e, w, cmp(Attr::Id, Op::Sw, s(&eng[..13])), &["Engineering"]).await;
        expect_groups(e, w, cmp(Attr::DisplayName, Op::Eq, s("ENGINEERING")), &["Engineering"]).await;
        expect_groups(e, w, cmp(Attr::DisplayName, Op::Sw, s("s")), &["Sales Team"]).await;
        expect_groups(e, w, cmp(Attr::DisplayName, Op::Co, s("E")), &all).await;
        expect_groups(e, w, cmp(Attr::DisplayName, Op::Co, s(" ")), &["Sales Team", "Empty Crew"]).await;
        expect_groups(e, w, cmp(Attr::DisplayName, Op::Gt, s("F")), &["Sales Team"]).await;
        expect_groups(e, w, cmp(prof(&["DisplayName"]), Op::Eq, s("sales team")), &["Sales Team"]).await;
        // description
        let description = || prof(&["Description"]);
        expect_groups(e, w, cmp(description(), Op::Co, s("100%")), &["Sales Team"]).await;
        expect_groups(e, w, cmp(description(), Op::Co, s("0%_")), &[]).await;
        expect_groups(e, w, cmp(description(), Op::Eq, s("BUILDS THINGS")), &["Engineering"]).await;
        expect_groups(e, w, cmp(description(), Op::Ne, s("builds things")), &["Sales Team", "Empty Crew"]).await;
        expect_groups(e, w, cmp(description(), Op::Ew, s("things")), &["Engineering", "Sales Team"]).await;
        expect_groups(e, w, Condition::Present(description()), &["Engineering", "Sales Team"]).await;
        expect_groups(e, w, cmp(description(), Op::Eq, Value::Null), &["Empty Crew"]).await;
        // externalId
        expect_groups(e, w, cmp(Attr::ExternalId, Op::Eq, s("G-3")), &["Empty Crew"]).await;
        expect_groups(e, w, cmp(Attr::ExternalId, Op::Eq, s("g-3")), &[]).await;
        expect_groups(e, w, cmp(Attr::ExternalId, Op::Ne, s("g-eng")), &["Sales Team", "Empty Crew"]).await;
        expect_groups(e, w, Condition::Present(Attr::ExternalId), &["Engineering", "Empty Crew"]).await;
        // A user's external id is not a group's.
        expect_groups(e, w, cmp(Attr::ExternalId, Op::Eq, s("00uA")), &[]).await;
        // members
        expect_groups(e, w, cmp(Attr::Member, Op::Eq, s(&w.uid("alice"))), &["Engineering"]).await;
        expect_groups(e, w, cmp(Attr::Member, Op::Eq, s(&w.uid("frank"))), &["Sales Team"]).await;
        expect_groups(e, w, cmp(Attr::Member, Op::Eq, s(&w.uid("alice").to_uppercase())), &[]).await;
        expect_groups(e, w, cmp(Attr::Member, Op::Eq, s(&w.uid("eve"))), &[]).await;
        expect_groups(e, w, cmp(Attr::Member, Op::Ne, s(&w.uid("alice"))), &["Sales Team", "Empty Crew"]).await;
        expect_groups(e, w, Condition::Present(Attr::Member), &["Engineering", "Sales Team"]).await;
        expect_groups(e, w, cmp(Attr::Member, Op::Eq, Value::Null), &["Empty Crew"]).await;
        expect_groups(
            e,
            w,
            Condition::All(vec![cmp(Attr::Member, Op::Eq, s(&w.uid("alice"))), cmp(Attr::Member, Op::Eq, s(&w.uid("grace")))]),
            &["Engineering"],
        )
        .await;
        expect_groups(
            e,
            w,
            Condition::Any(vec![cmp(Attr::Member, Op::Eq, s(&w.uid("bob"))), cmp(Attr::ExternalId, Op::Eq, s("G-3"))]),
            &["Sales Team", "Empty Crew"],
        )
        .await;
        // times
        let created = w.groups["Engineering"].meta.created_at;
        expect_groups(e, w, cmp(Attr::Created, Op::Gt, Value::Time(created)), &["Sales Team", "Empty Crew"]).await;
        expect_groups(e, w, cmp(Attr::Created, Op::Le, s(&created.to_rfc3339())), &["Engineering"]).await;
        expect_groups(e, w, Condition::Present(Attr::LastModified), &all).await;
        expect_groups(e, w, not(Condition::Present(Attr::DisplayName)), &[]).await;

        // Attributes groups do not have.
        expect_invalid_groups(e, cmp(Attr::UserName, Op::Eq, s("x"))).await;
        expect_invalid_groups(e, cmp(Attr::Active, Op::Eq, Value::Bool(true))).await;
        expect_invalid_groups(e, cmp(emails("Value"), Op::Eq, s("x"))).await;
        expect_invalid_groups(e, element(Condition::Present(emails("Value")))).await;
        expect_invalid_groups(e, cmp(prof(&["Title"]), Op::Eq, s("x"))).await;
        expect_invalid_groups(e, Condition::Any(vec![Condition::Present(Attr::Id), Condition::Present(Attr::UserName)])).await;
    })
    .await;
}

#[tokio::test]
async fn condition_errors_are_validation_errors() {
    each_backend(|e| async move {
        let _w = seed(&e).await;
        let e = &e;
        expect_invalid_users(e, cmp(Attr::Member, Op::Eq, s("x"))).await;
        expect_invalid_users(e, Condition::Present(Attr::Member)).await;
        expect_invalid_users(e, not(cmp(Attr::Member, Op::Eq, s("x")))).await;
        expect_invalid_users(e, cmp(Attr::Active, Op::Gt, Value::Bool(true))).await;
        expect_invalid_users(e, cmp(Attr::Active, Op::Eq, s("true"))).await;
        expect_invalid_users(e, cmp(Attr::UserName, Op::Eq, Value::Bool(true))).await;
        expect_invalid_users(e, cmp(Attr::UserName, Op::Co, Value::Null)).await;
        expect_invalid_users(e, cmp(Attr::Created, Op::Gt, s("yesterday"))).await;
        expect_invalid_users(e, cmp(Attr::Created, Op::Sw, s("2024"))).await;
        expect_invalid_users(e, cmp(Attr::Id, Op::Eq, Value::Time(chrono::Utc::now()))).await;
        expect_invalid_users(e, cmp(emails("Primary"), Op::Gt, Value::Bool(true))).await;
        expect_invalid_users(e, cmp(prof(&["Title'); DROP TABLE users; --"]), Op::Eq, s("x"))).await;
        expect_invalid_users(e, cmp(prof(&["Name", "Given.Name"]), Op::Eq, s("x"))).await;
        expect_invalid_users(e, cmp(prof(&[]), Op::Eq, s("x"))).await;
        expect_invalid_users(e, cmp(Attr::AnyOf { list: "Emails[0]".into(), field: "Value".into() }, Op::Eq, s("x"))).await;
        expect_invalid_users(e, cmp(Attr::AnyOf { list: "Emails".into(), field: "".into() }, Op::Eq, s("x"))).await;
        expect_invalid_users(e, Condition::Element { list: "E mails".into(), condition: Box::new(Condition::All(vec![])) }).await;
        let mut deep = Condition::Present(Attr::Id);
        for _ in 0..100 {
            deep = not(deep);
        }
        expect_invalid_users(e, deep).await;
        // The store is still fine afterwards.
        let all = e.svc.list_users(&e.ctx, UserQuery::default(), Page::default()).await.unwrap();
        assert_eq!(all.items.len(), ALL.len());
    })
    .await;
}

#[tokio::test]
async fn condition_with_pagination() {
    each_backend(|e| async move {
        let w = seed(&e).await;
        let cases = [
            (cmp(Attr::Active, Op::Eq, Value::Bool(true)), but(&["bob", "heidi"])),
            (cmp(emails("Value"), Op::Ew, s("@example.com")), vec!["Administrator", "alice", "bob", "dave", "frank", "grace", "heidi"]),
            (cmp(prof(&["Title"]), Op::Ne, s("engineer")), but(&["alice", "grace"])),
        ];
        for (c, expected) in cases {
            let mut seen: Vec<String> = Vec::new();
            let mut after = None;
            let mut pages = 0;
            loop {
                let q = UserQuery { condition: Some(c.clone()), ..Default::default() };
                let page = e.svc.list_users(&e.ctx, q, Page { after: after.clone(), limit: 2 }).await.unwrap();
                pages += 1;
                assert!(page.items.len() <= 2);
                seen.extend(page.items.iter().map(|u| u.user_id.clone()));
                match page.next {
                    Some(n) => {
                        assert_eq!(Some(&n), seen.last());
                        after = Some(n);
                    }
                    None => break,
                }
                assert!(pages <= ALL.len(), "pagination does not end");
            }
            let mut sorted = seen.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(seen, sorted, "ascending by id, no repeats: {c:?}");
            let want: BTreeSet<String> = expected.iter().map(|n| w.uid(n)).collect();
            assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), want, "on {}: {c:?}", e.backend);
            assert_eq!(pages, expected.len().div_ceil(2), "{c:?}");
        }
        // Groups too.
        let q = GroupQuery { condition: Some(Condition::Present(Attr::Member)), ..Default::default() };
        let first = e.svc.list_groups(&e.ctx, q.clone(), Page { after: None, limit: 1 }).await.unwrap();
        let second = e.svc.list_groups(&e.ctx, q.clone(), Page { after: first.next.clone(), limit: 1 }).await.unwrap();
        assert!(first.next.is_some() && second.next.is_none());
        let got: BTreeSet<String> = first.items.iter().chain(&second.items).map(|g| g.group_id.clone()).collect();
        assert_eq!(got, [w.gid("Engineering"), w.gid("Sales Team")].into_iter().collect());
    })
    .await;
}
