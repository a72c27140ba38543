//! Text to [`Filter`] / [`PatchPath`].
//!
//! The grammar itself is `scim_v2`'s (1.x): a generated LALR parser with
//! RFC 7644 precedence (`not` > `and` > `or`), case-insensitive operator
//! keywords, JSON string/number/literal values, URN-qualified attribute paths
//! and value paths, which never recurses and so cannot overflow the stack.
//! Writing our own would only duplicate that. Around it we add:
//!
//! - our limits, checked before parsing: at most [`MAX_LEN`] bytes and
//!   [`MAX_DEPTH`] levels of `(`/`[` nesting (scim_v2 allows 64);
//! - `not(`: scim_v2's lexer wants whitespace after `not`, but the RFC's
//!   ABNF (`"not" "(" FILTER ")"`) has none, so we insert a space there;
//! - error messages that say where parsing failed, as a byte offset into the
//!   text the client sent, under scimType `invalidFilter` / `invalidPath`;
//! - conversion into our own tree with the schema URN resolved.

use scim_v2::filter as sv;

use super::{AttrPath, CompareOp, Filter, PatchPath, Value};
use crate::error::{ScimError, ScimType};
use crate::schema::Schema;

/// Longest filter or path accepted, in bytes.
pub const MAX_LEN: usize = 4096;
/// Deepest nesting of parentheses and brackets accepted.
pub const MAX_DEPTH: usize = 32;

/// Parses a `filter=` expression (RFC 7644 §3.4.2.2).
pub fn parse_filter(text: &str) -> Result<Filter, ScimError> {
    let prepared = Prepared::new(text, ScimType::InvalidFilter)?;
    let tree: sv::Filter = prepared.text.parse().map_err(|e| prepared.error(&e))?;
    convert_filter(tree).map_err(|detail| prepared.fail(detail))
}

/// Parses a PATCH operation `path` (RFC 7644 §3.5.2): `attrPath`,
/// `attr[filter]` or `attr[filter].sub`. A bare schema URN (a path naming a
/// whole extension) is not an attribute path; check [`Schema::known`] first.
pub fn parse_path(text: &str) -> Result<PatchPath, ScimError> {
    let prepared = Prepared::new(text, ScimType::InvalidPath)?;
    let tree: sv::PatchPath = prepared.text.parse().map_err(|e| prepared.error(&e))?;
    match tree {
        sv::PatchPath::Attr(attr) => Ok(PatchPath { attr: convert_path(attr), filter: None, sub_attr: None }),
        sv::PatchPath::Value(vp) => {
            if vp.attr.sub_attr.is_some() {
                return Err(prepared.fail(format!("a value filter applies to a multi-valued attribute, not to {}", vp.attr)));
            }
            let filter = convert_val_filter(vp.filter).map_err(|d| prepared.fail(d))?;
            Ok(PatchPath { attr: convert_path(vp.attr), filter: Some(filter), sub_attr: vp.sub_attr })
        }
    }
}

/// The input after limit checks and the `not(` fix, with what is needed to
/// map scim_v2's offsets back onto the client's text.
struct Prepared {
    text: String,
    /// Bytes of leading whitespace trimmed from the client's text.
    lead: usize,
    /// Offsets in `text` of the spaces we inserted.
    inserted: Vec<usize>,
    kind: ScimType,
}

impl Prepared {
    fn new(input: &str, kind: ScimType) -> Result<Prepared, ScimError> {
        let what = noun(kind);
        if input.len() > MAX_LEN {
            return Err(ScimError::new(kind, format!("{what} is longer than {MAX_LEN} bytes")));
        }
        let trimmed = input.trim_start();
        let lead = input.len() - trimmed.len();
        let trimmed = trimmed.trim_end();
        if trimmed.is_empty() {
            return Err(ScimError::new(kind, format!("{what} is empty")));
        }

        let mut text = String::with_capacity(trimmed.len() + 8);
        let mut inserted = Vec::new();
        let (mut in_string, mut escaped, mut depth) = (false, false, 0usize);
        for (i, c) in trimmed.char_indices() {
            if in_string {
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => in_string = false,
                    _ => {}
                }
            } else {
                match c {
                    '"' => in_string = true,
                    '(' | '[' => {
                        depth += 1;
                        if depth > MAX_DEPTH {
                            return Err(ScimError::new(
                                kind,
                                format!("{what} is nested deeper than {MAX_DEPTH} levels at offset {}", lead + i),
                            ));
                        }
                        if c == '(' && ends_with_not_keyword(&trimmed[..i]) {
                            inserted.push(text.len());
                            text.push(' ');
                        }
                    }
                    ')' | ']' => depth = depth.saturating_sub(1),
                    _ => {}
                }
            }
            text.push(c);
        }
        Ok(Prepared { text, lead, inserted, kind })
    }

    /// Offset in the client's text of offset `at` in `self.text`.
    fn original_offset(&self, at: usize) -> usize {
        (self.lead + at).saturating_sub(self.inserted.iter().filter(|&&p| p < at).count())
    }

    fn fail(&self, detail: String) -> ScimError {
        ScimError::new(self.kind, format!("invalid {}: {detail}", noun(self.kind)))
    }

    fn error(&self, e: &sv::ParseError) -> ScimError {
        let detail = match e {
            sv::ParseError::InvalidToken { location } => {
                let found = self.text.get(*location..).and_then(|s| s.chars().next());
                match found {
                    Some('\'') => format!("unexpected ' at offset {}; strings use double quotes", self.original_offset(*location)),
                    Some(c) => format!("unexpected {c:?} at offset {}", self.original_offset(*location)),
                    None => format!("unexpected end at offset {}", self.original_offset(*location)),
                }
            }
            sv::ParseError::UnrecognizedEof { location, expected } => {
                format!("unexpected end at offset {}; expected {}", self.original_offset(*location), expected_list(expected))
            }
            sv::ParseError::UnrecognizedToken { token: (start, found, _), expected } => {
                let at = self.original_offset(*start + leading_ws(found));
                format!("unexpected \"{}\" at offset {at}; expected {}", found.trim(), expected_list(expected))
            }
            sv::ParseError::ExtraToken { token: (start, found, _) } => {
                let at = self.original_offset(*start + leading_ws(found));
                format!("unexpected \"{}\" at offset {at}", found.trim())
            }
            sv::ParseError::User { error } => error.to_string(),
        };
        self.fail(detail)
    }
}

fn noun(kind: ScimType) -> &'static str {
    if kind == ScimType::InvalidPath { "path" } else { "filter" }
}

fn leading_ws(s: &str) -> usize {
    s.len() - s.trim_start().len()
}

/// Whether `before` ends with the keyword `not` (any case) standing alone,
/// i.e. preceded by the start, whitespace or an opening bracket.
fn ends_with_not_keyword(before: &str) -> bool {
    let b = before.as_bytes();
    let n = b.len();
    n >= 3 && b[n - 3..].eq_ignore_ascii_case(b"not") && (n == 3 || matches!(b[n - 4], b' ' | b'\t' | b'\r' | b'\n' | b'(' | b'['))
}

/// scim_v2's expected-token names in words, without duplicates.
fn expected_list(expected: &[String]) -> String {
    let mut words: Vec<&str> = Vec::new();
    for e in expected {
        let word = match e.as_str() {
            "AttrNameTok" | "AttrPathTok" => "attribute name",
            "StringLit" => "string",
            "NumberLit" => "number",
            other => other.trim_matches('"'),
        };
        if !words.contains(&word) {
            words.push(word);
        }
    }
    match words.as_slice() {
        [] => "nothing more".to_string(),
        [one] => one.to_string(),
        many => format!("one of {}", many.join(", ")),
    }
}

fn convert_path(p: sv::AttrPath) -> AttrPath {
    AttrPath { schema: p.uri.as_deref().map(Schema::from_urn), name: p.name, sub_attr: p.sub_attr }
}

fn convert_op(op: sv::CompareOp) -> CompareOp {
    match op {
        sv::CompareOp::Eq => CompareOp::Eq,
        sv::CompareOp::Ne => CompareOp::Ne,
        sv::CompareOp::Co => CompareOp::Co,
        sv::CompareOp::Sw => CompareOp::Sw,
        sv::CompareOp::Ew => CompareOp::Ew,
        sv::CompareOp::Gt => CompareOp::Gt,
        sv::CompareOp::Ge => CompareOp::Ge,
        sv::CompareOp::Lt => CompareOp::Lt,
        sv::CompareOp::Le => CompareOp::Le,
    }
}

fn convert_value(v: sv::CompValue) -> Value {
    match v {
        sv::CompValue::False => Value::Bool(false),
        sv::CompValue::True => Value::Bool(true),
        sv::CompValue::Null => Value::Null,
        sv::CompValue::Number(n) => Value::Number(n),
        sv::CompValue::Str(s) => Value::String(s),
    }
}

fn convert_exp(e: sv::AttrExp) -> Filter {
    match e {
        sv::AttrExp::Present(p) => Filter::Present(convert_path(p)),
        sv::AttrExp::Comparison(p, op, v) => Filter::Compare { path: convert_path(p), op: convert_op(op), value: convert_value(v) },
    }
}

// Recursion below follows the scim_v2 tree, whose depth the MAX_DEPTH check
// has already bounded (n-ary chains are iterated, not recursed into).

fn convert_filter(f: sv::Filter) -> Result<Filter, String> {
    Ok(match f {
        sv::Filter::Attr(e) => convert_exp(e),
        sv::Filter::ValuePath(vp) => Filter::ValuePath { path: convert_path(vp.attr), filter: Box::new(convert_val_filter(*vp.filter)?) },
        sv::Filter::Not(inner) => Filter::Not(Box::new(convert_filter(*inner)?)),
        sv::Filter::And(items) => {
            let items = items.into_iter().map(convert_filter).collect::<Result<_, _>>()?;
            balanced(items, Filter::And)?
        }
        sv::Filter::Or(items) => {
            let items = items.into_iter().map(convert_filter).collect::<Result<_, _>>()?;
            balanced(items, Filter::Or)?
        }
    })
}

fn convert_val_filter(f: sv::ValFilter) -> Result<Filter, String> {
    Ok(match f {
        sv::ValFilter::Attr(e) => convert_exp(e),
        sv::ValFilter::Not(inner) => Filter::Not(Box::new(convert_val_filter(*inner)?)),
        sv::ValFilter::And(items) => {
            let items = items.into_iter().map(convert_val_filter).collect::<Result<_, _>>()?;
            balanced(items, Filter::And)?
        }
        sv::ValFilter::Or(items) => {
            let items = items.into_iter().map(convert_val_filter).collect::<Result<_, _>>()?;
            balanced(items, Filter::Or)?
        }
    })
}

/// Folds an n-ary chain into a balanced binary tree, so a long
/// `a or b or c ...` stays shallow for every recursive walk of the result.
fn balanced(mut items: Vec<Filter>, join: fn(Box<Filter>, Box<Filter>) -> Filter) -> Result<Filter, String> {
    match items.len() {
        0 => Err("empty logical expression".to_string()),
        1 => items.pop().ok_or_else(|| "empty logical expression".to_string()),
        n => {
            let right = items.split_off(n / 2);
            Ok(join(Box::new(balanced(items, join)?), Box::new(balanced(right, join)?)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::ENTERPRISE_USER_URN;
    use serde_json::Number;

    fn path(name: &str) -> AttrPath {
        AttrPath::parse(name).unwrap()
    }

    fn cmp(name: &str, op: CompareOp, value: Value) -> Filter {
        Filter::Compare { path: path(name), op, value }
    }

    fn s(v: &str) -> Value {
        Value::String(v.to_string())
    }

    fn and(l: Filter, r: Filter) -> Filter {
        Filter::And(Box::new(l), Box::new(r))
    }

    fn or(l: Filter, r: Filter) -> Filter {
        Filter::Or(Box::new(l), Box::new(r))
    }

    fn parse(text: &str) -> Filter {
        parse_filter(text).unwrap_or_else(|e| panic!("{text}: {}", e.detail))
    }

    fn error(text: &str) -> String {
        let e = parse_filter(text).expect_err(text);
        assert_eq!(e.scim_type, Some(ScimType::InvalidFilter), "{text}");
        assert_eq!(e.status, 400);
        e.detail
    }

    /// Every example filter of RFC 7644 §3.4.2.2.
    #[test]
    fn rfc_examples() {
        use CompareOp::*;
        assert_eq!(parse(r#"userName Eq "john""#), cmp("userName", Eq, s("john")));
        assert_eq!(parse(r#"Username eq "john""#), cmp("Username", Eq, s("john")));
        assert_eq!(parse(r#"userName eq "bjensen""#), cmp("userName", Eq, s("bjensen")));
        assert_eq!(parse(r#"name.familyName co "O'Malley""#), cmp("name.familyName", Co, s("O'Malley")));
        assert_eq!(parse(r#"userName sw "J""#), cmp("userName", Sw, s("J")));
        let qualified = parse(r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#);
        let Filter::Compare { path: p, .. } = &qualified else { panic!("{qualified:?}") };
        assert_eq!(p.schema, Some(Schema::CoreUser));
        assert!(p.is("userName"));
        assert_eq!(parse("title pr"), Filter::Present(path("title")));
        assert_eq!(parse(r#"meta.lastModified gt "2011-05-13T04:42:34Z""#), cmp("meta.lastModified", Gt, s("2011-05-13T04:42:34Z")));
        assert_eq!(parse(r#"meta.lastModified ge "2011-05-13T04:42:34Z""#), cmp("meta.lastModified", Ge, s("2011-05-13T04:42:34Z")));
        assert_eq!(parse(r#"meta.lastModified lt "2011-05-13T04:42:34Z""#), cmp("meta.lastModified", Lt, s("2011-05-13T04:42:34Z")));
        assert_eq!(parse(r#"meta.lastModified le "2011-05-13T04:42:34Z""#), cmp("meta.lastModified", Le, s("2011-05-13T04:42:34Z")));
        assert_eq!(
            parse(r#"title pr and userType eq "Employee""#),
            and(Filter::Present(path("title")), cmp("userType", Eq, s("Employee")))
        );
        assert_eq!(parse(r#"title pr or userType eq "Intern""#), or(Filter::Present(path("title")), cmp("userType", Eq, s("Intern"))));
        assert_eq!(
            parse(r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#),
            cmp("schemas", Eq, s(ENTERPRISE_USER_URN))
        );
        let either = or(cmp("emails", Co, s("example.com")), cmp("emails.value", Co, s("example.org")));
        assert_eq!(
            parse(r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#),
            and(cmp("userType", Eq, s("Employee")), either.clone())
        );
        assert_eq!(
            parse(r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#),
            and(cmp("userType", Ne, s("Employee")), Filter::Not(Box::new(either)))
        );
        let work = |attr: &str, ty: &str, domain: &str| Filter::ValuePath {
            path: path(attr),
            filter: Box::new(and(cmp("type", Eq, s(ty)), cmp("value", Co, s(domain)))),
        };
        assert_eq!(
            parse(r#"userType eq "Employee" and (emails.type eq "work")"#),
            and(cmp("userType", Eq, s("Employee")), cmp("emails.type", Eq, s("work")))
        );
        assert_eq!(
            parse(r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#),
            and(cmp("userType", Eq, s("Employee")), work("emails", "work", "@example.com"))
        );
        assert_eq!(
            parse(r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#),
            or(work("emails", "work", "@example.com"), work("ims", "xmpp", "@foo.com"))
        );
    }

    #[test]
    fn precedence_is_not_then_and_then_or() {
        // a or b and c  ==  a or (b and c)
        assert_eq!(
            parse("a pr or b pr and c pr"),
            or(Filter::Present(path("a")), and(Filter::Present(path("b")), Filter::Present(path("c"))))
        );
        assert_eq!(
            parse("a pr and b pr or c pr"),
            or(and(Filter::Present(path("a")), Filter::Present(path("b"))), Filter::Present(path("c")))
        );
        assert_eq!(parse("not (a pr) and b pr"), and(Filter::Not(Box::new(Filter::Present(path("a")))), Filter::Present(path("b"))));
        assert_eq!(
            parse("(a pr or b pr) and c pr"),
            and(or(Filter::Present(path("a")), Filter::Present(path("b"))), Filter::Present(path("c")))
        );
    }

    #[test]
    fn keywords_ignore_case_and_whitespace_is_flexible() {
        assert_eq!(parse(r#"userName EQ "x" AND title PR"#), parse(r#"userName eq "x" and title pr"#));
        assert_eq!(parse("NOT (title pr)"), parse("not (title pr)"));
        assert_eq!(parse("  title\tpr  "), parse("title pr"));
        for op in ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"] {
            let f = parse(&format!("x {} \"1\"", op.to_uppercase()));
            assert!(matches!(f, Filter::Compare { op: o, .. } if o.as_str() == op));
        }
    }

    #[test]
    fn not_without_a_space_is_accepted() {
        // RFC 7644's ABNF: "not" "(" valFilter ")" — no space required.
        assert_eq!(parse("not(title pr)"), parse("not (title pr)"));
        assert_eq!(parse("a pr and NOT(b pr or c pr)"), parse("a pr and not (b pr or c pr)"));
        assert_eq!(parse("emails[not(type eq \"work\")]"), parse("emails[not (type eq \"work\")]"));
        // ...but not inside strings or as the end of a longer name.
        assert_eq!(parse(r#"title eq "not(x)""#), cmp("title", CompareOp::Eq, s("not(x)")));
        assert!(parse_filter("knot(title pr)").is_err());
        assert_eq!(parse("notes pr"), Filter::Present(path("notes")));
    }

    #[test]
    fn values() {
        let v = |text: &str| match parse(&format!("x eq {text}")) {
            Filter::Compare { value, .. } => value,
            other => panic!("{other:?}"),
        };
        assert_eq!(v(r#""a\"b\\c\u00e9\n""#), s("a\"b\\cé\n"));
        assert_eq!(v(r#""""#), s(""));
        assert_eq!(v(r#""ünï""#), s("ünï"));
        assert_eq!(v("true"), Value::Bool(true));
        assert_eq!(v("false"), Value::Bool(false));
        assert_eq!(v("null"), Value::Null);
        assert_eq!(v("42"), Value::Number(Number::from(42)));
        assert_eq!(v("-1.5e3").to_json(), serde_json::json!(-1500.0));
        assert!(parse_filter("x eq True").is_err(), "JSON literals are lowercase");
        assert!(parse_filter("x eq 'single'").is_err());
        assert!(parse_filter("x eq 01").is_err());
    }

    #[test]
    fn urn_qualified_and_sub_attribute_paths() {
        let f = parse(&format!("{ENTERPRISE_USER_URN}:employeeNumber eq \"701984\""));
        let Filter::Compare { path: p, .. } = f else { panic!() };
        assert_eq!(p.schema, Some(Schema::EnterpriseUser));
        assert_eq!(p.name, "employeeNumber");
        assert!(p.is(&format!("{ENTERPRISE_USER_URN}:EMPLOYEENUMBER")));
        assert!(!p.is("employeeNumber"));

        let f = parse(&format!("{ENTERPRISE_USER_URN}:manager.value eq \"x\""));
        let Filter::Compare { path: p, .. } = f else { panic!() };
        assert_eq!(p.canonical(), format!("{}:manager.value", ENTERPRISE_USER_URN.to_lowercase()));

        let f = parse(r#"urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq "Ops""#);
        let Filter::Compare { path: p, .. } = f else { panic!() };
        assert_eq!(p.schema, Some(Schema::CoreGroup));
        assert_eq!(p.canonical(), "displayname");

        let f = parse(r#"urn:example:custom:1.0:Thing:color eq "red""#);
        let Filter::Compare { path: p, .. } = f else { panic!() };
        assert_eq!(p.schema, Some(Schema::Other("urn:example:custom:1.0:Thing".into())));
    }

    #[test]
    fn long_or_chains_become_shallow_trees() {
        fn depth(f: &Filter) -> usize {
            match f {
                Filter::And(l, r) | Filter::Or(l, r) => 1 + depth(l).max(depth(r)),
                Filter::Not(i) | Filter::ValuePath { filter: i, .. } => 1 + depth(i),
                _ => 1,
            }
        }
        let text = (0..300).map(|i| format!("id eq \"{i}\"")).collect::<Vec<_>>().join(" or ");
        let text = &text[..text.len().min(MAX_LEN)];
        let text = &text[..text.rfind(" or ").unwrap_or(text.len())];
        let f = parse(text);
        assert!(depth(&f) <= 10, "depth {}", depth(&f));
        assert_eq!(f.to_string(), text);
    }

    #[test]
    fn errors_say_where() {
        assert_eq!(error(r#"userName eq "x" and"#), r#"invalid filter: unexpected "and" at offset 16; expected one of and, or"#);
        assert_eq!(
            error("userName"),
            "invalid filter: unexpected end at offset 8; expected one of co, eq, ew, ge, gt, le, lt, ne, pr, sw, ["
        );
        assert_eq!(
            error("userName eq True"),
            r#"invalid filter: unexpected "True" at offset 12; expected one of string, number, false, null, true"#
        );
        assert_eq!(error("userName eq 'x'"), "invalid filter: unexpected ' at offset 12; strings use double quotes");
        assert!(error("  not(title pr) and #").contains("offset 20"), "offsets count the original text");
        assert_eq!(error(""), "filter is empty");
        assert_eq!(error("   "), "filter is empty");
        assert!(error("a.b.c eq \"x\"").contains("more than one sub-attribute"));
        assert!(error(r#"emails[type eq "work"].value eq "x""#).contains("offset 22"));
        assert!(error(r#"emails[addresses[type eq "work"]]"#).contains("offset"));
    }

    #[test]
    fn limits() {
        let long = format!("userName eq \"{}\"", "x".repeat(MAX_LEN));
        assert_eq!(error(&long), "filter is longer than 4096 bytes");
        let ok = format!("{}title pr{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert_eq!(parse(&ok), Filter::Present(path("title")));
        let deep = format!("{}title pr{}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
        assert_eq!(error(&deep), "filter is nested deeper than 32 levels at offset 32");
        let nots = format!("{}title pr{}", "not (".repeat(40), ")".repeat(40));
        assert!(error(&nots).contains("nested deeper"));
        // Brackets inside strings do not count.
        let quoted = format!("title eq \"{}\"", "(".repeat(100));
        assert!(parse_filter(&quoted).is_ok());
    }

    #[test]
    fn hostile_inputs_fail_cleanly() {
        let inputs = [
            "(".repeat(100_000),
            ")".repeat(4000),
            "[".repeat(4000),
            "not (".repeat(800),
            "\"".repeat(4000),
            "\\".repeat(4000),
            format!("title eq \"{}", "\\".repeat(100)),
            "a pr and ".repeat(450),
            "title pr or ".repeat(300) + "title pr",
            "urn:".repeat(1000),
            "x eq 1e999999".to_string(),
            "x eq -".to_string(),
            "\u{0}".to_string(),
            "title pr\u{0}".to_string(),
            "ü eq \"x\"".to_string(),
            "title pr )".to_string(),
            "( title pr".to_string(),
            "emails[type eq \"work\"".to_string(),
            "emails[]".to_string(),
            "[type eq \"work\"]".to_string(),
            "title eq \"\\u12\"".to_string(),
            "title eq \"\\ud800\"".to_string(),
            "and".to_string(),
            "not".to_string(),
            "not (".to_string(),
            "pr pr".to_string(),
            "title pr pr".to_string(),
            "title eq eq \"x\"".to_string(),
            "title eq \"x\" \"y\"".to_string(),
            "title.pr".to_string(),
            "a:b:c eq 1".to_string(),
            "urn:x: eq 1".to_string(),
        ];
        for input in &inputs {
            let _ = parse_filter(input);
            let _ = parse_path(input);
        }
        // Every prefix of a valid filter, cut at any char boundary.
        let full = r#"userType eq "Employée" and not(emails[type eq "work" and value co "@ex.com"] or urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value pr)"#;
        for (i, _) in full.char_indices() {
            let _ = parse_filter(&full[..i]);
            let _ = parse_path(&full[..i]);
        }
        assert!(parse_filter(full).is_ok());
    }

    /// Random token soup (a fixed-seed xorshift, so runs are repeatable):
    /// parsing returns a value or an error, and what parses round-trips.
    #[test]
    fn random_token_soup_never_panics() {
        const TOKENS: [&str; 24] = [
            "title",
            "emails",
            "name.givenName",
            "urn:ietf:params:scim:schemas:core:2.0:User:userName",
            " ",
            " eq ",
            " pr",
            " and ",
            " or ",
            "not",
            "not ",
            "(",
            ")",
            "[",
            "]",
            ".value",
            "\"x\"",
            "\"",
            "\\",
            "12",
            "true",
            "null",
            " Co ",
            "é",
        ];
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut parsed = 0;
        for _ in 0..3_000 {
            let len = (next() % 12) as usize + 1;
            let text: String = (0..len).map(|_| TOKENS[(next() % TOKENS.len() as u64) as usize]).collect();
            if let Ok(f) = parse_filter(&text) {
                parsed += 1;
                assert_eq!(parse_filter(&f.to_string()).as_ref(), Ok(&f), "{text}");
                let _ = f.matches(&serde_json::json!({"title": "x", "emails": [{"value": "x"}]}));
            }
            let _ = parse_path(&text);
        }
        assert!(parsed > 5, "the soup should contain some valid filters ({parsed})");
    }

    #[test]
    fn patch_paths() {
        let p = parse_path("name.givenName").unwrap();
        assert_eq!(p, PatchPath { attr: path("name.givenName"), filter: None, sub_attr: None });

        let p = parse_path(r#"emails[type eq "work"].value"#).unwrap();
        assert_eq!(p.attr, path("emails"));
        assert_eq!(p.filter, Some(cmp("type", CompareOp::Eq, s("work"))));
        assert_eq!(p.sub_attr.as_deref(), Some("value"));

        let p = parse_path(r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#).unwrap();
        assert_eq!(p.filter, Some(cmp("value", CompareOp::Eq, s("2819c223-7f76-453a-919d-413861904646"))));
        assert_eq!(p.sub_attr, None);

        let p = parse_path(r#"emails[type eq "work" and value co "@x"]"#).unwrap();
        assert!(matches!(p.filter, Some(Filter::And(..))));

        let p = parse_path(&format!("{ENTERPRISE_USER_URN}:department")).unwrap();
        assert_eq!(p.attr.schema, Some(Schema::EnterpriseUser));
        assert_eq!(p.attr.name, "department");

        let p = parse_path("addresses[not(type eq \"work\")].locality").unwrap();
        assert!(matches!(p.filter, Some(Filter::Not(_))));

        for bad in ["", "emails[", "emails[type eq \"work\"].value.x", "name.givenName[type eq \"x\"]", "a b", "emails[type eq \"work\"]x"]
        {
            let e = parse_path(bad).expect_err(bad);
            assert_eq!(e.scim_type, Some(ScimType::InvalidPath), "{bad}");
            assert!(e.detail.contains("path"), "{bad}: {}", e.detail);
        }
        let e = parse_path(&"x".repeat(MAX_LEN + 1)).unwrap_err();
        assert_eq!(e.detail, "path is longer than 4096 bytes");
    }
}
