//! `Link` header parsing (RFC 8288) as Okta sends it: one header line per link or one
//! comma-joined value, any name casing, `rel` quoted or not.

/// One link: its target and `rel` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// The URI between `<` and `>`.
    pub url: String,
    /// The `rel` parameter (lowercased), empty if absent.
    pub rel: String,
}

/// Parse every link in one header value.
pub fn parse(value: &str) -> Vec<Link> {
    let mut links = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find('<') {
        let Some(len) = rest[start + 1..].find('>') else {
            break;
        };
        let url = rest[start + 1..start + 1 + len].trim().to_string();
        rest = &rest[start + 1 + len + 1..];
        // Parameters run up to the next link (a comma outside quotes followed by '<').
        let end = params_end(rest);
        let rel = split_unquoted(&rest[..end], ';')
            .into_iter()
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("rel"))
            .map(|(_, v)| v.trim().trim_matches('"').to_ascii_lowercase())
            .unwrap_or_default();
        links.push(Link { url, rel });
        rest = &rest[end..];
    }
    links
}

/// Byte offsets of `sep` outside quoted strings (`"…"`, with `\"` escapes), up to the
/// first one when `first_only`.
fn unquoted(s: &str, sep: char, first_only: bool) -> Vec<usize> {
    let (mut quoted, mut escaped) = (false, false);
    let mut at = Vec::new();
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == sep && !quoted => {
                at.push(i);
                if first_only {
                    break;
                }
            }
            _ => {}
        }
    }
    at
}

/// The parameters of one link end at the first comma outside quotes.
fn params_end(s: &str) -> usize {
    unquoted(s, ',', true).first().copied().unwrap_or(s.len())
}

/// Split at `sep` outside quoted strings: a quoted `title="a; rel=next"` stays whole.
fn split_unquoted(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    for i in unquoted(s, sep, false) {
        parts.push(&s[start..i]);
        start = i + sep.len_utf8();
    }
    parts.push(&s[start..]);
    parts
}

/// The `rel="next"` target across all `Link` header values, if any. A value may hold
/// several relations (`rel="next last"`).
pub fn next<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<String> {
    values
        .into_iter()
        .flat_map(parse)
        .find(|l| l.rel.split_whitespace().any(|r| r == "next"))
        .map(|l| l.url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SELF_: &str = r#"<https://acme.okta.com/api/v1/users?limit=200>; rel="self""#;
    const NEXT: &str = r#"<https://acme.okta.com/api/v1/users?after=200u1&limit=200>; rel="next""#;

    #[test]
    fn separate_lines_self_first() {
        assert_eq!(
            next([SELF_, NEXT]).as_deref(),
            Some("https://acme.okta.com/api/v1/users?after=200u1&limit=200")
        );
    }

    /// RFC 8288 §3.3: a `rel` after the first in one link-value is ignored.
    #[test]
    fn only_the_first_rel_of_a_link_counts() {
        let u = "https://acme.okta.com/api/v1/users?limit=0";
        assert_eq!(next([format!("<{u}>;rel=a;rel=next").as_str()]), None);
        assert_eq!(
            next([format!("<{u}>;rel=next;rel=a").as_str()]).as_deref(),
            Some(u)
        );
    }

    #[test]
    fn one_comma_joined_value_either_order() {
        let joined = format!("{SELF_}, {NEXT}");
        assert!(next([joined.as_str()]).is_some());
        let joined = format!("{NEXT},{SELF_}");
        assert!(next([joined.as_str()]).is_some());
    }

    #[test]
    fn last_page_has_no_next() {
        assert_eq!(next([SELF_]), None);
        assert_eq!(next(Vec::<&str>::new()), None);
    }

    #[test]
    fn unquoted_rel_and_extra_params() {
        let v = r#"<https://a/x?after=1>; title="a, b"; REL=next"#;
        assert_eq!(next([v]).as_deref(), Some("https://a/x?after=1"));
        let v = r#"<https://a/x?after=1>; rel="prev next""#;
        assert_eq!(next([v]).as_deref(), Some("https://a/x?after=1"));
    }

    #[test]
    fn separators_inside_quoted_parameters_are_not_parameters() {
        let v = r#"<https://a/x?after=1>; title="a; rel=next, <https://x/>"; rel=next"#;
        assert_eq!(next([v]).as_deref(), Some("https://a/x?after=1"));
        let v = r#"<https://a/self>; title="x; rel=next", <https://a/n>; rel="next""#;
        assert_eq!(next([v]).as_deref(), Some("https://a/n"));
        let v = r#"<https://a/self>; title="say \"hi\", <https://a/no>; rel=next", <https://a/n>; rel=next"#;
        assert_eq!(next([v]).as_deref(), Some("https://a/n"));
    }

    #[test]
    fn garbage_is_no_link() {
        assert_eq!(parse("not a link"), vec![]);
        assert_eq!(parse("<unterminated; rel=next"), vec![]);
    }

    proptest! {
        #[test]
        fn never_panics(s in ".*") {
            let _ = parse(&s);
        }

        #[test]
        fn finds_next_among_any_links(
            urls in proptest::collection::vec("https://h/[a-z0-9=&?]{0,20}", 0..5),
            pos in 0usize..5,
            joined in any::<bool>(),
        ) {
            let next_url = "https://h/n?after=x".to_string();
            let mut values: Vec<String> = urls.iter().map(|u| format!("<{u}>; rel=\"self\"")).collect();
            let pos = pos.min(values.len());
            values.insert(pos, format!("<{next_url}>; rel=\"next\""));
            let found = if joined {
                next([values.join(", ").as_str()])
            } else {
                next(values.iter().map(|s| s.as_str()))
            };
            prop_assert_eq!(found, Some(next_url));
        }
    }
}
