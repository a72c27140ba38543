//! Attribute definitions (RFC 7643 §2.2, §4, §8.7.1) for the attributes
//! Gatehouse supports. This table is the one place that knows an attribute's
//! type, plurality and mutability: `/Schemas` is rendered from it, and the
//! PATCH engine reads it for canonical name casing, boolean coercion and
//! read-only checks.

/// `type` of an attribute (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Reference,
    Complex,
}

impl AttrType {
    pub fn as_str(self) -> &'static str {
        match self {
            AttrType::String => "string",
            AttrType::Boolean => "boolean",
            AttrType::Decimal => "decimal",
            AttrType::Integer => "integer",
            AttrType::DateTime => "dateTime",
            AttrType::Reference => "reference",
            AttrType::Complex => "complex",
        }
    }
}

/// `mutability` (RFC 7643 §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

impl Mutability {
    pub fn as_str(self) -> &'static str {
        match self {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::WriteOnly => "writeOnly",
        }
    }
}

/// `returned` (RFC 7643 §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    Always,
    Never,
    Default,
    Request,
}

impl Returned {
    pub fn as_str(self) -> &'static str {
        match self {
            Returned::Always => "always",
            Returned::Never => "never",
            Returned::Default => "default",
            Returned::Request => "request",
        }
    }
}

/// `uniqueness` (RFC 7643 §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uniqueness {
    None,
    Server,
    Global,
}

impl Uniqueness {
    pub fn as_str(self) -> &'static str {
        match self {
            Uniqueness::None => "none",
            Uniqueness::Server => "server",
            Uniqueness::Global => "global",
        }
    }
}

/// One attribute definition. Built with the `const fn` helpers below so the
/// tables read like the RFC's prose: `string("title", "...")`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttrDef {
    pub name: &'static str,
    pub kind: AttrType,
    pub multi_valued: bool,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub uniqueness: Uniqueness,
    pub description: &'static str,
    pub canonical_values: &'static [&'static str],
    pub reference_types: &'static [&'static str],
    pub sub_attributes: &'static [AttrDef],
}

impl AttrDef {
    /// The sub-attribute named `name`, compared case-insensitively.
    pub fn sub_attribute(&self, name: &str) -> Option<&'static AttrDef> {
        self.sub_attributes.iter().find(|d| d.name.eq_ignore_ascii_case(name))
    }

    const fn multi(self) -> Self {
        AttrDef { multi_valued: true, ..self }
    }
    const fn required(self) -> Self {
        AttrDef { required: true, ..self }
    }
    const fn case_exact(self) -> Self {
        AttrDef { case_exact: true, ..self }
    }
    const fn mutability(self, mutability: Mutability) -> Self {
        AttrDef { mutability, ..self }
    }
    const fn returned(self, returned: Returned) -> Self {
        AttrDef { returned, ..self }
    }
    const fn unique(self) -> Self {
        AttrDef { uniqueness: Uniqueness::Server, ..self }
    }
    const fn canonical(self, canonical_values: &'static [&'static str]) -> Self {
        AttrDef { canonical_values, ..self }
    }
    const fn references(self, reference_types: &'static [&'static str]) -> Self {
        AttrDef { reference_types, ..self }
    }
}

const fn attr(name: &'static str, kind: AttrType, description: &'static str) -> AttrDef {
    AttrDef {
        name,
        kind,
        multi_valued: false,
        required: false,
        case_exact: false,
        mutability: Mutability::ReadWrite,
        returned: Returned::Default,
        uniqueness: Uniqueness::None,
        description,
        canonical_values: &[],
        reference_types: &[],
        sub_attributes: &[],
    }
}

const fn string(name: &'static str, description: &'static str) -> AttrDef {
    attr(name, AttrType::String, description)
}

const fn boolean(name: &'static str, description: &'static str) -> AttrDef {
    attr(name, AttrType::Boolean, description)
}

const fn reference(name: &'static str, description: &'static str) -> AttrDef {
    attr(name, AttrType::Reference, description)
}

const fn complex(name: &'static str, description: &'static str, sub_attributes: &'static [AttrDef]) -> AttrDef {
    AttrDef { sub_attributes, ..attr(name, AttrType::Complex, description) }
}

/// `value`, `display`, `type`, `primary`: the shape RFC 7643 §2.4 gives most
/// multi-valued attributes; `types` are the canonical values of `type`.
const fn plural(value: &'static str, types: &'static [&'static str]) -> [AttrDef; 4] {
    [
        string("value", value),
        string("display", "A human-readable name, primarily used for display purposes."),
        string("type", "A label indicating the attribute's function.").canonical(types),
        boolean(
            "primary",
            "A Boolean value indicating the 'primary' or preferred attribute value for this \
             attribute. The primary attribute value 'true' MUST appear no more than once.",
        ),
    ]
}

/// Common attributes (RFC 7643 §3.1). Part of every resource but not of any
/// schema document, so `/Schemas` does not list `id` and `meta`.
pub static COMMON: &[AttrDef] = &[
    string("id", "Unique identifier for the SCIM resource as defined by the service provider.")
        .case_exact()
        .mutability(Mutability::ReadOnly)
        .returned(Returned::Always)
        .unique(),
    complex(
        "meta",
        "A complex attribute containing resource metadata.",
        &[
            string("resourceType", "The name of the resource type of the resource.").case_exact().mutability(Mutability::ReadOnly),
            attr("created", AttrType::DateTime, "The DateTime that the resource was added.").mutability(Mutability::ReadOnly),
            attr("lastModified", AttrType::DateTime, "The most recent DateTime that the details of this resource were updated.")
                .mutability(Mutability::ReadOnly),
            reference("location", "The URI of the resource being returned.")
                .case_exact()
                .references(&["uri"])
                .mutability(Mutability::ReadOnly),
            string("version", "The version of the resource being returned.").case_exact().mutability(Mutability::ReadOnly),
        ],
    )
    .mutability(Mutability::ReadOnly),
];

const EXTERNAL_ID: AttrDef =
    string("externalId", "A String that is an identifier for the resource as defined by the provisioning client.").case_exact();

const EMAIL_SUBS: [AttrDef; 4] = {
    let [value, display, kind, primary] = plural(
        "Email addresses for the user. The value SHOULD be canonicalized by the service provider, \
         e.g., 'bjensen@example.com' instead of 'bjensen@EXAMPLE.COM'.",
        &["work", "home", "other"],
    );
    [value.required(), display, kind, primary]
};

const PHONE_SUBS: [AttrDef; 4] = plural("Phone number of the User.", &["work", "home", "mobile", "fax", "pager", "other"]);

/// `urn:ietf:params:scim:schemas:core:2.0:User` (RFC 7643 §4.1).
pub static USER: &[AttrDef] = &[
    string(
        "userName",
        "Unique identifier for the User, typically used by the user to directly authenticate \
         to the service provider. REQUIRED.",
    )
    .required()
    .unique(),
    complex(
        "name",
        "The components of the user's real name.",
        &[
            string(
                "formatted",
                "The full name, including all middle names, titles, and suffixes as \
                 appropriate, formatted for display.",
            ),
            // Required by Identity Center (the guide: every user needs a first and last name).
            string("familyName", "The family name of the User, or last name. REQUIRED here.").required(),
            string("givenName", "The given name of the User, or first name. REQUIRED here.").required(),
            string("middleName", "The middle name(s) of the User."),
            string("honorificPrefix", "The honorific prefix(es) of the User, or title."),
            string("honorificSuffix", "The honorific suffix(es) of the User, or suffix."),
        ],
    )
    .required(),
    string("displayName", "The name of the User, suitable for display to end-users. REQUIRED here.").required(),
    string("nickName", "The casual way to address the user in real life."),
    reference("profileUrl", "A fully qualified URL pointing to a page representing the User's online profile.").references(&["external"]),
    string("title", "The user's title, such as \"Vice President.\""),
    string("userType", "Used to identify the relationship between the organization and the user."),
    string("preferredLanguage", "Indicates the User's preferred written or spoken language, e.g. 'en-US'."),
    string(
        "locale",
        "Used to indicate the User's default location for purposes of localizing items such \
         as currency, date time format, or numerical representations.",
    ),
    string(
        "timezone",
        "The User's time zone in the 'Olson' time zone database format, e.g. \
         'America/Los_Angeles'.",
    ),
    boolean("active", "A Boolean value indicating the User's administrative status."),
    complex("emails", "Email addresses for the user; one primary email is REQUIRED here.", &EMAIL_SUBS).multi().required(),
    complex("phoneNumbers", "Phone numbers for the User.", &PHONE_SUBS).multi(),
    complex(
        "addresses",
        "A physical mailing address for this User.",
        &[
            string("formatted", "The full mailing address, formatted for display or use with a mailing label."),
            string("streetAddress", "The full street address component."),
            string("locality", "The city or locality component."),
            string("region", "The state or region component."),
            string("postalCode", "The zip code or postal code component."),
            string("country", "The country name component (ISO 3166-1 alpha-2)."),
            string("type", "A label indicating the attribute's function, e.g., 'work' or 'home'.").canonical(&["work", "home", "other"]),
            boolean("primary", "A Boolean value indicating the primary address."),
        ],
    )
    .multi(),
    EXTERNAL_ID,
];

/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User` (RFC 7643 §4.3).
pub static ENTERPRISE_USER: &[AttrDef] = &[
    string("employeeNumber", "Numeric or alphanumeric identifier assigned to a person."),
    string("costCenter", "Identifies the name of a cost center."),
    string("organization", "Identifies the name of an organization."),
    string("division", "Identifies the name of a division."),
    string("department", "Identifies the name of a department."),
    complex(
        "manager",
        "The User's manager.",
        &[
            string("value", "The id of the SCIM resource representing the User's manager."),
            reference("$ref", "The URI of the SCIM resource representing the User's manager.").references(&["User"]),
            string("displayName", "The displayName of the User's manager.").mutability(Mutability::ReadOnly),
        ],
    ),
];

/// `urn:ietf:params:scim:schemas:core:2.0:Group` (RFC 7643 §4.2).
pub static GROUP: &[AttrDef] = &[
    string("displayName", "A human-readable name for the Group. REQUIRED.").required(),
    complex(
        "members",
        "A list of members of the Group.",
        &[
            string("value", "Identifier of the member of this Group.").mutability(Mutability::Immutable),
            reference("$ref", "The URI corresponding to a SCIM resource that is a member of this Group.")
                .references(&["User", "Group"])
                .mutability(Mutability::Immutable),
            string("type", "A label indicating the type of resource, e.g., 'User' or 'Group'.")
                .canonical(&["User", "Group"])
                .mutability(Mutability::Immutable),
            string("display", "A human-readable name for the member."),
        ],
    )
    .multi(),
    EXTERNAL_ID,
];
