//! Attribute templates: literal text with `${namespace:name}` references, as the guide writes
//! them for application mappings (`${user:email}`) and directory mappings (`${dir:windowsUpn}`).

/// One piece of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    /// A reference's name, without its namespace.
    Ref(&'a str),
}

/// Split `source` into text and references of `namespace`, each of which must be one of
/// `allowed`; the message names what is wrong and what would do.
pub fn parse<'a>(source: &'a str, namespace: &str, allowed: &[&str]) -> Result<Vec<Piece<'a>>, String> {
    let mut out = Vec::new();
    let mut rest = source;
    while let Some(start) = rest.find("${") {
        if start > 0 {
            out.push(Piece::Text(&rest[..start]));
        }
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or_else(|| format!("'{source}': a ${{ without its closing }}"))?;
        let reference = &after[..end];
        let name =
            reference.strip_prefix(namespace).and_then(|r| r.strip_prefix(':')).filter(|n| allowed.contains(n)).ok_or_else(|| {
                let joined = allowed.join(&format!("}}, ${{{namespace}:"));
                format!("'{source}': ${{{reference}}} is not a supported attribute (use ${{{namespace}:{joined}}})")
            })?;
        out.push(Piece::Ref(name));
        rest = &after[end + 1..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_references() {
        let got = parse("${dir:lastname}, ${dir:firstname}!", "dir", &["firstname", "lastname"]).unwrap();
        assert_eq!(got, [Piece::Ref("lastname"), Piece::Text(", "), Piece::Ref("firstname"), Piece::Text("!")]);
        assert!(parse("${user:email}", "dir", &["email"]).unwrap_err().contains("${dir:email}"));
        assert!(parse("${dir:email", "dir", &["email"]).unwrap_err().contains("closing"));
        assert!(parse("${dirx:email}", "dir", &["email"]).is_err());
    }
}
