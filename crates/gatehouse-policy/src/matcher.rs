//! Wildcard matching for actions, ARNs and string conditions.
//!
//! IAM's wildcards are `*` (any run of characters, including none) and `?`
//! (exactly one character). They apply to the whole string: an ARN pattern is
//! matched end to end, and `*` may span `:` and `/`.

/// One element of a compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    Literal(char),
    /// `*`
    AnyRun,
    /// `?`
    AnyOne,
}

/// Compile `pattern`, treating `*` and `?` as wildcards and everything else
/// literally.
pub(crate) fn compile_glob(pattern: &str) -> Vec<Token> {
    pattern
        .chars()
        .map(|c| match c {
            '*' => Token::AnyRun,
            '?' => Token::AnyOne,
            c => Token::Literal(c),
        })
        .collect()
}

/// Does `pattern` match all of `text`?
///
/// Greedy matching that backtracks only to the most recent `*`: O(n·m) worst
/// case, no recursion, so hostile patterns cannot blow the stack.
pub(crate) fn glob_match(pattern: &[Token], text: &[char], ignore_case: bool) -> bool {
    let eq = |p: char, t: char| p == t || (ignore_case && chars_eq_ignore_case(p, t));
    let (mut p, mut t) = (0usize, 0usize);
    // Position of the last `*` seen and the text position it currently covers up to.
    let mut backtrack: Option<(usize, usize)> = None;

    while let Some(&tc) = text.get(t) {
        match pattern.get(p) {
            Some(Token::AnyRun) => {
                backtrack = Some((p, t));
                p += 1;
                continue;
            }
            Some(Token::AnyOne) => {
                p += 1;
                t += 1;
                continue;
            }
            Some(Token::Literal(pc)) if eq(*pc, tc) => {
                p += 1;
                t += 1;
                continue;
            }
            _ => {}
        }
        // Mismatch: let the last `*` swallow one more character, or fail.
        match backtrack {
            Some((star_p, star_t)) => {
                p = star_p + 1;
                t = star_t + 1;
                backtrack = Some((star_p, star_t + 1));
            }
            None => return false,
        }
    }
    pattern.get(p..).is_some_and(|rest| rest.iter().all(|tok| *tok == Token::AnyRun))
}

/// Case-insensitive comparison of single characters, using full Unicode
/// lowercase mappings (which may be more than one char).
fn chars_eq_ignore_case(a: char, b: char) -> bool {
    a.to_lowercase().eq(b.to_lowercase())
}

/// A compiled `Action`/`NotAction` entry. Both the service prefix and the
/// action name are case-insensitive in IAM, so one case-insensitive glob over
/// the whole `service:Action` string is exact.
#[derive(Debug, Clone)]
pub(crate) struct ActionPattern {
    tokens: Vec<Token>,
}

impl ActionPattern {
    pub(crate) fn new(pattern: &str) -> Self {
        ActionPattern { tokens: compile_glob(pattern) }
    }

    pub(crate) fn matches(&self, action: &[char]) -> bool {
        glob_match(&self.tokens, action, true)
    }
}

/// Is `action` a syntactically valid `Action` entry: `*`, or `service:name`
/// with both halves non-empty? (IAM rejects entries without a service prefix.)
pub(crate) fn is_valid_action(action: &str) -> bool {
    if action == "*" {
        return true;
    }
    match action.split_once(':') {
        Some((service, name)) => !service.is_empty() && !name.is_empty(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, text: &str) -> bool {
        let text: Vec<char> = text.chars().collect();
        glob_match(&compile_glob(pattern), &text, false)
    }

    fn mi(pattern: &str, text: &str) -> bool {
        let text: Vec<char> = text.chars().collect();
        glob_match(&compile_glob(pattern), &text, true)
    }

    #[test]
    fn glob_table() {
        let cases: &[(&str, &str, bool)] = &[
            ("*", "", true),
            ("*", "anything:at/all", true),
            ("", "", true),
            ("", "a", false),
            ("a", "", false),
            ("abc", "abc", true),
            ("abc", "abd", false),
            ("abc", "ABC", false),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("a?c", "abbc", false),
            ("a*c", "ac", true),
            ("a*c", "abbbc", true),
            ("a*c", "abbbd", false),
            ("*c", "abc", true),
            ("a*", "abc", true),
            ("**", "x", true),
            ("*?", "", false),
            ("*?", "x", true),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
            ("*ab", "aab", true),
            ("*aab", "aaab", true),
            ("arn:aws:sso:::permissionSet/*", "arn:aws:sso:::permissionSet/ssoins-1/ps-2", true),
            ("arn:aws:iam::*:role/x", "arn:aws:iam::123456789012:role/x", true),
            ("arn:aws:iam::*:role/x", "arn:aws:iam::123456789012:role/y", false),
            ("é?", "éß", true),
        ];
        for (pattern, text, want) in cases {
            assert_eq!(m(pattern, text), *want, "{pattern:?} vs {text:?}");
        }
    }

    #[test]
    fn ignore_case() {
        assert!(mi("SSO:list*", "sso:ListInstances"));
        // Multi-char case mappings must not panic (the result itself is unimportant).
        let _ = mi("straße", "STRASSE");
        assert!(mi("ÉTÉ", "été"));
        assert!(!m("ÉTÉ", "été"));
    }

    #[test]
    fn pathological_pattern_is_fast() {
        let pattern = "*a".repeat(200) + "b";
        let text = "a".repeat(5000);
        assert!(!m(&pattern, &text));
    }

    #[test]
    fn action_syntax() {
        for ok in ["*", "sso:*", "sso:List*", "*:*", "identitystore:DescribeUser"] {
            assert!(is_valid_action(ok), "{ok}");
        }
        for bad in ["", "sso", "sso:", ":List", "sso>DeleteRole", "**"] {
            assert!(!is_valid_action(bad), "{bad}");
        }
    }
}
