//! The Okta connector form's page (its values and their parsing are [`super::form`]): a
//! Connector tab, a Sync Settings tab with the interval dialog, Save / Save and Return,
//! and for a saved connector Sync now, Dry-run preview and its recent runs.

use super::form::{AUTH_APP, AUTH_TOKEN, ConnectorForm, TAB_CONNECTOR, TAB_SYNC, TABS};
use super::html::{Frame, PostButton, segment, time};
use super::views;
use crate::model::REDACTED;
use maud::{Markup, html};

/// One text field of the form.
pub(super) struct Text<'a> {
    /// The input's id.
    pub id: &'a str,
    /// The form field's name.
    pub name: &'a str,
    /// The name of the field in errors (`okta-domain`).
    pub field: &'a str,
    pub label: &'a str,
    pub required: bool,
    pub value: &'a str,
    pub description: Markup,
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
                @for (id, label) in TABS { (self.tab_link(id, label)) }
            }
            form class="aui" method="post" action=(action) id="connector-form" autocomplete="off" {
                (frame.token_field())
                input type="hidden" name="tab" value=(self.tab);
                input type="hidden" name="existing" value=(self.existing.as_deref().unwrap_or_default());
                input type="hidden" name=(super::form_sections::MARKER) value="on";
                (self.connector_tab())
                (self.sync_tab())
                (self.users_tab())
                (self.groups_tab())
                (self.cleanup_tab())
                (self.advanced_tab())
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

    /// Why the form was not saved: the errors of no one field, and each field's (with
    /// its tab), which its field also shows.
    fn error_summary(&self) -> Markup {
        html! {
            @if !self.errors.is_empty() {
                div class="aui-message aui-message-error" id="form-errors" {
                    span class="title" { "The connector was not saved." }
                    "Correct the fields marked below."
                    ul {
                        @for (f, m) in &self.errors {
                            li {
                                @if f.is_empty() { (m) } @else {
                                    a href={ "#" (super::form::tab_of(f)) } data-tab=(super::form::tab_of(f)) { code { (f) } } ": " (m)
                                }
                            }
                        }
                    }
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

    pub(super) fn pane_class(&self, id: &str) -> &'static str {
        if self.tab == id {
            "tabs-pane active-pane"
        } else {
            "tabs-pane"
        }
    }

    /// The errors of one field, named by its setting's path.
    pub(super) fn error(&self, field: &str) -> Markup {
        html! {
            @for (_, m) in self.errors.iter().filter(|(f, _)| f == field) {
                div class="error" data-field=(field) { (m) }
            }
        }
    }

    pub(super) fn text_field(&self, t: Text<'_>) -> Markup {
        html! {
            div class="field-group" {
                label for=(t.id) { (t.label) @if t.required { " " span class="required" { "*" } } }
                input class="text" type="text" id=(t.id) name=(t.name) value=(t.value);
                div class="description" { (t.description) }
                (self.error(t.field))
            }
        }
    }

    pub(super) fn checkbox(id: &str, name: &str, label: &str, text: Markup, on: bool) -> Markup {
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
                (self.text_field(Text {
                    id: "app-scope", name: "app_scope", field: "app-scope", label: "Application scope",
                    required: false, value: &self.app_scope,
                    description: html! {
                        "Only users and groups assigned to this Okta application (its id, " code { "0oa…" }
                        "). Empty (the default): every user and group the credential sees."
                    },
                }))
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
                (Self::checkbox("change-feed", "change_feed", "Change feed",
                    html! { "Incremental syncs read Okta's System Log from a stored cursor (needs "
                        code { "okta.logs.read" } "; default off: " code { "lastUpdated" } " filters)" },
                    self.change_feed))
                (self.error("change-feed"))
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
