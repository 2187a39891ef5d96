//! Property tests of the schedule parser: no string panics `to_quartz`, `parse` or
//! `next_runs`; generated valid expressions (Quartz, crontab, macros) parse, normalize
//! to a fixed point, and their next runs are strictly increasing and after `after`.

use plugin::schedule::{self, Tz, next_runs, parse, to_quartz};
use proptest::prelude::*;

/// A cron-ish string: the characters cron fields use, in any order.
fn cron_soup() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            4 => "[0-9]{1,3}",
            2 => Just("*".to_string()),
            1 => Just("?".to_string()),
            2 => Just("/".to_string()),
            2 => Just("-".to_string()),
            2 => Just(",".to_string()),
            3 => Just(" ".to_string()),
            1 => Just("L".to_string()),
            1 => Just("W".to_string()),
            1 => Just("#".to_string()),
            1 => Just("@".to_string()),
            1 => "(MON|FRI|SUN|JAN|DEC|mon|Foo)".prop_map(|s| s.to_string()),
            1 => Just("\t".to_string()),
            1 => Just("é".to_string()),
        ],
        0..30,
    )
    .prop_map(|v| v.concat())
}

/// 2090-01-01: the `cron` crate computes runs up to 2100, so a yearly schedule still
/// has seven runs after this.
const UNTIL_2090: i64 = 3_786_912_000;

/// Unix seconds from 1970 to 2100, plus the extremes.
fn after() -> impl Strategy<Value = i64> {
    prop_oneof![
        8 => 0i64..4_102_444_800,
        1 => Just(i64::MIN),
        1 => Just(i64::MAX),
        1 => Just(-1i64),
        1 => Just(253_402_300_799i64), // 9999-12-31T23:59:59Z
    ]
}

/// One valid field of `lo..=hi`: `*`, a value, a range, a step, or a list.
fn field(lo: u32, hi: u32) -> impl Strategy<Value = String> {
    let value = lo..=hi;
    prop_oneof![
        2 => Just("*".to_string()),
        2 => value.clone().prop_map(|v| v.to_string()),
        1 => (lo..=hi, lo..=hi).prop_map(|(a, b)| format!("{}-{}", a.min(b), a.max(b))),
        // The `cron` crate takes steps smaller than the field's range (`*/24` is refused
        // for hours, and the message names the field).
        1 => (1..=(hi - lo).min(30)).prop_map(|s| format!("*/{s}")),
        1 => (lo..=hi, 1..=(hi - lo).min(30)).prop_map(|(a, s)| format!("{a}/{s}")),
        1 => proptest::collection::btree_set(value, 1..4).prop_map(|s| {
            s.into_iter().map(|v| v.to_string()).collect::<Vec<_>>().join(",")
        }),
    ]
}

/// A valid Quartz expression (seconds … day-of-week, `?` in one day field), with
/// days of month that exist in every month so that it always fires.
fn quartz() -> impl Strategy<Value = String> {
    (
        // One second: a schedule fires at most once a minute.
        (0u32..=59).prop_map(|s| s.to_string()),
        field(0, 59),
        field(0, 23),
        field(1, 28),
        field(1, 12),
        field(1, 7),
        any::<bool>(),
    )
        .prop_map(|(s, m, h, dom, mon, dow, dom_wild)| {
            let (dom, dow) = if dom_wild {
                ("?".to_string(), dow)
            } else {
                (dom, "?".to_string())
            };
            format!("{s} {m} {h} {dom} {mon} {dow}")
        })
}

/// A 5-field crontab line with valid fields (Sunday = 0 or 7).
fn crontab_any() -> impl Strategy<Value = String> {
    (
        field(0, 59),
        field(0, 23),
        field(1, 28),
        field(1, 12),
        prop_oneof![
            Just("*".to_string()),
            (0u32..=7).prop_map(|d| d.to_string()),
            (0u32..=6, 0u32..=6).prop_map(|(a, b)| format!("{}-{}", a.min(b), a.max(b))),
            Just("1-5".to_string())
        ],
    )
        .prop_map(|(m, h, dom, mon, dow)| format!("{m} {h} {dom} {mon} {dow}"))
}

/// A crontab line that restricts at most one of the day fields (with both restricted,
/// crontab runs on either match, which Quartz cannot express: refused).
fn crontab() -> impl Strategy<Value = String> {
    (crontab_any(), any::<bool>()).prop_map(|(line, keep_dom)| {
        let mut f: Vec<String> = line.split(' ').map(String::from).collect();
        if f[2] != "*" && f[4] != "*" {
            let wild = if keep_dom { 4 } else { 2 };
            f[wild] = "*".into();
        }
        f.join(" ")
    })
}

fn valid() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => quartz(),
        4 => crontab(),
        1 => prop::sample::select(vec!["@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually", "@DAILY"]).prop_map(String::from),
    ]
}

/// A result as a test-case failure instead of a panic (keeps shrinking output short).
fn ok<T>(r: Result<T, schedule::ScheduleError>) -> Result<T, TestCaseError> {
    r.map_err(|e| TestCaseError::fail(e.0))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// No string panics the parser or the run-time computation.
    #[test]
    fn never_panics_on_any_string(s in any::<String>(), after in after()) {
        let _ = to_quartz(&s);
        let _ = parse(&s);
        let _ = next_runs(&s, Tz::UTC, after, 3);
    }

    /// Nor does a string made of cron's own characters; an error names what is wrong.
    #[test]
    fn never_panics_on_cron_soup(s in cron_soup(), after in after()) {
        let _ = to_quartz(&s);
        match parse(&s) {
            Ok(_) => {
                let _ = next_runs(&s, Tz::UTC, after, 3);
            }
            Err(e) => prop_assert!(!e.0.is_empty()),
        }
    }

    /// Valid expressions parse; their Quartz form is a fixed point; their next runs are
    /// strictly increasing, after `after`, and as many as asked.
    #[test]
    fn valid_expressions_run_in_order(expr in valid(), after in 0i64..UNTIL_2090, count in 1usize..8) {
        let q = ok(to_quartz(&expr))?;
        prop_assert!(parse(&expr).is_ok(), "{} ({}) should parse", expr, q);
        prop_assert_eq!(to_quartz(&q).unwrap(), q.clone(), "normalizing is idempotent");
        let runs = ok(next_runs(&expr, Tz::UTC, after, count))?;
        prop_assert_eq!(runs.len(), count, "{} always fires", expr);
        prop_assert!(runs[0] > after, "{:?} after {}", runs, after);
        for w in runs.windows(2) {
            prop_assert!(w[0] < w[1], "{:?} strictly increasing", runs);
        }
        prop_assert_eq!(ok(next_runs(&q, Tz::UTC, after, count))?, runs, "the Quartz form runs the same");
    }

    /// Runs are a suffix-consistent sequence: asking from a run's time gives the next
    /// ones.
    #[test]
    fn runs_resume_from_any_run(expr in valid(), after in 0i64..UNTIL_2090) {
        let runs = ok(next_runs(&expr, Tz::UTC, after, 4))?;
        prop_assert_eq!(ok(next_runs(&expr, Tz::UTC, runs[1], 2))?, runs[2..4].to_vec());
    }

    /// A 5-field crontab line runs at second 0 of the minute.
    #[test]
    fn crontab_runs_on_whole_minutes(expr in crontab(), after in 0i64..UNTIL_2090) {
        for t in ok(next_runs(&expr, Tz::UTC, after, 3))? {
            prop_assert_eq!(t % 60, 0);
        }
    }
}

proptest! {
    /// A crontab line restricting both day fields is refused with a message saying why,
    /// never run on other days than crontab would.
    #[test]
    fn crontab_with_both_day_fields_is_refused(line in crontab_any()) {
        let f: Vec<&str> = line.split(' ').collect();
        let both = f[2] != "*" && f[4] != "*";
        match parse(&line) {
            Ok(_) => prop_assert!(!both, "{}", line),
            Err(e) => {
                prop_assert!(both, "{}: {}", line, e.0);
                prop_assert!(e.0.contains("crontab runs on either"), "{}", e.0);
            }
        }
    }
}

proptest! {
    /// A seconds field of more than one value (a list, range, step or `*`) fires more
    /// often than once a minute: refused, saying so.
    #[test]
    fn more_than_once_a_minute_is_refused(s in field(0, 59), rest in quartz()) {
        prop_assume!(s.parse::<u32>().is_err());
        let expr = format!("{s} {}", rest.split_once(' ').unwrap().1);
        let refused = parse(&expr).unwrap_err().0;
        prop_assert!(refused.contains("more often than once a minute"), "{}: {}", expr, refused);
    }

    /// In any zone, runs are strictly increasing, after `after`, and as many as asked.
    #[test]
    fn runs_in_any_zone_are_in_order(
        expr in valid(),
        zone in prop::sample::select(vec!["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "America/Sao_Paulo"]),
        after in 0i64..UNTIL_2090,
        count in 1usize..6,
    ) {
        let runs = ok(next_runs(&expr, schedule::time_zone(zone).unwrap(), after, count))?;
        prop_assert_eq!(runs.len(), count);
        prop_assert!(runs[0] > after);
        for w in runs.windows(2) {
            prop_assert!(w[0] < w[1], "{:?}", runs);
        }
    }
}

#[test]
fn out_of_range_fields_are_named() {
    for (expr, field) in [
        ("60 * * * * ?", "seconds"),
        ("0 60 * * * ?", "minutes"),
        ("0 0 24 * * ?", "hours"),
        ("0 0 0 32 * ?", "day of month"),
        ("0 0 0 ? 13 *", "month"),
        ("0 0 0 ? * 8", "day of week"),
    ] {
        let e = schedule::parse(expr).unwrap_err().0;
        assert!(e.contains(field), "{expr}: {e}");
    }
}
