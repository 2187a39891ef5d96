//! The admin page's other views: the connector list, the connector-type chooser, a
//! run's results (counts and changes, with CSV/JSON downloads), the login form.

use super::html::{Frame, esc, segment, status_lozenge, time};
use crate::bindings::report::{SyncCounts, SyncReport};
use crate::db::run_changes::{ChangePage, RecordedChange};
use crate::db::runs::{LogLine, Run};
use crate::harness::ConnectorView;
use crate::report::action_name;
use std::fmt::Write;

/// How many changes the results page lists (the downloads hold all).
pub const SHOWN_CHANGES: u32 = 1000;

fn counts_summary(r: &Run) -> String {
    if let Some(e) = &r.error {
        return esc(e);
    }
    let Some(c) = r.report.as_ref().map(|rep| &rep["counts"]) else {
        return String::new();
    };
    let n = |k: &str| c[k].as_u64().unwrap_or(0);
    format!(
        "{}{} created, {} updated, {} deactivated, {} groups created, {} memberships changed",
        if r.dry_run { "Preview: " } else { "" },
        n("users_created"),
        n("users_updated"),
        n("users_deactivated"),
        n("groups_created"),
        n("memberships_added") + n("memberships_removed")
    )
}

/// A table of runs.
pub fn runs_table(frame: &Frame<'_>, runs: &[Run]) -> String {
    if runs.is_empty() {
        return r#"<p class="muted">No syncs yet.</p>"#.into();
    }
    let mut b = String::from(
        r#"<table class="aui runs"><thead><tr><th>Run</th><th>Connector</th><th>Kind</th><th>Trigger</th><th>Status</th><th>Started (UTC)</th><th>Result</th></tr></thead><tbody>"#,
    );
    for r in runs {
        let _ = write!(
            b,
            r#"<tr><td><a href="{}/runs/{}">#{}</a></td><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
            esc(frame.base),
            r.id,
            r.id,
            esc(&r.connector),
            esc(&r.kind),
            if r.dry_run { " (dry run)" } else { "" },
            esc(&r.trigger),
            status_lozenge(&r.status, r.dry_run),
            esc(&time(r.started_at)),
            counts_summary(r)
        );
    }
    b.push_str("</tbody></table>");
    b
}

/// The connector list.
pub fn list_page(
    frame: &Frame<'_>,
    list: &[ConnectorView],
    runs: &[Run],
    seats: Option<&crate::harness::Seats>,
    notice: Option<(&str, String)>,
) -> String {
    let base = frame.base;
    let seats = seats
        .map(|s| {
            format!(
                r#"<p id="seats">Licence seats: <strong>{} of {}</strong> used (active members of {}, over every directory); syncs never go past the limit.</p>"#,
                s.used,
                s.limit,
                esc(&s.access_groups.join(", "))
            )
        })
        .unwrap_or_default();
    let mut b = format!(
        r#"<div class="aui-page-header"><div><h1>User Sync</h1><p>Users, groups and memberships from Okta, kept in sync with {}'s user directory.</p>{seats}</div><div class="aui-buttons"><a class="aui-button aui-button-primary" id="create-connector" href="{}/connectors/new">Create Connector</a></div></div>"#,
        esc(frame.product),
        esc(base)
    );
    if let Some((kind, text)) = notice {
        let _ = write!(
            b,
            r#"<div class="aui-message aui-message-{kind}" id="notice">{}</div>"#,
            esc(&text)
        );
    }
    b.push_str(r#"<table class="aui" id="connectors"><thead><tr><th>Name</th><th>Type</th><th>Okta domain</th><th>Scheduled sync (UTC)</th><th>Last run</th><th>Actions</th></tr></thead><tbody>"#);
    if list.is_empty() {
        b.push_str(r#"<tr><td colspan="6" class="muted">No connectors yet. Click <strong>Create Connector</strong> and select Okta.</td></tr>"#);
    }
    for v in list {
        let c = &v.config;
        let seg = segment(&c.name);
        let schedule = if c.schedule_enabled {
            format!(
                r#"<span class="aui-lozenge aui-lozenge-success">On</span> <code>{}</code>{}"#,
                esc(&c.schedule),
                v.next_runs
                    .first()
                    .map(|t| format!(r#"<div class="muted">next: {}</div>"#, esc(&time(*t))))
                    .unwrap_or_default()
            )
        } else {
            r#"<span class="aui-lozenge">Off</span>"#.into()
        };
        let last = match &v.last_run {
            Some(r) => format!(
                r#"{} <a href="{}/runs/{}">#{}</a> <span class="muted">{}</span>"#,
                status_lozenge(&r.status, r.dry_run),
                esc(base),
                r.id,
                r.id,
                esc(&time(r.started_at))
            ),
            None => r#"<span class="muted">Never</span>"#.into(),
        };
        let actions = format!(
            r#"{}<a class="aui-button aui-button-link edit-action" href="{base}/connectors/{seg}">Edit</a>{}"#,
            frame.post_button(
                &format!("{base}/connectors/{seg}/sync"),
                "Sync",
                "aui-button-link sync-action",
                ""
            ),
            frame.post_button(
                &format!("{base}/connectors/{seg}/delete"),
                "Delete",
                "aui-button-danger delete-action",
                &format!(
                    r#"data-confirm="Delete the connector {}? Its directory and users are kept, detached.""#,
                    esc(&c.name)
                )
            ),
        );
        let _ = write!(
            b,
            r#"<tr data-connector="{}"><td><a href="{base}/connectors/{seg}"><strong>{}</strong></a></td><td>Okta</td><td>{}</td><td>{schedule}</td><td class="last-run">{last}</td><td class="actions">{actions}</td></tr>"#,
            esc(&c.name),
            esc(&c.name),
            esc(&c.okta_domain)
        );
    }
    b.push_str("</tbody></table><h2>Recent syncs</h2>");
    b.push_str(&runs_table(frame, runs));
    frame.page("User Sync", &b)
}

/// Create Connector: choose the type (Okta).
pub fn chooser_page(frame: &Frame<'_>) -> String {
    let b = format!(
        r#"<div class="breadcrumbs"><a href="{base}">User Sync</a> &rsaquo; Create Connector</div><h1>Create Connector</h1><p class="muted">Select the identity provider to sync users and groups from.</p><div class="type-cards"><a class="type-card" id="type-okta" href="{base}/connectors/new?type=okta"><strong>Okta</strong>Users, groups and memberships through the Okta API, with an API token.</a></div>"#,
        base = esc(frame.base)
    );
    frame.page("Create Connector", &b)
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

/// The results of a run: `changes` holds its first [`SHOWN_CHANGES`] changes.
fn results(frame: &Frame<'_>, r: &Run, rep: &SyncReport, changes: &ChangePage) -> String {
    let mut b = String::new();
    let _ = write!(
        b,
        r#"<p>Okta: {} users, {} groups synced &middot; {} HTTP requests &middot; {} store writes</p><h2>Counts</h2><table class="aui counts" id="run-counts" style="max-width:420px"><tbody>"#,
        rep.okta_users, rep.okta_groups, rep.requests, rep.writes
    );
    for (key, label) in COUNT_ROWS {
        let _ = write!(
            b,
            r#"<tr><th>{label}</th><td class="num" data-count="{key}">{}</td></tr>"#,
            count(&rep.counts, key)
        );
    }
    b.push_str("</tbody></table>");
    for w in &rep.warnings {
        let _ = write!(
            b,
            r#"<div class="aui-message aui-message-warning">{}</div>"#,
            esc(w)
        );
    }
    let _ = write!(
        b,
        r#"<h2>Changes ({})</h2><table class="aui" id="run-changes"><thead><tr><th>Action</th><th>User or group</th><th>Group</th><th>Details</th></tr></thead><tbody>"#,
        changes.total
    );
    if changes.total == 0 {
        b.push_str(r#"<tr><td colspan="4" class="muted">No changes: the product already matches Okta.</td></tr>"#);
    }
    for e in &changes.changes {
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(action_name(e.action)),
            esc(&e.target),
            esc(e.group.as_deref().unwrap_or("")),
            esc(&details(e))
        );
    }
    b.push_str("</tbody></table>");
    let shown = changes.changes.len() as u64;
    if changes.total > shown {
        let _ = write!(
            b,
            r#"<p class="muted">&hellip; and {} more: download the CSV or JSON for all of them.</p>"#,
            changes.total - shown
        );
    }
    if rep.dry_run && r.status == "succeeded" && changes.total > 0 {
        b.push_str(&frame.post_button(
            &format!("{}/connectors/{}/sync", frame.base, segment(&r.connector)),
            "Apply these changes (sync now)",
            "aui-button-primary",
            r#"id="apply-preview""#,
        ));
    }
    b
}

fn details(e: &RecordedChange) -> String {
    e.fields
        .iter()
        .map(|f| {
            format!(
                "{}: {} → {}",
                f.field,
                f.old.as_deref().unwrap_or("∅"),
                f.new.as_deref().unwrap_or("∅")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A run's results page (it reloads itself while the run is running).
/// `changes`: the run's first [`SHOWN_CHANGES`] changes.
pub fn run_page(frame: &Frame<'_>, r: &Run, log: &[LogLine], changes: &ChangePage) -> String {
    let base = frame.base;
    let title = if r.dry_run {
        format!("Dry-run preview: run #{}", r.id)
    } else {
        format!("Sync results: run #{}", r.id)
    };
    let mut b = format!(
        r#"<div class="breadcrumbs"><a href="{b}">User Sync</a> &rsaquo; <a href="{b}/connectors/{}">{}</a> &rsaquo; Run #{}</div><div class="aui-page-header"><div><h1>{}</h1><p>{} sync, {} &middot; started {}{}</p></div><div class="aui-buttons"><a class="aui-button" id="download-csv" href="{b}/runs/{}/changes.csv">Download CSV</a><a class="aui-button" id="download-json" href="{b}/runs/{}/report.json">Download JSON</a></div></div>"#,
        segment(&r.connector),
        esc(&r.connector),
        r.id,
        esc(&title),
        esc(&r.kind),
        esc(&r.trigger),
        esc(&time(r.started_at)),
        r.finished_at
            .map(|f| format!(", took {} s", f - r.started_at))
            .unwrap_or_default(),
        r.id,
        r.id,
        b = esc(base)
    );
    let _ = write!(
        b,
        r#"<p id="run-status">Status: {}</p>"#,
        status_lozenge(&r.status, r.dry_run)
    );
    let report: Option<SyncReport> = r.report.as_ref().and_then(crate::report::stored);
    match (r.status.as_str(), &report) {
        ("running", _) => b.push_str(r#"<div class="aui-message" id="run-running">Syncing with Okta&hellip; this page refreshes until the run finishes.</div><script>setTimeout(function(){location.reload();},1000);</script>"#),
        ("failed", _) => {
            let error = r.error.as_deref().unwrap_or("unknown error");
            let _ = write!(
                b,
                r#"<div class="aui-message aui-message-error" id="run-error"><span class="title">The sync failed; nothing was changed.</span>{}</div>"#,
                esc(error)
            );
            if error.starts_with("the mass-deactivation guard") {
                let _ = write!(
                    b,
                    r#"<form method="post" action="{}/connectors/{}/sync" class="inline-form" data-confirm="Sync anyway, past the mass-deactivation guard?">{}<input type="hidden" name="force" value="1"><button type="submit" class="aui-button" id="force-sync">I checked Okta: sync anyway</button></form>"#,
                    esc(base),
                    segment(&r.connector),
                    frame.token_field()
                );
            }
        }
        (_, Some(rep)) => {
            let (kind, text) = if rep.dry_run {
                ("", "Preview: nothing was written. These are the changes a sync would make now.".to_string())
            } else {
                ("aui-message-success", format!("The sync finished: {} changes applied.", changes.total))
            };
            let _ = write!(b, r#"<div class="aui-message {kind}" id="run-done">{}</div>"#, esc(&text));
            b.push_str(&results(frame, r, rep, changes));
        }
        _ => {}
    }
    if !log.is_empty() {
        b.push_str(r#"<h2>Log</h2><table class="aui log"><tbody>"#);
        for l in log {
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&time(l.at)),
                esc(&l.level),
                esc(&l.message)
            );
        }
        b.push_str("</tbody></table>");
    }
    frame.page(&title, &b)
}

fn csv_cell(s: &str) -> String {
    // Leading = + - @ would be formulas in a spreadsheet.
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// A run's changes as CSV (action, target, group, details).
pub fn changes_csv(changes: &[RecordedChange]) -> String {
    let mut s = String::from("action,target,group,details\r\n");
    for e in changes {
        let _ = write!(
            s,
            "{},{},{},{}\r\n",
            csv_cell(action_name(e.action)),
            csv_cell(&e.target),
            csv_cell(e.group.as_deref().unwrap_or("")),
            csv_cell(&details(e))
        );
    }
    s
}

/// The login form.
pub fn login_page(frame: &Frame<'_>, next: &str, error: Option<&str>) -> String {
    let err = error
        .map(|e| {
            format!(
                r#"<div class="aui-message aui-message-error" id="login-error">{}</div>"#,
                esc(e)
            )
        })
        .unwrap_or_default();
    let b = format!(
        r#"<div class="login-box"><h1>Administrator access</h1><p class="muted">Log in with the {} User Sync admin credential to manage Okta connectors.</p>{err}<form class="aui" method="post" action="{}/login"><input type="hidden" name="next" value="{}"><div class="field-group"><label for="login-username">Username</label><input class="text" type="text" id="login-username" name="username" autocomplete="username" autofocus></div><div class="field-group"><label for="login-password">Password</label><input class="text" type="password" id="login-password" name="password" autocomplete="current-password"></div><div class="buttons-container"><button type="submit" class="aui-button aui-button-primary" id="login-submit">Log in</button></div></form></div>"#,
        esc(frame.product),
        esc(frame.base),
        esc(next)
    );
    frame.page("Log in", &b)
}
