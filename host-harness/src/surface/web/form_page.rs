//! The Okta connector form's page (its values and their parsing are [`super::form`]): a
//! Connector tab, a Sync Settings tab with the interval dialog, Save / Save and Return,
//! and for a saved connector Sync now, Dry-run preview and its recent runs.

use super::form::{AUTH_APP, AUTH_TOKEN, ConnectorForm, TAB_CONNECTOR, TAB_SYNC, is_advanced};
use super::html::{Frame, PostButton, segment, time};
use super::views;
use crate::model::REDACTED;
use maud::{Markup, html};

/// One text field of the form.
struct Text<'a> {
    /// The input's id.
    id: &'a str,
    /// The form field's name.
    name: &'a str,
    /// The name of the field in errors (`okta-domain`).
    field: &'a str,
    label: &'a str,
    required: bool,
    value: &'a str,
    description: Markup,
}

impl ConnectorForm {
    /// The whole page.
    pub fn render(&self, frame: &Frame<'_>) -> Markup {
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
        let body = html! {
            (self.header(frame, &title))
            (views::notice(self.notice.as_ref()))
            (self.error_summary())
            ul class="tabs-menu" {
                (self.tab_link(TAB_CONNECTOR, "Connector"))
                (self.tab_link(TAB_SYNC, "Sync Settings"))
            }
            form class="aui" method="post" action=(action) id="connector-form" autocomplete="off" {
                (frame.token_field())
                input type="hidden" name="tab" value=(self.tab);
                input type="hidden" name="existing" value=(self.existing.as_deref().unwrap_or_default());
                (self.connector_tab())
                (self.sync_tab())
                div class="buttons-container" {
                    button type="submit" name="action" value="save"
                        class="aui-button aui-button-primary" id="save" { "Save" }
                    button type="submit" name="action" value="save-return"
                        class="aui-button" id="save-return" { "Save and Return" }
                    a class="aui-button aui-button-link" href=(base) { "Cancel" }
                }
            }
            @if self.existing.is_some() {
                h2 { "Recent syncs of this connector" }
                (views::runs_table(frame, &self.runs))
            }
            (interval_dialog())
        };
        frame.page(&title, body)
    }

    /// Breadcrumbs, title, and for a saved connector Sync now and Dry-run preview.
    fn header(&self, frame: &Frame<'_>, title: &str) -> Markup {
        let sync = self
            .existing
            .as_ref()
            .map(|n| format!("{}/connectors/{}/sync", frame.base, segment(n)));
        html! {
            div class="breadcrumbs" {
                a href=(frame.base) { "User Sync" } " › " (self.existing.as_deref().unwrap_or("Create Connector"))
            }
            div class="aui-page-header" {
                div {
                    h1 { (title) }
                    p { "Users, groups and memberships from Okta into " (frame.product) "." }
                }
                div class="aui-buttons" {
                    @if let Some(sync) = &sync {
                        (frame.post_button(PostButton {
                            action: sync,
                            label: "Sync now",
                            class: "aui-button-primary",
                            id: Some("sync-now"),
                            ..PostButton::default()
                        }))
                        (frame.post_button(PostButton {
                            action: sync,
                            label: "Dry-run preview",
                            id: Some("dry-run"),
                            hidden: Some(("dry_run", "1")),
                            ..PostButton::default()
                        }))
                    }
                }
            }
        }
    }

    /// Why the form was not saved: the errors of no one field, or a pointer to the fields.
    fn error_summary(&self) -> Markup {
        let general: Vec<&str> = self
            .errors
            .iter()
            .filter(|(f, _)| f.is_empty())
            .map(|(_, m)| m.as_str())
            .collect();
        html! {
            @if !self.errors.is_empty() {
                div class="aui-message aui-message-error" id="form-errors" {
                    span class="title" { "The connector was not saved." }
                    @if general.is_empty() { "Correct the fields marked below." }
                    @for (i, m) in general.iter().enumerate() { @if i > 0 { br; } (m) }
                }
            }
        }
    }

    fn tab_link(&self, id: &str, label: &str) -> Markup {
        html! {
            li class=(if self.tab == id { "active-tab" } else { "" }) {
                a href={ "#" (id) } data-tab=(id) id={ (id) "-link" } { (label) }
            }
        }
    }

    fn pane_class(&self, id: &str) -> &'static str {
        if self.tab == id {
            "tabs-pane active-pane"
        } else {
            "tabs-pane"
        }
    }

    /// The errors of one field (`advanced` also shows those of the settings in its JSON).
    fn error(&self, field: &str) -> Markup {
        let mine = |f: &str| f == field || (field == "advanced" && is_advanced(f));
        html! {
            @for (_, m) in self.errors.iter().filter(|(f, _)| mine(f)) {
                div class="error" data-field=(field) { (m) }
            }
        }
    }

    fn text_field(&self, t: Text<'_>) -> Markup {
        html! {
            div class="field-group" {
                label for=(t.id) { (t.label) @if t.required { " " span class="required" { "*" } } }
                input class="text" type="text" id=(t.id) name=(t.name) value=(t.value);
                div class="description" { (t.description) }
                (self.error(t.field))
            }
        }
    }

    fn checkbox(id: &str, name: &str, label: &str, text: Markup, on: bool) -> Markup {
        html! {
            div class="field-group" {
                span class="label" { (label) }
                div class="checkbox" {
                    input type="checkbox" id=(id) name=(name) checked[on];
                    " "
                    label for=(id) { (text) }
                }
            }
        }
    }

    /// The API token: empty, or the saved one's mask.
    fn token_field(&self) -> Markup {
        let saved = self.existing.is_some() && self.public_key.is_none();
        html! {
            div class="field-group" {
                label for="api-token" { "API token " span class="required" { "*" } }
                input class="text" type="password" id="api-token" name="api_token" value=""
                    placeholder=(if saved { REDACTED } else { "" }) autocomplete="new-password";
                div class="description" {
                    @if saved {
                        "Saved and hidden: " code { (REDACTED) }
                        ". Leave empty to keep it; paste a new token to replace it."
                    } @else {
                        "Create one in the Okta Admin Console under Security › API › Tokens. "
                        "It is stored apart from the settings and never shown again."
                    }
                }
                (self.error("api-token"))
            }
        }
    }

    /// A service app's client id, private key (or a generated one), key id, scopes and
    /// DPoP; for a saved app, its public key to register in Okta.
    fn service_app_fields(&self) -> Markup {
        let saved = self.public_key.is_some();
        html! {
            (self.text_field(Text {
                id: "client-id", name: "client_id", field: "credential.client-id", label: "Client ID", required: true,
                value: &self.client_id,
                description: html! { "Of the API service app (Okta Admin Console › Applications › Create App Integration › API Services)." },
            }))
            div class="field-group" {
                label for="private-key" { "Private key" }
                textarea class="textarea" id="private-key" name="private_key" rows="4"
                    placeholder=(if saved { REDACTED } else { "-----BEGIN PRIVATE KEY-----" }) {}
                div class="checkbox" {
                    input type="checkbox" id="generate-key" name="generate_key" checked[self.generate_key];
                    " " label for="generate-key" { "Generate a new key pair (P-256) on save" }
                }
                div class="description" {
                    "PEM, RSA or EC (PKCS#8). Stored apart from the settings and never shown again"
                    @if saved { "; leave empty to keep the saved one" } "."
                }
                (self.error("private-key"))
            }
            @if let Some(jwk) = &self.public_key {
                div class="field-group" {
                    label for="public-key" { "Public key" }
                    textarea class="textarea" id="public-key" readonly rows="4" { (jwk) }
                    div class="description" {
                        "Add it to the app: General › Client Credentials › Public key / Private key › Add key › paste this JWK."
                    }
                }
            }
            (self.text_field(Text {
                id: "key-id", name: "key_id", field: "credential.key-id", label: "Key ID", required: false,
                value: &self.key_id,
                description: html! { "The kid Okta shows for the public key; empty: the key's thumbprint (the kid of the JWK above)." },
            }))
            (self.text_field(Text {
                id: "scopes", name: "scopes", field: "credential.scopes", label: "Scopes", required: false,
                value: &self.scopes,
                description: html! {
                    "Grant them under the app's Okta API Scopes. Empty: " code { "okta.users.read okta.groups.read" }
                    " (and " code { "okta.logs.read" } " with the change feed)."
                },
            }))
            (Self::checkbox("dpop", "dpop", "DPoP",
                html! { "Require DPoP-bound tokens (Okta's default for service apps)" }, self.dpop))
        }
    }

    /// Name, Okta domain, the credential and Test connection.
    fn connector_tab(&self) -> Markup {
        html! {
            div class=(self.pane_class(TAB_CONNECTOR)) id=(TAB_CONNECTOR) {
                (self.text_field(Text {
                    id: "connector-name", name: "name", field: "name", label: "Name", required: true,
                    value: &self.name, description: html! { "Shown to admins; unique." },
                }))
                (self.text_field(Text {
                    id: "okta-domain", name: "okta_domain", field: "okta-domain", label: "Okta domain", required: true,
                    value: &self.okta_domain,
                    description: html! {
                        "Your Okta org's domain without protocol, e.g. " code { "acme.okta.com" }
                        " (not the " code { "-admin" } " host)."
                    },
                }))
                (Self::checkbox("custom-domain", "custom_domain", "Custom URL domain",
                    html! { "The domain is your org's custom URL domain (e.g. " code { "login.example.com" }
                        "), not one of Okta's (" code { "okta.com" } ", " code { "oktapreview.com" } ", …)" },
                    self.custom_domain))
                div class="field-group" {
                    label for="auth" { "Credential" }
                    select class="select" id="auth" name="auth" {
                        option value=(AUTH_TOKEN) selected[self.auth != AUTH_APP] { "API token (SSWS)" }
                        option value=(AUTH_APP) selected[self.auth == AUTH_APP] { "OAuth 2.0 service app (recommended)" }
                    }
                    div class="description" {
                        "An API token acts as the admin who created it and expires after 30 days unused; "
                        "a service app is a least-privilege, non-personal credential."
                    }
                }
                div data-auth=(AUTH_TOKEN) { (self.token_field()) }
                div data-auth=(AUTH_APP) { (self.service_app_fields()) }
                div class="field-group" {
                    span class="label" {}
                    button type="button" class="aui-button" id="test-connection" { "Test connection" }
                    span id="test-result" class="test-result" role="status" {}
                }
            }
        }
    }

    /// The schedule (with its next runs and the interval dialog's button) and the rest of
    /// the sync settings.
    fn sync_tab(&self) -> Markup {
        html! {
            div class=(self.pane_class(TAB_SYNC)) id=(TAB_SYNC) {
                (Self::checkbox("schedule-enabled", "schedule_enabled", "Scheduled sync",
                    html! { "Enable scheduled synchronization" }, self.schedule_enabled))
                div class="field-group" {
                    label for="schedule" { "Schedule (cron)" }
                    div class="schedule-row" {
                        input class="text" type="text" id="schedule" name="schedule" value=(self.schedule);
                        button type="button" class="aui-button" id="set-interval" { "Set interval…" }
                    }
                    div class="description" {
                        "Quartz (" code { "0 0 */2 ? * *" } ") or crontab (" code { "*/30 * * * *" }
                        "), in the time zone below. Presets such as " code { "every 15 minutes" } " or " code { "daily at 02:30" }
                        " are accepted and saved as cron."
                    }
                    (self.error("schedule"))
                }
                (self.text_field(Text {
                    id: "schedule-time-zone", name: "schedule_time_zone", field: "schedule-time-zone",
                    label: "Time zone", required: false, value: &self.schedule_time_zone,
                    description: html! {
                        "IANA name of the schedule's time zone, e.g. " code { "Europe/Berlin" }
                        "; daylight-saving changes are followed."
                    },
                }))
                div class="field-group" {
                    span class="label" { "Next runs (UTC)" }
                    ul class="next-runs" id="next-runs" { @for t in &self.next_runs { li { (time(*t)) } } }
                }
                (self.sync_options())
                (self.advanced_field())
            }
        }
    }

    /// Built-in groups, user attributes, full-sync interval, parallel requests, rate-limit
    /// share, deep reconciles, unknown users at login.
    fn sync_options(&self) -> Markup {
        html! {
            (Self::checkbox("include-built-in-groups", "include_built_in_groups", "Built-in groups",
                html! { "Sync Okta's built-in groups (" code { "Everyone" } ")" }, self.include_built_in_groups))
            (self.text_field(Text {
                id: "user-attributes", name: "user_attributes", field: "user-attributes", label: "User attributes",
                required: false, value: &self.user_attributes,
                description: html! {
                    "Okta profile attributes copied to the user, comma-separated, e.g. " code { "department, title" } "."
                },
            }))
            (self.text_field(Text {
                id: "full-sync-interval", name: "full_sync_interval_hours", field: "full-sync-interval-hours",
                label: "Full sync every (hours)", required: false, value: &self.full_sync_interval_hours,
                description: html! {
                    "Scheduled syncs are incremental; a full sync, which also sees users deleted in "
                    "Okta, runs at least this often (1-720)."
                },
            }))
            (self.text_field(Text {
                id: "member-concurrency", name: "member_concurrency", field: "member-concurrency",
                label: "Parallel requests", required: false, value: &self.member_concurrency,
                description: html! { "Group-member requests in flight at once (1-16), below Okta's concurrency limits." },
            }))
            (self.text_field(Text {
                id: "rate-limit-percent", name: "rate_limit_percent", field: "rate-limit-percent",
                label: "Rate-limit share (%)", required: false, value: &self.rate_limit_percent,
                description: html! {
                    "The share of each Okta rate-limit bucket a sync may use (1-100), so that the "
                    "org's other integrations keep the rest."
                },
            }))
            (self.text_field(Text {
                id: "deep-reconcile-days", name: "deep_reconcile_days", field: "deep-reconcile-days",
                label: "Deep reconcile every (days)", required: false, value: &self.deep_reconcile_days,
                description: html! {
                    "A full sync re-reads every group's member list at least this often (1-90); "
                    "the others re-read only the groups Okta reports changed."
                },
            }))
            (Self::checkbox("deny-unknown-at-login", "deny_unknown_at_login", "Unknown at login",
                html! { "Deactivate a user who logs in but is unknown to Okta (deny the login)" }, self.deny_unknown_at_login))
        }
    }

    /// The user, group and lifecycle settings as JSON.
    fn advanced_field(&self) -> Markup {
        html! {
            div class="field-group" {
                label for="advanced" { "Users, groups & lifecycle" }
                textarea class="textarea" id="advanced" name="advanced" rows=(if self.advanced.is_empty() { 3 } else { 12 })
                    placeholder=r#"Defaults. JSON as in the CLI's --settings file: {"users": {...}, "groups": {...}, "lifecycle": {...}}"# {
                    (self.advanced)
                }
                div class="description" {
                    "Username and display-name mapping, group filters and renaming, default groups, "
                    "what happens to users Okta no longer returns, and the mass-deactivation guard, "
                    "as JSON (see "
                    code { "wit/world.wit" } "). Empty: the defaults for a new connector; a saved connector keeps its settings."
                }
                (self.error("advanced"))
            }
        }
    }
}

/// The interval dialog: every N minutes / hours, or daily at HH:MM, into the cron field
/// (the script fills the choices and writes the cron).
fn interval_dialog() -> Markup {
    html! {
        div class="aui-blanket" id="blanket" {}
        section class="aui-dialog2" id="interval-dialog" role="dialog" aria-labelledby="interval-title" {
            div class="aui-dialog2-header" id="interval-title" { "Sync interval" }
            div class="aui-dialog2-content" {
                p class="muted" { "Times are UTC. The cron field is filled in; edit it further if you like." }
                div class="row" {
                    label for="interval-kind" { "Repeat" }
                    select id="interval-kind" {
                        option value="minutes" { "Every N minutes" }
                        option value="hours" { "Every N hours" }
                        option value="daily" { "Daily at" }
                    }
                    select id="interval-n" aria-label="N" {}
                    span id="interval-unit" {}
                    input type="time" id="interval-time" value="02:00" aria-label="Time (UTC)";
                }
            }
            div class="aui-dialog2-footer" {
                button type="button" class="aui-button aui-button-primary" id="interval-apply" { "Apply" }
                button type="button" class="aui-button aui-button-link" data-close-dialog { "Cancel" }
            }
        }
    }
}
