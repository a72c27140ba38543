//! Policy variables (`${aws:username}`, `${aws:PrincipalTag/team}`, ...) in
//! `Resource`/`NotResource` entries and condition values.
//!
//! Only Version 2012-10-17 documents substitute variables; under 2008-10-17
//! the text `${...}` is literal, as in IAM. Substituted values are always
//! literal text: a user named `*` must not turn a pattern into a wildcard.
//! The escapes `${*}`, `${?}` and `${$}` produce a literal `*`, `?` and `$`.
//! A default may be given as `${key, 'text'}` (a quote inside is written `''`).

use crate::Context;
use crate::matcher::Token;

#[derive(Debug, Clone)]
pub(crate) enum Segment {
    Token(Token),
    Variable {
        /// Lowercased, because context keys are case-insensitive.
        key: String,
        default: Option<String>,
    },
    /// A `${...}` that cannot be read (empty key, bad default): never resolves.
    Broken,
}

/// A pattern or literal value that may contain policy variables.
#[derive(Debug, Clone)]
pub(crate) enum Template {
    /// No variables: compiled once at parse time.
    Fixed(Vec<Token>),
    WithVariables(Vec<Segment>),
}

impl Template {
    /// `wildcards`: whether `*`/`?` are wildcards (Resource, `*Like`, `Arn*`)
    /// or literal characters (`StringEquals` and friends).
    /// `variables`: whether `${...}` is substituted (Version 2012-10-17).
    pub(crate) fn parse(raw: &str, wildcards: bool, variables: bool) -> Template {
        let plain = |c: char| match c {
            '*' if wildcards => Token::AnyRun,
            '?' if wildcards => Token::AnyOne,
            c => Token::Literal(c),
        };
        if !variables || !raw.contains("${") {
            return Template::Fixed(raw.chars().map(plain).collect());
        }

        let mut segments = Vec::new();
        let mut rest = raw;
        while let Some(start) = rest.find("${") {
            let (before, from_dollar) = rest.split_at(start);
            segments.extend(before.chars().map(|c| Segment::Token(plain(c))));
            let body_and_more = from_dollar.get(2..).unwrap_or("");
            match parse_variable(body_and_more) {
                Some((segment, consumed)) => {
                    segments.push(segment);
                    rest = body_and_more.get(consumed..).unwrap_or("");
                }
                None => {
                    // No closing brace: the remainder is plain text.
                    segments.extend(from_dollar.chars().map(|c| Segment::Token(plain(c))));
                    rest = "";
                }
            }
        }
        segments.extend(rest.chars().map(|c| Segment::Token(plain(c))));

        if segments.iter().all(|s| matches!(s, Segment::Token(_))) {
            // Only escapes were used; nothing depends on the request.
            let tokens = segments
                .into_iter()
                .filter_map(|s| match s {
                    Segment::Token(t) => Some(t),
                    _ => None,
                })
                .collect();
            return Template::Fixed(tokens);
        }
        Template::WithVariables(segments)
    }

    /// Substitute variables from `context`. `None` when a variable has no
    /// single value and no default: the caller then treats the value as one
    /// that cannot match.
    pub(crate) fn resolve(&self, context: &Context) -> Option<std::borrow::Cow<'_, [Token]>> {
        let segments = match self {
            Template::Fixed(tokens) => return Some(std::borrow::Cow::Borrowed(tokens)),
            Template::WithVariables(segments) => segments,
        };
        let mut out = Vec::with_capacity(segments.len());
        for segment in segments {
            match segment {
                Segment::Token(t) => out.push(t.clone()),
                Segment::Variable { key, default } => {
                    // Multi-valued keys cannot be variables in IAM.
                    let value = match context.get(key) {
                        Some([single]) => single.as_str(),
                        _ => default.as_deref()?,
                    };
                    out.extend(value.chars().map(Token::Literal));
                }
                Segment::Broken => return None,
            }
        }
        Some(std::borrow::Cow::Owned(out))
    }
}

/// Parse the text after `${`. Returns the segment and how many bytes were
/// consumed (through the closing `}`), or `None` if there is no `}` at all.
fn parse_variable(text: &str) -> Option<(Segment, usize)> {
    let close = text.find('}')?;
    let simple = text.get(..close).unwrap_or("");
    match simple {
        "*" => return Some((Segment::Token(Token::Literal('*')), close + 1)),
        "?" => return Some((Segment::Token(Token::Literal('?')), close + 1)),
        "$" => return Some((Segment::Token(Token::Literal('$')), close + 1)),
        _ => {}
    }

    let Some(comma) = simple.find(',') else {
        let key = simple.trim();
        let segment = if key.is_empty() || key.contains(char::is_whitespace) {
            Segment::Broken
        } else {
            Segment::Variable { key: key.to_lowercase(), default: None }
        };
        return Some((segment, close + 1));
    };

    // `${key, 'default'}`: the default is quoted and may itself contain `}`
    // or `,`, so scan it properly instead of stopping at the first brace.
    let key = text.get(..comma).unwrap_or("").trim();
    let after_comma = text.get(comma + 1..).unwrap_or("");
    let trimmed = after_comma.trim_start();
    let mut offset = comma + 1 + (after_comma.len() - trimmed.len());
    let mut chars = trimmed.char_indices();
    if !matches!(chars.next(), Some((_, '\''))) {
        return Some((Segment::Broken, close + 1));
    }
    let mut default = String::new();
    let mut end_quote = None;
    let mut iter = chars.peekable();
    while let Some((i, c)) = iter.next() {
        if c == '\'' {
            if matches!(iter.peek(), Some((_, '\''))) {
                default.push('\'');
                iter.next();
            } else {
                end_quote = Some(i);
                break;
            }
        } else {
            default.push(c);
        }
    }
    let Some(end_quote) = end_quote else {
        return Some((Segment::Broken, close + 1));
    };
    offset += end_quote + 1;
    let tail = text.get(offset..).unwrap_or("");
    let tail_trimmed = tail.trim_start();
    if !tail_trimmed.starts_with('}') {
        return Some((Segment::Broken, close + 1));
    }
    let consumed = offset + (tail.len() - tail_trimmed.len()) + 1;
    let segment = if key.is_empty() || key.contains(char::is_whitespace) {
        Segment::Broken
    } else {
        Segment::Variable { key: key.to_lowercase(), default: Some(default) }
    };
    Some((segment, consumed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::glob_match;

    fn render(t: &Template, ctx: &Context) -> Option<String> {
        t.resolve(ctx).map(|tokens| {
            tokens
                .iter()
                .map(|t| match t {
                    Token::Literal(c) => c.to_string(),
                    Token::AnyRun => "<*>".to_string(),
                    Token::AnyOne => "<?>".to_string(),
                })
                .collect()
        })
    }

    #[test]
    fn substitution_table() {
        let mut ctx = Context::new();
        ctx.insert("aws:username", "alice");
        ctx.insert("aws:PrincipalTag/team", "blue");
        ctx.insert_multi("aws:TagKeys", vec!["a".into(), "b".into()]);
        ctx.insert("weird", "*?");

        let cases: &[(&str, bool, bool, Option<&str>)] = &[
            ("plain", true, true, Some("plain")),
            ("a*b?", true, true, Some("a<*>b<?>")),
            ("a*b?", false, true, Some("a*b?")),
            ("home/${aws:username}/*", true, true, Some("home/alice/<*>")),
            ("${AWS:UserName}", true, true, Some("alice")),
            ("${aws:principaltag/TEAM}-x", true, true, Some("blue-x")),
            ("${aws:username}", true, false, Some("${aws:username}")),
            ("${missing}", true, true, None),
            ("${aws:TagKeys}", true, true, None),
            ("${weird}", true, true, Some("*?")),
            ("${*}${?}${$}", true, true, Some("*?$")),
            ("${missing, 'dflt'}", true, true, Some("dflt")),
            ("${ missing , 'it''s}' }!", true, true, Some("it's}!")),
            ("${aws:username, 'dflt'}", true, true, Some("alice")),
            ("${missing, dflt}", true, true, None),
            ("${}", true, true, None),
            ("${a b}", true, true, None),
            ("tail ${unterminated", true, true, Some("tail ${unterminated")),
            ("$x{y}", true, true, Some("$x{y}")),
        ];
        for (raw, wildcards, variables, want) in cases {
            let t = Template::parse(raw, *wildcards, *variables);
            assert_eq!(render(&t, &ctx).as_deref(), *want, "{raw:?}");
        }
    }

    #[test]
    fn substituted_value_is_literal() {
        let mut ctx = Context::new();
        ctx.insert("aws:username", "*");
        let t = Template::parse("arn:aws:iam::1:user/${aws:username}", true, true);
        let tokens = t.resolve(&ctx).unwrap();
        let text: Vec<char> = "arn:aws:iam::1:user/bob".chars().collect();
        assert!(!glob_match(&tokens, &text, false));
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        let ctx = Context::new();
        for raw in ["${", "${,", "${,'", "${x,'a", "${x,'a'", "${x,'a' y}", "${é, 'ü'}", "$", "}{$"] {
            let _ = Template::parse(raw, true, true).resolve(&ctx);
        }
    }
}
