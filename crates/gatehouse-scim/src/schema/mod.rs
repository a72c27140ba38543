//! Schema URNs, the attribute table, and the discovery documents
//! (`/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`, RFC 7644 §4).
//!
//! Every document function takes the SCIM base URL (for example
//! `http://127.0.0.1:8080/scim/v2`) because `meta.location` must be absolute.

mod attributes;

pub use attributes::{AttrDef, AttrType, Mutability, Returned, Uniqueness};
use serde_json::{Map, Value, json};

pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_USER_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const SERVICE_PROVIDER_CONFIG_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
pub const RESOURCE_TYPE_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
pub const SCHEMA_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
pub const LIST_RESPONSE_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_OP_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const SEARCH_REQUEST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
pub const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// The schema an attribute path is qualified with. URNs are compared
/// case-insensitively (RFC 7643 §2.1: schema URIs are case-insensitive in
/// attribute paths), and unknown ones are kept as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Schema {
    CoreUser,
    CoreGroup,
    EnterpriseUser,
    Other(String),
}

impl Schema {
    pub fn from_urn(urn: &str) -> Schema {
        if urn.eq_ignore_ascii_case(USER_URN) {
            Schema::CoreUser
        } else if urn.eq_ignore_ascii_case(GROUP_URN) {
            Schema::CoreGroup
        } else if urn.eq_ignore_ascii_case(ENTERPRISE_USER_URN) {
            Schema::EnterpriseUser
        } else {
            Schema::Other(urn.to_string())
        }
    }

    pub fn urn(&self) -> &str {
        match self {
            Schema::CoreUser => USER_URN,
            Schema::CoreGroup => GROUP_URN,
            Schema::EnterpriseUser => ENTERPRISE_USER_URN,
            Schema::Other(urn) => urn,
        }
    }

    /// Core schemas are the resource's own top level; an extension's
    /// attributes live in an object under its URN key.
    pub fn is_core(&self) -> bool {
        matches!(self, Schema::CoreUser | Schema::CoreGroup)
    }

    /// The known schema whose URN is exactly `s` (case-insensitive), if any.
    /// Used to tell a whole-extension path from an attribute path.
    pub fn known(s: &str) -> Option<Schema> {
        match Schema::from_urn(s) {
            Schema::Other(_) => None,
            known => Some(known),
        }
    }
}

/// The definition of attribute `name` (case-insensitive) in `schema`; with no
/// schema, the common attributes, then User, then Group are searched (an
/// unqualified name means a core attribute, RFC 7644 §3.10).
pub fn find_attribute(schema: Option<&Schema>, name: &str) -> Option<&'static AttrDef> {
    let tables: &[&'static [AttrDef]] = match schema {
        None => &[attributes::COMMON, attributes::USER, attributes::GROUP],
        Some(Schema::CoreUser) => &[attributes::COMMON, attributes::USER],
        Some(Schema::CoreGroup) => &[attributes::COMMON, attributes::GROUP],
        Some(Schema::EnterpriseUser) => &[attributes::ENTERPRISE_USER],
        Some(Schema::Other(_)) => &[],
    };
    tables.iter().flat_map(|t| t.iter()).find(|d| d.name.eq_ignore_ascii_case(name))
}

/// The attributes of the User, Group or enterprise User schema.
pub fn attributes(schema: &Schema) -> &'static [AttrDef] {
    match schema {
        Schema::CoreUser => attributes::USER,
        Schema::CoreGroup => attributes::GROUP,
        Schema::EnterpriseUser => attributes::ENTERPRISE_USER,
        Schema::Other(_) => &[],
    }
}

fn base(base_url: &str) -> &str {
    base_url.trim_end_matches('/')
}

/// `GET /ServiceProviderConfig` (RFC 7643 §5). `max_results` is the most
/// resources one list page returns.
pub fn service_provider_config(base_url: &str, max_results: usize) -> Value {
    json!({
        "schemas": [SERVICE_PROVIDER_CONFIG_URN],
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": max_results},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication scheme using the OAuth Bearer Token Standard",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{}/ServiceProviderConfig", base(base_url)),
        },
    })
}

/// `GET /ResourceTypes/{id}` for `User` or `Group` (case-insensitive).
pub fn resource_type(base_url: &str, id: &str) -> Option<Value> {
    let (id, endpoint, description, schema, extensions) = if id.eq_ignore_ascii_case("User") {
        ("User", "/Users", "User Account", USER_URN, vec![json!({"schema": ENTERPRISE_USER_URN, "required": false})])
    } else if id.eq_ignore_ascii_case("Group") {
        ("Group", "/Groups", "Group", GROUP_URN, vec![])
    } else {
        return None;
    };
    Some(json!({
        "schemas": [RESOURCE_TYPE_URN],
        "id": id,
        "name": id,
        "endpoint": endpoint,
        "description": description,
        "schema": schema,
        "schemaExtensions": extensions,
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{}/ResourceTypes/{id}", base(base_url)),
        },
    }))
}

/// `GET /ResourceTypes`: a list response with User and Group.
pub fn resource_types(base_url: &str) -> Value {
    let all = ["User", "Group"].iter().filter_map(|id| resource_type(base_url, id)).collect();
    ListResponse::complete(all).to_json()
}

/// `GET /Schemas/{urn}` for the User, Group or enterprise User schema.
pub fn schema(base_url: &str, urn: &str) -> Option<Value> {
    let known = Schema::known(urn)?;
    let (name, description) = match known {
        Schema::CoreUser => ("User", "User Account"),
        Schema::CoreGroup => ("Group", "Group"),
        Schema::EnterpriseUser => ("EnterpriseUser", "Enterprise User"),
        Schema::Other(_) => return None,
    };
    Some(json!({
        "schemas": [SCHEMA_URN],
        "id": known.urn(),
        "name": name,
        "description": description,
        "attributes": attributes(&known).iter().map(attribute_json).collect::<Vec<_>>(),
        "meta": {
            "resourceType": "Schema",
            "location": format!("{}/Schemas/{}", base(base_url), known.urn()),
        },
    }))
}

/// `GET /Schemas`: a list response with the three schemas.
pub fn schemas(base_url: &str) -> Value {
    let all = [USER_URN, GROUP_URN, ENTERPRISE_USER_URN].iter().filter_map(|urn| schema(base_url, urn)).collect();
    ListResponse::complete(all).to_json()
}

/// One attribute in the RFC 7643 §7 representation.
fn attribute_json(def: &AttrDef) -> Value {
    let mut out = Map::new();
    out.insert("name".into(), def.name.into());
    out.insert("type".into(), def.kind.as_str().into());
    out.insert("multiValued".into(), def.multi_valued.into());
    out.insert("description".into(), def.description.into());
    out.insert("required".into(), def.required.into());
    if matches!(def.kind, AttrType::String | AttrType::Reference) {
        out.insert("caseExact".into(), def.case_exact.into());
    }
    if !def.canonical_values.is_empty() {
        out.insert("canonicalValues".into(), def.canonical_values.into());
    }
    if def.kind == AttrType::Reference {
        out.insert("referenceTypes".into(), def.reference_types.into());
    }
    out.insert("mutability".into(), def.mutability.as_str().into());
    out.insert("returned".into(), def.returned.as_str().into());
    out.insert("uniqueness".into(), def.uniqueness.as_str().into());
    if def.kind == AttrType::Complex {
        let subs: Vec<Value> = def.sub_attributes.iter().map(attribute_json).collect();
        out.insert("subAttributes".into(), subs.into());
    }
    Value::Object(out)
}

/// A `ListResponse` (RFC 7644 §3.4.2): one page of resources.
#[derive(Debug, Clone, PartialEq)]
pub struct ListResponse {
    /// Matches across all pages.
    pub total_results: usize,
    /// 1-based index of the first resource of this page.
    pub start_index: usize,
    pub resources: Vec<Value>,
}

impl ListResponse {
    pub fn new(resources: Vec<Value>, total_results: usize, start_index: usize) -> Self {
        ListResponse { total_results, start_index, resources }
    }

    /// A single page holding every result.
    pub fn complete(resources: Vec<Value>) -> Self {
        ListResponse { total_results: resources.len(), start_index: 1, resources }
    }

    pub fn to_json(&self) -> Value {
        json!({
            "schemas": [LIST_RESPONSE_URN],
            "totalResults": self.total_results,
            "startIndex": self.start_index,
            "itemsPerPage": self.resources.len(),
            "Resources": self.resources,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "http://127.0.0.1:8080/scim/v2";

    #[test]
    fn service_provider_config_advertises_what_we_support() {
        let doc = service_provider_config(BASE, 100);
        assert_eq!(doc["schemas"][0], SERVICE_PROVIDER_CONFIG_URN);
        assert_eq!(doc["patch"]["supported"], true);
        assert_eq!(doc["bulk"]["supported"], false);
        assert_eq!(doc["filter"], json!({"supported": true, "maxResults": 100}));
        assert_eq!(doc["changePassword"]["supported"], false);
        assert_eq!(doc["sort"]["supported"], false);
        assert_eq!(doc["etag"]["supported"], true);
        assert_eq!(doc["authenticationSchemes"][0]["type"], "oauthbearertoken");
        assert_eq!(doc["meta"]["location"], format!("{BASE}/ServiceProviderConfig"));
        assert_eq!(service_provider_config(BASE, 250)["filter"]["maxResults"], 250);
    }

    #[test]
    fn trailing_slash_in_base_url_is_ignored() {
        let doc = service_provider_config("https://id.example.com/scim/v2/", 10);
        assert_eq!(doc["meta"]["location"], "https://id.example.com/scim/v2/ServiceProviderConfig");
    }

    #[test]
    fn resource_types_list_user_with_enterprise_extension_and_group() {
        let list = resource_types(BASE);
        assert_eq!(list["schemas"][0], LIST_RESPONSE_URN);
        assert_eq!(list["totalResults"], 2);
        let user = &list["Resources"][0];
        assert_eq!(user["id"], "User");
        assert_eq!(user["endpoint"], "/Users");
        assert_eq!(user["schema"], USER_URN);
        assert_eq!(user["schemaExtensions"][0], json!({"schema": ENTERPRISE_USER_URN, "required": false}));
        assert_eq!(user["meta"]["location"], format!("{BASE}/ResourceTypes/User"));
        let group = &list["Resources"][1];
        assert_eq!(group["endpoint"], "/Groups");
        assert_eq!(group["schema"], GROUP_URN);
        assert_eq!(resource_type(BASE, "group").unwrap()["id"], "Group");
        assert!(resource_type(BASE, "Device").is_none());
    }

    fn attr<'a>(schema: &'a Value, name: &str) -> &'a Value {
        schema["attributes"].as_array().and_then(|a| a.iter().find(|x| x["name"] == name)).unwrap_or_else(|| panic!("{name} missing"))
    }

    #[test]
    fn user_schema_has_full_definitions() {
        let user = schema(BASE, USER_URN).unwrap();
        assert_eq!(user["id"], USER_URN);
        assert_eq!(user["meta"]["location"], format!("{BASE}/Schemas/{USER_URN}"));
        for name in [
            "userName",
            "name",
            "displayName",
            "nickName",
            "profileUrl",
            "title",
            "userType",
            "preferredLanguage",
            "locale",
            "timezone",
            "active",
            "emails",
            "phoneNumbers",
            "addresses",
            "externalId",
        ] {
            attr(&user, name);
        }
        let user_name = attr(&user, "userName");
        assert_eq!(user_name["required"], true);
        assert_eq!(user_name["uniqueness"], "server");
        assert_eq!(user_name["caseExact"], false);
        let name = attr(&user, "name");
        assert_eq!(name["type"], "complex");
        let subs: Vec<&str> = name["subAttributes"].as_array().unwrap().iter().filter_map(|s| s["name"].as_str()).collect();
        assert_eq!(subs, ["formatted", "familyName", "givenName", "middleName", "honorificPrefix", "honorificSuffix"]);
        let emails = attr(&user, "emails");
        assert_eq!(emails["multiValued"], true);
        assert_eq!(emails["subAttributes"][2]["canonicalValues"], json!(["work", "home", "other"]));
        assert_eq!(attr(&user, "active")["type"], "boolean");
        assert!(attr(&user, "active").get("caseExact").is_none());
        assert_eq!(attr(&user, "profileUrl")["referenceTypes"], json!(["external"]));
        assert_eq!(attr(&user, "externalId")["caseExact"], true);
    }

    #[test]
    fn enterprise_and_group_schemas() {
        let ent = schema(BASE, ENTERPRISE_USER_URN).unwrap();
        for name in ["employeeNumber", "costCenter", "organization", "division", "department"] {
            assert_eq!(attr(&ent, name)["type"], "string");
        }
        let manager = attr(&ent, "manager");
        let subs = manager["subAttributes"].as_array().unwrap();
        assert_eq!(subs[0]["name"], "value");
        assert_eq!(subs[1]["name"], "$ref");
        assert_eq!(subs[1]["referenceTypes"], json!(["User"]));
        assert_eq!(subs[2]["mutability"], "readOnly");

        let group = schema(BASE, "URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:GROUP").unwrap();
        assert_eq!(group["id"], GROUP_URN);
        assert_eq!(attr(&group, "displayName")["required"], true);
        assert_eq!(attr(&group, "members")["multiValued"], true);
        attr(&group, "externalId");

        let all = schemas(BASE);
        assert_eq!(all["totalResults"], 3);
        assert_eq!(all["itemsPerPage"], 3);
        assert!(schema(BASE, "urn:example:nope").is_none());
    }

    #[test]
    fn lookups_are_case_insensitive() {
        assert_eq!(find_attribute(None, "USERNAME").map(|d| d.name), Some("userName"));
        assert_eq!(find_attribute(None, "members").map(|d| d.multi_valued), Some(true));
        assert_eq!(find_attribute(None, "id").map(|d| d.mutability), Some(Mutability::ReadOnly));
        let ent = Schema::from_urn(&ENTERPRISE_USER_URN.to_lowercase());
        assert_eq!(ent, Schema::EnterpriseUser);
        let manager = find_attribute(Some(&ent), "Manager").unwrap();
        assert_eq!(manager.sub_attribute("$REF").map(|d| d.name), Some("$ref"));
        assert!(find_attribute(Some(&ent), "userName").is_none());
        assert!(find_attribute(Some(&Schema::Other("urn:x".into())), "a").is_none());
        assert_eq!(Schema::known("urn:x"), None);
    }

    #[test]
    fn list_response_shape() {
        let page = ListResponse::new(vec![json!({"id": "a"})], 7, 3).to_json();
        assert_eq!(
            page,
            json!({
                "schemas": [LIST_RESPONSE_URN],
                "totalResults": 7,
                "startIndex": 3,
                "itemsPerPage": 1,
                "Resources": [{"id": "a"}],
            })
        );
    }
}
