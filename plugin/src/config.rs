//! Connector settings: validation and normalization. Every invalid setting is reported,
//! each naming its field, and what admins paste from a browser is accepted.

use crate::rules::{Rules, quoted};
use crate::schedule;
use crate::settings::AttributeMapping;

/// Default schedule: every hour, on the hour (UTC).
pub const DEFAULT_SCHEDULE: &str = "0 0 * * * ?";
/// Longest connector name accepted.
pub const MAX_NAME_CHARS: usize = 100;

/// A connector's settings (the WIT `connector-config`). No credential is among them:
/// the host keeps it and authenticates the plugin's requests to Okta itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectorConfig {
    /// Name shown to admins.
    pub name: String,
    /// Okta domain without protocol.
    pub okta_domain: String,
    /// Whether `okta_domain` is the org's custom URL domain, outside Okta's own.
    pub custom_domain: bool,
    /// Cron expression.
    pub schedule: String,
    /// IANA time zone of the schedule, e.g. `Europe/Berlin`.
    pub schedule_time_zone: String,
    /// Whether the schedule runs.
    pub schedule_enabled: bool,
    /// Whether BUILT_IN groups (`Everyone`) are synced.
    pub include_built_in_groups: bool,
    /// Okta profile attributes copied to user attributes.
    pub user_attributes: Vec<String>,
    /// Hours between full syncs when incremental syncs run (deletions are seen only by
    /// full syncs).
    pub full_sync_interval_hours: u32,
    /// Days between deep reconciles (full syncs that re-read every member list).
    pub deep_reconcile_days: u32,
    /// What a login sync does with a user Okta does not know.
    pub unknown_at_login: UnknownAtLogin,
    /// Group-member requests in flight at once (1-16).
    pub member_concurrency: u32,
    /// Share of each Okta rate-limit bucket a sync may use, in percent.
    pub rate_limit_percent: u32,
    /// Incremental syncs by the System Log (not built in this version: refused).
    pub change_feed: bool,
    /// Only users and groups of this Okta app (not built in this version: refused).
    pub app_scope: Option<String>,
    /// User import, update, status, username and attribute mapping.
    pub users: crate::settings::UserSettings,
    /// Group filters, mapping and default groups.
    pub groups: crate::settings::GroupSettings,
    /// Missing users, cleanup and the mass-deactivation guard.
    pub lifecycle: crate::settings::LifecycleSettings,
}

/// Default group-member requests in flight: well below Okta's concurrency limits.
pub const DEFAULT_MEMBER_CONCURRENCY: u32 = 4;
/// Most group-member requests in flight (Okta's smallest concurrency limit is 15).
pub const MAX_MEMBER_CONCURRENCY: u32 = 16;
/// Default share of each rate-limit bucket: half, leaving the rest to other integrations.
pub const DEFAULT_RATE_LIMIT_PERCENT: u32 = 50;
/// Default days between deep reconciles.
pub const DEFAULT_DEEP_RECONCILE_DAYS: u32 = 7;
/// Most days between deep reconciles.
pub const MAX_DEEP_RECONCILE_DAYS: u32 = 90;
/// The schedule's default time zone.
pub const DEFAULT_TIME_ZONE: &str = "UTC";

/// What a login sync does with a user Okta does not know.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum UnknownAtLogin {
    /// Leave the product's user as it is.
    #[default]
    Keep,
    /// Deactivate the product's user (of this connector), so the login is refused.
    Deny,
}

/// Default hours between full syncs.
pub const DEFAULT_FULL_SYNC_HOURS: u32 = 24;
/// Longest interval between full syncs accepted (30 days).
pub const MAX_FULL_SYNC_HOURS: u32 = 720;

impl Default for ConnectorConfig {
    fn default() -> Self {
        ConnectorConfig {
            name: String::new(),
            okta_domain: String::new(),
            custom_domain: false,
            schedule: DEFAULT_SCHEDULE.into(),
            schedule_time_zone: DEFAULT_TIME_ZONE.into(),
            schedule_enabled: false,
            include_built_in_groups: false,
            user_attributes: Vec::new(),
            full_sync_interval_hours: DEFAULT_FULL_SYNC_HOURS,
            deep_reconcile_days: DEFAULT_DEEP_RECONCILE_DAYS,
            unknown_at_login: UnknownAtLogin::Keep,
            member_concurrency: DEFAULT_MEMBER_CONCURRENCY,
            rate_limit_percent: DEFAULT_RATE_LIMIT_PERCENT,
            change_feed: false,
            app_scope: None,
            users: Default::default(),
            groups: Default::default(),
            lifecycle: Default::default(),
        }
    }
}

/// Every setting at its default for a product (the WIT `default-config`): the one
/// source of defaults for hosts. The default groups are spelled out.
pub fn default_config(product: &str) -> ConnectorConfig {
    let mut c = ConnectorConfig::default();
    c.groups.default_groups = Some(
        crate::settings::product_default_groups(product)
            .iter()
            .map(|g| g.to_string())
            .collect(),
    );
    c
}

/// One invalid setting.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// The setting as a path of WIT field names, e.g. `okta-domain` or
    /// `users.username.pattern`.
    pub field: String,
    /// Why, in one sentence.
    pub message: String,
}

impl FieldError {
    /// An error on `field`.
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        FieldError {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

/// A config validated and normalized, with its rules compiled: what one call works with.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The normalized config.
    pub config: ConnectorConfig,
    /// Its rules, compiled once.
    pub rules: Rules,
}

/// Validate and normalize a config (product default groups unknown: none).
pub fn configure(config: &ConnectorConfig) -> Result<ConnectorConfig, Vec<FieldError>> {
    validate(config, &[]).map(|s| s.config)
}

/// Validate and normalize a config, and compile its rules with the product's default
/// groups. Every invalid setting is reported.
pub fn validate(
    config: &ConnectorConfig,
    product_defaults: &[&str],
) -> Result<Settings, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut keep = |r: Result<String, FieldError>| match r {
        Ok(v) => v,
        Err(e) => {
            errors.push(e);
            String::new()
        }
    };
    let name = keep(normalize_name(&config.name));
    let okta_domain = keep(
        normalize_domain(&config.okta_domain).and_then(|d| okta_owned(d, config.custom_domain)),
    );
    let schedule = keep(normalize_schedule(&config.schedule));
    let schedule_time_zone = keep(normalize_time_zone(&config.schedule_time_zone));
    let user_attributes = attribute_names(&config.user_attributes, &mut errors);
    let numbers = numbers(config, &mut errors);
    errors.extend(unsupported_settings(config));
    let app_scope = normalize_app_scope(config.app_scope.as_deref()).unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    let normalized = ConnectorConfig {
        name,
        okta_domain,
        schedule,
        schedule_time_zone,
        user_attributes,
        full_sync_interval_hours: numbers[0],
        deep_reconcile_days: numbers[1],
        member_concurrency: numbers[2],
        rate_limit_percent: numbers[3],
        app_scope,
        users: crate::settings::UserSettings {
            attributes: config
                .users
                .attributes
                .iter()
                .map(|a| AttributeMapping {
                    name: a.name.trim().to_string(),
                    ..a.clone()
                })
                .collect(),
            ..config.users.clone()
        },
        groups: crate::settings::GroupSettings {
            types: dedup(&config.groups.types),
            required: dedup(&config.groups.required),
            default_groups: config.groups.default_groups.as_deref().map(dedup),
            ..config.groups.clone()
        },
        ..config.clone()
    };
    match Rules::compile(&normalized, product_defaults) {
        Ok(rules) if errors.is_empty() => Ok(Settings {
            config: normalized,
            rules,
        }),
        Ok(_) => Err(errors),
        Err(es) => {
            errors.extend(es);
            Err(errors)
        }
    }
}

/// The schedule in Quartz form (empty: the default).
fn normalize_schedule(schedule: &str) -> Result<String, FieldError> {
    let s = if schedule.trim().is_empty() {
        DEFAULT_SCHEDULE
    } else {
        schedule
    };
    schedule::to_quartz(s)
        .and_then(|q| schedule::parse(&q).map(|_| q))
        .map_err(|e| FieldError::new("schedule", e.0))
}

/// The schedule's time zone by its IANA name, as the tz database spells it (empty means
/// UTC).
pub fn normalize_time_zone(tz: &str) -> Result<String, FieldError> {
    if tz.trim().is_empty() {
        return Ok(DEFAULT_TIME_ZONE.into());
    }
    schedule::time_zone(tz)
        .map(|z| z.name().to_string())
        .map_err(|e| FieldError::new("schedule-time-zone", e.0))
}

/// The application id of `app-scope`, trimmed (empty: none). An id is Okta's `0oa`
/// and letters and digits; anything else (a label, a URL) is refused, since the id goes
/// into request paths.
pub fn normalize_app_scope(app: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(app) = app.map(str::trim).filter(|a| !a.is_empty()) else {
        return Ok(None);
    };
    let ok =
        app.len() <= 64 && app.starts_with("0oa") && app.chars().all(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(Some(app.to_string()))
    } else {
        Err(FieldError::new(
            "app-scope",
            format!(
                "`{}` is not an Okta application id (`0oa` and letters and digits, e.g. 0oa1b2c3d4EXAMPLE: Applications › the app › its URL or General tab)",
                crate::rules::quoted(app)
            ),
        ))
    }
}

/// The profile attributes copied as they are: valid names, trimmed, first kept.
fn attribute_names(names: &[String], errors: &mut Vec<FieldError>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for a in names.iter().map(|a| a.trim()) {
        if let Err(e) = crate::rules::check_attribute_name(a) {
            errors.push(FieldError::new("user-attributes", e));
        } else if !out.iter().any(|x| x == a) {
            out.push(a.to_string());
        }
    }
    out
}

/// A number setting within `1..=max`, 0 meaning its default.
fn ranged(field: &str, value: u32, default: u32, max: u32, unit: &str) -> Result<u32, FieldError> {
    match value {
        0 => Ok(default),
        v if v <= max => Ok(v),
        v => Err(FieldError::new(
            field,
            format!("{v} {unit} is out of range; use 1 to {max} (0 means the default, {default})"),
        )),
    }
}

/// The number settings, in order: full-sync hours, deep-reconcile days, member
/// concurrency, rate-limit percent (0 where refused).
fn numbers(c: &ConnectorConfig, errors: &mut Vec<FieldError>) -> [u32; 4] {
    [
        ranged(
            "full-sync-interval-hours",
            c.full_sync_interval_hours,
            DEFAULT_FULL_SYNC_HOURS,
            MAX_FULL_SYNC_HOURS,
            "hours",
        ),
        ranged(
            "deep-reconcile-days",
            c.deep_reconcile_days,
            DEFAULT_DEEP_RECONCILE_DAYS,
            MAX_DEEP_RECONCILE_DAYS,
            "days",
        ),
        ranged(
            "member-concurrency",
            c.member_concurrency,
            DEFAULT_MEMBER_CONCURRENCY,
            MAX_MEMBER_CONCURRENCY,
            "requests in flight",
        ),
        ranged(
            "rate-limit-percent",
            c.rate_limit_percent,
            DEFAULT_RATE_LIMIT_PERCENT,
            100,
            "%",
        ),
    ]
    .map(|r| {
        r.unwrap_or_else(|e| {
            errors.push(e);
            0
        })
    })
}

/// Refusals of the settings this version does not build, when not at their default.
fn unsupported_settings(c: &ConnectorConfig) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if c.change_feed {
        errors.push(crate::rules::unsupported(
            "change-feed",
            "the change feed (incremental syncs by the System Log)",
        ));
    }
    errors
}

/// Trimmed, non-empty, first occurrence kept.
fn dedup(list: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in list.iter().map(|v| v.trim()).filter(|v| !v.is_empty()) {
        if !out.iter().any(|o| o == v) {
            out.push(v.to_string());
        }
    }
    out
}

/// Characters a name may not hold, though not control characters: bidi overrides and
/// isolates (they make one name look like another) and zero-width ones (invisible).
fn invisible(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// The connector name as stored: trimmed and in Unicode NFC (a name typed on a Mac and
/// pasted from a web page are one name). It names its connector in URLs and in the
/// product's directory list, so `.`, `..`, and invisible or direction-changing
/// characters are refused.
fn normalize_name(name: &str) -> Result<String, FieldError> {
    use unicode_normalization::UnicodeNormalization;
    let name: String = name.trim().nfc().collect();
    let name = name.as_str();
    let err = |m: &str| Err(FieldError::new("name", m));
    if name.is_empty() {
        return err("the connector name is empty");
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(FieldError::new(
            "name",
            format!("the connector name is longer than {MAX_NAME_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return err("the connector name contains control characters");
    }
    if name == "." || name == ".." {
        return err("the connector name cannot be `.` or `..` (it names the connector in URLs)");
    }
    if let Some(c) = name.chars().find(|&c| invisible(c)) {
        return Err(FieldError::new(
            "name",
            format!(
                "the connector name contains the invisible or direction-changing character U+{:04X}",
                c as u32
            ),
        ));
    }
    Ok(name.to_string())
}

/// Okta's own domains: an org's domain is a subdomain of one of them (Okta's SDKs know
/// the same list), unless it is the org's custom URL domain.
pub const OKTA_DOMAINS: [&str; 7] = [
    "okta.com",
    "oktapreview.com",
    "okta-emea.com",
    "okta-gov.com",
    "okta.mil",
    "okta-miltest.com",
    "trex-govcloud.com",
];

/// `host` when it is a subdomain of one of Okta's domains, or the admin says it is the
/// org's custom URL domain. The credential goes to this host, so a typo or a look-alike
/// (`acme.okta.com.evil.com`) must not pass unnoticed.
fn okta_owned(host: String, custom_domain: bool) -> Result<String, FieldError> {
    let under_okta = OKTA_DOMAINS.iter().any(|d| {
        host.strip_suffix(d)
            .and_then(|org| org.strip_suffix('.'))
            .is_some_and(|org| !org.is_empty())
    });
    if under_okta || custom_domain {
        return Ok(host);
    }
    Err(FieldError::new(
        "okta-domain",
        format!(
            "`{host}` is not a domain of Okta's ({}); if it is your org's custom URL domain, turn on custom-domain",
            OKTA_DOMAINS.join(", ")
        ),
    ))
}

/// Normalize what an admin pastes as the Okta domain: `https://acme.okta.com/` and
/// ` ACME.okta.com ` become `acme.okta.com`.
pub fn normalize_domain(input: &str) -> Result<String, FieldError> {
    let err = |m: String| Err(FieldError::new("okta-domain", m));
    let raw = input.trim();
    let shown = quoted(raw);
    if raw.is_empty() {
        return err(
            "the Okta domain is empty; enter it without protocol, e.g. acme.okta.com".into(),
        );
    }
    let rest = match raw.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("https") => rest,
        Some((scheme, _)) => {
            return err(format!(
                "`{shown}` uses {}://; Okta is reached over https only, enter the domain alone, e.g. acme.okta.com",
                quoted(scheme)
            ));
        }
        None => raw,
    };
    let host = rest.strip_suffix('/').unwrap_or(rest);
    if host.contains(['/', '?', '#']) {
        return err(format!(
            "`{shown}` has a path or query; enter the domain alone, e.g. acme.okta.com"
        ));
    }
    if host.contains('@') {
        return err(format!(
            "`{shown}` contains user info (`@`); enter the domain alone"
        ));
    }
    if host.contains('{') || host.contains('}') {
        return err(format!(
            "`{shown}` is a placeholder; enter your org's domain"
        ));
    }
    if host.starts_with('[') || host.parse::<std::net::IpAddr>().is_ok() {
        return err(format!(
            "`{shown}` is an IP address; enter the Okta domain name"
        ));
    }
    if host.contains(':') {
        return err(format!(
            "`{shown}` has a port; Okta is reached on the https port, enter the domain alone"
        ));
    }
    if !host.is_ascii() {
        return err(format!(
            "`{shown}` has non-ASCII characters; enter the domain in its ASCII (punycode) form"
        ));
    }
    let host = host.to_ascii_lowercase();
    let labels: Vec<&str> = host.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if host.len() > 253 || labels.len() < 2 || !labels.iter().all(label_ok) {
        return err(format!("`{shown}` is not a valid domain name"));
    }
    if labels[0].ends_with("-admin") {
        let org = labels[0].trim_end_matches("-admin");
        let suggestion = std::iter::once(org)
            .chain(labels[1..].iter().copied())
            .collect::<Vec<_>>()
            .join(".");
        return err(format!(
            "`{host}` is the Admin Console host, not the API host; use {suggestion}"
        ));
    }
    if host.ends_with(".com.com") {
        return err(format!("`{host}` ends in .com.com; check for a typo"));
    }
    Ok(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(name: &str, domain: &str) -> ConnectorConfig {
        ConnectorConfig {
            name: name.into(),
            okta_domain: domain.into(),
            ..Default::default()
        }
    }

    fn first_error(c: ConnectorConfig) -> (String, String) {
        let e = configure(&c).unwrap_err().remove(0);
        (e.field, e.message)
    }

    #[test]
    fn domains_outside_oktas_need_the_custom_domain_switch() {
        for d in [
            "acme.okta.com",
            "dev-123456.oktapreview.com",
            "acme.okta-emea.com",
            "acme.okta-gov.com",
            "acme.okta.mil",
            "a.b.trex-govcloud.com",
        ] {
            assert_eq!(configure(&cfg("x", d)).unwrap().okta_domain, d);
        }
        for d in [
            "evil.com",
            "acme.okta.com.evil.com",
            "acmeokta.com",
            "okta.com",
            "login.example.com",
        ] {
            let (field, message) = first_error(cfg("x", d));
            assert_eq!(field, "okta-domain");
            assert_eq!(
                message,
                format!(
                    "`{d}` is not a domain of Okta's (okta.com, oktapreview.com, okta-emea.com, okta-gov.com, okta.mil, okta-miltest.com, trex-govcloud.com); if it is your org's custom URL domain, turn on custom-domain"
                )
            );
        }
        let custom = ConnectorConfig {
            custom_domain: true,
            ..cfg("x", "https://Login.Example.com/")
        };
        assert_eq!(configure(&custom).unwrap().okta_domain, "login.example.com");
        // The switch does not lift the other rules.
        let admin = ConnectorConfig {
            custom_domain: true,
            ..cfg("x", "acme-admin.okta.com")
        };
        assert!(first_error(admin).1.contains("Admin Console host"));
    }

    #[test]
    fn normalizes_pasted_urls_and_names() {
        let c = configure(&cfg("  Okta prod ", "https://ACME.okta.com/")).unwrap();
        assert_eq!(c.okta_domain, "acme.okta.com");
        assert_eq!(c.name, "Okta prod");
        assert_eq!(c.schedule, DEFAULT_SCHEDULE);
        for d in [
            "acme.oktapreview.com",
            "dev-123456.okta.com",
            "login.example.com",
            "acme.okta-emea.com",
        ] {
            assert_eq!(normalize_domain(d).unwrap(), d);
        }
    }

    #[test]
    fn names_are_nfc_and_never_dots_or_invisible() {
        // "Zürich" typed with a combining diaeresis (NFD) is the NFC name.
        let nfd = "Zu\u{0308}rich";
        assert_eq!(normalize_name(nfd).unwrap(), "Z\u{00FC}rich");
        for (name, says) in [
            (
                ".",
                "the connector name cannot be `.` or `..` (it names the connector in URLs)",
            ),
            (
                "..",
                "the connector name cannot be `.` or `..` (it names the connector in URLs)",
            ),
            (
                "Okta\u{202E}dorp",
                "the connector name contains the invisible or direction-changing character U+202E",
            ),
            (
                "Ok\u{200B}ta",
                "the connector name contains the invisible or direction-changing character U+200B",
            ),
            (
                "\u{FEFF}Okta",
                "the connector name contains the invisible or direction-changing character U+FEFF",
            ),
        ] {
            let e = normalize_name(name).unwrap_err();
            assert_eq!(
                (e.field.as_str(), e.message.as_str()),
                ("name", says),
                "{name:?}"
            );
        }
        assert_eq!(normalize_name("a.b").unwrap(), "a.b");
    }

    #[test]
    fn bad_configs_name_their_field() {
        assert_eq!(first_error(cfg("", "acme.okta.com")).0, "name");
        for (domain, needle) in [
            ("http://acme.okta.com", "https only"),
            ("https://acme.okta.com/admin", "path or query"),
            ("acme.okta.com?x=1", "path or query"),
            ("acme-admin.okta.com", "use acme.okta.com"),
            (
                "https://acme-admin.oktapreview.com/",
                "use acme.oktapreview.com",
            ),
            ("10.0.0.1", "IP address"),
            ("[::1]", "IP address"),
            ("acme.okta.com:8443", "port"),
            ("", "empty"),
            ("{yourOktaDomain}", "placeholder"),
            ("acme.okta.com.com", ".com.com"),
            ("localhost", "not a valid domain"),
            ("bad_domain.okta.com", "not a valid domain"),
            ("exämple.okta.com", "punycode"),
        ] {
            let (field, message) = first_error(cfg("n", domain));
            assert_eq!(field, "okta-domain", "{domain}");
            assert!(message.contains(needle), "{domain}: {message}");
        }
    }

    #[test]
    fn messages_quote_at_most_200_characters_of_a_value() {
        let long = format!("http://{}", "a".repeat(10_000));
        let (_, message) = first_error(cfg("n", &long));
        assert!(message.len() < 400, "{} characters", message.len());
        let mut c = cfg("n", "acme.okta.com");
        c.schedule = "0 ".repeat(5_000);
        let e = configure(&c).unwrap_err();
        assert_eq!(e[0].message, "the schedule is longer than 200 characters");
    }

    #[test]
    fn reports_every_bad_field() {
        let mut c = cfg("", "http://x");
        c.schedule = "0 99 * * * ?".into();
        c.user_attributes = vec!["department".into(), "bad attr".into()];
        let fields: Vec<String> = configure(&c)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            ["name", "okta-domain", "schedule", "user-attributes"]
        );
    }
}
