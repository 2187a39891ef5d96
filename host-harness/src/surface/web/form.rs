//! The Okta connector form of the admin page: its values (as typed, so that a refused
//! form comes back as it was) and their parsing into a [`ConnectorPatch`]. Its page is
//! [`super::form_page`].

use super::form_sections::{Sections, number};
use super::views::Notice;
use crate::harness::ConnectorView;
use crate::model::{
    ConnectorPatch, ConnectorSettings, Credential, REDACTED, TokenText, UnknownAtLogin,
};
use crate::product::db::runs::Run;
use std::collections::HashMap;

/// The credential types of the form's `auth` field.
pub const AUTH_TOKEN: &str = "api-token";
/// An OAuth service app.
pub const AUTH_APP: &str = "oauth-service-app";

/// The secrets a submitted form holds (masked in `Debug`).
#[derive(Clone, Debug, Default)]
pub struct Secrets {
    /// The API token typed.
    pub api_token: Option<TokenText>,
    /// The private key pasted.
    pub private_key: Option<TokenText>,
}

/// The Connection tab.
pub const TAB_CONNECTOR: &str = "tab-connector";
/// The Schedule tab.
pub const TAB_SYNC: &str = "tab-sync";
/// The User settings tab.
pub const TAB_USERS: &str = "tab-users";
/// The Group settings tab.
pub const TAB_GROUPS: &str = "tab-groups";
/// The Cleanup tab.
pub const TAB_CLEANUP: &str = "tab-cleanup";
/// The Advanced tab (performance, and the settings as JSON).
pub const TAB_ADVANCED: &str = "tab-advanced";

/// The tabs, in order, with their labels.
pub const TABS: [(&str, &str); 6] = [
    (TAB_CONNECTOR, "Connection"),
    (TAB_SYNC, "Schedule"),
    (TAB_USERS, "User settings"),
    (TAB_GROUPS, "Group settings"),
    (TAB_CLEANUP, "Cleanup"),
    (TAB_ADVANCED, "Advanced"),
];

/// The tab of a setting's field (a form error's): by the setting's path.
pub fn tab_of(field: &str) -> &'static str {
    let top = field.split(['.', '[']).next().unwrap_or_default();
    match top {
        "users" | "user-attributes" | "unknown-at-login" => TAB_USERS,
        "groups" | "include-built-in-groups" => TAB_GROUPS,
        "lifecycle" => TAB_CLEANUP,
        "schedule" | "schedule-time-zone" | "schedule-enabled" | "change-feed" => TAB_SYNC,
        "full-sync-interval-hours"
        | "member-concurrency"
        | "rate-limit-percent"
        | "deep-reconcile-days"
        | "advanced" => TAB_ADVANCED,
        _ => TAB_CONNECTOR,
    }
}

/// The form's values.
#[derive(Clone, Debug, Default)]
pub struct ConnectorForm {
    /// The stored connector's name, when editing.
    pub existing: Option<String>,
    /// Name.
    pub name: String,
    /// Okta domain.
    pub okta_domain: String,
    /// The domain is the org's custom URL domain.
    pub custom_domain: bool,
    /// The credential type: `api-token` or `oauth-service-app`.
    pub auth: String,
    /// The service app's client id.
    pub client_id: String,
    /// The registered public key's id (empty: the thumbprint).
    pub key_id: String,
    /// Scopes, space- or comma-separated (empty: the defaults).
    pub scopes: String,
    /// DPoP-bound tokens.
    pub dpop: bool,
    /// Generate a new key on save.
    pub generate_key: bool,
    /// The saved service app's public key, as the JWK text to register in Okta.
    pub public_key: Option<String>,
    /// Cron schedule or preset.
    pub schedule: String,
    /// The schedule's IANA time zone.
    pub schedule_time_zone: String,
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
    /// Share of each rate-limit bucket in percent, as typed.
    pub rate_limit_percent: String,
    /// Days between deep reconciles, as typed.
    pub deep_reconcile_days: String,
    /// Incremental syncs read the System Log.
    pub change_feed: bool,
    /// The Okta app whose assignments scope the sync (empty: none).
    pub app_scope: String,
    /// The User settings, Group settings and Cleanup tabs (none: a POST without them,
    /// which keeps the saved ones).
    pub sections: Option<Sections>,
    /// The plugin's defaults, shown beside each field.
    pub defaults: Option<ConnectorSettings>,
    /// User, group and lifecycle settings as JSON (the CLI's `--settings` file format),
    /// for power users: applied over the fields when changed from what was shown.
    pub advanced: String,
    /// The JSON as the form showed it.
    pub advanced_shown: String,
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
        ConnectorForm {
            defaults: Some(defaults.clone()),
            ..ConnectorForm::from_settings(None, defaults)
        }
    }

    /// A stored connector's form.
    pub fn from_view(v: &ConnectorView) -> Self {
        ConnectorForm {
            next_runs: v.next_runs.clone(),
            public_key: v.public_key.as_ref().map(|k| k.to_string()),
            ..ConnectorForm::from_settings(Some(v.settings.name.clone()), &v.settings)
        }
    }

    fn from_settings(existing: Option<String>, c: &ConnectorSettings) -> Self {
        let (auth, client_id, key_id, scopes, dpop) = match &c.credential {
            Credential::ApiToken => (AUTH_TOKEN, "", "", String::new(), true),
            Credential::OauthServiceApp {
                client_id,
                key_id,
                scopes,
                dpop,
            } => (
                AUTH_APP,
                client_id.as_str(),
                key_id.as_deref().unwrap_or_default(),
                scopes.join(" "),
                *dpop,
            ),
        };
        ConnectorForm {
            existing,
            name: c.name.clone(),
            okta_domain: c.okta_domain.clone(),
            custom_domain: c.custom_domain,
            auth: auth.into(),
            client_id: client_id.into(),
            key_id: key_id.into(),
            scopes,
            dpop,
            schedule: c.schedule.clone(),
            schedule_time_zone: c.schedule_time_zone.clone(),
            schedule_enabled: c.schedule_enabled,
            include_built_in_groups: c.include_built_in_groups,
            user_attributes: c.user_attributes.join(", "),
            full_sync_interval_hours: c.full_sync_interval_hours.to_string(),
            deny_unknown_at_login: c.unknown_at_login == UnknownAtLogin::Deny,
            member_concurrency: c.member_concurrency.to_string(),
            rate_limit_percent: c.rate_limit_percent.to_string(),
            deep_reconcile_days: c.deep_reconcile_days.to_string(),
            change_feed: c.change_feed,
            app_scope: c.app_scope.clone().unwrap_or_default(),
            sections: Some(Sections::of(c)),
            advanced: advanced_json(c),
            advanced_shown: advanced_json(c),
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
            custom_domain: checked("custom_domain"),
            auth: match text("auth").as_str() {
                AUTH_APP => AUTH_APP.into(),
                _ => AUTH_TOKEN.into(),
            },
            client_id: text("client_id"),
            key_id: text("key_id"),
            scopes: text("scopes"),
            dpop: checked("dpop"),
            generate_key: checked("generate_key"),
            schedule: text("schedule"),
            schedule_time_zone: text("schedule_time_zone"),
            schedule_enabled: checked("schedule_enabled"),
            include_built_in_groups: checked("include_built_in_groups"),
            user_attributes: text("user_attributes"),
            full_sync_interval_hours: text("full_sync_interval_hours"),
            deny_unknown_at_login: checked("deny_unknown_at_login"),
            member_concurrency: text("member_concurrency"),
            rate_limit_percent: text("rate_limit_percent"),
            deep_reconcile_days: text("deep_reconcile_days"),
            change_feed: checked("change_feed"),
            app_scope: text("app_scope"),
            sections: Sections::read(f),
            advanced: text("advanced"),
            advanced_shown: text("advanced_shown"),
            tab: TABS
                .iter()
                .find(|(t, _)| *t == text("tab"))
                .map_or(TAB_CONNECTOR, |(t, _)| t)
                .into(),
            ..Default::default()
        }
    }

    /// The secrets typed in the form: none if empty or the mask (the saved one stays).
    /// They are never put back into a form shown again.
    pub fn secrets(f: &HashMap<String, String>) -> Secrets {
        let typed = |k: &str| {
            f.get(k)
                .map(|t| t.trim())
                .filter(|t| !t.is_empty() && *t != REDACTED)
                .map(|t| TokenText(t.to_string()))
        };
        Secrets {
            api_token: typed("api_token"),
            private_key: typed("private_key"),
        }
    }

    /// The credential the form's fields make.
    fn credential(&self) -> Credential {
        if self.auth != AUTH_APP {
            return Credential::ApiToken;
        }
        Credential::OauthServiceApp {
            client_id: self.client_id.clone(),
            key_id: Some(self.key_id.clone()).filter(|k| !k.is_empty()),
            scopes: self
                .scopes
                .split([' ', ','])
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            dpop: self.dpop,
        }
    }

    /// The settings to save: every field of the form (an empty number keeps its value),
    /// and the users, groups and lifecycle of the advanced JSON; or the fields that do
    /// not parse.
    pub fn to_patch(&self, secrets: Secrets) -> Result<ConnectorPatch, Vec<(String, String)>> {
        let mut errors = Vec::new();
        let full = number(
            "full-sync-interval-hours",
            "The full-sync interval",
            &self.full_sync_interval_hours,
            &mut errors,
        );
        let members = number(
            "member-concurrency",
            "The number of requests",
            &self.member_concurrency,
            &mut errors,
        );
        let share = number(
            "rate-limit-percent",
            "The rate-limit share",
            &self.rate_limit_percent,
            &mut errors,
        );
        let deep = number(
            "deep-reconcile-days",
            "The deep-reconcile interval",
            &self.deep_reconcile_days,
            &mut errors,
        );
        let fields = self.section_patch().unwrap_or_else(|e| {
            errors.extend(e);
            ConnectorPatch::default()
        });
        let json = if self.advanced == self.advanced_shown {
            ConnectorPatch::default()
        } else {
            parse_advanced(&self.advanced).unwrap_or_else(|e| {
                errors.push(("advanced".into(), e));
                ConnectorPatch::default()
            })
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ConnectorPatch {
            name: Some(self.name.clone()),
            okta_domain: Some(self.okta_domain.clone()),
            custom_domain: Some(self.custom_domain),
            credential: Some(self.credential()),
            private_key: secrets.private_key,
            generate_key: Some(self.generate_key),
            schedule: Some(self.schedule.clone()),
            schedule_time_zone: Some(self.schedule_time_zone.clone()).filter(|z| !z.is_empty()),
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
            rate_limit_percent: share,
            deep_reconcile_days: deep,
            api_token: secrets.api_token,
            users: json.users.or(fields.users),
            groups: json.groups.or(fields.groups),
            lifecycle: json.lifecycle.or(fields.lifecycle),
            ..fields
        })
    }

    /// The settings of the User settings, Group settings and Cleanup tabs, with the
    /// change feed and the app scope (none if the form did not hold them).
    fn section_patch(&self) -> Result<ConnectorPatch, Vec<(String, String)>> {
        let Some(sections) = &self.sections else {
            return Ok(ConnectorPatch::default());
        };
        let (users, groups, lifecycle) = sections.patches()?;
        Ok(ConnectorPatch {
            change_feed: Some(self.change_feed),
            app_scope: Some(Some(self.app_scope.clone()).filter(|a| !a.is_empty())),
            users: Some(users),
            groups: Some(groups),
            lifecycle: Some(lifecycle),
            ..Default::default()
        })
    }

    /// Show the tab of the first field error.
    pub fn set_errors(&mut self, errors: Vec<(String, String)>) {
        if let Some((f, _)) = errors.first() {
            self.tab = tab_of(f).into();
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
