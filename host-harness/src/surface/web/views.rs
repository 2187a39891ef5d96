//! The admin page's other views: the connector list, the connector-type chooser, a
//! run's results (counts and changes, with CSV/JSON downloads), the login form and the
//! page of one message. Templates are maud's `html!` (every value escaped).

use super::html::{Frame, PostButton, segment, status_lozenge, time};
use crate::harness::{ConnectorView, Seats};
use crate::model::{ChangeAction, ChangeEntry, FailureKind, RunStatus, SyncCounts, SyncReport};
use crate::product::db::run_changes::{ChangePage, ChangeQuery};
use crate::product::db::runs::{LogLine, Run};
use crate::surface::report::action_name;
use maud::{Markup, html};

/// How many changes a page of a run's results lists unless its `limit` says (the
/// downloads hold all).
pub const CHANGES_SHOWN: u32 = super::rest::CHANGES_MAX;

/// A notice on top of a page: (AUI message kind, text).
pub type Notice = (&'static str, String);

/// The one-line result of a run in a runs table.
fn counts_summary(r: &Run) -> String {
    if let Some(f) = &r.failure {
        return f.message.clone();
    }
    let Some(c) = r.report.as_ref().map(|rep| &rep.counts) else {
        return String::new();
    };
    format!(
        "{}{} created, {} updated, {} deactivated, {} groups created, {} memberships changed",
        if r.dry_run { "Preview: " } else { "" },
        c.users_created,
        c.users_updated,
        c.users_deactivated,
        c.groups_created,
        c.memberships_changed()
    )
}

/// A table of runs.
pub fn runs_table(frame: &Frame<'_>, runs: &[Run]) -> Markup {
    if runs.is_empty() {
        return html! { p class="muted" { "No syncs yet." } };
    }
    html! {
        table class="aui runs" {
            thead { tr {
                th { "Run" } th { "Connector" } th { "Kind" } th { "Trigger" }
                th { "Status" } th { "Started (UTC)" } th { "Result" }
            } }
            tbody {
                @for r in runs {
                    tr {
                        td { a href={ (frame.base) "/runs/" (r.id) } { "#" (r.id) } }
                        td { (r.connector) }
                        td { (r.kind.as_str()) @if r.dry_run { " (dry run)" } }
                        td { (r.trigger.as_str()) }
                        td { (status_lozenge(r.status.as_str(), r.dry_run)) }
                        td { (time(r.started_at)) }
                        td { (counts_summary(r)) }
                    }
                }
            }
        }
    }
}

/// A message on top of a page.
pub fn notice(notice: Option<&Notice>) -> Markup {
    html! {
        @if let Some((kind, text)) = notice {
            div class={ "aui-message aui-message-" (kind) } id="notice" { (text) }
        }
    }
}

/// The connector list.
pub fn list_page(
    frame: &Frame<'_>,
    list: &[ConnectorView],
    runs: &[Run],
    seats: Option<&Seats>,
    message: Option<Notice>,
) -> Markup {
    let body = html! {
        div class="aui-page-header" {
            div {
                h1 { "User Sync" }
                p { "Users, groups and memberships from Okta, kept in sync with " (frame.product) "'s user directory." }
                @if let Some(s) = seats {
                    p id="seats" {
                        "Licence seats: " strong { (s.used) " of " (s.limit) } " used (active members of "
                        (s.access_groups.join(", ")) ", over every directory); syncs never go past the limit."
                    }
                }
            }
            div class="aui-buttons" {
                a class="aui-button aui-button-primary" id="create-connector"
                    href={ (frame.base) "/connectors/new" } { "Create Connector" }
            }
        }
        (notice(message.as_ref()))
        table class="aui" id="connectors" {
            thead { tr {
                th { "Name" } th { "Type" } th { "Okta domain" } th { "Scheduled sync (UTC)" }
                th { "Last run" } th { "Actions" }
            } }
            tbody {
                @if list.is_empty() {
                    tr { td colspan="6" class="muted" {
                        "No connectors yet. Click " strong { "Create Connector" } " and select Okta."
                    } }
                }
                @for v in list { (connector_row(frame, v)) }
            }
        }
        h2 { "Recent syncs" }
        (runs_table(frame, runs))
    };
    frame.page("User Sync", body)
}

/// One row of the connector list: schedule, last run, and the Sync, Edit, Delete actions.
fn connector_row(frame: &Frame<'_>, v: &ConnectorView) -> Markup {
    let c = &v.settings;
    let path = format!("{}/connectors/{}", frame.base, segment(&c.name));
    let (sync, delete) = (format!("{path}/sync"), format!("{path}/delete"));
    let confirm = format!(
        "Delete the connector {}? Its directory and users are kept, detached.",
        c.name
    );
    html! {
        tr data-connector=(c.name) {
            td { a href=(path) { strong { (c.name) } } }
            td { "Okta" }
            td { (c.okta_domain) }
            td {
                @if c.schedule_enabled {
                    span class="aui-lozenge aui-lozenge-success" { "On" } " " code { (c.schedule) }
                    @if let Some(t) = v.next_runs.first() { div class="muted" { "next: " (time(*t)) } }
                } @else {
                    span class="aui-lozenge" { "Off" }
                }
            }
            td class="last-run" {
                @if let Some(r) = &v.last_run {
                    (status_lozenge(r.status.as_str(), r.dry_run)) " "
                    a href={ (frame.base) "/runs/" (r.id) } { "#" (r.id) } " "
                    span class="muted" { (time(r.started_at)) }
                } @else {
                    span class="muted" { "Never" }
                }
            }
            td class="actions" {
                (frame.post_button(PostButton {
                    action: &sync,
                    label: "Sync",
                    class: "aui-button-link sync-action",
                    ..PostButton::default()
                }))
                a class="aui-button aui-button-link edit-action" href=(path) { "Edit" }
                (frame.post_button(PostButton {
                    action: &delete,
                    label: "Delete",
                    class: "aui-button-danger delete-action",
                    confirm: Some(&confirm),
                    ..PostButton::default()
                }))
            }
        }
    }
}

/// Create Connector: choose the type (Okta).
pub fn chooser_page(frame: &Frame<'_>) -> Markup {
    let body = html! {
        div class="breadcrumbs" { a href=(frame.base) { "User Sync" } " › Create Connector" }
        h1 { "Create Connector" }
        p class="muted" { "Select the identity provider to sync users and groups from." }
        div class="type-cards" {
            a class="type-card" id="type-okta" href={ (frame.base) "/connectors/new?type=okta" } {
                strong { "Okta" } "Users, groups and memberships through the Okta API, with an API token."
            }
        }
    };
    frame.page("Create Connector", body)
}

const COUNT_ROWS: [(&str, &str); 8] = [
    ("users_created", "Users created"),
    ("users_updated", "Users updated"),
    ("users_activated", "Users reactivated"),
    ("users_deactivated", "Users deactivated"),
    ("groups_created", "Groups created"),
    ("groups_updated", "Groups updated"),
    ("memberships_added", "Memberships added"),
    ("memberships_removed", "Memberships removed"),
];

fn count(c: &SyncCounts, key: &str) -> u32 {
    match key {
        "users_created" => c.users_created,
        "users_updated" => c.users_updated,
        "users_activated" => c.users_activated,
        "users_deactivated" => c.users_deactivated,
        "groups_created" => c.groups_created,
        "groups_updated" => c.groups_updated,
        "memberships_added" => c.memberships_added,
        _ => c.memberships_removed,
    }
}

/// The changes a run's page shows: a page of them (of one action or all), and how many
/// of each action the run has.
pub struct ChangesShown {
    /// Which changes.
    pub query: ChangeQuery,
    /// The changes, with the query's total.
    pub page: ChangePage,
    /// Changes of each action the run has.
    pub totals: Vec<(ChangeAction, u64)>,
}

impl ChangesShown {
    /// Changes of every action.
    fn all(&self) -> u64 {
        self.totals.iter().map(|(_, n)| n).sum()
    }

    /// The run's page at `offset` of `action`'s changes (all: none), this page's limit kept.
    fn link(
        &self,
        frame: &Frame<'_>,
        r: &Run,
        offset: u64,
        action: Option<ChangeAction>,
    ) -> String {
        let mut link = format!("{}/runs/{}?offset={offset}", frame.base, r.id);
        if self.query.limit != CHANGES_SHOWN {
            link.push_str(&format!("&limit={}", self.query.limit));
        }
        if let Some(a) = action {
            link.push_str(&format!("&action={}", a.name()));
        }
        link
    }
}

/// A finished run's counts, warnings and changes (and Apply for a preview).
fn results(frame: &Frame<'_>, r: &Run, rep: &SyncReport, shown: &ChangesShown) -> Markup {
    let apply = format!("{}/connectors/{}/sync", frame.base, segment(&r.connector));
    html! {
        p {
            "Okta: " (rep.okta_users) " users, " (rep.okta_groups) " groups synced · "
            (rep.requests) " HTTP requests · " (rep.writes) " store writes"
        }
        h2 { "Counts" }
        table class="aui counts" id="run-counts" { tbody {
            @for (key, label) in COUNT_ROWS {
                tr { th { (label) } td class="num" data-count=(key) { (count(&rep.counts, key)) } }
            }
        } }
        @for w in &rep.warnings { div class="aui-message aui-message-warning" { (w) } }
        (changes(frame, r, shown))
        @if rep.dry_run && r.status == RunStatus::Succeeded && shown.all() > 0 {
            (frame.post_button(PostButton {
                action: &apply,
                label: "Apply these changes (sync now)",
                class: "aui-button-primary",
                id: Some("apply-preview"),
                ..PostButton::default()
            }))
        }
    }
}

/// A page of a run's changes: a filter by action, the table, and the way to the pages
/// before and after.
fn changes(frame: &Frame<'_>, r: &Run, shown: &ChangesShown) -> Markup {
    let (q, page) = (&shown.query, &shown.page);
    let end = q.offset.saturating_add(page.changes.len() as u64);
    let before = q.offset.saturating_sub(u64::from(q.limit));
    html! {
        h2 { "Changes (" (shown.all()) ")" }
        @if shown.totals.len() > 1 {
            p id="change-filter" {
                @if q.action.is_none() { strong { "All" } } @else { a href=(shown.link(frame, r, 0, None)) { "All" } }
                @for (action, n) in &shown.totals {
                    " · "
                    @if q.action == Some(*action) {
                        strong { (action_name(*action)) " (" (n) ")" }
                    } @else {
                        a href=(shown.link(frame, r, 0, Some(*action))) { (action_name(*action)) " (" (n) ")" }
                    }
                }
            }
        }
        table class="aui" id="run-changes" {
            thead { tr { th { "Action" } th { "User or group" } th { "Group" } th { "Details" } } }
            tbody {
                @if page.changes.is_empty() {
                    tr { td colspan="4" class="muted" {
                        @if shown.all() == 0 { "No changes: the product already matches Okta." }
                        @else { "No changes here." }
                    } }
                }
                @for e in &page.changes {
                    tr {
                        td { (action_name(e.action)) }
                        td { (e.target) }
                        td { (e.group.as_deref().unwrap_or_default()) }
                        td { (details(e)) }
                    }
                }
            }
        }
        @if page.total > u64::from(q.limit) || q.offset > 0 {
            p id="change-pages" {
                @if q.offset > 0 { a id="changes-previous" href=(shown.link(frame, r, before, q.action)) { "← Previous" } " " }
                span class="muted" {
                    @if end > q.offset { "Changes " (q.offset + 1) "–" (end) " of " (page.total) }
                    @else { "Past the last of " (page.total) " changes" }
                    ": download the CSV or JSON for all of them."
                }
                @if end < page.total { " " a id="changes-next" href=(shown.link(frame, r, end, q.action)) { "Next →" } }
            }
        }
    }
}

/// A change's fields as `field: old → new; ...` (`∅` for none), as the page and CSV show them.
pub fn details(e: &ChangeEntry) -> String {
    crate::surface::report::details(e, "; ")
}

/// A run's results page (the script reloads it while the run is running).
pub fn run_page(
    frame: &Frame<'_>,
    r: &Run,
    log: &[LogLine],
    shown: &ChangesShown,
    plan: Option<&crate::product::db::pending::PendingPlan>,
) -> Markup {
    let title = if r.dry_run {
        format!("Dry-run preview: run #{}", r.id)
    } else {
        format!("Sync results: run #{}", r.id)
    };
    let body = html! {
        (run_header(frame, r, &title))
        p id="run-status" { "Status: " (status_lozenge(r.status.as_str(), r.dry_run)) }
        @match (r.status, &r.report) {
            (RunStatus::Running, _) => div class="aui-message" id="run-running" data-reload-ms="1000" {
                "Syncing with Okta… this page refreshes until the run finishes."
            },
            (RunStatus::Failed, _) => {
                (run_failed(frame, r))
                // A run the guard stopped keeps its plan: approve or reject it here.
                @if let Some(p) = plan {
                    (super::console_page::plan_box(frame, p))
                    (changes(frame, r, shown))
                }
            },
            (_, Some(rep)) => {
                @if rep.dry_run {
                    div class="aui-message" id="run-done" {
                        "Preview: nothing was written. These are the changes a sync would make now."
                    }
                } @else {
                    div class="aui-message aui-message-success" id="run-done" {
                        "The sync finished: " (shown.all()) " changes applied."
                    }
                }
                (results(frame, r, rep, shown))
            },
            _ => {},
        }
        @if !log.is_empty() {
            h2 { "Log" }
            table class="aui log" { tbody {
                @for l in log { tr { td { (time(l.at)) } td { (l.level) } td { (l.message) } } }
            } }
        }
    };
    frame.page(&title, body)
}

/// The breadcrumbs, title and download buttons of a run's page.
fn run_header(frame: &Frame<'_>, r: &Run, title: &str) -> Markup {
    let base = frame.base;
    html! {
        div class="breadcrumbs" {
            a href=(base) { "User Sync" } " › "
            a href={ (base) "/connectors/" (segment(&r.connector)) } { (r.connector) } " › Run #" (r.id)
        }
        div class="aui-page-header" {
            div {
                h1 { (title) }
                p {
                    (r.kind.as_str()) " sync, " (r.trigger.as_str()) " · started " (time(r.started_at))
                    @if let Some(f) = r.finished_at { ", took " (f - r.started_at) " s" }
                }
            }
            div class="aui-buttons" {
                a class="aui-button" id="download-csv" href={ (base) "/runs/" (r.id) "/changes.csv" } { "Download CSV" }
                a class="aui-button" id="download-json" href={ (base) "/runs/" (r.id) "/report.json" } { "Download JSON" }
            }
        }
    }
}

/// A failed run's error; past the mass-deactivation guard, the offer to sync anyway.
fn run_failed(frame: &Frame<'_>, r: &Run) -> Markup {
    let error = r
        .failure
        .as_ref()
        .map_or("unknown error", |f| f.message.as_str());
    let force = format!("{}/connectors/{}/sync", frame.base, segment(&r.connector));
    html! {
        div class="aui-message aui-message-error" id="run-error" {
            span class="title" { "The sync failed; nothing was changed." } (error)
        }
        @if r.failure.as_ref().is_some_and(|f| f.kind == FailureKind::Guard) {
            (frame.post_button(PostButton {
                action: &force,
                label: "I checked Okta: sync anyway",
                class: "",
                id: Some("force-sync"),
                confirm: Some("Sync anyway, past the mass-deactivation guard?"),
                hidden: Some(("force", "1")),
            }))
        }
    }
}

/// The login form.
pub fn login_page(frame: &Frame<'_>, next: &str, error: Option<&str>) -> Markup {
    frame.page("Log in", login_form(frame, next, error))
}

/// The admin's local login form (also on the product's login page, `/login?nosso`).
pub fn login_form(frame: &Frame<'_>, next: &str, error: Option<&str>) -> Markup {
    html! {
        div class="login-box" {
            h1 { "Administrator access" }
            p class="muted" { "Log in with the " (frame.product) " User Sync admin credential to manage Okta connectors." }
            @if let Some(e) = error { div class="aui-message aui-message-error" id="login-error" { (e) } }
            form class="aui" method="post" action={ (frame.base) "/login" } {
                input type="hidden" name="next" value=(next);
                div class="field-group" {
                    label for="login-username" { "Username" }
                    input class="text" type="text" id="login-username" name="username" autocomplete="username" autofocus;
                }
                div class="field-group" {
                    label for="login-password" { "Password" }
                    input class="text" type="password" id="login-password" name="password" autocomplete="current-password";
                }
                div class="buttons-container" {
                    button type="submit" class="aui-button aui-button-primary" id="login-submit" { "Log in" }
                }
            }
        }
    }
}

/// A page of one message (errors, refusals).
pub fn message_page(frame: &Frame<'_>, title: &str, text: &str) -> Markup {
    let body = html! {
        h1 { (title) }
        div class="aui-message aui-message-error" id="message" { (text) }
        p { a href=(frame.base) { "Back to User Sync" } }
    };
    frame.page(title, body)
}
