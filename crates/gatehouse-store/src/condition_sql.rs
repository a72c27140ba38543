//! `Condition` (a SCIM filter in the identity store's own words) translated into one SQL
//! expression for SQLite or PostgreSQL, so that a filtered list runs in the database.
//!
//! - Every value is a bound parameter. JSON paths come from the condition's attribute names,
//!   which must be `[A-Za-z0-9]+`; they are bound as parameters too.
//! - Two-valued logic: `Not` is pushed down to the leaves, and a negated leaf is true when the
//!   attribute is absent (`title ne "x"` matches users without a title, as SCIM asks). A
//!   comparison on a multi-valued attribute is "some element matches", its negation "no element
//!   matches".
//! - Case: `id` and `externalId` compare exactly; every other string compares case-insensitively
//!   (the `*_lower` columns against the value lower-cased in Rust, JSON strings with SQL
//!   `lower()` on both sides). Ordering (`gt`…) on strings is by code point on both backends.
//! - `co`/`sw`/`ew` are `LIKE` with `%`, `_` and the escape character `!` escaped.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{DbBackend, Value};

use gatehouse_core::error::StoreError;
use gatehouse_core::model::condition::{Attr, Condition, Op, Value as CondValue};

/// What the condition is evaluated on: a row of `users` or of `groups`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    User,
    Group,
}

/// Deepest nesting of `All`/`Any`/`Not`/`Element` accepted.
pub const MAX_DEPTH: usize = 64;
/// Most comparisons (leaves) accepted in one condition.
pub const MAX_LEAVES: usize = 1000;
/// Most segments in a profile path.
const MAX_PATH: usize = 8;

/// The condition as a boolean SQL expression over the `users` (or `groups`) table of the
/// enclosing query, for `store_id`. Fails with `StoreError::Invalid` when the condition uses an
/// attribute the resource does not have, an operator or value the attribute does not support,
/// or is too large.
pub fn condition_expr(backend: DbBackend, resource: Resource, store_id: &str, condition: &Condition) -> Result<SimpleExpr, StoreError> {
    let pg = match backend {
        DbBackend::Postgres => true,
        DbBackend::Sqlite => false,
        _ => return Err(StoreError::Other("conditions are supported on SQLite and PostgreSQL only".into())),
    };
    let mut c = Compiler { pg, resource, store_id, elements: Vec::new(), leaves: 0 };
    let frag = c.compile(condition, false, 0)?;
    frag.into_expr(pg)
}

fn invalid(message: impl Into<String>) -> StoreError {
    StoreError::Invalid(message.into())
}

/// A piece of SQL with `?` for each of its values, in order.
#[derive(Debug, Clone, Default)]
struct Frag {
    sql: String,
    values: Vec<Value>,
}

impl Frag {
    fn new(sql: &str) -> Frag {
        Frag { sql: sql.to_string(), values: Vec::new() }
    }
    fn s(mut self, sql: &str) -> Frag {
        self.sql.push_str(sql);
        self
    }
    fn v(mut self, value: impl Into<Value>) -> Frag {
        self.sql.push('?');
        self.values.push(value.into());
        self
    }
    fn f(mut self, other: &Frag) -> Frag {
        self.sql.push_str(&other.sql);
        self.values.extend(other.values.iter().cloned());
        self
    }

    /// PostgreSQL numbers its placeholders; the numbers are local to this expression (sea-query
    /// renumbers them within the whole statement).
    fn into_expr(self, pg: bool) -> Result<SimpleExpr, StoreError> {
        let marks = self.sql.matches('?').count();
        if marks != self.values.len() {
            return Err(StoreError::Other(format!("condition SQL has {marks} placeholders for {} values", self.values.len())));
        }
        let sql = if pg {
            let mut out = String::with_capacity(self.sql.len() + 2 * marks);
            let mut n = 0;
            for ch in self.sql.chars() {
                if ch == '?' {
                    n += 1;
                    out.push('$');
                    out.push_str(&n.to_string());
                } else {
                    out.push(ch);
                }
            }
            out
        } else {
            self.sql
        };
        Ok(Expr::cust_with_values(sql, self.values))
    }
}

/// `(a AND b AND …)` as a balanced tree, so that long lists stay within SQLite's expression
/// depth limit.
fn join(mut parts: Vec<Frag>, op: &str, empty: &str) -> Frag {
    match parts.len() {
        0 => Frag::new(empty),
        1 => parts.pop().unwrap_or_default(),
        n => {
            let right = parts.split_off(n / 2);
            let l = join(parts, op, empty);
            let r = join(right, op, empty);
            Frag::new("(").f(&l).s(op).f(&r).s(")")
        }
    }
}

/// How a single-valued operand compares.
#[derive(Debug, Clone)]
enum Subject {
    /// Text compared exactly (ids, external ids).
    Exact(Frag),
    /// A column that holds the lower-cased text: compared with the lower-cased value.
    Lowered(Frag),
    /// Text compared with `lower()` on both sides.
    Folded(Frag),
    Time(Frag),
    Bool(Frag),
    /// A value inside JSON: as `Folded` for strings; `is_true` (never NULL) for booleans.
    Json {
        text: Frag,
        is_true: Frag,
    },
}

/// A comparison. `pos` may be NULL only when `subject` is NULL; `subject: None` means `pos` is
/// never NULL.
struct Leaf {
    pos: Frag,
    subject: Option<Frag>,
}

impl Leaf {
    fn out(self, negated: bool) -> Frag {
        match (negated, self.subject) {
            (false, _) => Frag::new("(").f(&self.pos).s(")"),
            (true, Some(s)) => Frag::new("(").f(&s).s(" IS NULL OR NOT (").f(&self.pos).s("))"),
            (true, None) => Frag::new("(NOT (").f(&self.pos).s("))"),
        }
    }
}

/// Where an attribute lives.
enum Target {
    /// One value per resource (possibly absent).
    Scalar(Subject),
    /// Values in related rows or a JSON array: true when any matches. `open` is the SQL up to
    /// the inner condition, which is followed by `))`.
    Set { open: Frag, inner: Subject },
}

struct Compiler<'a> {
    pg: bool,
    resource: Resource,
    store_id: &'a str,
    /// Enclosing `Element`s, innermost last: (list, SQL alias).
    elements: Vec<(String, String)>,
    leaves: usize,
}

fn check_name(what: &str, name: &str) -> Result<(), StoreError> {
    if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(invalid(format!("{what} '{}' is not a valid attribute name", name.chars().take(64).collect::<String>())));
    }
    Ok(())
}

fn attr_name(attr: &Attr) -> String {
    match attr {
        Attr::Id => "id".into(),
        Attr::UserName => "userName".into(),
        Attr::DisplayName => "displayName".into(),
        Attr::Active => "active".into(),
        Attr::ExternalId => "externalId".into(),
        Attr::Created => "meta.created".into(),
        Attr::LastModified => "meta.lastModified".into(),
        Attr::Profile(path) => path.join("."),
        Attr::AnyOf { list, field } => format!("{list}.{field}"),
        Attr::Member => "members".into(),
    }
}

fn op_name(op: Op) -> &'static str {
    match op {
        Op::Eq => "eq",
        Op::Ne => "ne",
        Op::Co => "co",
        Op::Sw => "sw",
        Op::Ew => "ew",
        Op::Gt => "gt",
        Op::Ge => "ge",
        Op::Lt => "lt",
        Op::Le => "le",
    }
}

fn like_pattern(op: Op, value: &str) -> String {
    let mut escaped = String::with_capacity(value.len() + 2);
    for ch in value.chars() {
        if matches!(ch, '!' | '%' | '_') {
            escaped.push('!');
        }
        escaped.push(ch);
    }
    match op {
        Op::Sw => format!("{escaped}%"),
        Op::Ew => format!("%{escaped}"),
        _ => format!("%{escaped}%"),
    }
}

fn sql_op(op: Op) -> &'static str {
    match op {
        Op::Gt => " > ",
        Op::Ge => " >= ",
        Op::Lt => " < ",
        Op::Le => " <= ",
        _ => " = ",
    }
}

impl Compiler<'_> {
    fn table(&self) -> &'static str {
        match self.resource {
            Resource::User => "\"users\"",
            Resource::Group => "\"groups\"",
        }
    }

    fn col(&self, column: &str) -> Frag {
        Frag::new(self.table()).s(".\"").s(column).s("\"")
    }

    fn wrong_resource(&self, attr: &Attr) -> StoreError {
        let what = match self.resource {
            Resource::User => "users",
            Resource::Group => "groups",
        };
        invalid(format!("'{}' cannot be used in a filter on {what}", attr_name(attr)))
    }

    fn compile(&mut self, c: &Condition, negated: bool, depth: usize) -> Result<Frag, StoreError> {
        if depth > MAX_DEPTH {
            return Err(invalid(format!("the filter is nested deeper than {MAX_DEPTH} levels")));
        }
        match c {
            Condition::All(items) | Condition::Any(items) => {
                let all = matches!(c, Condition::All(_)) != negated;
                let parts = items.iter().map(|x| self.compile(x, negated, depth + 1)).collect::<Result<Vec<_>, _>>()?;
                Ok(if all { join(parts, " AND ", "(1 = 1)") } else { join(parts, " OR ", "(1 = 0)") })
            }
            Condition::Not(inner) => self.compile(inner, !negated, depth + 1),
            Condition::Compare { attr, op, value } => {
                self.count_leaf()?;
                match (op, value) {
                    (Op::Eq, CondValue::Null) => self.present(attr, !negated),
                    (Op::Ne, CondValue::Null) => self.present(attr, negated),
                    (_, CondValue::Null) => Err(invalid(format!("'{}' {} null is not supported", attr_name(attr), op_name(*op)))),
                    (Op::Ne, _) => self.compare(attr, Op::Eq, value, !negated),
                    _ => self.compare(attr, *op, value, negated),
                }
            }
            Condition::Present(attr) => {
                self.count_leaf()?;
                self.present(attr, negated)
            }
            Condition::Element { list, condition } => {
                if self.resource != Resource::User {
                    return Err(invalid(format!("'{list}' cannot be used in a filter on groups")));
                }
                check_name("list", list)?;
                let alias = format!("gh_e{}", self.elements.len());
                let open = self.elements_of(list, &alias);
                self.elements.push((list.clone(), alias));
                let inner = self.compile(condition, false, depth + 1);
                self.elements.pop();
                let inner = inner?;
                let exists = Frag::new("(").s(if negated { "NOT " } else { "" }).f(&open).f(&inner).s(")))");
                Ok(exists)
            }
        }
    }

    fn count_leaf(&mut self) -> Result<(), StoreError> {
        self.leaves += 1;
        if self.leaves > MAX_LEAVES {
            return Err(invalid(format!("the filter has more than {MAX_LEAVES} comparisons")));
        }
        Ok(())
    }

    fn compare(&mut self, attr: &Attr, op: Op, value: &CondValue, negated: bool) -> Result<Frag, StoreError> {
        let name = attr_name(attr);
        match self.target(attr)? {
            Target::Scalar(subject) => Ok(self.leaf(&name, &subject, op, value)?.out(negated)),
            Target::Set { open, inner } => {
                let leaf = self.leaf(&name, &inner, op, value)?;
                Ok(Frag::new("(").s(if negated { "NOT " } else { "" }).f(&open).f(&leaf.pos).s(")))"))
            }
        }
    }

    fn present(&mut self, attr: &Attr, negated: bool) -> Result<Frag, StoreError> {
        match self.target(attr)? {
            Target::Scalar(subject) => Ok(Leaf { pos: present_sql(&subject), subject: None }.out(negated)),
            Target::Set { open, inner } => {
                Ok(Frag::new("(").s(if negated { "NOT " } else { "" }).f(&open).f(&present_sql(&inner)).s(")))"))
            }
        }
    }

    /// `op value` on one operand.
    fn leaf(&self, name: &str, subject: &Subject, op: Op, value: &CondValue) -> Result<Leaf, StoreError> {
        let unsupported = || invalid(format!("'{name}' {} {} is not supported", op_name(op), value_kind(value)));
        let ordering = matches!(op, Op::Gt | Op::Ge | Op::Lt | Op::Le);
        // Code-point order on PostgreSQL too, whatever the database's collation.
        let collate = if self.pg && ordering { " COLLATE \"C\"" } else { "" };
        match (subject, value) {
            (Subject::Exact(x), CondValue::Str(v)) => {
                let pos = match op {
                    Op::Co if self.pg => Frag::new("strpos(").f(x).s(", ").v(v.as_str()).s(") > 0"),
                    Op::Co => Frag::new("instr(").f(x).s(", ").v(v.as_str()).s(") > 0"),
                    Op::Sw => Frag::new("substr(").f(x).s(", 1, length(").v(v.as_str()).s(")) = ").v(v.as_str()),
                    Op::Ew => Frag::new("substr(").f(x).s(", length(").f(x).s(") - length(").v(v.as_str()).s(") + 1) = ").v(v.as_str()),
                    _ => Frag::new("").f(x).s(collate).s(sql_op(op)).v(v.as_str()),
                };
                Ok(Leaf { pos, subject: Some(x.clone()) })
            }
            (Subject::Lowered(x), CondValue::Str(v)) => {
                let v = v.to_lowercase();
                let pos = match op {
                    Op::Co | Op::Sw | Op::Ew => Frag::new("").f(x).s(" LIKE ").v(like_pattern(op, &v)).s(" ESCAPE '!'"),
                    _ => Frag::new("").f(x).s(collate).s(sql_op(op)).v(v),
                };
                Ok(Leaf { pos, subject: Some(x.clone()) })
            }
            (Subject::Folded(x), CondValue::Str(v)) | (Subject::Json { text: x, .. }, CondValue::Str(v)) => {
                let pos = match op {
                    Op::Co | Op::Sw | Op::Ew => Frag::new("lower(").f(x).s(") LIKE lower(").v(like_pattern(op, v)).s(") ESCAPE '!'"),
                    _ => Frag::new("lower(").f(x).s(")").s(collate).s(sql_op(op)).s("lower(").v(v.as_str()).s(")"),
                };
                Ok(Leaf { pos, subject: Some(x.clone()) })
            }
            (Subject::Time(x), CondValue::Time(_) | CondValue::Str(_)) => {
                let t: DateTime<Utc> = match value {
                    CondValue::Time(t) => *t,
                    CondValue::Str(s) => DateTime::parse_from_rfc3339(s)
                        .map_err(|_| invalid(format!("'{name}' needs an RFC 3339 date and time")))?
                        .with_timezone(&Utc),
                    _ => return Err(unsupported()),
                };
                if matches!(op, Op::Co | Op::Sw | Op::Ew) {
                    return Err(unsupported());
                }
                Ok(Leaf { pos: Frag::new("").f(x).s(sql_op(op)).v(t), subject: Some(x.clone()) })
            }
            (Subject::Bool(x), CondValue::Bool(b)) if op == Op::Eq => {
                Ok(Leaf { pos: Frag::new("").f(x).s(" = ").v(*b), subject: Some(x.clone()) })
            }
            (Subject::Json { is_true, .. }, CondValue::Bool(b)) if op == Op::Eq => {
                Ok(Leaf { pos: Frag::new("").f(is_true).s(" = ").v(*b), subject: None })
            }
            _ => Err(unsupported()),
        }
    }

    fn target(&self, attr: &Attr) -> Result<Target, StoreError> {
        let user = self.resource == Resource::User;
        Ok(match attr {
            Attr::Id => Target::Scalar(Subject::Exact(self.col(if user { "user_id" } else { "group_id" }))),
            Attr::UserName if user => Target::Scalar(Subject::Lowered(self.col("user_name_lower"))),
            Attr::DisplayName => Target::Scalar(Subject::Lowered(self.col("display_name_lower"))),
            Attr::Active if user => Target::Scalar(Subject::Bool(self.col("active"))),
            Attr::Created => Target::Scalar(Subject::Time(self.col("created_at"))),
            Attr::LastModified => Target::Scalar(Subject::Time(self.col("updated_at"))),
            Attr::ExternalId => {
                let (id, kind) = if user { ("user_id", "USER") } else { ("group_id", "GROUP") };
                let open = self
                    .col(id)
                    .s(" IN (SELECT gh_x.\"resource_id\" FROM \"external_ids\" gh_x WHERE gh_x.\"identity_store_id\" = ")
                    .v(self.store_id)
                    .s(" AND gh_x.\"resource_type\" = ")
                    .v(kind)
                    .s(" AND (");
                Target::Set { open, inner: Subject::Exact(Frag::new("gh_x.\"external_id\"")) }
            }
            Attr::Member if !user => {
                let open = self
                    .col("group_id")
                    .s(" IN (SELECT gh_m.\"group_id\" FROM \"group_memberships\" gh_m WHERE gh_m.\"identity_store_id\" = ")
                    .v(self.store_id)
                    .s(" AND (");
                Target::Set { open, inner: Subject::Exact(Frag::new("gh_m.\"user_id\"")) }
            }
            Attr::Profile(path) if user => {
                if path.is_empty() || path.len() > MAX_PATH {
                    return Err(invalid("a profile path needs 1 to 8 names"));
                }
                for p in path {
                    check_name("attribute", p)?;
                }
                Target::Scalar(self.profile_value(path))
            }
            Attr::Profile(path) => match path.as_slice() {
                [p] if p == "Description" => Target::Scalar(Subject::Folded(self.col("description"))),
                [p] if p == "DisplayName" => Target::Scalar(Subject::Lowered(self.col("display_name_lower"))),
                _ => return Err(self.wrong_resource(attr)),
            },
            Attr::AnyOf { list, field } if user => {
                check_name("list", list)?;
                check_name("attribute", field)?;
                let inner_alias = self.elements.iter().rev().find(|(l, _)| l == list).map(|(_, a)| a.clone());
                match inner_alias {
                    // Inside `Element` of this list: the element being tested.
                    Some(alias) => Target::Scalar(self.element_field(&alias, field)),
                    None => {
                        let alias = format!("gh_e{}", self.elements.len());
                        let open = self.elements_of(list, &alias);
                        Target::Set { open, inner: self.element_field(&alias, field) }
                    }
                }
            }
            _ => return Err(self.wrong_resource(attr)),
        })
    }

    /// A single value in the user's profile JSON.
    fn profile_value(&self, path: &[String]) -> Subject {
        let profile = self.col("profile");
        if self.pg {
            let mut args = Frag::new("");
            for p in path {
                args = args.s(", ").v(p.as_str());
            }
            let doc = Frag::new("").f(&profile).s("::jsonb");
            Subject::Json {
                text: Frag::new("jsonb_extract_path_text(").f(&doc).f(&args).s(")"),
                is_true: Frag::new("COALESCE(jsonb_extract_path(").f(&doc).f(&args).s(") = 'true'::jsonb, FALSE)"),
            }
        } else {
            let json_path = format!("$.{}", path.join("."));
            Subject::Json {
                text: Frag::new("json_extract(").f(&profile).s(", ").v(json_path.clone()).s(")"),
                is_true: Frag::new("COALESCE(json_type(").f(&profile).s(", ").v(json_path).s(") = 'true', 0)"),
            }
        }
    }

    /// `EXISTS (SELECT 1 FROM <elements of list> AS alias WHERE (` — the caller closes with `))`.
    fn elements_of(&self, list: &str, alias: &str) -> Frag {
        let profile = self.col("profile");
        if self.pg {
            let doc = Frag::new("").f(&profile).s("::jsonb");
            Frag::new("EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(")
                .f(&doc)
                .s(" -> ")
                .v(list)
                .s(") = 'array' THEN ")
                .f(&doc)
                .s(" -> ")
                .v(list)
                .s(" ELSE '[]'::jsonb END) AS ")
                .s(alias)
                .s("(v) WHERE (")
        } else {
            Frag::new("EXISTS (SELECT 1 FROM json_each(").f(&profile).s(", ").v(format!("$.{list}")).s(") AS ").s(alias).s(" WHERE (")
        }
    }

    /// A field of the element `alias` (NULL when the element is not an object).
    fn element_field(&self, alias: &str, field: &str) -> Subject {
        if self.pg {
            Subject::Json {
                text: Frag::new("(").s(alias).s(".v ->> ").v(field).s(")"),
                is_true: Frag::new("COALESCE((").s(alias).s(".v -> ").v(field).s(") = 'true'::jsonb, FALSE)"),
            }
        } else {
            let object = format!("CASE WHEN {alias}.type = 'object' THEN {alias}.value END");
            let path = format!("$.{field}");
            Subject::Json {
                text: Frag::new("json_extract(").s(&object).s(", ").v(path.clone()).s(")"),
                is_true: Frag::new("COALESCE(json_type(").s(&object).s(", ").v(path).s(") = 'true', 0)"),
            }
        }
    }
}

/// `pr`: present and not empty. Never NULL.
fn present_sql(subject: &Subject) -> Frag {
    match subject {
        Subject::Exact(x) | Subject::Lowered(x) | Subject::Folded(x) | Subject::Json { text: x, .. } => {
            Frag::new("(").f(x).s(" IS NOT NULL AND ").f(x).s(" <> '')")
        }
        Subject::Time(x) | Subject::Bool(x) => Frag::new("(").f(x).s(" IS NOT NULL)"),
    }
}

fn value_kind(v: &CondValue) -> &'static str {
    match v {
        CondValue::Str(_) => "a string",
        CondValue::Bool(_) => "a boolean",
        CondValue::Time(_) => "a date",
        CondValue::Null => "null",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::sea_query::{PostgresQueryBuilder, Query, SqliteQueryBuilder};

    fn cmp(attr: Attr, op: Op, value: CondValue) -> Condition {
        Condition::Compare { attr, op, value }
    }

    fn sql(backend: DbBackend, resource: Resource, c: &Condition) -> Result<(String, usize), StoreError> {
        let e = condition_expr(backend, resource, "d-1", c)?;
        let q = Query::select().expr(Expr::val(1)).and_where(e).to_owned();
        Ok(match backend {
            DbBackend::Postgres => {
                let (s, v) = q.build(PostgresQueryBuilder);
                (s, v.0.len())
            }
            _ => {
                let (s, v) = q.build(SqliteQueryBuilder);
                (s, v.0.len())
            }
        })
    }

    #[test]
    fn like_patterns_escape_wildcards_and_the_escape_character() {
        assert_eq!(like_pattern(Op::Co, "50%_off!"), "%50!%!_off!!%");
        assert_eq!(like_pattern(Op::Sw, "a"), "a%");
        assert_eq!(like_pattern(Op::Ew, "a"), "%a");
    }

    #[test]
    fn every_value_is_a_parameter() {
        let c = Condition::All(vec![
            cmp(Attr::UserName, Op::Eq, CondValue::Str("x' OR 1=1 --".into())),
            Condition::Element {
                list: "Emails".into(),
                condition: Box::new(Condition::Any(vec![
                    cmp(Attr::AnyOf { list: "Emails".into(), field: "Type".into() }, Op::Ne, CondValue::Str("work".into())),
                    Condition::Present(Attr::AnyOf { list: "Emails".into(), field: "Value".into() }),
                ])),
            },
            cmp(Attr::Profile(vec!["Name".into(), "GivenName".into()]), Op::Co, CondValue::Str("?$1".into())),
            cmp(Attr::ExternalId, Op::Sw, CondValue::Str("00u".into())),
        ]);
        for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
            let (text, n) = sql(backend, Resource::User, &c).unwrap();
            assert!(!text.contains("OR 1=1") && !text.contains("work") && !text.contains("00u"), "{text}");
            assert!(n >= 8, "{n}: {text}");
        }
        let (pg, _) = sql(DbBackend::Postgres, Resource::User, &c).unwrap();
        assert!(!pg.contains('?'), "{pg}");
    }

    #[test]
    fn wrong_attributes_and_operators_are_invalid() {
        let bad = [
            (Resource::User, cmp(Attr::Member, Op::Eq, CondValue::Str("u".into()))),
            (Resource::Group, cmp(Attr::UserName, Op::Eq, CondValue::Str("u".into()))),
            (Resource::Group, cmp(Attr::Active, Op::Eq, CondValue::Bool(true))),
            (Resource::Group, Condition::Present(Attr::AnyOf { list: "Emails".into(), field: "Value".into() })),
            (Resource::Group, cmp(Attr::Profile(vec!["Title".into()]), Op::Eq, CondValue::Str("u".into()))),
            (Resource::User, cmp(Attr::Active, Op::Gt, CondValue::Bool(true))),
            (Resource::User, cmp(Attr::Active, Op::Eq, CondValue::Str("true".into()))),
            (Resource::User, cmp(Attr::UserName, Op::Eq, CondValue::Bool(true))),
            (Resource::User, cmp(Attr::Created, Op::Eq, CondValue::Str("yesterday".into()))),
            (Resource::User, cmp(Attr::Created, Op::Co, CondValue::Str("2024-01-01T00:00:00Z".into()))),
            (Resource::User, cmp(Attr::UserName, Op::Gt, CondValue::Null)),
            (Resource::User, cmp(Attr::Profile(vec!["Name'--".into()]), Op::Eq, CondValue::Str("u".into()))),
            (Resource::User, cmp(Attr::Profile(vec![]), Op::Eq, CondValue::Str("u".into()))),
            (Resource::User, Condition::Present(Attr::AnyOf { list: "Emails".into(), field: "a.b".into() })),
            (Resource::User, Condition::Element { list: "".into(), condition: Box::new(Condition::All(vec![])) }),
        ];
        for (resource, c) in bad {
            for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
                let r = sql(backend, resource, &c);
                assert!(matches!(r, Err(StoreError::Invalid(_))), "{c:?}: {r:?}");
            }
        }
    }

    #[test]
    fn size_limits() {
        let mut deep = Condition::Present(Attr::Id);
        for _ in 0..=MAX_DEPTH {
            deep = Condition::Not(Box::new(deep));
        }
        assert!(matches!(sql(DbBackend::Sqlite, Resource::User, &deep), Err(StoreError::Invalid(_))));
        let wide = Condition::Any(vec![Condition::Present(Attr::Id); MAX_LEAVES + 1]);
        assert!(matches!(sql(DbBackend::Sqlite, Resource::User, &wide), Err(StoreError::Invalid(_))));
        let ok = Condition::Any(vec![Condition::Present(Attr::Id); MAX_LEAVES]);
        assert!(sql(DbBackend::Postgres, Resource::User, &ok).is_ok());
    }
}
