//! The Okta connector form of the admin page: its values (as typed, so that a refused
//! form comes back as it was) and their parsing into a [`ConnectorInput`]. Its page is
//! [`super::form_page`].

use super::views::Notice;
use crate::db::runs::Run;
use crate::harness::{ConnectorInput, ConnectorView};
use crate::transfer::REDACTED;
use std::collections::HashMap;

/// The connector tab.
pub const TAB_CONNECTOR: &str = "tab-connector";
/// The Sync Settings tab.
pub const TAB_SYNC: &str = "tab-sync";

/// The form's values.
#[derive(Clone, Debug, Default)]
pub struct ConnectorForm {
    /// The stored connector's name, when editing.
    pub existing: Option<String>,
    /// Name.
    pub name: String,
    /// Okta domain.
    pub okta_domain: String,
    /// Cron schedule or preset.
    pub schedule: String,
    /// Scheduled sync on.
    pub schedule_enabled: bool,
    /// Sync built-in groups.
    pub include_built_in_groups: bool,
    /// Comma-separated attributes.
    pub user_attributes: String,
    /// Hours between full syncs, as typed.
    pub full_sync_interval_hours: String,
    /// Deny unknown logins.
    pub deny_unknown_at_login: bool,
    /// Member requests in flight, as typed.
    pub member_concurrency: String,
    /// User, group and lifecycle settings as JSON (the CLI's `--settings` file format);
    /// empty: the defaults (new connector) or the saved ones (edit).
    pub advanced: String,
    /// (field, message): `okta-domain` style names, or empty for the whole form.
    pub errors: Vec<(String, String)>,
    /// The tab shown.
    pub tab: String,
    /// Next run times of the saved schedule.
    pub next_runs: Vec<i64>,
    /// Recent runs of the connector.
    pub runs: Vec<Run>,
    /// A message on top: (kind, text).
    pub notice: Option<Notice>,
}

impl ConnectorForm {
    /// A new connector's form, with the defaults.
    pub fn new_connector() -> Self {
        ConnectorForm {
            schedule: "0 0 * * * ?".into(),
            full_sync_interval_hours: "24".into(),
            member_concurrency: "4".into(),
            tab: TAB_CONNECTOR.into(),
            ..Default::default()
        }
    }

    /// A stored connector's form.
    pub fn from_view(v: &ConnectorView) -> Self {
        let c = &v.config;
        ConnectorForm {
            existing: Some(c.name.clone()),
            name: c.name.clone(),
            okta_domain: c.okta_domain.clone(),
            schedule: c.schedule.clone(),
            schedule_enabled: c.schedule_enabled,
            include_built_in_groups: c.include_built_in_groups,
            user_attributes: c.user_attributes.join(", "),
            full_sync_interval_hours: c.full_sync_interval_hours.to_string(),
            deny_unknown_at_login: c.unknown_at_login == crate::bindings::wit::UnknownAtLogin::Deny,
            member_concurrency: c.member_concurrency.to_string(),
            advanced: advanced_json(c),
            tab: TAB_CONNECTOR.into(),
            next_runs: v.next_runs.clone(),
            ..Default::default()
        }
    }

    /// The values of a submitted form.
    pub fn from_fields(f: &HashMap<String, String>, existing: Option<String>) -> Self {
        let text = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
        let checked = |k: &str| f.get(k).is_some_and(|v| v == "on" || v == "true");
        ConnectorForm {
            existing,
            name: text("name"),
            okta_domain: text("okta_domain"),
            schedule: text("schedule"),
            schedule_enabled: checked("schedule_enabled"),
            include_built_in_groups: checked("include_built_in_groups"),
            user_attributes: text("user_attributes"),
            full_sync_interval_hours: text("full_sync_interval_hours"),
            deny_unknown_at_login: checked("deny_unknown_at_login"),
            member_concurrency: text("member_concurrency"),
            advanced: text("advanced"),
            tab: match text("tab").as_str() {
                TAB_SYNC => TAB_SYNC.into(),
                _ => TAB_CONNECTOR.into(),
            },
            ..Default::default()
        }
    }

    /// The token typed in the form: none if empty or the mask (the saved one stays).
    pub fn token(f: &HashMap<String, String>) -> Option<String> {
        f.get("api_token")
            .map(|t| t.trim())
            .filter(|t| !t.is_empty() && *t != REDACTED)
            .map(str::to_string)
    }

    /// The settings to save: the form's fields over `base` (the stored connector's
    /// settings, so that those the form does not show are kept), or the fields that are
    /// not numbers.
    pub fn to_input(
        &self,
        token: Option<String>,
        base: ConnectorInput,
    ) -> Result<ConnectorInput, Vec<(String, String)>> {
        let mut errors = Vec::new();
        let mut number = |field: &str, label: &str, s: &str| -> u32 {
            if s.is_empty() {
                return 0;
            }
            s.parse().unwrap_or_else(|_| {
                errors.push((field.into(), format!("{label} must be a whole number")));
                0
            })
        };
        let full = number(
            "full-sync-interval-hours",
            "The full-sync interval",
            &self.full_sync_interval_hours,
        );
        let members = number(
            "member-concurrency",
            "The number of requests",
            &self.member_concurrency,
        );
        let advanced = if self.advanced.is_empty() {
            Advanced::default()
        } else {
            serde_json::from_str(&self.advanced).unwrap_or_else(|e| {
                errors.push((
                    "advanced".into(),
                    format!("The advanced settings are not valid: {e}"),
                ));
                Advanced::default()
            })
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        // Over `base`: settings the form does not show keep their value.
        let mut input = base;
        input.name = self.name.clone();
        input.okta_domain = self.okta_domain.clone();
        input.schedule = self.schedule.clone();
        input.schedule_enabled = self.schedule_enabled;
        input.include_built_in_groups = self.include_built_in_groups;
        input.user_attributes = self
            .user_attributes
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        input.full_sync_interval_hours = full;
        input.deny_unknown_at_login = self.deny_unknown_at_login;
        input.member_concurrency = members;
        input.api_token = token;
        input.users = advanced.users;
        input.groups = advanced.groups;
        input.lifecycle = advanced.lifecycle;
        Ok(input)
    }

    /// Show the tab of the first field error.
    pub fn set_errors(&mut self, errors: Vec<(String, String)>) {
        let sync_fields = [
            "schedule",
            "schedule-enabled",
            "include-built-in-groups",
            "user-attributes",
            "full-sync-interval-hours",
            "member-concurrency",
            "unknown-at-login",
            "advanced",
        ];
        if let Some((f, _)) = errors.first() {
            self.tab = if sync_fields.contains(&f.as_str()) || is_advanced(f) {
                TAB_SYNC.into()
            } else {
                TAB_CONNECTOR.into()
            };
        }
        self.errors = errors;
    }
}

/// The user, group and lifecycle settings as the form's JSON.
#[derive(Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Advanced {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    users: Option<crate::bindings::wit::UserSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    groups: Option<crate::bindings::wit::GroupSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lifecycle: Option<crate::bindings::wit::LifecycleSettings>,
}

fn advanced_json(c: &crate::bindings::wit::ConnectorConfig) -> String {
    let a = Advanced {
        users: c.users.clone(),
        groups: c.groups.clone(),
        lifecycle: c.lifecycle,
    };
    if a.users.is_none() && a.groups.is_none() && a.lifecycle.is_none() {
        return String::new();
    }
    serde_json::to_string_pretty(&a).expect("settings serialize")
}

/// Whether a plugin field error is about the user, group or lifecycle settings.
pub(super) fn is_advanced(field: &str) -> bool {
    ["users", "groups", "lifecycle"]
        .iter()
        .any(|p| field.starts_with(p))
}
