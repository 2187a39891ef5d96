//! `GET /metrics` (issue 16): the Prometheus text format, read by a Prometheus
//! text-format parser (prometheus-parse): syncs by result, durations, changes applied by
//! action, the last success, Okta requests, pending approvals; behind the admin's Basic
//! authentication.

use crate::web_support::{Server, call};
use integration::CONNECTOR;
use prometheus_parse::{Scrape, Value};
use usersync::SyncRequest;

fn scrape(s: &Server) -> Scrape {
    let r = call("GET", s.url("/metrics")).admin().send();
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    Scrape::parse(r.body.lines().map(|l| Ok(l.to_string()))).expect("Prometheus text format")
}

/// The value of `metric` with these labels.
fn value(s: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    let sample = s
        .samples
        .iter()
        .find(|x| x.metric == metric && labels.iter().all(|(k, v)| x.labels.get(k) == Some(*v)))
        .unwrap_or_else(|| panic!("no {metric} {labels:?} in {:?}", s.samples));
    match &sample.value {
        Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
        other => panic!("{metric}: {other:?}"),
    }
}

#[test]
fn metrics_are_prometheus_text_of_what_the_syncs_did() {
    let s = Server::start(30, 2);
    assert_eq!(
        call("GET", s.url("/metrics")).send().status,
        401,
        "the admin's credential"
    );
    let first = s
        .env
        .harness
        .sync(CONNECTOR, SyncRequest::default())
        .unwrap();
    crate::approvals::suspend(&s.env.sim, 8);
    s.env
        .harness
        .sync(CONNECTOR, SyncRequest::default())
        .unwrap_err();
    let dry = s
        .env
        .harness
        .sync(
            CONNECTOR,
            SyncRequest {
                dry_run: true,
                ..SyncRequest::default()
            },
        )
        .unwrap();

    let m = scrape(&s);
    let okta = [("connector", CONNECTOR)];
    for (result, n) in [("succeeded", 1.0), ("guard", 1.0), ("dry-run", 1.0)] {
        assert_eq!(
            value(
                &m,
                "usersync_syncs_total",
                &[("connector", CONNECTOR), ("result", result)]
            ),
            n,
            "{result}"
        );
    }
    assert_eq!(
        value(
            &m,
            "usersync_changes_applied_total",
            &[("connector", CONNECTOR), ("action", "create-user")]
        ),
        f64::from(first.report.counts.users_created),
        "the first sync's changes only (not the refused or dry runs')"
    );
    assert_eq!(value(&m, "usersync_pending_approvals", &okta), 1.0);
    assert_eq!(
        value(&m, "usersync_okta_requests_total", &okta),
        f64::from(first.report.requests + dry.report.requests),
        "the succeeded run and the dry run (which reads only the member lists Okta changed)"
    );
    assert_eq!(value(&m, "usersync_okta_rate_limited_total", &okta), 0.0);
    let last = value(&m, "usersync_last_success_timestamp_seconds", &okta);
    let run = s.env.harness.run(first.run_id).unwrap().0;
    assert_eq!(last, run.finished_at.unwrap() as f64);
    let durations = m
        .samples
        .iter()
        .find(|x| x.metric == "usersync_sync_duration_seconds")
        .expect("the durations' histogram");
    match &durations.value {
        Value::Histogram(buckets) => {
            let inf = buckets
                .iter()
                .find(|b| b.less_than == f64::INFINITY)
                .unwrap();
            assert_eq!(inf.count, 3.0, "every finished run");
        }
        other => panic!("a histogram: {other:?}"),
    }
}
