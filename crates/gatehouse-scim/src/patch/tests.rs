use std::time::Instant;

use serde_json::{Value as Json, json};

use super::*;
use crate::error::ScimType;
use crate::schema::ENTERPRISE_USER_URN;

fn body(operations: Json) -> Json {
    json!({"schemas": [PATCH_OP_URN], "Operations": operations})
}

fn patch(resource: Json, operations: Json) -> PatchOutcome {
    apply_patch(resource, body(operations.clone())).unwrap_or_else(|e| panic!("{operations}: {}", e.detail))
}

fn patch_err(resource: Json, operations: Json) -> ScimError {
    match apply_patch(resource, body(operations.clone())) {
        Ok(out) => panic!("{operations} should fail, gave {}", out.resource),
        Err(e) => e,
    }
}

fn user() -> Json {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "userName": "bjensen@example.com",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "active": true,
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "addresses": [{"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood"}],
        "meta": {"resourceType": "User", "lastModified": "2011-05-13T04:42:34Z"}
    })
}

fn group(members: &[&str]) -> Json {
    let members: Vec<Json> = members.iter().map(|id| json!({"value": id, "display": id})).collect();
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": "e9e30dba-f08f-4109-8486-d5c6a331660a",
        "displayName": "Tour Guides",
        "members": members,
    })
}

fn member_ids(resource: &Json) -> Vec<&str> {
    resource["members"].as_array().map_or(vec![], |a| a.iter().filter_map(|m| m["value"].as_str()).collect())
}

// ---- RFC 7644 §3.5.2 examples ----

#[test]
fn rfc_add_member() {
    let out = patch(
        group(&["a"]),
        json!([{"op": "add", "path": "members", "value": [{
            "display": "Babs Jensen",
            "$ref": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646",
            "value": "2819c223-7f76-453a-919d-413861904646"
        }]}]),
    );
    assert_eq!(member_ids(&out.resource), ["a", "2819c223-7f76-453a-919d-413861904646"]);
    assert_eq!(out.members_added, ["2819c223-7f76-453a-919d-413861904646"]);
    assert!(out.members_removed.is_empty());
    assert!(!out.members_replaced);
}

#[test]
fn rfc_add_without_path() {
    let out = patch(
        user(),
        json!([{"op": "add", "value": {
            "emails": [{"value": "babs@jensen.org", "type": "home"}, {"value": "b@x.org", "type": "other"}],
            "nickname": "Babs"
        }}]),
    );
    let emails = out.resource["emails"].as_array().unwrap();
    assert_eq!(emails.len(), 3, "the duplicate home address is not added twice");
    assert_eq!(emails[2]["value"], "b@x.org");
    assert_eq!(out.resource["nickName"], "Babs", "the canonical spelling is used");
}

#[test]
fn rfc_remove_single_member_and_all_members() {
    let out = patch(
        group(&["a", "2819c223-7f76-453a-919d-413861904646", "c"]),
        json!([{"op": "remove", "path": "members[value eq \"2819c223-7f76-453a-919d-413861904646\"]"}]),
    );
    assert_eq!(member_ids(&out.resource), ["a", "c"]);
    assert_eq!(out.members_removed, ["2819c223-7f76-453a-919d-413861904646"]);

    let out = patch(group(&["a", "b"]), json!([{"op": "remove", "path": "members"}]));
    assert!(out.resource.get("members").is_none());
    assert_eq!(out.members_removed, ["a", "b"]);
    assert!(out.members_replaced);
}

#[test]
fn rfc_remove_and_replace_members_in_one_request() {
    let out = patch(
        group(&["a", "b"]),
        json!([
            {"op": "remove", "path": "members"},
            {"op": "add", "path": "members", "value": [{"value": "b"}, {"value": "c"}]}
        ]),
    );
    assert_eq!(member_ids(&out.resource), ["b", "c"]);
    assert_eq!(out.members_added, ["c"]);
    assert_eq!(out.members_removed, ["a"]);
    assert!(out.members_replaced);

    let out = patch(group(&["a", "b"]), json!([{"op": "replace", "path": "members", "value": [{"value": "c"}, {"value": "c"}]}]));
    assert_eq!(member_ids(&out.resource), ["c"]);
    assert_eq!((out.members_added, out.members_removed, out.members_replaced), (vec!["c".into()], vec!["a".into(), "b".into()], true));
}

#[test]
fn rfc_remove_with_complex_filter() {
    let out = patch(user(), json!([{"op": "remove", "path": "emails[type eq \"work\" and value ew \"example.com\"]"}]));
    assert_eq!(out.resource["emails"], json!([{"value": "babs@jensen.org", "type": "home"}]));
    let out = patch(user(), json!([{"op": "remove", "path": "emails[type eq \"work\" and value ew \"nope.com\"]"}]));
    assert_eq!(out.resource, user(), "no match is a no-op");
    let out = patch(user(), json!([{"op": "remove", "path": "emails[type pr]"}]));
    assert!(out.resource.get("emails").is_none(), "an emptied list is unassigned");
}

#[test]
fn rfc_replace_filtered_value_and_sub_attribute() {
    let out = patch(
        user(),
        json!([{"op": "replace", "path": "addresses[type eq \"work\"]", "value": {
            "type": "work", "streetAddress": "911 Universal City Plaza", "locality": "Hollywood",
            "region": "CA", "postalCode": "91608", "country": "US", "primary": true
        }}]),
    );
    assert_eq!(out.resource["addresses"][0]["streetAddress"], "911 Universal City Plaza");
    assert_eq!(out.resource["addresses"][0]["postalCode"], "91608");

    let out = patch(user(), json!([{"op": "replace", "path": "addresses[type eq \"work\"].streetAddress", "value": "1010 Broadway Ave"}]));
    assert_eq!(out.resource["addresses"][0]["streetAddress"], "1010 Broadway Ave");
    assert_eq!(out.resource["addresses"][0]["locality"], "Hollywood");
}

#[test]
fn rfc_replace_without_path_and_whole_attribute() {
    let out = patch(
        user(),
        json!([{"op": "replace", "value": {
            "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}],
            "nickname": "Babs"
        }}]),
    );
    assert_eq!(out.resource["emails"].as_array().map(Vec::len), Some(1));
    assert_eq!(out.resource["nickName"], "Babs");

    let out = patch(user(), json!([{"op": "replace", "path": "name", "value": {"givenName": "Babs"}}]));
    assert_eq!(out.resource["name"], json!({"givenName": "Babs", "familyName": "Jensen"}), "sub-attributes are merged");
    let out = patch(user(), json!([{"op": "replace", "path": "name.familyName", "value": "Smith"}]));
    assert_eq!(out.resource["name"]["familyName"], "Smith");
    let out = patch(user(), json!([{"op": "replace", "path": "title", "value": "Tour Guide"}]));
    assert_eq!(out.resource["title"], "Tour Guide", "replacing an absent attribute adds it");
}

// ---- Entra ID ----

#[test]
fn entra_user_update() {
    let out = patch(
        user(),
        json!([
            {"op": "Replace", "path": "displayName", "value": "Babs J"},
            {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "boss-id"},
            {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Sales"},
            {"op": "Replace", "path": "active", "value": "False"},
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "babs@example.com"},
            {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555 0100"},
            {"op": "Replace", "path": "addresses[type eq \"home\"].locality", "value": "Burbank"},
            {"op": "Replace", "path": "name.givenName", "value": "Babs"},
            {"op": "Add", "path": "externalId", "value": "e-1"}
        ]),
    );
    let r = &out.resource;
    assert_eq!(r["displayName"], "Babs J");
    assert_eq!(r["active"], false);
    assert_eq!(r[ENTERPRISE_USER_URN], json!({"manager": {"value": "boss-id"}, "department": "Sales"}));
    assert_eq!(r["schemas"], json!(["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE_USER_URN]));
    assert_eq!(r["emails"][0], json!({"value": "babs@example.com", "type": "work", "primary": true}));
    assert_eq!(r["phoneNumbers"], json!([{"type": "mobile", "value": "+1 555 0100"}]));
    assert_eq!(r["addresses"][1], json!({"type": "home", "locality": "Burbank"}));
    assert_eq!(r["name"]["givenName"], "Babs");
    assert_eq!(r["externalId"], "e-1");
}

#[test]
fn entra_boolean_strings_anywhere() {
    let out = patch(user(), json!([{"op": "Replace", "path": "active", "value": "True"}]));
    assert_eq!(out.resource["active"], true);
    let out = patch(user(), json!([{"op": "replace", "value": {"active": "false"}}]));
    assert_eq!(out.resource["active"], false);
    let out = patch(user(), json!([{"op": "Replace", "path": "emails[type eq \"home\"].primary", "value": "True"}]));
    assert_eq!(out.resource["emails"][1]["primary"], true);
    assert_eq!(out.resource["emails"][0]["primary"], false, "only one primary value");
    let err = patch_err(user(), json!([{"op": "Replace", "path": "active", "value": "maybe"}]));
    assert_eq!(err.scim_type, Some(ScimType::InvalidValue));
}

#[test]
fn entra_group_membership() {
    let out = patch(
        group(&["a", "b", "c"]),
        json!([{"op": "Remove", "path": "members", "value": [{"value": "a"}, {"value": "c"}, {"value": "zzz"}]}]),
    );
    assert_eq!(member_ids(&out.resource), ["b"]);
    assert_eq!(out.members_removed, ["a", "c"]);
    assert!(!out.members_replaced, "only the listed members go");

    let out = patch(
        group(&["a"]),
        json!([
            {"op": "Add", "path": "members", "value": [{"value": "b"}, {"value": "a"}]},
            {"op": "Replace", "path": "displayName", "value": "Guides"},
            {"op": "Remove", "path": "members", "value": [{"value": "b"}]}
        ]),
    );
    assert_eq!(member_ids(&out.resource), ["a"]);
    assert!(out.members_added.is_empty() && out.members_removed.is_empty(), "added then removed: no net change");
    assert_eq!(out.resource["displayName"], "Guides");
}

#[test]
fn entra_manager_removal_and_extension_object_forms() {
    let with_manager = patch(user(), json!([{"op": "Add", "path": format!("{ENTERPRISE_USER_URN}:manager"), "value": "m1"}])).resource;
    let out = patch(with_manager.clone(), json!([{"op": "Remove", "path": format!("{ENTERPRISE_USER_URN}:manager")}]));
    assert!(out.resource.get(ENTERPRISE_USER_URN).is_none(), "the emptied extension goes");
    assert_eq!(out.resource["schemas"], json!(["urn:ietf:params:scim:schemas:core:2.0:User"]));

    let out = patch(
        user(),
        json!([{"op": "add", "value": {
            ENTERPRISE_USER_URN: {"employeeNumber": "701984", "Manager": {"Value": "m2"}},
            format!("{ENTERPRISE_USER_URN}:costCenter"): "4130",
            "name.middleName": "Jane"
        }}]),
    );
    assert_eq!(out.resource[ENTERPRISE_USER_URN], json!({"employeeNumber": "701984", "manager": {"value": "m2"}, "costCenter": "4130"}));
    assert_eq!(out.resource["name"]["middleName"], "Jane");

    let out = patch(with_manager.clone(), json!([{"op": "remove", "path": ENTERPRISE_USER_URN}]));
    assert!(out.resource.get(ENTERPRISE_USER_URN).is_none());
    let out = patch(with_manager, json!([{"op": "replace", "path": ENTERPRISE_USER_URN.to_lowercase(), "value": {"division": "West"}}]));
    assert_eq!(out.resource[ENTERPRISE_USER_URN], json!({"manager": {"value": "m1"}, "division": "West"}));
}

// ---- Okta ----

#[test]
fn okta_deactivate_and_group_rename() {
    let out = patch(user(), json!([{"op": "replace", "value": {"active": false}}]));
    assert_eq!(out.resource["active"], false);

    let g = group(&["a"]);
    let out = patch(g.clone(), json!([{"op": "replace", "value": {"id": g["id"], "displayName": "Test SCIMv2"}}]));
    assert_eq!(out.resource["displayName"], "Test SCIMv2");
    let err = patch_err(g, json!([{"op": "replace", "value": {"id": "other", "displayName": "x"}}]));
    assert_eq!(err.scim_type, Some(ScimType::Mutability));
}

#[test]
fn okta_group_push() {
    let out = patch(
        group(&["a", "b"]),
        json!([
            {"op": "remove", "path": "members[value eq \"a\"]"},
            {"op": "add", "path": "members", "value": [{"value": "c", "display": "user c"}]},
            {"op": "remove", "path": "members[value eq \"not-a-member\"]"}
        ]),
    );
    assert_eq!(member_ids(&out.resource), ["b", "c"]);
    assert_eq!(out.members_added, ["c"]);
    assert_eq!(out.members_removed, ["a"]);
}

// ---- case-insensitivity and leniency ----

#[test]
fn attribute_names_and_keys_ignore_case() {
    let out = apply_patch(
        user(),
        json!({"schemas": [PATCH_OP_URN.to_uppercase()], "operations": [{"OP": "REPLACE", "PATH": "USERNAME", "VALUE": "babs"}]}),
    )
    .unwrap();
    assert_eq!(out.resource["userName"], "babs");
    assert!(out.resource.get("USERNAME").is_none());
    let out = patch(user(), json!([{"op": "replace", "path": "EMAILS[TYPE eq \"WORK\"].VALUE", "value": "w@x"}]));
    assert_eq!(out.resource["emails"][0]["value"], "w@x");
    let out = patch(user(), json!([{"op": "replace", "path": "Name.GIVENNAME", "value": "B"}]));
    assert_eq!(out.resource["name"]["givenName"], "B");
    let out = patch(user(), json!([{"op": "add", "path": "", "value": {"title": "x"}}]));
    assert_eq!(out.resource["title"], "x", "an empty path is no path");
    let out = apply_patch(user(), json!({"Operations": []})).unwrap();
    assert_eq!(out.resource, user(), "schemas may be omitted; no operations is no change");
}

#[test]
fn null_values_unassign() {
    let out = patch(user(), json!([{"op": "replace", "path": "name.givenName", "value": null}]));
    assert_eq!(out.resource["name"], json!({"familyName": "Jensen"}));
    let out = patch(user(), json!([{"op": "replace", "value": {"name": null, "active": null}}]));
    assert!(out.resource.get("name").is_none() && out.resource.get("active").is_none());
    let out = patch(user(), json!([{"op": "replace", "path": "name", "value": {"givenName": null, "familyName": null}}]));
    assert!(out.resource.get("name").is_none());
}

#[test]
fn sub_attribute_of_multi_valued_without_filter_applies_to_all() {
    let out = patch(user(), json!([{"op": "replace", "path": "emails.type", "value": "other"}]));
    assert!(out.resource["emails"].as_array().unwrap().iter().all(|e| e["type"] == "other"));
    let out = patch(user(), json!([{"op": "remove", "path": "emails.primary"}]));
    assert!(out.resource["emails"][0].get("primary").is_none());
    let out = patch(json!({"id": "1"}), json!([{"op": "add", "path": "emails.value", "value": "a@x"}]));
    assert_eq!(out.resource["emails"], json!([{"value": "a@x"}]));
    let out = patch(json!({"id": "1"}), json!([{"op": "add", "path": "name.givenName", "value": "A"}]));
    assert_eq!(out.resource["name"], json!({"givenName": "A"}));
}

#[test]
fn add_to_filtered_path_merges_or_creates() {
    let out = patch(user(), json!([{"op": "add", "path": "emails[type eq \"home\"]", "value": {"display": "Home"}}]));
    assert_eq!(out.resource["emails"][1], json!({"value": "babs@jensen.org", "type": "home", "display": "Home"}));
    let out = patch(user(), json!([{"op": "add", "path": "emails[type eq \"other\"]", "value": {"value": "o@x"}}]));
    assert_eq!(out.resource["emails"][2], json!({"type": "other", "value": "o@x"}));
    let out = patch(group(&["a"]), json!([{"op": "add", "path": "members[value eq \"b\"]", "value": {"display": "B"}}]));
    assert_eq!(member_ids(&out.resource), ["a", "b"]);
    assert_eq!(out.members_added, ["b"]);
}

#[test]
fn unknown_attributes_are_kept_as_written() {
    let out = patch(user(), json!([{"op": "add", "path": "roles", "value": [{"value": "admin"}]}]));
    assert_eq!(out.resource["roles"], json!([{"value": "admin"}]));
    let out = patch(user(), json!([{"op": "add", "path": "urn:example:ext:1.0:User:color", "value": "red"}]));
    assert_eq!(out.resource["urn:example:ext:1.0:User"], json!({"color": "red"}));
    assert_eq!(out.resource["schemas"][1], "urn:example:ext:1.0:User");
}

#[test]
fn remove_values_are_selectors_not_checked_values() {
    let out = patch(user(), json!([{"op": "remove", "path": "emails", "value": "babs@jensen.org"}]));
    assert_eq!(out.resource["emails"].as_array().map(Vec::len), Some(1));
    let out = patch(user(), json!([{"op": "remove", "path": "active", "value": "whatever"}]));
    assert!(out.resource.get("active").is_none());
    let out = patch(json!({"id": "g"}), json!([{"op": "add", "path": "members", "value": {"value": "a"}}]));
    assert_eq!(out.resource["members"], json!([{"value": "a"}]), "a single member object is a list of one");
    assert_eq!(out.members_added, ["a"]);
}

// ---- errors ----

#[test]
fn errors_carry_the_right_scim_type() {
    let cases = [
        (json!([{"op": "move", "path": "a", "value": 1}]), ScimType::InvalidSyntax),
        (json!([{"path": "a", "value": 1}]), ScimType::InvalidSyntax),
        (json!(["add"]), ScimType::InvalidSyntax),
        (json!([{"op": "remove"}]), ScimType::NoTarget),
        (json!([{"op": "replace", "path": "id", "value": "x"}]), ScimType::Mutability),
        (json!([{"op": "remove", "path": "meta.lastModified"}]), ScimType::Mutability),
        (json!([{"op": "replace", "path": "schemas", "value": []}]), ScimType::Mutability),
        (json!([{"op": "replace", "value": {"meta": {}}}]), ScimType::Mutability),
        (json!([{"op": "add", "path": "emails[type eq]", "value": 1}]), ScimType::InvalidPath),
        (json!([{"op": "add", "path": "a.b.c", "value": 1}]), ScimType::InvalidPath),
        (json!([{"op": "add", "path": 7, "value": 1}]), ScimType::InvalidPath),
        (json!([{"op": "add", "value": {"bad name": 1}}]), ScimType::InvalidPath),
        (json!([{"op": "replace", "path": "emails[type ne \"work\" and type ne \"home\"].value", "value": "x"}]), ScimType::NoTarget),
        (json!([{"op": "add", "path": "title"}]), ScimType::InvalidValue),
        (json!([{"op": "add", "value": "title"}]), ScimType::InvalidValue),
        (json!([{"op": "replace", "path": "name", "value": "Babs"}]), ScimType::InvalidValue),
        (json!([{"op": "replace", "path": "emails[type eq \"work\"]", "value": "x"}]), ScimType::InvalidValue),
        (json!([{"op": "add", "path": "userName[value eq \"x\"]", "value": "x"}]), ScimType::InvalidPath),
    ];
    for (ops, expected) in cases {
        let err = patch_err(user(), ops.clone());
        assert_eq!(err.scim_type, Some(expected), "{ops}: {}", err.detail);
        assert_eq!(err.status, 400);
    }
}

#[test]
fn member_errors() {
    let cases = [
        json!([{"op": "add", "path": "members", "value": [{"display": "no id"}]}]),
        json!([{"op": "add", "path": "members", "value": ["plain-id", 5]}]),
        json!([{"op": "add", "path": "members", "value": [{"value": ""}]}]),
        json!([{"op": "replace", "path": "members[value eq \"a\"].value", "value": "b"}]),
        json!([{"op": "replace", "path": "members.value", "value": "b"}]),
        json!([{"op": "replace", "path": "members[value eq \"a\"]", "value": {"display": "no id"}}]),
    ];
    for ops in cases {
        let err = patch_err(group(&["a"]), ops.clone());
        assert!(matches!(err.scim_type, Some(ScimType::InvalidValue | ScimType::InvalidPath)), "{ops}: {err:?}");
    }
}

#[test]
fn malformed_bodies() {
    let r = || user();
    assert_eq!(apply_patch(r(), json!([1])).unwrap_err().scim_type, Some(ScimType::InvalidSyntax));
    assert_eq!(apply_patch(r(), json!({"schemas": [PATCH_OP_URN]})).unwrap_err().scim_type, Some(ScimType::InvalidSyntax));
    assert_eq!(apply_patch(r(), json!({"Operations": {}})).unwrap_err().scim_type, Some(ScimType::InvalidSyntax));
    let wrong_schema = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": []});
    assert_eq!(apply_patch(r(), wrong_schema).unwrap_err().scim_type, Some(ScimType::InvalidSyntax));
    assert_eq!(apply_patch(json!("not an object"), body(json!([]))).unwrap_err().status, 500);
    let err = patch_err(user(), json!([{"op": "add", "path": "title", "value": "x"}, {"op": "jump"}]));
    assert!(err.detail.starts_with("Operations[1]"), "{}", err.detail);
}

#[test]
fn filter_errors_say_where() {
    let err = patch_err(user(), json!([{"op": "remove", "path": "emails[type eq \"work\" and]"}]));
    assert_eq!(err.scim_type, Some(ScimType::InvalidPath));
    assert!(err.detail.contains("offset"), "{}", err.detail);
}

// ---- hostile and large inputs ----

#[test]
fn hostile_paths_and_values_do_not_panic() {
    let deep_path = format!("emails[{}type pr{}]", "(".repeat(5000), ")".repeat(5000));
    let long_path = format!("emails[value eq \"{}\"]", "x".repeat(10_000));
    let mut nested = json!("leaf");
    for _ in 0..100 {
        nested = json!({"a": [nested]});
    }
    let values = [json!(null), json!([]), json!([[]]), json!({}), json!(1e308), json!("\u{0}"), json!([null, 1, "x", {}]), nested];
    let paths = [
        deep_path.as_str(),
        long_path.as_str(),
        "emails[",
        "emails]",
        "[]",
        ".",
        "urn:",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:",
        "émails",
        "members[value eq \"a\"].display",
        "name[givenName eq \"x\"]",
        "active.value",
        "emails[value eq \"a\"].value.x",
    ];
    for op in ["add", "replace", "remove"] {
        for value in &values {
            let _ = apply_patch(user(), body(json!([{"op": op, "value": value}])));
            let _ = apply_patch(group(&["a"]), body(json!([{"op": op, "path": "members", "value": value}])));
            for path in paths {
                let _ = apply_patch(user(), body(json!([{"op": op, "path": path, "value": value}])));
                let _ = apply_patch(group(&["a"]), body(json!([{"op": op, "path": path, "value": value}])));
            }
        }
    }
    let weird = json!({"id": "1", "emails": "not a list", "name": 5, "members": {"value": "x"}, ENTERPRISE_USER_URN: []});
    for op in ["add", "replace", "remove"] {
        for path in [
            "emails[type eq \"work\"].value",
            "name.givenName",
            "members",
            "members[value eq \"x\"]",
            &format!("{ENTERPRISE_USER_URN}:department"),
        ] {
            let _ = apply_patch(weird.clone(), body(json!([{"op": op, "path": path, "value": "v"}])));
        }
    }
}

#[test]
fn adding_a_thousand_members_is_linear() {
    let existing: Vec<String> = (0..5000).map(|i| format!("existing-{i}")).collect();
    let existing_refs: Vec<&str> = existing.iter().map(String::as_str).collect();
    let mut new: Vec<Json> = (0..1000).map(|i| json!({"value": format!("new-{i}")})).collect();
    new.extend((0..1000).map(|i| json!({"value": format!("existing-{i}")})));
    let started = Instant::now();
    let out = patch(group(&existing_refs), json!([{"op": "add", "path": "members", "value": new}]));
    let elapsed = started.elapsed();
    assert_eq!(out.members_added.len(), 1000);
    assert_eq!(out.resource["members"].as_array().map(Vec::len), Some(6000));
    // Quadratic would be 10^7 comparisons of JSON values; linear is instant
    // even unoptimised.
    assert!(elapsed.as_secs_f64() < 2.0, "took {elapsed:?}");

    let removals: Vec<Json> = (0..2000).map(|i| json!({"value": format!("existing-{i}")})).collect();
    let out = patch(out.resource, json!([{"op": "Remove", "path": "members", "value": removals}]));
    assert_eq!(out.members_removed.len(), 2000);
    assert_eq!(out.resource["members"].as_array().map(Vec::len), Some(4000));
}
