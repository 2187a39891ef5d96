//! Schedules in a time zone across the 2027 daylight-saving changes of Europe/Berlin
//! (28 March, 31 October) and America/New_York (14 March, 7 November): the scheduler,
//! ticking every minute through the night, fires a firing of a skipped hour once at the
//! end of the gap, and one of a repeated hour once, at its first pass.

use integration::{CONNECTOR, Env};
use okta_sim::{Org, SimConfig};
use usersync::product::db::schedule;
use usersync::surface::scheduler::Scheduler;

fn ts(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s)
        .expect("an RFC 3339 time")
        .timestamp()
}

fn utc(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .expect("in range")
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// The UTC times at which the scheduler fires the connector, ticking every minute from
/// `from` to `to`, with `cron` in `zone` (last firing: `from`).
fn firings(env: &Env, cron: &str, zone: &str, from: &str, to: &str) -> Vec<String> {
    let patch: usersync::ConnectorPatch = serde_json::from_value(serde_json::json!({
        "schedule": cron, "scheduleTimeZone": zone, "scheduleEnabled": true
    }))
    .unwrap();
    let id = env
        .harness
        .update_connector(CONNECTOR, &patch)
        .expect("schedule saved")
        .id;
    schedule::set_last_fire(&env.harness.db().lock(), id, ts(from)).unwrap();
    let s = Scheduler::new(env.harness.clone());
    let mut fired = Vec::new();
    let mut t = ts(from);
    while t <= ts(to) {
        for f in s.tick(t).expect("the scheduler ticks") {
            f.result.expect("the scheduled sync ran");
            fired.push(utc(t));
        }
        t += 60;
    }
    fired
}

#[test]
fn schedules_cross_the_2027_dst_changes_in_berlin_and_new_york() {
    let env = Env::new(Org::default(), SimConfig::default());
    // New York, 14 March: 02:00 EST becomes 03:00 EDT (07:00Z); 02:30 does not exist.
    assert_eq!(
        firings(
            &env,
            "daily at 02:30",
            "America/New_York",
            "2027-03-14T05:00:00Z",
            "2027-03-14T09:00:00Z"
        ),
        ["2027-03-14T07:00:00Z"],
        "once, at 03:00 EDT"
    );
    // Berlin, 28 March: 02:00 CET becomes 03:00 CEST (01:00Z).
    assert_eq!(
        firings(
            &env,
            "30 2 * * *",
            "Europe/Berlin",
            "2027-03-27T23:00:00Z",
            "2027-03-28T03:00:00Z"
        ),
        ["2027-03-28T01:00:00Z"],
        "once, at 03:00 CEST"
    );
    // Berlin, 31 October: 03:00 CEST becomes 02:00 CET (01:00Z); 02:30 happens twice.
    assert_eq!(
        firings(
            &env,
            "daily at 02:30",
            "Europe/Berlin",
            "2027-10-30T23:00:00Z",
            "2027-10-31T03:00:00Z"
        ),
        ["2027-10-31T00:30:00Z"],
        "once, at 02:30 CEST (not again at 02:30 CET)"
    );
    // New York, 7 November: 02:00 EDT becomes 01:00 EST (06:00Z); 01:00-02:00 twice.
    assert_eq!(
        firings(
            &env,
            "0 0 * * * ?",
            "America/New_York",
            "2027-11-07T03:30:00Z",
            "2027-11-07T08:30:00Z"
        ),
        [
            "2027-11-07T04:00:00Z",
            "2027-11-07T05:00:00Z",
            "2027-11-07T07:00:00Z",
            "2027-11-07T08:00:00Z"
        ],
        "hourly: 00:00 EDT, 01:00 EDT, then 02:00 and 03:00 EST; the repeated 01:00 (06:00Z) fires no second time"
    );
}
