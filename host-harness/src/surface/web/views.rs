//! The admin page's other views: the connector list, the connector-type chooser, a
//! run's results (counts and changes, with CSV/JSON downloads), the login form and the
//! page of one message. Templates are maud's `html!` (every value escaped).

use super::html::{Frame, PostButton, segment, status_lozenge, time};
use crate::harness::{ConnectorView, Seats};
use crate::model::{ChangeEntry, FailureKind, RunStatus, SyncCounts, SyncReport};
use crate::product::db::runs::{LogLine, Run};
use crate::surface::report::action_name;
use maud::{Markup, html};

/// How many changes the results page lists (the downloads hold all).
const SHOWN_CHANGES: usize = 1000;

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

/// A finished run's counts, warnings and changes (and Apply for a preview).
fn results(frame: &Frame<'_>, r: &Run, rep: &SyncReport) -> Markup {
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
        h2 { "Changes (" (rep.changes.len()) ")" }
        table class="aui" id="run-changes" {
            thead { tr { th { "Action" } th { "User or group" } th { "Group" } th { "Details" } } }
            tbody {
                @if rep.changes.is_empty() {
                    tr { td colspan="4" class="muted" { "No changes: the product already matches Okta." } }
                }
                @for e in rep.changes.iter().take(SHOWN_CHANGES) {
                    tr {
                        td { (action_name(e.action)) }
                        td { (e.target) }
                        td { (e.group.as_deref().unwrap_or_default()) }
                        td { (details(e)) }
                    }
                }
            }
        }
        @if rep.changes.len() > SHOWN_CHANGES {
            p class="muted" { "… and " (rep.changes.len() - SHOWN_CHANGES) " more: download the CSV or JSON for all of them." }
        }
        @if rep.dry_run && r.status == RunStatus::Succeeded && !rep.changes.is_empty() {
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

/// A change's fields as `field: old → new; ...` (`∅` for none), as the page and CSV show them.
pub fn details(e: &ChangeEntry) -> String {
    crate::surface::report::details(e, "; ")
}

/// A run's results page (the script reloads it while the run is running).
pub fn run_page(frame: &Frame<'_>, r: &Run, log: &[LogLine]) -> Markup {
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
            (RunStatus::Failed, _) => (run_failed(frame, r)),
            (_, Some(rep)) => {
                @if rep.dry_run {
                    div class="aui-message" id="run-done" {
                        "Preview: nothing was written. These are the changes a sync would make now."
                    }
                } @else {
                    div class="aui-message aui-message-success" id="run-done" {
                        "The sync finished: " (rep.changes.len()) " changes applied."
                    }
                }
                (results(frame, r, rep))
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
    let body = html! {
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
    };
    frame.page("Log in", body)
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

/// A cell as a spreadsheet shows it as text: a leading `=`, `+`, `-` or `@` would make it
/// a formula (CSV injection), so such a cell gets a `'` in front.
fn not_a_formula(s: &str) -> std::borrow::Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}").into()
    } else {
        s.into()
    }
}

/// A run's changes as CSV (action, target, group, details), lines ending in CRLF.
pub fn changes_csv(changes: &[ChangeEntry]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    w.write_record(["action", "target", "group", "details"])?;
    for e in changes {
        let group = e.group.as_deref().unwrap_or_default();
        let details = details(e);
        let cells = [action_name(e.action), &e.target, group, &details].map(not_a_formula);
        w.write_record(cells.iter().map(|c| c.as_bytes()))?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ChangeAction;
    use crate::model::report::FieldChange;

    #[test]
    fn csv_quotes_cells_and_defuses_formulas() {
        let change = ChangeEntry {
            action: ChangeAction::UpdateUser,
            target: "=HYPERLINK(\"http://evil\")".into(),
            group: Some("sales, \"west\"".into()),
            fields: vec![FieldChange {
                field: "title".into(),
                old: None,
                new: Some("-1".into()),
            }],
        };
        let csv = String::from_utf8(changes_csv(&[change]).unwrap()).unwrap();
        assert_eq!(
            csv,
            "action,target,group,details\r\n\
             update user,\"'=HYPERLINK(\"\"http://evil\"\")\",\"sales, \"\"west\"\"\",title: ∅ → -1\r\n"
        );
        let empty = changes_csv(&[]).unwrap();
        assert_eq!(empty, b"action,target,group,details\r\n");
    }
}
