//! `GET /metrics`: the Prometheus text format (prometheus-client), behind the REST API's
//! Basic authentication (Prometheus's `basic_auth`). Built at each scrape from the
//! database ([`crate::product::db::metrics`]): syncs by result, their durations, changes
//! applied by action, each connector's last success, Okta requests, retries and 429s,
//! pending approvals, and alert deliveries by channel and status.

use super::{App, blocking};
use crate::harness::HarnessError;
use crate::product::db::metrics::Figures;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Connector {
    connector: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunResult {
    connector: String,
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Change {
    connector: String,
    action: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Delivery {
    channel: String,
    status: String,
}

/// Run durations' buckets, in seconds: a login-sized sync to a 100,000-user first sync.
const DURATION_BUCKETS: [f64; 10] = [0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0];

fn connector(name: &str) -> Connector {
    Connector {
        connector: name.to_string(),
    }
}

/// Runs and their durations, changes and last successes.
fn register_runs(reg: &mut Registry, f: &Figures) {
    let runs = Family::<RunResult, Counter>::default();
    for (c, result, n) in &f.runs {
        runs.get_or_create(&RunResult {
            connector: c.clone(),
            result: result.clone(),
        })
        .inc_by(*n);
    }
    reg.register(
        "usersync_syncs",
        "Sync runs by connector and result (succeeded, dry-run, running, or why it failed: guard, okta, store, ...)",
        runs,
    );
    let durations =
        Family::<Connector, Histogram>::new_with_constructor(|| Histogram::new(DURATION_BUCKETS));
    for (c, secs) in &f.durations {
        durations.get_or_create(&connector(c)).observe(*secs);
    }
    reg.register(
        "usersync_sync_duration_seconds",
        "How long finished sync runs took",
        durations,
    );
    let changes = Family::<Change, Counter>::default();
    for (c, action, n) in &f.changes {
        changes
            .get_or_create(&Change {
                connector: c.clone(),
                action: action.clone(),
            })
            .inc_by(*n);
    }
    reg.register(
        "usersync_changes_applied",
        "Changes applied to the product's directory, by action",
        changes,
    );
    let last = Family::<Connector, Gauge<i64>>::default();
    for (c, at) in &f.last_success {
        last.get_or_create(&connector(c)).set(*at);
    }
    reg.register(
        "usersync_last_success_timestamp_seconds",
        "When the connector's last successful (not dry) sync finished, Unix seconds",
        last,
    );
}

/// Okta's requests, retries and 429s, pending approvals and alert deliveries.
fn register_rest(reg: &mut Registry, f: &Figures, pending: &[(String, u64)]) {
    let counters = [
        (
            "usersync_okta_requests",
            "HTTP requests to Okta by successful syncs",
        ),
        (
            "usersync_okta_retries",
            "Requests to Okta that were retries",
        ),
        (
            "usersync_okta_rate_limited",
            "429 (rate limited) answers from Okta",
        ),
    ];
    for (i, (name, help)) in counters.into_iter().enumerate() {
        let family = Family::<Connector, Counter>::default();
        for (c, requests, retries, limited) in &f.okta {
            family
                .get_or_create(&connector(c))
                .inc_by([requests, retries, limited][i].to_owned());
        }
        reg.register(name, help, family);
    }
    let waiting = Family::<Connector, Gauge<i64, std::sync::atomic::AtomicI64>>::default();
    for (c, n) in pending {
        waiting
            .get_or_create(&connector(c))
            .set(i64::try_from(*n).unwrap_or(i64::MAX));
    }
    reg.register(
        "usersync_pending_approvals",
        "Plans the mass-deactivation guard refused that wait for an admin's approval",
        waiting,
    );
    let deliveries = Family::<Delivery, Counter<u64, AtomicU64>>::default();
    for (channel, status, n) in &f.deliveries {
        deliveries
            .get_or_create(&Delivery {
                channel: channel.clone(),
                status: status.clone(),
            })
            .inc_by(*n);
    }
    reg.register(
        "usersync_alert_deliveries",
        "Alerts by channel (webhook, email) and delivery status (pending, delivered, failed)",
        deliveries,
    );
}

/// The metrics document.
pub fn render(f: &Figures, pending: &[(String, u64)]) -> String {
    let mut reg = Registry::default();
    register_runs(&mut reg, f);
    register_rest(&mut reg, f, pending);
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &reg).expect("writing to a String");
    out
}

/// `GET /metrics`.
pub async fn metrics(State(app): State<App>) -> Response {
    let figures = blocking(&app.harness, |h| {
        let conn = h.db().lock();
        if !h.db().read_only() {
            crate::product::db::pending::expire(&conn, crate::product::db::now())?;
        }
        let f = crate::product::db::metrics::read(&conn)?;
        let pending = crate::product::db::pending::pending_counts(&conn)?;
        Ok::<_, HarnessError>((f, pending))
    })
    .await;
    match figures {
        Ok((f, pending)) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            render(&f, &pending),
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}
