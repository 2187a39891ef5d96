//! The documents the database stores, each with a `version`, apart from the generated WIT
//! types; and the upgrade of what earlier versions stored.
//!
//! Version 1 (no `version` key) is what releases on WIT `usersync:okta@0.1.0` stored:
//! the generated bindings serialized by serde, so snake_case keys and `PascalCase` enum
//! values (`"missing_users": "Disable"`), sections `null` for "the defaults", and reports
//! without the fields added later (`seats_denied`). Version 2 is [`ConnectorSettings`]
//! and [`SyncReport`] as the REST API shows them.

use super::report::SyncReport;
use super::run::FailureKind;
use super::settings::ConnectorSettings;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The version this host writes.
pub const VERSION: u32 = 2;

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

/// A report as stored.
pub fn report_json(report: &SyncReport) -> String {
    serde_json::to_string(&ReportDoc {
        version: VERSION,
        report: report.clone(),
    })
    .expect("reports serialize")
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
/// are current. A version-1 section left `null` gets `defaults`' (the plugin's).
pub fn upgrade_settings(
    json: &str,
    defaults: &mut dyn FnMut() -> Option<ConnectorSettings>,
) -> Result<Option<String>, StoredError> {
    let v: Value = serde_json::from_str(json).map_err(invalid("settings"))?;
    if version("settings", &v)?.is_some() {
        return Ok(None);
    }
    let mut v = legacy(v);
    for section in ["users", "groups", "lifecycle"] {
        if v[section].is_null()
            && let Some(d) = defaults()
        {
            let d = serde_json::to_value(d).expect("settings serialize");
            v[section] = d[section].clone();
        }
    }
    let settings: ConnectorSettings = serde_json::from_value(v).map_err(invalid("settings"))?;
    Ok(Some(settings_json(&settings)))
}

/// The current document for a stored report of an earlier version, or `None`.
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

/// A connector of a version-1 export (`usersyncExport: 1`) as a current one: nested
/// sections in snake_case, enum values in PascalCase, `denyUnknownAtLogin` a boolean,
/// and `null` for "unchanged".
pub fn upgrade_exported_connector(v: Value) -> Value {
    let mut v = legacy(v);
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
        assert_eq!(s.users.username_pattern, "(.*)@.*");
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
        assert!(upgrade_report(r#"{"version": 3}"#).is_err());
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
