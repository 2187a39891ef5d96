//! The Okta connector form of the admin page: its values (as typed, so that a refused
//! form comes back as it was) and their parsing into a [`ConnectorPatch`]. Its page is
//! [`super::form_page`].

use super::views::Notice;
use crate::harness::ConnectorView;
use crate::model::{ConnectorPatch, ConnectorSettings, REDACTED, TokenText, UnknownAtLogin};
use crate::product::db::runs::Run;
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
    /// A new connector's form, showing `defaults` (the plugin's).
    pub fn new_connector(defaults: &ConnectorSettings) -> Self {
        ConnectorForm::from_settings(None, defaults)
    }

    /// A stored connector's form.
    pub fn from_view(v: &ConnectorView) -> Self {
        ConnectorForm {
            next_runs: v.next_runs.clone(),
            ..ConnectorForm::from_settings(Some(v.settings.name.clone()), &v.settings)
        }
    }

    fn from_settings(existing: Option<String>, c: &ConnectorSettings) -> Self {
        ConnectorForm {
            existing,
            name: c.name.clone(),
            okta_domain: c.okta_domain.clone(),
            schedule: c.schedule.clone(),
            schedule_enabled: c.schedule_enabled,
            include_built_in_groups: c.include_built_in_groups,
            user_attributes: c.user_attributes.join(", "),
            full_sync_interval_hours: c.full_sync_interval_hours.to_string(),
            deny_unknown_at_login: c.unknown_at_login == UnknownAtLogin::Deny,
            member_concurrency: c.member_concurrency.to_string(),
            advanced: advanced_json(c),
            tab: TAB_CONNECTOR.into(),
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
    pub fn token(f: &HashMap<String, String>) -> Option<TokenText> {
        f.get("api_token")
            .map(|t| t.trim())
            .filter(|t| !t.is_empty() && *t != REDACTED)
            .map(|t| TokenText(t.to_string()))
    }

    /// The settings to save: every field of the form (an empty number keeps its value),
    /// and the users, groups and lifecycle of the advanced JSON; or the fields that do
    /// not parse.
    pub fn to_patch(
        &self,
        token: Option<TokenText>,
    ) -> Result<ConnectorPatch, Vec<(String, String)>> {
        let mut errors = Vec::new();
        let mut number = |field: &str, label: &str, s: &str| -> Option<u32> {
            if s.is_empty() {
                return None;
            }
            s.parse().map(Some).unwrap_or_else(|_| {
                errors.push((field.into(), format!("{label} must be a whole number")));
                None
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
        let advanced = parse_advanced(&self.advanced).unwrap_or_else(|e| {
            errors.push(("advanced".into(), e));
            ConnectorPatch::default()
        });
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ConnectorPatch {
            name: Some(self.name.clone()),
            okta_domain: Some(self.okta_domain.clone()),
            schedule: Some(self.schedule.clone()),
            schedule_enabled: Some(self.schedule_enabled),
            include_built_in_groups: Some(self.include_built_in_groups),
            user_attributes: Some(
                self.user_attributes
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
            ),
            full_sync_interval_hours: full,
            unknown_at_login: Some(if self.deny_unknown_at_login {
                UnknownAtLogin::Deny
            } else {
                UnknownAtLogin::Keep
            }),
            member_concurrency: members,
            api_token: token,
            ..advanced
        })
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

/// The user, group and lifecycle settings as the form's JSON (camelCase, as the REST
/// API and the CLI's `--settings` file).
fn advanced_json(c: &ConnectorSettings) -> String {
    let v = serde_json::json!({"users": c.users, "groups": c.groups, "lifecycle": c.lifecycle});
    serde_json::to_string_pretty(&v).expect("settings serialize")
}

/// The advanced JSON as a patch of the users, groups and lifecycle (empty: no change).
fn parse_advanced(text: &str) -> Result<ConnectorPatch, String> {
    if text.trim().is_empty() {
        return Ok(ConnectorPatch::default());
    }
    let patch: ConnectorPatch = serde_json::from_str(text)
        .map_err(|e| format!("The advanced settings are not valid: {e}"))?;
    let sections = ConnectorPatch {
        users: patch.users.clone(),
        groups: patch.groups.clone(),
        lifecycle: patch.lifecycle.clone(),
        ..Default::default()
    };
    if sections != patch {
        return Err(
            "The advanced settings hold only `users`, `groups` and `lifecycle`; set the others in their fields".into(),
        );
    }
    Ok(patch)
}

/// Whether a plugin field error is about the user, group or lifecycle settings.
pub(super) fn is_advanced(field: &str) -> bool {
    ["users", "groups", "lifecycle"]
        .iter()
        .any(|p| field.starts_with(p))
}
