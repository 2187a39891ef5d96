//! Human-readable renderings of sync reports, runs and connectors for the CLI and demo.

use crate::bindings::report::{SyncMode, SyncReport, UserSyncReport};
use crate::db::run_changes::{Action, ChangePage, RecordedChange};
use crate::db::runs::Run;
use crate::harness::ConnectorView;
use std::fmt::Write;

fn secs(ms: u64) -> String {
    format!("{:.2} s", ms as f64 / 1000.0)
}

/// UTC time of Unix seconds, as admins read it.
pub fn time(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| t.to_string())
}

/// The action as a word.
pub fn action_name(a: Action) -> &'static str {
    match a {
        Action::CreateUser => "create user",
        Action::UpdateUser => "update user",
        Action::ActivateUser => "reactivate user",
        Action::DeactivateUser => "deactivate user",
        Action::DeleteUser => "delete user",
        Action::MigrateUser => "migrate user",
        Action::AnonymizeUser => "anonymize user",
        Action::CreateGroup => "create group",
        Action::UpdateGroup => "update group",
        Action::AddMembership => "add membership",
        Action::RemoveMembership => "remove membership",
    }
}

/// One change on one line.
pub fn change_line(e: &RecordedChange) -> String {
    let mut s = format!("{:<18} {}", action_name(e.action), e.target);
    if let Some(g) = &e.group {
        let _ = write!(s, " → {g}");
    }
    let fields: Vec<String> = e
        .fields
        .iter()
        .map(|f| {
            format!(
                "{}: {} → {}",
                f.field,
                f.old.as_deref().unwrap_or("∅"),
                f.new.as_deref().unwrap_or("∅")
            )
        })
        .collect();
    if !fields.is_empty() {
        let _ = write!(s, "  ({})", fields.join(", "));
    }
    s
}

/// A sync report as stored in a run. Reports stored before a field was added lack it;
/// they read with its empty value.
pub fn stored(v: &serde_json::Value) -> Option<SyncReport> {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        o.entry("seats_denied")
            .or_insert_with(|| serde_json::json!([]));
    }
    serde_json::from_value(v).ok()
}

/// A sync report as a short block of text, with `changes` (the first of the run's).
pub fn sync_report(connector: &str, run_id: i64, r: &SyncReport, changes: &ChangePage) -> String {
    let c = &r.counts;
    let kind = match r.mode {
        SyncMode::Full => "full",
        SyncMode::Incremental => "incremental",
        SyncMode::Feed => "feed",
    };
    let mut s = String::new();
    let what = if r.dry_run {
        "Dry run (nothing written)"
    } else {
        "Sync"
    };
    let _ = writeln!(
        s,
        "{what} of connector \"{connector}\" ({kind}), run #{run_id}"
    );
    let _ = writeln!(
        s,
        "  Okta:         {} users, {} groups synced, {} HTTP requests",
        r.okta_users, r.okta_groups, r.requests
    );
    let _ = writeln!(
        s,
        "  Users:        {} created, {} migrated, {} updated, {} reactivated, {} deactivated, {} deleted",
        c.users_created,
        c.users_migrated,
        c.users_updated,
        c.users_activated,
        c.users_deactivated,
        c.users_deleted
    );
    let _ = writeln!(
        s,
        "  Groups:       {} created, {} updated",
        c.groups_created, c.groups_updated
    );
    let _ = writeln!(
        s,
        "  Memberships:  {} added, {} removed",
        c.memberships_added, c.memberships_removed
    );
    let _ = writeln!(
        s,
        "  Store writes: {}   time: fetch {}, plan {}, apply {}",
        r.writes,
        secs(r.fetch_ms),
        secs(r.plan_ms),
        secs(r.apply_ms)
    );
    for w in &r.warnings {
        let _ = writeln!(s, "  warning: {w}");
    }
    if !changes.changes.is_empty() {
        let _ = writeln!(s, "  Changes:");
        for e in &changes.changes {
            let _ = writeln!(s, "    {}", change_line(e));
        }
        let shown = changes.changes.len() as u64;
        if changes.total > shown {
            let _ = writeln!(s, "    … and {} more", changes.total - shown);
        }
    }
    s
}

/// A login sync's result.
pub fn user_report(r: &UserSyncReport) -> String {
    let mut s = String::new();
    if !r.found {
        let _ = writeln!(
            s,
            "{} is not known to Okta; nothing changed ({} request)",
            r.login, r.requests
        );
        return s;
    }
    let state = if r.active { "active" } else { "inactive" };
    let _ = writeln!(
        s,
        "{} → {} ({state}), {} changes, {} requests",
        r.login,
        r.username.as_deref().unwrap_or("-"),
        r.changes.len(),
        r.requests
    );
    if r.seat_denied {
        let _ = writeln!(
            s,
            "  no seat: the licence's seat limit is reached; the user has no product access until a seat frees up"
        );
    }
    for e in &r.changes {
        let _ = writeln!(s, "  {}", change_line(&e.clone().into()));
    }
    s
}

/// The licence's seats on one line.
pub fn seats(s: &crate::harness::Seats) -> String {
    format!(
        "  Licence seats:      {} of {} used (members of {}), over every directory\n",
        s.used,
        s.limit,
        s.access_groups.join(", ")
    )
}

/// A table of runs.
pub fn runs_table(runs: &[Run]) -> String {
    let mut s = format!(
        "{:>5}  {:<16} {:<12} {:<9} {:<10} {:<24} {}\n",
        "RUN", "CONNECTOR", "KIND", "TRIGGER", "STATUS", "STARTED", "RESULT"
    );
    for r in runs {
        let result = match (&r.error, &r.report) {
            (Some(e), _) => e.clone(),
            (None, Some(rep)) => {
                let c = &rep["counts"];
                format!(
                    "{}{} created, {} updated, {} deactivated, {} memberships changed",
                    if r.dry_run { "dry run: " } else { "" },
                    c["users_created"],
                    c["users_updated"],
                    c["users_deactivated"],
                    c["memberships_added"].as_u64().unwrap_or(0)
                        + c["memberships_removed"].as_u64().unwrap_or(0)
                )
            }
            _ => String::new(),
        };
        let _ = writeln!(
            s,
            "{:>5}  {:<16} {:<12} {:<9} {:<10} {:<24} {}",
            r.id,
            r.connector,
            r.kind,
            r.trigger,
            r.status,
            time(r.started_at),
            result
        );
    }
    s
}

/// A connector's settings.
pub fn connector(v: &ConnectorView) -> String {
    let c = &v.config;
    let mut s = String::new();
    let _ = writeln!(s, "Connector \"{}\" (directory {})", c.name, v.directory_id);
    let _ = writeln!(s, "  Okta domain:        {}", c.okta_domain);
    let _ = writeln!(s, "  API token:          {}", v.api_token);
    let _ = writeln!(
        s,
        "  Schedule (UTC):     {} ({})",
        c.schedule,
        if c.schedule_enabled {
            "enabled"
        } else {
            "disabled"
        }
    );
    let _ = writeln!(
        s,
        "  Built-in groups:    {}",
        if c.include_built_in_groups {
            "synced"
        } else {
            "not synced"
        }
    );
    let _ = writeln!(
        s,
        "  User attributes:    {}",
        if c.user_attributes.is_empty() {
            "-".to_string()
        } else {
            c.user_attributes.join(", ")
        }
    );
    let _ = writeln!(
        s,
        "  Full sync every:    {} h (scheduled syncs are incremental in between)",
        c.full_sync_interval_hours
    );
    let login = match c.unknown_at_login {
        crate::bindings::wit::UnknownAtLogin::Keep => "keep the user",
        crate::bindings::wit::UnknownAtLogin::Deny => "deny (deactivate the user)",
    };
    let _ = writeln!(s, "  Unknown at login:   {login}");
    if c.schedule_enabled {
        let next: Vec<String> = v.next_runs.iter().map(|t| time(*t)).collect();
        let _ = writeln!(s, "  Next runs:          {}", next.join(", "));
    }
    if let Some(r) = &v.last_run {
        let _ = writeln!(
            s,
            "  Last run:           #{} {} at {}",
            r.id,
            r.status,
            time(r.started_at)
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_stored_before_seats_existed_still_read() {
        let c = crate::bindings::report::SyncCounts {
            users_created: 2,
            users_updated: 0,
            users_activated: 0,
            users_deactivated: 0,
            users_deleted: 0,
            users_migrated: 0,
            users_anonymized: 0,
            groups_created: 0,
            groups_updated: 0,
            memberships_added: 0,
            memberships_removed: 0,
        };
        let report = SyncReport {
            mode: SyncMode::Full,
            mode_reason: None,
            deep_reconcile: false,
            dry_run: false,
            counts: c,
            plan_digest: "d1".into(),
            okta_users: 2,
            okta_groups: 0,
            requests: 3,
            writes: 2,
            fetch_ms: 0,
            plan_ms: 0,
            apply_ms: 0,
            warnings: vec![],
            retries: 0,
            rate_limited: 0,
            scoped_token: false,
            seats_denied: vec!["eve".into()],
        };
        let mut v = serde_json::to_value(&report).unwrap();
        assert_eq!(stored(&v), Some(report.clone()));
        v.as_object_mut().unwrap().remove("seats_denied");
        let old = stored(&v).expect("an old report reads");
        assert_eq!(old.seats_denied, Vec::<String>::new());
        assert_eq!(old.counts.users_created, 2);
        assert_eq!(stored(&serde_json::json!({"mode": "nonsense"})), None);
    }
}
