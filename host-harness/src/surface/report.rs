//! Human-readable renderings of sync reports, runs and connectors for the CLI and demo,
//! and a run's documents (its report as JSON, its changes as CSV) written a stored chunk
//! of changes at a time, so that a run of a million changes is never in memory at once.

use crate::harness::ConnectorView;
use crate::model::{ChangeAction, ChangeEntry, Credential, SyncReport, UserSyncReport};
use crate::product::db::DbError;
use crate::product::db::run_changes::ChangePage;
use crate::product::db::runs::Run;
use serde::ser::{Error as _, Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;
use std::cell::RefCell;
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

/// Unix seconds on the wall clock of an IANA time zone (`None`: an unknown zone or an
/// out-of-range time; the plugin has validated the connector's).
pub fn zoned(t: i64, zone: &str) -> Option<chrono::DateTime<chrono_tz::Tz>> {
    let tz = chrono_tz::Tz::from_str_insensitive(zone).ok()?;
    chrono::DateTime::from_timestamp(t, 0).map(|d| d.with_timezone(&tz))
}

/// A run time in the schedule's zone and in UTC, as admins read it
/// (`2027-03-28 03:00:00 CEST (01:00:00 UTC)`); UTC alone for a UTC schedule.
pub fn time_in(t: i64, zone: &str) -> String {
    match zoned(t, zone) {
        Some(local) if zone != "UTC" => {
            let utc = chrono::DateTime::from_timestamp(t, 0)
                .map(|d| d.format("%H:%M:%S UTC").to_string())
                .unwrap_or_default();
            format!("{} ({utc})", local.format("%Y-%m-%d %H:%M:%S %Z"))
        }
        _ => time(t),
    }
}

/// The action as a word.
pub fn action_name(a: ChangeAction) -> &'static str {
    match a {
        ChangeAction::CreateUser => "create user",
        ChangeAction::UpdateUser => "update user",
        ChangeAction::ActivateUser => "reactivate user",
        ChangeAction::DeactivateUser => "deactivate user",
        ChangeAction::DeleteUser => "delete user",
        ChangeAction::MigrateUser => "migrate user",
        ChangeAction::AnonymizeUser => "anonymize user",
        ChangeAction::CreateGroup => "create group",
        ChangeAction::UpdateGroup => "update group",
        ChangeAction::AddMembership => "add membership",
        ChangeAction::RemoveMembership => "remove membership",
    }
}

/// One change on one line.
pub fn change_line(e: &ChangeEntry) -> String {
    let mut s = format!("{:<18} {}", action_name(e.action), e.target);
    if let Some(g) = &e.group {
        let _ = write!(s, " → {g}");
    }
    if !e.fields.is_empty() {
        let _ = write!(s, "  ({})", details(e, ", "));
    }
    s
}

/// A change's fields as `field: old → new`, joined by `separator` (`∅` for none).
pub fn details(e: &ChangeEntry, separator: &str) -> String {
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
        .join(separator)
}

/// A sync report as a short block of text; `max_changes` lines of its changes at most.
pub fn sync_report(connector: &str, run_id: i64, r: &SyncReport, max_changes: usize) -> String {
    let shown = ChangePage {
        changes: r.changes.iter().take(max_changes).cloned().collect(),
        total: r.changes.len() as u64,
    };
    sync_report_with(connector, run_id, r, &shown)
}

/// A sync report as a short block of text with the first of its changes, `shown`.
pub fn sync_report_with(
    connector: &str,
    run_id: i64,
    r: &SyncReport,
    shown: &ChangePage,
) -> String {
    let c = &r.counts;
    let kind = match r.mode {
        crate::model::SyncMode::Full => "full",
        crate::model::SyncMode::Incremental => "incremental",
        crate::model::SyncMode::Feed => "feed",
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
    if !shown.changes.is_empty() {
        let _ = writeln!(s, "  Changes:");
        for e in &shown.changes {
            let _ = writeln!(s, "    {}", change_line(e));
        }
        let more = shown.total.saturating_sub(shown.changes.len() as u64);
        if more > 0 {
            let _ = writeln!(s, "    … and {more} more");
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
        let _ = writeln!(s, "  {}", change_line(e));
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
        let result = match (&r.failure, &r.report) {
            (Some(f), _) => f.message.clone(),
            (None, Some(rep)) => {
                let c = &rep.counts;
                format!(
                    "{}{} created, {} updated, {} deactivated, {} memberships changed",
                    if r.dry_run { "dry run: " } else { "" },
                    c.users_created,
                    c.users_updated,
                    c.users_deactivated,
                    c.memberships_changed()
                )
            }
            _ => String::new(),
        };
        let _ = writeln!(
            s,
            "{:>5}  {:<16} {:<12} {:<9} {:<10} {:<24} {}",
            r.id,
            r.connector,
            r.kind.as_str(),
            r.trigger.as_str(),
            r.status.as_str(),
            time(r.started_at),
            result
        );
    }
    s
}

/// A connector's credential: the masked secret, and a service app's settings and
/// public key.
fn credential(s: &mut String, v: &ConnectorView) {
    match &v.settings.credential {
        Credential::ApiToken => {
            let _ = writeln!(s, "  API token:          {}", crate::model::REDACTED);
        }
        Credential::OauthServiceApp {
            client_id,
            scopes,
            dpop,
            ..
        } => {
            let scopes = crate::host::secret::scopes(
                v.settings.change_feed,
                v.settings.app_scope.is_some(),
                scopes,
            );
            let binding = if *dpop {
                "DPoP-bound tokens"
            } else {
                "Bearer tokens"
            };
            let _ = writeln!(
                s,
                "  Credential:         OAuth service app {client_id} ({binding})"
            );
            let _ = writeln!(s, "  Scopes:             {}", scopes.join(" "));
            let _ = writeln!(s, "  Private key:        {}", crate::model::REDACTED);
            if let Some(jwk) = &v.public_key {
                let _ = writeln!(s, "  Public key (JWK to add to the Okta app):\n    {jwk}");
            }
        }
    }
}

/// A connector's settings.
pub fn connector(v: &ConnectorView) -> String {
    let c = &v.settings;
    let mut s = String::new();
    let _ = writeln!(s, "Connector \"{}\" (directory {})", c.name, v.directory_id);
    let _ = writeln!(s, "  Okta domain:        {}", c.okta_domain);
    credential(&mut s, v);
    let _ = writeln!(
        s,
        "  {:<19} {} ({})",
        format!("Schedule ({}):", c.schedule_time_zone),
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
        crate::model::UnknownAtLogin::Keep => "keep the user",
        crate::model::UnknownAtLogin::Deny => "deny (deactivate the user)",
    };
    let _ = writeln!(s, "  Unknown at login:   {login}");
    if c.schedule_enabled {
        let zone = &c.schedule_time_zone;
        let next: Vec<String> = v.next_runs.iter().map(|t| time_in(*t, zone)).collect();
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

/// A run's changes in apply order, a chunk at a time (`run_changes::Chunks`).
pub trait ChangeChunks: Iterator<Item = Result<Vec<ChangeEntry>, DbError>> {}
impl<I: Iterator<Item = Result<Vec<ChangeEntry>, DbError>>> ChangeChunks for I {}

/// Write `doc` to `w` as pretty JSON with the array at `at` (object keys from the top,
/// the last one the array's, e.g. `["report", "changes"]`) holding `changes`, serialized
/// as they are read. A `doc` without that key (a run without a report) is written as it is.
pub fn write_json_with_changes(
    w: impl std::io::Write,
    doc: &Value,
    at: &[&str],
    changes: impl ChangeChunks,
) -> std::io::Result<()> {
    let changes = RefCell::new(changes);
    let spliced = Spliced {
        value: doc,
        at,
        changes: &changes,
    };
    serde_json::to_writer_pretty(w, &spliced).map_err(std::io::Error::from)
}

/// A JSON value whose array at `at` is `changes`.
struct Spliced<'a, I> {
    value: &'a Value,
    at: &'a [&'a str],
    changes: &'a RefCell<I>,
}

impl<I: ChangeChunks> Serialize for Spliced<'_, I> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (Some((key, rest)), Value::Object(map)) = (self.at.split_first(), self.value) else {
            return self.value.serialize(s);
        };
        let mut m = s.serialize_map(Some(map.len()))?;
        for (k, v) in map {
            match (k == key, rest.is_empty()) {
                (false, _) => m.serialize_entry(k, v)?,
                (true, true) => m.serialize_entry(k, &Streamed(self.changes))?,
                (true, false) => m.serialize_entry(
                    k,
                    &Spliced {
                        value: v,
                        at: rest,
                        changes: self.changes,
                    },
                )?,
            }
        }
        m.end()
    }
}

/// The changes as a JSON array, read while it is written.
struct Streamed<'a, I>(&'a RefCell<I>);

impl<I: ChangeChunks> Serialize for Streamed<'_, I> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for chunk in &mut *self.0.borrow_mut() {
            for e in &chunk.map_err(S::Error::custom)? {
                seq.serialize_element(e)?;
            }
        }
        seq.end()
    }
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

/// Write a run's changes to `w` as CSV (action, target, group, details; lines ending in
/// CRLF), a chunk at a time.
pub fn write_changes_csv(
    w: impl std::io::Write,
    changes: impl ChangeChunks,
) -> std::io::Result<()> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(w);
    w.write_record(["action", "target", "group", "details"])?;
    for chunk in changes {
        for e in &chunk.map_err(std::io::Error::other)? {
            let group = e.group.as_deref().unwrap_or_default();
            let details = details(e, "; ");
            let cells = [action_name(e.action), &e.target, group, &details].map(not_a_formula);
            w.write_record(cells.iter().map(|c| c.as_bytes()))?;
        }
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::report::FieldChange;
    use serde_json::json;

    #[test]
    fn run_times_show_in_the_schedules_zone_and_utc_across_dst() {
        let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp();
        assert_eq!(
            time_in(t("2027-03-28T00:30:00Z"), "Europe/Berlin"),
            "2027-03-28 01:30:00 CET (00:30:00 UTC)"
        );
        assert_eq!(
            time_in(t("2027-03-28T01:00:00Z"), "Europe/Berlin"),
            "2027-03-28 03:00:00 CEST (01:00:00 UTC)"
        );
        assert_eq!(
            time_in(t("2027-11-07T06:30:00Z"), "America/New_York"),
            "2027-11-07 01:30:00 EST (06:30:00 UTC)"
        );
        assert_eq!(
            time_in(t("2027-11-07T06:30:00Z"), "UTC"),
            "2027-11-07 06:30:00 UTC"
        );
        assert_eq!(
            crate::surface::web::json::local_iso(t("2027-10-31T00:30:00Z"), "Europe/Berlin"),
            "2027-10-31T02:30:00+02:00"
        );
        assert_eq!(
            crate::surface::web::json::local_iso(t("2027-10-31T01:30:00Z"), "Europe/Berlin"),
            "2027-10-31T02:30:00+01:00"
        );
    }

    fn change(action: ChangeAction, target: &str) -> ChangeEntry {
        ChangeEntry {
            action,
            target: target.into(),
            group: None,
            fields: Vec::new(),
        }
    }

    fn csv(changes: Vec<Vec<ChangeEntry>>) -> String {
        let mut out = Vec::new();
        write_changes_csv(&mut out, changes.into_iter().map(Ok)).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn csv_quotes_cells_and_defuses_formulas() {
        let change = ChangeEntry {
            group: Some("sales, \"west\"".into()),
            fields: vec![FieldChange {
                field: "title".into(),
                old: None,
                new: Some("-1".into()),
            }],
            ..change(ChangeAction::UpdateUser, "=HYPERLINK(\"http://evil\")")
        };
        assert_eq!(
            csv(vec![vec![change]]),
            "action,target,group,details\r\n\
             update user,\"'=HYPERLINK(\"\"http://evil\"\")\",\"sales, \"\"west\"\"\",title: ∅ → -1\r\n"
        );
        assert_eq!(csv(Vec::new()), "action,target,group,details\r\n");
    }

    #[test]
    fn csv_and_json_hold_every_chunk_in_order() {
        let chunks = vec![
            vec![change(ChangeAction::CreateUser, "ann")],
            vec![
                change(ChangeAction::AddMembership, "ann"),
                change(ChangeAction::AddMembership, "+bob"),
            ],
        ];
        assert_eq!(
            csv(chunks.clone()),
            "action,target,group,details\r\ncreate user,ann,,\r\n\
             add membership,ann,,\r\nadd membership,'+bob,,\r\n"
        );
        let doc = json!({"id": 1, "report": {"changes": [], "writes": 3}, "log": []});
        let mut out = Vec::new();
        write_json_with_changes(
            &mut out,
            &doc,
            &["report", "changes"],
            chunks.clone().into_iter().map(Ok),
        )
        .unwrap();
        let mut want = doc.clone();
        want["report"]["changes"] = json!(chunks.concat());
        assert_eq!(serde_json::from_slice::<Value>(&out).unwrap(), want);
        // Pretty, one field a line, as the page's download always was.
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("\n        \"target\": \"+bob\",\n"), "{text}");
        // Without a report, the document as it is.
        let failed = json!({"id": 2, "error": "no"});
        let mut out = Vec::new();
        write_json_with_changes(
            &mut out,
            &failed,
            &["report", "changes"],
            chunks.into_iter().map(Ok),
        )
        .unwrap();
        assert_eq!(serde_json::from_slice::<Value>(&out).unwrap(), failed);
    }

    #[test]
    fn a_failed_read_fails_the_write() {
        let failing = std::iter::once(Err(DbError {
            context: "reading the run's changes".into(),
            source: rusqlite::Error::InvalidQuery,
        }));
        let e = write_changes_csv(Vec::new(), failing).unwrap_err();
        assert!(e.to_string().contains("reading the run's changes"), "{e}");
        let doc = json!({"report": {"changes": []}});
        let failing = std::iter::once(Err(DbError {
            context: "reading the run's changes".into(),
            source: rusqlite::Error::InvalidQuery,
        }));
        let e =
            write_json_with_changes(Vec::new(), &doc, &["report", "changes"], failing).unwrap_err();
        assert!(e.to_string().contains("reading the run's changes"), "{e}");
    }
}
