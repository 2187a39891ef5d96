//! The markup of the connector form's User settings, Group settings, Cleanup and
//! Advanced tabs ([`super::form_sections`] holds their values): every setting a field
//! with its help, the plugin's default beside it, and the plugin's message under it
//! when refused; a live preview of the mapping on sample Okta users and groups.

use super::form::{ConnectorForm, TAB_ADVANCED, TAB_CLEANUP, TAB_GROUPS, TAB_USERS};
use super::form_page::Text;
use super::form_sections::{MappingFields, Sections};
use maud::{Markup, html};

/// The `select` choices of a field mapping's `on-no-match`.
const NO_MATCH: [(&str, &str); 4] = [
    ("use-raw", "Use the value as it is"),
    ("leave", "Leave the product's field as it is"),
    ("clear", "Clear the field"),
    ("skip-user", "Skip the user (reported)"),
];

/// An input's id for a field named by its setting's path.
fn id_of(path: &str) -> String {
    path.replace(['.', '['], "-").replace(']', "")
}

/// "Default: …" after a field's help.
fn default_note(value: &str) -> Markup {
    html! {
        " " span class="default" { "Default: "
            @if value.is_empty() { em { "empty" } } @else { code { (value) } }
        }
    }
}

/// A mapping's default as admins read it: `{login}, no regex, use-raw`.
fn mapping_default(d: &MappingFields) -> String {
    let regex = if d.pattern.is_empty() {
        "no regex".to_string()
    } else {
        format!("regex {} → {}", d.pattern, d.replacement)
    };
    format!("{}, {regex}, {}", d.template, d.on_no_match)
}

fn on_off(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}

impl ConnectorForm {
    /// The sections shown: as typed, else empty.
    fn shown(&self) -> Sections {
        self.sections.clone().unwrap_or_default()
    }

    /// The defaults' sections (none known: empty).
    fn default_sections(&self) -> Sections {
        self.defaults.as_ref().map(Sections::of).unwrap_or_default()
    }

    /// A text input named by `path`.
    fn path_text(
        &self,
        path: &str,
        label: &str,
        value: &str,
        help: Markup,
        default: &str,
    ) -> Markup {
        let id = id_of(path);
        self.text_field(Text {
            id: &id,
            name: path,
            field: path,
            label,
            required: false,
            value,
            description: html! { (help) (default_note(default)) },
        })
    }

    /// A textarea of one entry a line.
    fn path_lines(
        &self,
        path: &str,
        label: &str,
        value: &str,
        help: Markup,
        default: &str,
    ) -> Markup {
        html! {
            div class="field-group" {
                label for=(id_of(path)) { (label) }
                textarea class="textarea" id=(id_of(path)) name=(path) rows="3" { (value) }
                div class="description" { (help) " One a line." (default_note(&default.replace('\n', ", "))) }
                (self.error(path))
            }
        }
    }

    /// A checkbox named by `path`.
    fn path_check(&self, path: &str, label: &str, text: Markup, on: bool, default: bool) -> Markup {
        html! {
            (Self::checkbox(&id_of(path), path, label,
                html! { (text) (default_note(on_off(default))) }, on))
            (self.error(path))
        }
    }

    /// A `select` named by `path`.
    fn path_select(
        &self,
        path: &str,
        label: &str,
        value: &str,
        choices: &[(&str, &str)],
        help: Markup,
        default: &str,
    ) -> Markup {
        html! {
            div class="field-group" {
                label for=(id_of(path)) { (label) }
                select class="select" id=(id_of(path)) name=(path) {
                    @for (v, text) in choices { option value=(v) selected[*v == value] { (text) } }
                }
                div class="description" { (help) (default_note(default)) }
                (self.error(path))
            }
        }
    }

    /// A field mapping: template, pattern, replacement and no-match policy in a row.
    fn mapping(&self, path: &str, label: &str, m: &MappingFields, d: &MappingFields) -> Markup {
        let part = |p: &str| format!("{path}.{p}");
        html! {
            fieldset class="mapping" id=(id_of(path)) {
                legend { (label) }
                div class="mapping-row" {
                    label { "Template" input class="text" type="text" name=(part("template")) id=(id_of(&part("template"))) value=(m.template); }
                    label { "Regex" input class="text" type="text" name=(part("pattern")) id=(id_of(&part("pattern"))) value=(m.pattern) placeholder="none"; }
                    label { "Replacement" input class="text" type="text" name=(part("replacement")) id=(id_of(&part("replacement"))) value=(m.replacement); }
                    label { "No match"
                        select class="select" name=(part("on-no-match")) id=(id_of(&part("on-no-match"))) {
                            @for (v, text) in NO_MATCH { option value=(v) selected[v == m.on_no_match] { (text) } }
                        }
                    }
                }
                div class="description" {
                    "Template of " code { "{attribute}" } "s of the Okta profile (" code { "{a|b}" }
                    ": the first not empty), then the regex replacement (" code { "$1" } " for its first group)."
                    (default_note(&mapping_default(d)))
                }
                @for p in ["template", "pattern", "replacement", "on-no-match"] { (self.error(&part(p))) }
                (self.error(path))
            }
        }
    }

    /// The preview's button and its tables (filled by the script from `POST preview`).
    fn preview_block(kind: &str) -> Markup {
        html! {
            div class="field-group preview" {
                span class="label" { "Preview" }
                button type="button" class="aui-button preview-button" data-preview=(kind) id={ "preview-" (kind) "-button" } {
                    "Preview with Okta samples"
                }
                span class="muted" { " Maps the first users and groups Okta returns through the settings as typed; nothing is saved or written." }
                div class="preview-result" id={ "preview-" (kind) } role="status" {}
            }
        }
    }

    /// Import, update, status, the username, display name, email and attribute
    /// mappings, migration, unknown users at login.
    pub(super) fn users_tab(&self) -> Markup {
        let (s, d) = (self.shown(), self.default_sections());
        let dflt = self.defaults.as_ref();
        html! {
            div class=(self.pane_class(TAB_USERS)) id=(TAB_USERS) {
                h3 { "Provisioning" }
                (self.path_check("users.import-users", "Create users", html! { "Create users who are in Okta and not in the product" }, s.import_users, d.import_users))
                (self.path_check("users.update-users", "Update users", html! { "Update names, emails, attributes and usernames from Okta" }, s.update_users, d.update_users))
                (self.path_check("users.sync-status", "Status", html! { "Activate and deactivate users by their Okta status (SUSPENDED and DEPROVISIONED are inactive)" }, s.sync_status, d.sync_status))
                (self.path_check("users.create-staged", "Staged users", html! { "Also create STAGED and PROVISIONED users, inactive" }, s.create_staged, d.create_staged))
                h3 { "Mapping" }
                (self.mapping("users.username", "Username", &s.username, &d.username))
                (self.path_check("users.lowercase-username", "Lowercase", html! { "Lowercase usernames" }, s.lowercase_username, d.lowercase_username))
                (self.mapping("users.display-name", "Full name", &s.display_name, &d.display_name))
                (self.mapping("users.email", "Email", &s.email, &d.email))
                (self.text_field(Text {
                    id: "user-attributes", name: "user_attributes", field: "user-attributes", label: "Copied attributes",
                    required: false, value: &self.user_attributes,
                    description: html! {
                        "Okta profile attributes copied to the user as they are, comma-separated, e.g. " code { "department, title" } "."
                        (default_note(&dflt.map(|d| d.user_attributes.join(", ")).unwrap_or_default()))
                    },
                }))
                (self.attributes_table(&s))
                (self.path_select("users.migrate", "Existing users", &s.migrate, &[
                    ("off", "Do not take over users of other directories"),
                    ("by-username", "Take over users with the same username"),
                    ("by-username-or-email", "Take over users with the same username, or else email"),
                ], html! { "Users of the product's other directories become this connector's, keeping their key and history." }, &d.migrate))
                (Self::checkbox("deny-unknown-at-login", "deny_unknown_at_login", "Unknown at login",
                    html! { "Deactivate a user who logs in but is unknown to Okta (deny the login)"
                        (default_note(on_off(dflt.is_some_and(|d| d.unknown_at_login == crate::model::UnknownAtLogin::Deny)))) },
                    self.deny_unknown_at_login))
                (self.error("unknown-at-login"))
                (Self::preview_block("users"))
            }
        }
    }

    /// Templated attributes: a row each, and empty rows to add one.
    fn attributes_table(&self, s: &Sections) -> Markup {
        html! {
            div class="field-group" {
                span class="label" { "Templated attributes" }
                table class="aui attributes" id="users-attributes" {
                    thead { tr { th { "Attribute" } th { "Template" } th { "Regex" } th { "Replacement" } th { "No match" } } }
                    tbody {
                        @for (i, (name, m)) in s.attributes.iter().enumerate() {
                            @let path = format!("users.attributes[{i}]");
                            @let part = |p: &str| format!("{path}.mapping.{p}");
                            tr {
                                td { input class="text" type="text" name={ (path) ".name" } id=(id_of(&format!("{path}.name"))) value=(name) aria-label="Attribute"; }
                                td { input class="text" type="text" name=(part("template")) value=(m.template) aria-label="Template"; }
                                td { input class="text" type="text" name=(part("pattern")) value=(m.pattern) aria-label="Regex"; }
                                td { input class="text" type="text" name=(part("replacement")) value=(m.replacement) aria-label="Replacement"; }
                                td { select class="select" name=(part("on-no-match")) aria-label="No match" {
                                    @for (v, text) in NO_MATCH { option value=(v) selected[v == m.on_no_match || (m.on_no_match.is_empty() && v == "use-raw")] { (text) } }
                                } }
                            }
                            @for p in [format!("{path}.name"), part("template"), part("pattern"), part("replacement"), part("on-no-match")] {
                                @if self.errors.iter().any(|(f, _)| *f == p) { tr { td colspan="5" { (self.error(&p)) } } }
                            }
                        }
                    }
                }
                div class="description" {
                    "Product attributes made by a template, e.g. " code { "team" } " from " code { "{department|title}" }
                    ". Empty rows are ignored; save to get more rows." (default_note("none"))
                }
                (self.error("users.attributes"))
            }
        }
    }

    /// Types, built-in groups, filters, required groups, name mapping, default groups.
    pub(super) fn groups_tab(&self) -> Markup {
        let (s, d) = (self.shown(), self.default_sections());
        let dflt = self.defaults.as_ref();
        html! {
            div class=(self.pane_class(TAB_GROUPS)) id=(TAB_GROUPS) {
                h3 { "Which groups" }
                (self.path_check("groups.types.okta-group", "Okta groups", html! { "Sync groups made in Okta (" code { "OKTA_GROUP" } ")" }, s.okta_groups, d.okta_groups))
                (self.path_check("groups.types.app-group", "App groups", html! { "Sync groups imported from apps and directories (" code { "APP_GROUP" } ")" }, s.app_groups, d.app_groups))
                (self.error("groups.types"))
                (Self::checkbox("include-built-in-groups", "include_built_in_groups", "Built-in groups",
                    html! { "Sync Okta's built-in groups (" code { "Everyone" } ")"
                        (default_note(on_off(dflt.is_some_and(|d| d.include_built_in_groups)))) }, self.include_built_in_groups))
                (self.path_lines("groups.include-patterns", "Include", &s.include_patterns,
                    html! { "Only groups whose Okta name matches one of these regexes (none: all), e.g. " code { "^eng-" } "." }, &d.include_patterns))
                (self.path_lines("groups.exclude-patterns", "Exclude", &s.exclude_patterns,
                    html! { "No group whose Okta name matches one of these regexes, e.g. " code { "-test$" } "." }, &d.exclude_patterns))
                (self.path_lines("groups.required", "Required groups", &s.required,
                    html! { "Only members of one of these Okta groups (by name) are synced at all (none: everyone)." }, &d.required))
                h3 { "Names in the product" }
                (self.path_text("groups.prefix", "Prefix", &s.prefix, html! { "Put before each group's name, e.g. " code { "okta-" } "." }, &d.prefix))
                (self.path_text("groups.suffix", "Suffix", &s.suffix, html! { "Put after each group's name." }, &d.suffix))
                (self.path_text("groups.pattern", "Regex", &s.pattern, html! { "Applied to each Okta name (empty: none), e.g. " code { "^okta-(.*)$" } "." }, &d.pattern))
                (self.path_text("groups.replacement", "Replacement", &s.replacement, html! { "Of the regex, e.g. " code { "$1" } "." }, &d.replacement))
                h3 { "Default groups" }
                (self.path_check("groups.product-default-groups", "Product's groups", html! { "Every synced user joins the product's default groups" }, s.product_default_groups, d.product_default_groups))
                (self.path_lines("groups.default-groups", "Default groups", &s.default_groups,
                    html! { "Instead of the product's: the groups every synced user joins (empty: none)." }, &d.default_groups))
                (Self::preview_block("groups"))
            }
        }
    }

    /// Missing users, their memberships, the guard, inactivity cleanup.
    pub(super) fn cleanup_tab(&self) -> Markup {
        let (s, d) = (self.shown(), self.default_sections());
        html! {
            div class=(self.pane_class(TAB_CLEANUP)) id=(TAB_CLEANUP) {
                h3 { "Users Okta no longer returns" }
                (self.path_select("lifecycle.missing-users", "Missing users", &s.missing_users, &[
                    ("disable", "Deactivate them"),
                    ("delete", "Delete them"),
                    ("anonymize", "Deactivate and anonymize them (key and history kept)"),
                    ("keep", "Leave them as they are"),
                ], html! { "Users deleted in Okta, or out of the settings' scope. Users of other directories are never touched." }, &d.missing_users))
                (self.path_check("lifecycle.remove-memberships-of-missing", "Memberships", html! { "Also remove their group memberships" }, s.remove_memberships_of_missing, d.remove_memberships_of_missing))
                h3 { "Mass-deactivation guard" }
                (self.path_text("lifecycle.guard-percent", "Percentage", &s.guard_percent,
                    html! { "A sync that would deactivate or delete more than this percentage of the directory's active users (0-100)…" }, &d.guard_percent))
                (self.path_text("lifecycle.guard-min-users", "Users", &s.guard_min_users,
                    html! { "…and more than this many users applies nothing and says why." }, &d.guard_min_users))
                h3 { "Inactivity" }
                (self.path_check("lifecycle.inactivity", "Inactivity cleanup", html! { "Deactivate users who have not logged in for a while" }, s.inactivity, d.inactivity))
                (self.path_text("lifecycle.inactivity.days", "Days without a login", &s.inactivity_days,
                    html! { "At least 1." }, &d.inactivity_days))
                (self.path_check("lifecycle.inactivity.include-never-logged-in", "Never logged in",
                    html! { "Also users who never logged in, counted from their creation" }, s.include_never_logged_in, d.include_never_logged_in))
                (self.path_lines("lifecycle.inactivity.exempt-groups", "Exempt groups", &s.exempt_groups,
                    html! { "Members of these product groups are never deactivated for inactivity." }, &d.exempt_groups))
            }
        }
    }

    /// Full-sync interval, parallel requests, rate-limit share, deep reconciles, and
    /// the user, group and cleanup settings as JSON.
    pub(super) fn advanced_tab(&self) -> Markup {
        let d = self.defaults.as_ref();
        let number = |id: &str,
                      name: &str,
                      label: &str,
                      value: &str,
                      help: &str,
                      default: fn(&crate::model::ConnectorSettings) -> u32| {
            let field = name.replace('_', "-");
            self.text_field(Text {
                id,
                name,
                field: &field,
                label,
                required: false,
                value,
                description: html! { (help) (default_note(&d.map(|d| default(d).to_string()).unwrap_or_default())) },
            })
        };
        html! {
            div class=(self.pane_class(TAB_ADVANCED)) id=(TAB_ADVANCED) {
                (number("full-sync-interval", "full_sync_interval_hours", "Full sync every (hours)", &self.full_sync_interval_hours,
                    "Scheduled syncs are incremental; a full sync, which also sees users deleted in Okta, runs at least this often (1-720).",
                    |d| d.full_sync_interval_hours))
                (number("member-concurrency", "member_concurrency", "Parallel requests", &self.member_concurrency,
                    "Group-member requests in flight at once (1-16), below Okta's concurrency limits.",
                    |d| d.member_concurrency))
                (number("rate-limit-percent", "rate_limit_percent", "Rate-limit share (%)", &self.rate_limit_percent,
                    "The share of each Okta rate-limit bucket a sync may use (1-100), so that the org's other integrations keep the rest.",
                    |d| d.rate_limit_percent))
                (number("deep-reconcile-days", "deep_reconcile_days", "Deep reconcile every (days)", &self.deep_reconcile_days,
                    "A full sync re-reads every group's member list at least this often (1-90); the others re-read only the groups Okta reports changed.",
                    |d| d.deep_reconcile_days))
                details class="edit-json" open[self.errors.iter().any(|(f, _)| f == "advanced")] {
                    summary { "Edit the user, group and cleanup settings as JSON" }
                    div class="field-group" {
                        label for="advanced" { "Settings as JSON" }
                        textarea class="textarea" id="advanced" name="advanced" rows="12" { (self.advanced) }
                        input type="hidden" name="advanced_shown" value=(self.advanced_shown);
                        div class="description" {
                            "For power users: " code { "{\"users\": {...}, \"groups\": {...}, \"lifecycle\": {...}}" }
                            " as in the CLI's --settings file. A section changed here replaces that tab's fields."
                        }
                        (self.error("advanced"))
                    }
                }
            }
        }
    }
}
