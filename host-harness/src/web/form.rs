//! The Okta connector form of the admin page: its values (as typed, so that a refused
//! form comes back as it was), their parsing into a [`ConnectorInput`], and its HTML
//! (a Connector tab, a Sync Settings tab with the interval dialog, Save / Save and Return).

use super::html::{Frame, esc, segment, time};
use crate::db::runs::Run;
use crate::harness::{ConnectorInput, ConnectorView};
use crate::transfer::REDACTED;
use std::collections::HashMap;
use std::fmt::Write;

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
    pub notice: Option<(&'static str, String)>,
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

    fn error(&self, field: &str) -> String {
        self.errors
            .iter()
            .filter(|(f, _)| f == field || (field == "advanced" && is_advanced(f)))
            .map(|(_, m)| {
                format!(
                    r#"<div class="error" data-field="{field}">{}</div>"#,
                    esc(m)
                )
            })
            .collect()
    }

    fn text_field(
        &self,
        id: &str,
        name: &str,
        field: &str,
        label: &str,
        value: &str,
        desc: &str,
    ) -> String {
        format!(
            r#"<div class="field-group"><label for="{id}">{label}</label><input class="text" type="text" id="{id}" name="{name}" value="{}"><div class="description">{desc}</div>{}</div>"#,
            esc(value),
            self.error(field)
        )
    }

    fn checkbox(&self, id: &str, name: &str, label: &str, text: &str, on: bool) -> String {
        format!(
            r#"<div class="field-group"><span class="label">{label}</span><div class="checkbox"><input type="checkbox" id="{id}" name="{name}"{}> <label for="{id}">{text}</label></div></div>"#,
            if on { " checked" } else { "" }
        )
    }

    /// The whole page.
    pub fn render(&self, frame: &Frame<'_>) -> String {
        let base = frame.base;
        let (title, action) = match &self.existing {
            Some(n) => (
                format!("Okta connector: {n}"),
                format!("{base}/connectors/{}", segment(n)),
            ),
            None => (
                "Create Okta connector".to_string(),
                format!("{base}/connectors"),
            ),
        };
        let mut b = String::new();
        let _ = write!(
            b,
            r#"<div class="breadcrumbs"><a href="{}">User Sync</a> &rsaquo; {}</div><div class="aui-page-header"><div><h1>{}</h1><p>Users, groups and memberships from Okta into {}.</p></div><div class="aui-buttons">"#,
            esc(base),
            esc(self.existing.as_deref().unwrap_or("Create Connector")),
            esc(&title),
            esc(frame.product)
        );
        if let Some(n) = &self.existing {
            let sync = format!("{base}/connectors/{}/sync", segment(n));
            b.push_str(&frame.post_button(
                &sync,
                "Sync now",
                "aui-button-primary",
                r#"id="sync-now""#,
            ));
            b.push_str(&format!(
                r#"<form method="post" action="{}" class="inline-form">{}<input type="hidden" name="dry_run" value="1"><button type="submit" class="aui-button" id="dry-run">Dry-run preview</button></form>"#,
                esc(&sync),
                frame.token_field()
            ));
        }
        b.push_str("</div></div>");
        if let Some((kind, text)) = &self.notice {
            let _ = write!(
                b,
                r#"<div class="aui-message aui-message-{kind}" id="notice">{}</div>"#,
                esc(text)
            );
        }
        if !self.errors.is_empty() {
            let general: Vec<String> = self
                .errors
                .iter()
                .filter(|(f, _)| f.is_empty())
                .map(|(_, m)| esc(m))
                .collect();
            let _ = write!(
                b,
                r#"<div class="aui-message aui-message-error" id="form-errors"><span class="title">The connector was not saved.</span>{}</div>"#,
                if general.is_empty() {
                    "Correct the fields marked below.".to_string()
                } else {
                    general.join("<br>")
                }
            );
        }
        let tab = |id: &str, label: &str| {
            format!(
                r##"<li class="{}"><a href="#{id}" data-tab="{id}" id="{id}-link">{label}</a></li>"##,
                if self.tab == id { "active-tab" } else { "" }
            )
        };
        let _ = write!(
            b,
            r#"<ul class="tabs-menu">{}{}</ul><form class="aui" method="post" action="{}" id="connector-form" autocomplete="off">{}<input type="hidden" name="tab" value="{}"><input type="hidden" name="existing" value="{}">"#,
            tab(TAB_CONNECTOR, "Connector"),
            tab(TAB_SYNC, "Sync Settings"),
            esc(&action),
            frame.token_field(),
            esc(&self.tab),
            esc(self.existing.as_deref().unwrap_or_default())
        );
        b.push_str(&self.connector_tab());
        b.push_str(&self.sync_tab());
        let _ = write!(
            b,
            r#"<div class="buttons-container"><button type="submit" name="action" value="save" class="aui-button aui-button-primary" id="save">Save</button><button type="submit" name="action" value="save-return" class="aui-button" id="save-return">Save and Return</button><a class="aui-button aui-button-link" href="{}">Cancel</a></div></form>"#,
            esc(base)
        );
        if self.existing.is_some() {
            b.push_str("<h2>Recent syncs of this connector</h2>");
            b.push_str(&super::views::runs_table(frame, &self.runs));
        }
        b.push_str(INTERVAL_DIALOG);
        frame.page(&title, &b)
    }

    fn pane_class(&self, id: &str) -> &'static str {
        if self.tab == id {
            "tabs-pane active-pane"
        } else {
            "tabs-pane"
        }
    }

    fn connector_tab(&self) -> String {
        let token_desc = if self.existing.is_some() {
            "Saved and hidden: <code>********</code>. Leave empty to keep it; paste a new token to replace it."
        } else {
            "Create one in the Okta Admin Console under Security &rsaquo; API &rsaquo; Tokens. It is stored apart from the settings and never shown again."
        };
        format!(
            r#"<div class="{}" id="{TAB_CONNECTOR}">{}{}<div class="field-group"><label for="api-token">API token <span class="required">*</span></label><input class="text" type="password" id="api-token" name="api_token" value="" placeholder="{}" autocomplete="new-password"><div class="description">{token_desc}</div>{}</div><div class="field-group"><span class="label"></span><button type="button" class="aui-button" id="test-connection">Test connection</button><span id="test-result" class="test-result" role="status"></span></div></div>"#,
            self.pane_class(TAB_CONNECTOR),
            self.text_field("connector-name", "name", "name", r#"Name <span class="required">*</span>"#, &self.name, "Shown to admins; unique."),
            self.text_field("okta-domain", "okta_domain", "okta-domain", r#"Okta domain <span class="required">*</span>"#, &self.okta_domain, "Your Okta org's domain without protocol, e.g. <code>acme.okta.com</code> (not the <code>-admin</code> host)."),
            if self.existing.is_some() { REDACTED } else { "" },
            self.error("api-token"),
        )
    }

    fn sync_tab(&self) -> String {
        let next: String = self
            .next_runs
            .iter()
            .map(|t| format!("<li>{}</li>", esc(&time(*t))))
            .collect();
        format!(
            r#"<div class="{}" id="{TAB_SYNC}">{}<div class="field-group"><label for="schedule">Schedule (cron, UTC)</label><div class="schedule-row"><input class="text" type="text" id="schedule" name="schedule" value="{}"><button type="button" class="aui-button" id="set-interval">Set interval&hellip;</button></div><div class="description">Quartz (<code>0 0 */2 ? * *</code>) or crontab (<code>*/30 * * * *</code>), in UTC. Presets such as <code>every 15 minutes</code> or <code>daily at 02:30</code> are accepted and saved as cron.</div>{}</div><div class="field-group"><span class="label">Next runs (UTC)</span><ul class="next-runs" id="next-runs">{next}</ul></div>{}{}{}{}{}<div class="field-group"><label for="advanced">Users, groups &amp; lifecycle</label><textarea class="textarea" id="advanced" name="advanced" rows="{}" placeholder="Defaults. JSON as in the CLI's --settings file: {{&quot;users&quot;: {{...}}, &quot;groups&quot;: {{...}}, &quot;lifecycle&quot;: {{...}}}}">{}</textarea><div class="description">Username and display-name mapping, group filters and renaming, default groups, what happens to users Okta no longer returns, and the mass-deactivation guard, as JSON (see <code>wit/world.wit</code>). Empty: the defaults for a new connector; a saved connector keeps its settings.</div>{}</div></div>"#,
            self.pane_class(TAB_SYNC),
            self.checkbox("schedule-enabled", "schedule_enabled", "Scheduled sync", "Enable scheduled synchronization", self.schedule_enabled),
            esc(&self.schedule),
            self.error("schedule"),
            self.checkbox("include-built-in-groups", "include_built_in_groups", "Built-in groups", "Sync Okta's built-in groups (<code>Everyone</code>)", self.include_built_in_groups),
            self.text_field("user-attributes", "user_attributes", "user-attributes", "User attributes", &self.user_attributes, "Okta profile attributes copied to the user, comma-separated, e.g. <code>department, title</code>."),
            self.text_field("full-sync-interval", "full_sync_interval_hours", "full-sync-interval-hours", "Full sync every (hours)", &self.full_sync_interval_hours, "Scheduled syncs are incremental; a full sync, which also sees users deleted in Okta, runs at least this often (1-720)."),
            self.text_field("member-concurrency", "member_concurrency", "member-concurrency", "Parallel requests", &self.member_concurrency, "Group-member requests in flight at once (1-16), below Okta's concurrency limits."),
            self.checkbox("deny-unknown-at-login", "deny_unknown_at_login", "Unknown at login", "Deactivate a user who logs in but is unknown to Okta (deny the login)", self.deny_unknown_at_login),
            if self.advanced.is_empty() { 3 } else { 12 },
            esc(&self.advanced),
            self.error("advanced"),
        )
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
        users: Some(c.users.clone()),
        groups: Some(c.groups.clone()),
        lifecycle: Some(c.lifecycle.clone()),
    };
    if a.users.is_none() && a.groups.is_none() && a.lifecycle.is_none() {
        return String::new();
    }
    serde_json::to_string_pretty(&a).expect("settings serialize")
}

/// Whether a plugin field error is about the user, group or lifecycle settings.
fn is_advanced(field: &str) -> bool {
    ["users", "groups", "lifecycle"]
        .iter()
        .any(|p| field.starts_with(p))
}

/// The interval dialog: every N minutes / hours, or daily at HH:MM, into the cron field.
const INTERVAL_DIALOG: &str = r#"<div class="aui-blanket" id="blanket"></div>
<section class="aui-dialog2" id="interval-dialog" role="dialog" aria-labelledby="interval-title">
<div class="aui-dialog2-header" id="interval-title">Sync interval</div>
<div class="aui-dialog2-content"><p class="muted">Times are UTC. The cron field is filled in; edit it further if you like.</p>
<div class="row"><label for="interval-kind">Repeat</label><select id="interval-kind"><option value="minutes">Every N minutes</option><option value="hours">Every N hours</option><option value="daily">Daily at</option></select>
<select id="interval-n" aria-label="N"></select><span id="interval-unit"></span><input type="time" id="interval-time" value="02:00" aria-label="Time (UTC)"></div></div>
<div class="aui-dialog2-footer"><button type="button" class="aui-button aui-button-primary" id="interval-apply">Apply</button><button type="button" class="aui-button aui-button-link" data-close-dialog>Cancel</button></div>
</section>"#;
