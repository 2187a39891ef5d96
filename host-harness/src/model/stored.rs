//! The documents the database stores, each with a `version`, apart from the generated WIT
//! types; and the upgrade of what earlier versions stored.
//!
//! Version 1 (no `version` key) is what releases on WIT `usersync:okta@0.1.0` stored:
//! the generated bindings serialized by serde, so snake_case keys and `PascalCase` enum
//! values (`"missing_users": "Disable"`), sections `null` for "the defaults", and reports
//! without the fields added later (`seats_denied`). Version 2 is [`ConnectorSettings`]
//! and [`SyncReport`] as the REST API showed them on 0.1.0. Version 3 (WIT 0.2.0):
//! users' username, display name and email are field mappings (`{template, pattern,
//! replacement, onNoMatch}`), with new settings (time zone, deep reconcile, rate-limit
//! share, change feed, app scope, attributes, inactivity); a report no longer holds its
//! changes (they are the run's `run_changes` rows, filled in when a run is read).
//! Version 4: settings name their `credential` (an API token, or an OAuth service app);
//! what earlier versions stored authenticated with an API token. Version 5: settings say
//! whether the Okta domain is the org's custom URL domain (`customDomain`; earlier
//! versions' domains were not checked against Okta's; they read as `false`, so a custom
//! domain stored by them fails its syncs, naming `custom-domain`, until the admin turns
//! it on: the switch is the admin's explicit word, never inferred).

use super::report::SyncReport;
use super::run::FailureKind;
use super::settings::ConnectorSettings;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The version this host writes.
pub const VERSION: u32 = 5;

/// A stored document that this host cannot read.
#[derive(Debug, thiserror::Error)]
pub enum StoredError {
    /// Not JSON of the expected shape.
    #[error("the stored {what} is not valid: {source}")]
    Invalid {
        /// `settings` or `report`.
        what: &'static str,
        /// Why.
        source: serde_json::Error,
    },
    /// Written by a newer version.
    #[error(
        "the stored {what} has version {version}; this version of usersync reads up to {VERSION}"
    )]
    Newer {
        /// `settings` or `report`.
        what: &'static str,
        /// Its version.
        version: u64,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsDoc {
    version: u32,
    settings: ConnectorSettings,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportDoc {
    version: u32,
    report: SyncReport,
}

/// Settings as stored.
pub fn settings_json(settings: &ConnectorSettings) -> String {
    serde_json::to_string(&SettingsDoc {
        version: VERSION,
        settings: settings.clone(),
    })
    .expect("settings serialize")
}

/// A report as stored, without its changes (stored apart, in `run_changes`).
pub fn report_json(report: &SyncReport) -> String {
    let mut v = serde_json::to_value(ReportDoc {
        version: VERSION,
        report: report.clone(),
    })
    .expect("reports serialize");
    if let Some(r) = v["report"].as_object_mut() {
        r.remove("changes");
    }
    v.to_string()
}

fn version(what: &'static str, v: &Value) -> Result<Option<u64>, StoredError> {
    match v.get("version").and_then(Value::as_u64) {
        Some(n) if n > u64::from(VERSION) => Err(StoredError::Newer { what, version: n }),
        n => Ok(n),
    }
}

fn invalid(what: &'static str) -> impl Fn(serde_json::Error) -> StoredError {
    move |source| StoredError::Invalid { what, source }
}

/// A stored document of the current version.
fn read<D: serde::de::DeserializeOwned>(what: &'static str, json: &str) -> Result<D, StoredError> {
    let v: Value = serde_json::from_str(json).map_err(invalid(what))?;
    version(what, &v)?;
    serde_json::from_value(v).map_err(invalid(what))
}

/// Stored settings of the current version.
pub fn read_settings(json: &str) -> Result<ConnectorSettings, StoredError> {
    read::<SettingsDoc>("settings", json).map(|d| d.settings)
}

/// A stored report of the current version.
pub fn read_report(json: &str) -> Result<SyncReport, StoredError> {
    read::<ReportDoc>("report", json).map(|d| d.report)
}

/// The current document for stored settings of an earlier version, or `None` if they
/// are current. A version-1 section left `null` gets `defaults`' (the plugin's), and so
/// do the settings added since (with WIT 0.2.0's documented defaults if the plugin gives
/// none).
pub fn upgrade_settings(
    json: &str,
    defaults: &mut dyn FnMut() -> Option<ConnectorSettings>,
) -> Result<Option<String>, StoredError> {
    let v: Value = serde_json::from_str(json).map_err(invalid("settings"))?;
    let mut v = match version("settings", &v)? {
        None => legacy(v),
        Some(n) if n < u64::from(VERSION) => v["settings"].clone(),
        Some(_) => return Ok(None),
    };
    let defaults = defaults().map(|d| serde_json::to_value(d).expect("settings serialize"));
    for section in ["users", "groups", "lifecycle"] {
        if v[section].is_null()
            && let Some(d) = &defaults
        {
            v[section] = d[section].clone();
        }
    }
    if let Some(users) = v.get_mut("users").and_then(Value::as_object_mut) {
        upgrade_users(users, true);
    }
    let added = [
        ("", "scheduleTimeZone", Value::from("UTC")),
        ("", "deepReconcileDays", Value::from(7)),
        ("", "rateLimitPercent", Value::from(50)),
        ("", "changeFeed", Value::from(false)),
        ("", "customDomain", Value::from(false)),
        ("", "appScope", Value::Null),
        ("users", "attributes", Value::Array(vec![])),
        ("lifecycle", "inactivity", Value::Null),
        ("", "credential", serde_json::json!({"type": "api-token"})),
    ];
    for (section, key, fallback) in added {
        let value = defaults
            .as_ref()
            .map(|d| {
                if section.is_empty() {
                    &d[key]
                } else {
                    &d[section][key]
                }
            })
            .filter(|d| !d.is_null() || fallback.is_null())
            .cloned()
            .unwrap_or(fallback);
        let target = if section.is_empty() {
            v.as_object_mut()
        } else {
            v.get_mut(section).and_then(Value::as_object_mut)
        };
        if let Some(o) = target {
            o.entry(key).or_insert(value);
        }
    }
    let settings: ConnectorSettings = serde_json::from_value(v).map_err(invalid("settings"))?;
    Ok(Some(settings_json(&settings)))
}

/// Users' settings of versions 1 and 2 (camelCase already) as version 3's: the
/// username from `usernameAttribute` X with `usernamePattern`/`usernameReplacement`
/// (`{template: "{X}", pattern, replacement, onNoMatch: use-raw}`), the display-name
/// template and `emailAttribute` X (`{template: "{X}"}`) as mappings. `full`: fill every
/// field of a mapping (stored settings); else only what the old fields said (a patch).
pub fn upgrade_users(users: &mut Map<String, Value>, full: bool) {
    let mapping = |template: Option<Value>, pattern: Option<Value>, replacement: Option<Value>| {
        let mut m = Map::new();
        let or_empty = |v: Option<Value>| v.or_else(|| full.then(|| Value::from("")));
        if let Some(t) = or_empty(template) {
            m.insert("template".into(), t);
        }
        if let Some(p) = or_empty(pattern) {
            m.insert("pattern".into(), p);
        }
        if let Some(r) = or_empty(replacement) {
            m.insert("replacement".into(), r);
        }
        if full || !m.is_empty() {
            m.insert("onNoMatch".into(), "use-raw".into());
        }
        Value::Object(m)
    };
    let attribute =
        |v: Option<Value>| v.and_then(|v| v.as_str().map(|a| format!("{{{a}}}").into()));
    let username_attribute = attribute(users.remove("usernameAttribute"));
    let pattern = users.remove("usernamePattern");
    let replacement = users.remove("usernameReplacement");
    if username_attribute.is_some() || pattern.is_some() || replacement.is_some() {
        users.insert(
            "username".into(),
            mapping(username_attribute, pattern, replacement),
        );
    }
    if let Some(Value::String(t)) = users.get("displayName").cloned() {
        users.insert("displayName".into(), mapping(Some(t.into()), None, None));
    }
    if let Some(t) = attribute(users.remove("emailAttribute")) {
        users.insert("email".into(), mapping(Some(t), None, None));
    }
}

/// The current document for a stored report of version 1, or `None` (version 2 reads
/// as 3: the fields added since have defaults, and the migration to schema 4 took its
/// changes out to `run_changes`).
pub fn upgrade_report(json: &str) -> Result<Option<String>, StoredError> {
    let v: Value = serde_json::from_str(json).map_err(invalid("report"))?;
    if version("report", &v)?.is_some() {
        return Ok(None);
    }
    let mut v = legacy(v);
    // Reports stored before licence seats existed.
    if let Some(o) = v.as_object_mut() {
        o.entry("seatsDenied")
            .or_insert_with(|| Value::Array(vec![]));
    }
    let report: SyncReport = serde_json::from_value(v).map_err(invalid("report"))?;
    Ok(Some(report_json(&report)))
}

/// The failure kind of a run failed before runs recorded one, from its error: the
/// sentences version-1 hosts wrote (`HarnessError`'s and the interrupted run's). Only
/// for upgrading those rows; new runs store their kind.
pub fn legacy_failure_kind(error: &str) -> FailureKind {
    const PREFIXES: [(&str, FailureKind); 8] = [
        ("the mass-deactivation guard", FailureKind::Guard),
        ("Okta request", FailureKind::Okta),
        ("the user store failed", FailureKind::Store),
        ("database:", FailureKind::Store),
        ("stopped for security", FailureKind::Security),
        ("invalid connector settings", FailureKind::InvalidSettings),
        ("interrupted", FailureKind::Interrupted),
        (
            "the sync stopped before it finished",
            FailureKind::Interrupted,
        ),
    ];
    PREFIXES
        .iter()
        .find(|(p, _)| error.starts_with(p))
        .map_or(FailureKind::Plugin, |(_, k)| *k)
}

/// A connector of a version-2 export (`usersyncExport: 2`) as a current one: users'
/// username, display name and email as mappings.
pub fn upgrade_exported_connector_v2(mut v: Value) -> Value {
    if let Some(users) = v.get_mut("users").and_then(Value::as_object_mut) {
        upgrade_users(users, false);
    }
    v
}

/// A connector of a version-1 export (`usersyncExport: 1`) as a current one: nested
/// sections in snake_case, enum values in PascalCase, `denyUnknownAtLogin` a boolean,
/// and `null` for "unchanged"; then as version 2's.
pub fn upgrade_exported_connector(v: Value) -> Value {
    let mut v = upgrade_exported_connector_v2(legacy(v));
    if let Some(o) = v.as_object_mut() {
        if let Some(deny) = o.remove("denyUnknownAtLogin") {
            let value = match deny {
                Value::Bool(true) => "deny".into(),
                Value::Bool(false) => "keep".into(),
                other => other,
            };
            o.insert("unknownAtLogin".into(), value);
        }
        o.retain(|_, v| !v.is_null());
    }
    v
}

/// Keys in camelCase and the values of the enum-valued keys in kebab-case.
fn legacy(v: Value) -> Value {
    const ENUM_KEYS: [&str; 5] = [
        "unknownAtLogin",
        "migrate",
        "missingUsers",
        "mode",
        "action",
    ];
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let k = camel_case(&k);
                    let v = match v {
                        Value::String(s) if ENUM_KEYS.contains(&k.as_str()) => {
                            Value::String(kebab_case(&s))
                        }
                        v => legacy(v),
                    };
                    (k, v)
                })
                .collect::<Map<_, _>>(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(legacy).collect()),
        v => v,
    }
}

/// `okta-domain` or `okta_domain` → `oktaDomain`.
pub fn camel_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut upper = false;
    for ch in s.chars() {
        if ch == '-' || ch == '_' {
            upper = true;
        } else if upper {
            out.extend(ch.to_uppercase());
            upper = false;
        } else {
            out.push(ch);
        }
    }
    out
}

/// `ByUsernameOrEmail` → `by-username-or-email`.
fn kebab_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for (i, ch) in s.chars().enumerate() {
        if ch.is_uppercase() && i > 0 {
            out.push('-');
        }
        out.extend(ch.to_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn legacy_config(users: Value) -> String {
        json!({
            "name": "Acme", "okta_domain": "acme.okta.com", "schedule": "0 0 * * * ?",
            "schedule_enabled": true, "include_built_in_groups": false,
            "user_attributes": ["department"], "full_sync_interval_hours": 12,
            "unknown_at_login": "Deny", "member_concurrency": 6, "users": users,
            "groups": {"types": ["OKTA_GROUP"], "include_patterns": [], "exclude_patterns": ["^x"],
                "required": [], "prefix": "okta-", "suffix": "", "pattern": "", "replacement": "",
                "default_groups": null},
            "lifecycle": {"missing_users": "Delete", "remove_memberships_of_missing": true,
                "guard_percent": 30, "guard_min_users": 2},
        })
        .to_string()
    }

    fn users() -> Value {
        json!({"import_users": true, "update_users": true, "sync_status": true,
            "create_staged": false, "username_attribute": "email", "username_pattern": "(.*)@.*",
            "username_replacement": "$1", "lowercase_username": true,
            "display_name": "{displayName}", "email_attribute": "email",
            "migrate": "ByUsernameOrEmail"})
    }

    #[test]
    fn version_one_settings_upgrade_with_every_value() {
        let up = upgrade_settings(&legacy_config(users()), &mut || None)
            .unwrap()
            .unwrap();
        let s = read_settings(&up).unwrap();
        assert_eq!(s.okta_domain, "acme.okta.com");
        assert_eq!(
            s.unknown_at_login,
            super::super::settings::UnknownAtLogin::Deny
        );
        assert_eq!(s.users.username.template, "{email}");
        assert_eq!(s.users.username.pattern, "(.*)@.*");
        assert_eq!(s.users.username.replacement, "$1");
        assert_eq!(s.users.display_name.template, "{displayName}");
        assert_eq!(s.users.email.template, "{email}");
        assert_eq!(s.schedule_time_zone, "UTC");
        assert_eq!(
            s.users.migrate,
            super::super::settings::MigrateExisting::ByUsernameOrEmail
        );
        assert_eq!(s.groups.exclude_patterns, ["^x"]);
        assert_eq!(s.groups.default_groups, None);
        assert_eq!(
            s.lifecycle.missing_users,
            super::super::settings::MissingUsers::Delete
        );
        assert_eq!(s.lifecycle.guard_percent, 30);
        assert_eq!(
            upgrade_settings(&up, &mut || None).unwrap(),
            None,
            "current stays"
        );
    }

    #[test]
    fn a_null_section_takes_the_defaults_and_without_them_fails() {
        assert!(upgrade_settings(&legacy_config(Value::Null), &mut || None).is_err());
        let defaults = read_settings(
            &upgrade_settings(&legacy_config(users()), &mut || None)
                .unwrap()
                .unwrap(),
        )
        .unwrap();
        let up = upgrade_settings(&legacy_config(Value::Null), &mut || Some(defaults.clone()))
            .unwrap()
            .unwrap();
        assert_eq!(read_settings(&up).unwrap().users, defaults.users);
    }

    #[test]
    fn newer_documents_are_refused_naming_the_version() {
        let e = read_settings(r#"{"version": 9, "settings": {}}"#).unwrap_err();
        assert!(e.to_string().contains("version 9"), "{e}");
        assert!(upgrade_report(r#"{"version": 6}"#).is_err());
    }

    #[test]
    fn guard_refusals_of_version_one_are_recognised() {
        assert_eq!(
            legacy_failure_kind("the mass-deactivation guard stopped the sync: …"),
            FailureKind::Guard
        );
        assert_eq!(
            legacy_failure_kind("interrupted: the process stopped"),
            FailureKind::Interrupted
        );
        assert_eq!(kebab_case("ByUsernameOrEmail"), "by-username-or-email");
        assert_eq!(camel_case("seats_denied"), "seatsDenied");
    }
}
