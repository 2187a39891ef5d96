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
        let rel = rest[..end]
            .split(';')
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("rel"))
            .map(|(_, v)| v.trim().trim_matches('"').to_ascii_lowercase())
            .unwrap_or_default();
        links.push(Link { url, rel });
        rest = &rest[end..];
    }
    links
}

fn params_end(s: &str) -> usize {
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => return i,
            _ => {}
        }
    }
    s.len()
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
