//! Alerts (issue 16): a sync that failed, a plan the guard refused that waits for
//! approval, Okta rejecting a connector's credential, repeated rate limiting, and no
//! successful sync for hours. Each is queued in the database per channel (webhook,
//! e-mail; `product::db::alerts`) when it happens, and sent apart from the sync
//! ([`deliver`]): a delivery that fails is retried with backoff and shown, and never
//! fails or slows the sync. Alerts are made from the run's failure sentence and counts,
//! which never hold a credential.

pub mod deliver;

use crate::harness::{Harness, HarnessError, SyncOutcome, utc};
use crate::model::console::{AlertKind, AlertSettings};
use crate::model::{SyncError, console::ConsoleSettings};
use crate::product::db::alerts::{self as queue, NewDelivery};
use crate::product::db::{self, DbError};

/// One alert, before it is queued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alert {
    /// What it is about.
    pub kind: AlertKind,
    /// The connector.
    pub connector: String,
    /// Subject line.
    pub subject: String,
    /// The text (Slack's `text`, the e-mail's body).
    pub text: String,
}

/// The kinds sent for `connector`.
fn kinds_for<'a>(settings: &'a AlertSettings, connector: &str) -> &'a [AlertKind] {
    settings
        .connectors
        .get(connector)
        .and_then(|c| c.kinds.as_deref())
        .unwrap_or(&settings.kinds)
}

/// The channels `connector`'s alerts go to: `webhook` if one is set, `email` if e-mail is.
pub fn channels(settings: &AlertSettings, connector: &str) -> Vec<&'static str> {
    let own = settings.connectors.get(connector);
    let mut out = Vec::new();
    if settings.webhook_url.is_some() || own.is_some_and(|c| c.webhook_url.is_some()) {
        out.push("webhook");
    }
    if settings.email.is_some() {
        out.push("email");
    }
    out
}

/// What a finished run alerts about, if anything.
pub fn of_run(
    product: &str,
    connector: &str,
    run_id: i64,
    result: &Result<SyncOutcome, HarnessError>,
    settings: &ConsoleSettings,
) -> Option<Alert> {
    let alert = |kind, subject: String, text: String| Alert {
        kind,
        connector: connector.to_string(),
        subject: format!("[{product}] User Sync: {subject}"),
        text,
    };
    match result {
        Ok(o) if o.report.rate_limited >= settings.alerts.rate_limit_threshold.max(1) => {
            Some(alert(
                AlertKind::RateLimited,
                format!("Okta rate-limited the sync of `{connector}`"),
                format!(
                    "The sync of `{connector}` (run #{run_id}) met {} rate-limited (429) answers from Okta in {} requests; it waited and finished, but other integrations share these limits. Lower the connector's rate-limit share or its parallel requests.",
                    o.report.rate_limited, o.report.requests
                ),
            ))
        }
        Ok(_) => None,
        Err(HarnessError::Sync(SyncError::Guard(g) | SyncError::PlanChanged(g))) => Some(alert(
            AlertKind::PendingApproval,
            format!("a sync of `{connector}` waits for approval"),
            format!(
                "The mass-deactivation guard stopped the sync of `{connector}` (run #{run_id}): it would deactivate or delete {} of {} active users. Nothing was changed. The plan waits for approval until {}: review and approve or reject it on the run's page, with `usersync runs approve {run_id}`, or POST /rest/usersync/1.0/runs/{run_id}/approve.",
                g.would_remove,
                g.active_users,
                utc(db::now() + i64::from(settings.approvals.expiry_hours) * 3600)
            ),
        )),
        Err(e) if credential_rejected(e) => Some(alert(
            AlertKind::CredentialRejected,
            format!("Okta rejected the credential of `{connector}`"),
            format!(
                "Okta rejected the credential of `{connector}` (run #{run_id}): {e}. Nothing was changed. Give the connector a new API token or check the service app, then test the connection."
            ),
        )),
        Err(e) => Some(alert(
            AlertKind::SyncFailed,
            format!("the sync of `{connector}` failed"),
            format!("The sync of `{connector}` failed (run #{run_id}); nothing was changed: {e}"),
        )),
    }
}

/// Whether Okta refused the credential itself (401, or 403 to every call).
fn credential_rejected(e: &HarnessError) -> bool {
    match e {
        HarnessError::Credential(_) => true,
        HarnessError::Sync(SyncError::Okta(o)) => matches!(o.status, 401 | 403),
        _ => false,
    }
}

/// Queue `alert` on each of its channels, if its kind is sent for its connector.
pub fn queue_alert(
    conn: &rusqlite::Connection,
    settings: &AlertSettings,
    alert: &Alert,
) -> Result<usize, DbError> {
    if !kinds_for(settings, &alert.connector).contains(&alert.kind) {
        return Ok(0);
    }
    let channels = channels(settings, &alert.connector);
    for channel in &channels {
        queue::enqueue(
            conn,
            &NewDelivery {
                connector: Some(&alert.connector),
                kind: alert.kind.as_str(),
                channel,
                subject: &alert.subject,
                text: &alert.text,
            },
            db::now(),
        )?;
    }
    Ok(channels.len())
}

/// After a run ends: queue what it alerts about and send it in the background. A failure
/// here is logged, never the run's.
pub fn after_run(
    h: &Harness,
    connector: &str,
    run_id: i64,
    result: &Result<SyncOutcome, HarnessError>,
) {
    let queued = h.console().and_then(|settings| {
        let Some(alert) = of_run(h.product().name, connector, run_id, result, &settings) else {
            return Ok(0);
        };
        Ok(queue_alert(&h.db().lock(), &settings.alerts, &alert)?)
    });
    match queued {
        Ok(0) => {}
        Ok(_) => {
            let h = h.clone();
            std::thread::spawn(move || deliver::deliver_due(&h, db::now()));
        }
        Err(e) => tracing::warn!(run = run_id, "the run's alert could not be queued: {e}"),
    }
}

/// Queue a `no-success` alert for each connector with an enabled schedule whose last
/// successful sync (or, without one, its creation) is older than the hours set; once
/// per outage (again only after a success). How many.
pub fn check_stale(h: &Harness, now: i64) -> Result<usize, HarnessError> {
    let settings = h.console()?;
    let Some(hours) = settings.alerts.no_success_hours else {
        return Ok(0);
    };
    let scheduled: Vec<String> = h
        .connectors()?
        .into_iter()
        .filter(|c| c.settings.schedule_enabled)
        .map(|c| c.settings.name)
        .collect();
    let conn = h.db().lock();
    let kind = AlertKind::NoSuccess.as_str();
    let mut queued = 0;
    for (id, name, created, last) in queue::last_successes(&conn)? {
        let since = last.unwrap_or(created);
        let stale = since < now - i64::from(hours) * 3600;
        let told = queue::mark(&conn, id, kind)?.is_some_and(|at| at >= since);
        if !stale || told || !scheduled.contains(&name) {
            continue;
        }
        let last_said = last.map_or("has never synced successfully".into(), |t| {
            format!("last synced successfully at {}", utc(t))
        });
        let alert = Alert {
            kind: AlertKind::NoSuccess,
            connector: name.clone(),
            subject: format!(
                "[{}] User Sync: no successful sync of `{name}` for {hours} hours",
                h.product().name
            ),
            text: format!(
                "The connector `{name}` {last_said}: more than {hours} hours ago, though its schedule is on. Users changed in Okta since are not changed in the product. Look at its latest runs."
            ),
        };
        queued += queue_alert(&conn, &settings.alerts, &alert)?;
        queue::set_mark(&conn, id, kind, now)?;
    }
    Ok(queued)
}

/// The latest alert deliveries, newest first.
pub fn deliveries(h: &Harness, limit: u32) -> Result<Vec<queue::Delivery>, HarnessError> {
    Ok(queue::list(&h.db().lock(), limit)?)
}
