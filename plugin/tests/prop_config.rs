//! Property tests of connector settings: `configure` never panics, whatever is pasted;
//! every refusal names a known field; a normalized config validates to itself; what
//! admins paste around a valid domain or name normalizes to it. (The API token is the
//! host's: its properties are tested in `host-harness/src/token.rs`.)

// `..Default::default()` keeps this file compiling when settings are added.
#![allow(clippy::needless_update)]

use plugin::config::{
    ConnectorConfig, DEFAULT_FULL_SYNC_HOURS, DEFAULT_MEMBER_CONCURRENCY, MAX_FULL_SYNC_HOURS,
    MAX_MEMBER_CONCURRENCY, UnknownAtLogin, configure, normalize_domain,
};
use proptest::prelude::*;

const FIELDS: [&str; 6] = [
    "name",
    "okta-domain",
    "schedule",
    "user-attributes",
    "full-sync-interval-hours",
    "member-concurrency",
];

/// Strings made of the pieces admins paste, plus any string.
fn text(pieces: Vec<&'static str>) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::collection::vec(prop::sample::select(pieces), 0..8).prop_map(|v| v.concat()),
        1 => any::<String>(),
        1 => "[ -~]{0,40}",
    ]
}

fn domain() -> impl Strategy<Value = String> {
    text(vec![
        "https://",
        "http://",
        "HTTPS://",
        "acme",
        "ACME",
        "-admin",
        ".okta",
        ".oktapreview",
        ".com",
        ".",
        "/",
        ":",
        "443",
        "@",
        "[::1]",
        "10.0.0.1",
        " ",
        "\t",
        "é",
        "?x=1",
        "#",
        "{yourOktaDomain}",
        "-",
        "xn--bcher-kva",
    ])
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => text(vec!["Okta", " ", "prod", "é", "日本", "\n", "\u{0}", "\u{85}", "\u{200b}", "-", "😀"]),
        1 => "[a-z]{95,110}",
    ]
}

fn schedule() -> impl Strategy<Value = String> {
    text(vec![
        "0", "*", " ", "?", "*/2", "59", "61", "1-5", "MON", "@daily", "@hourly", "@nope", ",", "/",
    ])
}

fn attributes() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec(
        text(vec![
            "department",
            " ",
            "cost",
            "Center",
            ".",
            "_",
            "-",
            "é",
            "x",
        ]),
        0..5,
    )
}

fn config() -> impl Strategy<Value = ConnectorConfig> {
    (
        name(),
        domain(),
        schedule(),
        any::<bool>(),
        any::<bool>(),
        attributes(),
        prop_oneof![
            Just(0u32),
            1u32..=MAX_FULL_SYNC_HOURS,
            Just(MAX_FULL_SYNC_HOURS + 1),
            any::<u32>()
        ],
        any::<bool>(),
        prop_oneof![
            Just(0u32),
            1u32..=MAX_MEMBER_CONCURRENCY,
            Just(MAX_MEMBER_CONCURRENCY + 1),
            any::<u32>()
        ],
    )
        .prop_map(
            |(
                name,
                okta_domain,
                schedule,
                enabled,
                built_in,
                user_attributes,
                hours,
                deny,
                concurrency,
            )| {
                ConnectorConfig {
                    name,
                    okta_domain,
                    schedule,
                    schedule_enabled: enabled,
                    include_built_in_groups: built_in,
                    user_attributes,
                    full_sync_interval_hours: hours,
                    unknown_at_login: if deny {
                        UnknownAtLogin::Deny
                    } else {
                        UnknownAtLogin::Keep
                    },
                    member_concurrency: concurrency,
                    // Settings added later validate with their defaults.
                    ..Default::default()
                }
            },
        )
}

/// A valid org domain.
fn valid_domain() -> impl Strategy<Value = String> {
    (
        "[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?",
        prop::sample::select(vec![
            "okta.com",
            "oktapreview.com",
            "okta-emea.com",
            "example.co.uk",
        ]),
    )
        .prop_filter("not an admin host", |(org, _)| !org.ends_with("-admin"))
        .prop_map(|(org, rest)| format!("{org}.{rest}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// Never panics; a refusal lists only known fields, each with a message; an
    /// acceptance is a fixed point (the normalized config validates to itself).
    #[test]
    fn configure_never_panics_and_is_idempotent(cfg in config()) {
        match configure(&cfg) {
            Ok(c) => {
                prop_assert_eq!(configure(&c), Ok(c.clone()), "idempotent");
                prop_assert!(!c.name.is_empty() && c.name.trim() == c.name);
                prop_assert_eq!(c.okta_domain.to_ascii_lowercase(), c.okta_domain.clone());
                prop_assert!(!c.okta_domain.contains(['/', ':', ' ']));
                prop_assert_eq!(c.schedule_enabled, cfg.schedule_enabled);
                prop_assert_eq!(c.include_built_in_groups, cfg.include_built_in_groups);
                prop_assert_eq!(c.unknown_at_login, cfg.unknown_at_login);
                let hours = c.full_sync_interval_hours;
                prop_assert!((1..=MAX_FULL_SYNC_HOURS).contains(&hours));
                if cfg.full_sync_interval_hours == 0 {
                    prop_assert_eq!(hours, DEFAULT_FULL_SYNC_HOURS);
                }
                let concurrency = c.member_concurrency;
                prop_assert!((1..=MAX_MEMBER_CONCURRENCY).contains(&concurrency));
                if cfg.member_concurrency == 0 {
                    prop_assert_eq!(concurrency, DEFAULT_MEMBER_CONCURRENCY);
                }
            }
            Err(errors) => {
                prop_assert!(!errors.is_empty());
                for e in &errors {
                    prop_assert!(FIELDS.contains(&e.field.as_str()), "{:?}", e);
                    prop_assert!(!e.message.is_empty());
                }
            }
        }
    }

    /// Whatever is pasted around a valid domain (scheme, case, slash, spaces), it
    /// normalizes to the bare lowercase domain, which normalizes to itself.
    #[test]
    fn pasted_domains_normalize(
        d in valid_domain(),
        scheme in prop::sample::select(vec!["", "https://", "HTTPS://", "Https://"]),
        slash in any::<bool>(),
        upper in any::<bool>(),
        pad in prop::sample::select(vec!["", " ", "\t", "\n "]),
    ) {
        let mut pasted = format!("{scheme}{d}{}", if slash { "/" } else { "" });
        if upper {
            pasted = pasted.to_uppercase();
        }
        let pasted = format!("{pad}{pasted}{pad}");
        let got = normalize_domain(&pasted);
        prop_assert_eq!(got.as_ref().map(String::as_str), Ok(d.as_str()), "{:?}", pasted);
        prop_assert_eq!(normalize_domain(&d), Ok(d.clone()));
    }

    /// The Admin Console host is refused with the API host suggested.
    #[test]
    fn admin_hosts_are_refused_with_a_suggestion(d in valid_domain()) {
        let (org, rest) = d.split_once('.').unwrap();
        let e = normalize_domain(&format!("{org}-admin.{rest}")).unwrap_err();
        prop_assert!(e.message.contains(&format!("use {d}")), "{}", e.message);
    }

    /// A domain with a port, a path or an IP address is refused.
    #[test]
    fn ports_paths_and_ips_are_refused(
        d in valid_domain(),
        port in 1u16..,
        ip in any::<[u8; 4]>(),
    ) {
        let with_port = format!("{d}:{port}");
        let port_refused = normalize_domain(&with_port).unwrap_err().message.contains("port");
        prop_assert!(port_refused, "{}", with_port);
        let with_path = format!("https://{d}/api/v1");
        prop_assert!(normalize_domain(&with_path).is_err());
        let ip = std::net::Ipv4Addr::from(ip).to_string();
        let ip_refused = normalize_domain(&ip).unwrap_err().message.contains("IP address");
        prop_assert!(ip_refused, "{}", ip);
    }
}
