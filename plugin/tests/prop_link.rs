//! Property tests of the `Link` header parser as the Okta client uses it: whatever the
//! header name's casing, whether the links come as separate header lines or one
//! comma-joined value, with any parameter order, quoting and casing, the `next` link is
//! found; and no input makes the parser panic.

use plugin::okta::HttpResponse;
use plugin::okta::link;
use proptest::prelude::*;

/// `link` with every letter in a random case.
fn header_name() -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<bool>(), 4).prop_map(|upper| {
        "link"
            .chars()
            .zip(upper)
            .map(|(c, u)| if u { c.to_ascii_uppercase() } else { c })
            .collect()
    })
}

/// A word in a random case.
fn cased(word: &'static str) -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<bool>(), word.len()).prop_map(move |upper| {
        word.chars()
            .zip(upper)
            .map(|(c, u)| if u { c.to_ascii_uppercase() } else { c })
            .collect()
    })
}

/// Optional whitespace as senders put it around `;`, `=` and `,`.
fn ws() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just(""), Just(" "), Just("  "), Just("\t")]
}

/// A URL as Okta writes them (opaque cursors may hold `=`, `&`, `%`, `,` and `;`).
fn url() -> impl Strategy<Value = String> {
    "https://acme\\.okta\\.com/api/v1/(users|groups)\\?(after=[A-Za-z0-9%=,;]{1,20}&)?limit=[0-9]{1,5}"
}

/// Extra parameters that are not `rel` (RFC 8288 §3.3: a second `rel` is ignored, so a
/// generated `rel=a` before the real one would rightly hide it): quoted values may hold
/// commas, semicolons, `<`, `>` and even `rel=next`.
fn extra_param() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,6}=[a-z0-9]{1,6}".prop_map(|s| s),
        ("[a-z]{1,6}", "[a-zA-Z0-9 ,;<>=/.-]{0,20}").prop_map(|(k, v)| format!("{k}=\"{v}\"")),
        Just("title=\"rel=next\"".to_string()),
        Just("title=\"a; rel=next, <https://x/>\"".to_string()),
        Just("type=\"application/json\"".to_string()),
    ]
    .prop_filter("not a second rel", |p| !p.starts_with("rel="))
}

/// `rel=…` for one relation, with a random rel name casing, quoting and spacing.
fn rel_param(rel: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    (cased("rel"), rel, any::<bool>(), ws(), ws()).prop_map(|(k, v, quoted, a, b)| {
        if quoted {
            format!("{k}{a}={b}\"{v}\"")
        } else {
            format!("{k}{a}={b}{v}")
        }
    })
}

/// One link with the given `rel` value and random extra parameters before or after it.
fn link_value(rel: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    (
        url(),
        rel_param(rel),
        proptest::collection::vec(extra_param(), 0..3),
        0usize..3,
        ws(),
    )
        .prop_map(|(u, rel, extras, pos, sp)| {
            let mut params = extras;
            let pos = pos.min(params.len());
            params.insert(pos, rel);
            let mut s = format!("<{u}>");
            for p in params {
                s.push_str(&format!("{sp};{sp}{p}"));
            }
            s
        })
}

/// Relations other than `next` (single or space-separated).
fn other_rel() -> impl Strategy<Value = String> {
    prop_oneof![
        cased("self"),
        cased("prev"),
        cased("last"),
        cased("first"),
        Just("self last".to_string()),
        Just("nextpage".to_string()),
        Just("previous".to_string()),
    ]
}

/// `next`, possibly among other relations, in any case.
fn next_rel() -> impl Strategy<Value = String> {
    prop_oneof![
        cased("next"),
        cased("next").prop_map(|n| format!("prev {n}")),
        cased("next").prop_map(|n| format!("{n} last")),
    ]
}

/// How a response carries its links.
#[derive(Clone, Debug)]
enum Layout {
    /// One header line per link.
    Lines,
    /// All links in one comma-joined value.
    Joined,
    /// Split into two header lines at a random link.
    Mixed(usize),
}

fn layout() -> impl Strategy<Value = Layout> {
    prop_oneof![
        Just(Layout::Lines),
        Just(Layout::Joined),
        (0usize..6).prop_map(Layout::Mixed)
    ]
}

fn response(values: &[String], names: &[String], layout: &Layout, sep: &str) -> HttpResponse {
    let lines: Vec<String> = match layout {
        Layout::Lines => values.to_vec(),
        Layout::Joined => vec![values.join(sep)],
        Layout::Mixed(at) => {
            let at = (*at).min(values.len());
            vec![values[..at].join(sep), values[at..].join(sep)]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect()
        }
    };
    let mut headers = vec![
        ("Content-Type".to_string(), "application/json".to_string()),
        ("X-Rate-Limit-Remaining".to_string(), "599".to_string()),
    ];
    for (i, l) in lines.into_iter().enumerate() {
        headers.push((names[i % names.len()].clone(), l));
    }
    HttpResponse {
        status: 200,
        headers,
        body: b"[]".to_vec(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any header casing, layout, parameter order and quoting: `next` is found and it is
    /// exactly the next link's URL.
    #[test]
    fn finds_next_in_any_casing_and_layout(
        others in proptest::collection::vec(link_value(other_rel()), 0..5),
        next_value in link_value(next_rel()),
        pos in 0usize..6,
        names in proptest::collection::vec(header_name(), 1..4),
        layout in layout(),
        sep in prop_oneof![Just(", "), Just(","), Just(" , "), Just(",\t")],
    ) {
        let mut values = others.clone();
        let pos = pos.min(values.len());
        values.insert(pos, next_value.clone());
        let resp = response(&values, &names, &layout, sep);
        let want = next_value[1..next_value.find('>').unwrap()].to_string();
        prop_assert_eq!(link::next(resp.header_values("link")), Some(want));
    }

    /// Without a `next` relation, none is found (no `rel=next` inside a quoted
    /// parameter, no `nextpage`).
    #[test]
    fn no_next_without_a_next_relation(
        values in proptest::collection::vec(link_value(other_rel()), 0..6),
        names in proptest::collection::vec(header_name(), 1..3),
        layout in layout(),
    ) {
        let resp = response(&values, &names, &layout, ", ");
        prop_assert_eq!(link::next(resp.header_values("link")), None);
    }

    /// Every link of a joined value is parsed, with its URL intact.
    #[test]
    fn parses_every_link_of_a_joined_value(
        values in proptest::collection::vec(link_value(other_rel()), 1..6),
    ) {
        let links = link::parse(&values.join(", "));
        prop_assert_eq!(links.len(), values.len());
        for (l, v) in links.iter().zip(&values) {
            prop_assert_eq!(&l.url, &v[1..v.find('>').unwrap()]);
        }
    }

    /// No string panics the parser, whatever it holds.
    #[test]
    fn never_panics_on_any_string(s in any::<String>()) {
        let _ = link::parse(&s);
        let _ = link::next([s.as_str()]);
    }

    /// Nor does a string made of the parser's own delimiters and multi-byte characters.
    #[test]
    fn never_panics_on_delimiter_soup(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("<"), Just(">"), Just(","), Just(";"), Just("\""), Just("="),
                Just("rel"), Just("REL"), Just("next"), Just(" "), Just("é"), Just("€"),
                Just("😀"), Just("https://a/"), Just("\\"),
            ],
            0..40,
        ),
        names in proptest::collection::vec(header_name(), 1..3),
    ) {
        let s: String = parts.concat();
        let resp = response(&[s.clone(), s.clone()], &names, &Layout::Lines, ",");
        let _ = link::next(resp.header_values("link"));
        for l in link::parse(&s) {
            // A parsed URL never spans the brackets.
            prop_assert!(!l.url.contains('>'));
        }
    }
}
