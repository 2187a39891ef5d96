//! Schedules: Quartz-style cron (with seconds and `?`), plain 5-field crontab lines and
//! `@hourly`-style macros, at most once a minute, evaluated with the `cron` crate on the
//! wall clock of an IANA time zone (`chrono-tz`). Across daylight-saving changes a
//! schedule keeps to the wall clock: a firing in a skipped hour runs once, at the end of
//! the gap; in a repeated hour it runs once, the first time.

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Utc};
pub use chrono_tz::Tz;
use cron::Schedule;
use std::str::FromStr;

/// Names of the fields of a 6/7-field (Quartz) expression, for error messages.
const FIELDS: [&str; 7] = [
    "seconds",
    "minutes",
    "hours",
    "day of month",
    "month",
    "day of week",
    "year",
];

/// Longest schedule accepted.
pub const MAX_CHARS: usize = 200;

/// Why an expression was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ScheduleError(pub String);

/// Parse a schedule. Accepts Quartz expressions (`0 0 */2 ? * *`, 6 or 7 fields),
/// 5-field crontab lines (`*/15 * * * *`, Sunday = 0 or 7) and `@hourly`, `@daily`,
/// `@weekly`, `@monthly`, `@yearly`.
pub fn parse(expr: &str) -> Result<Schedule, ScheduleError> {
    let quartz = to_quartz(expr)?;
    let schedule = Schedule::from_str(&quartz).map_err(|_| explain(&quartz))?;
    // A seconds field of one value fires at most once a minute; anything else (`*`,
    // `*/10`, `0,30`, `0-5`) more often, which no sync schedule needs.
    let seconds = quartz.split_whitespace().next().unwrap_or_default();
    if seconds.parse::<u32>().is_err() {
        return Err(ScheduleError(format!(
            "the seconds field `{seconds}` fires more often than once a minute; use one second, e.g. 0"
        )));
    }
    // `0 0 0 30 2 ?` (February 30th) or a year long past parses, and would never run.
    if schedule.upcoming(Utc).next().is_none() {
        return Err(ScheduleError(format!(
            "`{quartz}` never fires: no such date from now on"
        )));
    }
    Ok(schedule)
}

/// The expression in Quartz form (what is stored after normalization).
pub fn to_quartz(expr: &str) -> Result<String, ScheduleError> {
    let expr = expr.trim();
    if expr.is_empty() {
        return Err(ScheduleError("the schedule is empty".into()));
    }
    // Messages quote the expression's parts: a cron expression is never this long.
    if expr.chars().count() > MAX_CHARS {
        return Err(ScheduleError(format!(
            "the schedule is longer than {MAX_CHARS} characters"
        )));
    }
    if let Some(cron) = preset(expr)? {
        return Ok(cron);
    }
    if expr.starts_with('@') {
        let macro_ = expr.to_ascii_lowercase();
        return match macro_.as_str() {
            "@hourly" => Ok("0 0 * * * *".into()),
            "@daily" | "@midnight" => Ok("0 0 0 * * *".into()),
            "@weekly" => Ok("0 0 0 * * SUN".into()),
            "@monthly" => Ok("0 0 0 1 * *".into()),
            "@yearly" | "@annually" => Ok("0 0 0 1 1 *".into()),
            _ => Err(ScheduleError(format!(
                "unknown macro {expr}; use @hourly, @daily, @weekly, @monthly or @yearly"
            ))),
        };
    }
    let fields: Vec<&str> = expr.split_whitespace().collect();
    match fields.len() {
        // Crontab runs when *either* restricted day field matches; Quartz (and `cron`)
        // when both do. Refused rather than run at other times than the admin expects.
        5 if !matches!(fields[2], "*" | "?") && !matches!(fields[4], "*" | "?") => {
            Err(ScheduleError(format!(
                "the day of week field `{}` and the day of month field `{}` are both set; crontab runs on either, this schedule would run only on days matching both: set one of them to *",
                fields[4], fields[2]
            )))
        }
        5 => Ok(format!(
            "0 {} {} {} {} {}",
            fields[0],
            fields[1],
            fields[2],
            fields[3],
            crontab_dow(fields[4])
        )),
        6 | 7 => Ok(fields.join(" ")),
        n => Err(ScheduleError(format!(
            "expected 5 fields (crontab) or 6-7 fields (Quartz: seconds minutes hours day-of-month month day-of-week [year]), found {n}"
        ))),
    }
}

/// Interval presets as admins pick them in a modal: `every 15 minutes`, `every 2 hours`,
/// `daily at 02:30`. `Ok(None)` when `expr` is not a preset.
pub fn preset(expr: &str) -> Result<Option<String>, ScheduleError> {
    let lower = expr.trim().to_ascii_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    let bad = |m: String| Err(ScheduleError(m));
    match words.as_slice() {
        ["every", n, unit] | ["every", n, unit, ..]
            if unit.starts_with("minute") || unit.starts_with("hour") =>
        {
            let n: u32 = match n.parse() {
                Ok(n) if n > 0 => n,
                _ => return bad(format!("`{n}` is not a positive number of {unit}")),
            };
            if unit.starts_with("minute") {
                if 60 % n != 0 {
                    return bad(format!(
                        "every {n} minutes does not divide an hour; use 1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60"
                    ));
                }
                Ok(Some(if n == 60 {
                    "0 0 * * * *".into()
                } else {
                    format!("0 */{n} * * * *")
                }))
            } else {
                if 24 % n != 0 {
                    return bad(format!(
                        "every {n} hours does not divide a day; use 1, 2, 3, 4, 6, 8, 12 or 24"
                    ));
                }
                Ok(Some(if n == 24 {
                    "0 0 0 * * *".into()
                } else {
                    format!("0 0 */{n} * * *")
                }))
            }
        }
        ["daily", "at", time] => {
            let parsed = time
                .split_once(':')
                .and_then(|(h, m)| Some((h.parse::<u32>().ok()?, m.parse::<u32>().ok()?)));
            match parsed {
                Some((h, m)) if h < 24 && m < 60 => Ok(Some(format!("0 {m} {h} * * *"))),
                _ => bad(format!("`{time}` is not a time of day as HH:MM")),
            }
        }
        _ => Ok(None),
    }
}

/// Crontab numbers days 0-7 from Sunday; Quartz (and `cron`) 1-7 from Sunday.
fn crontab_dow(field: &str) -> String {
    let shift = |d: &str| -> String {
        match d.parse::<u32>() {
            Ok(n) if n <= 7 => ((n % 7) + 1).to_string(),
            _ => d.to_string(),
        }
    };
    field
        .split(',')
        .map(|part| {
            let (range, step) = match part.split_once('/') {
                Some((r, s)) => (r, Some(s)),
                None => (part, None),
            };
            let range = match range.split_once('-') {
                Some((a, "7")) => format!("{}-7", shift(a)),
                Some((a, b)) => format!("{}-{}", shift(a), shift(b)),
                None => shift(range),
            };
            match step {
                Some(s) => format!("{range}/{s}"),
                None => range,
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Find the first field that does not parse on its own, to name it in the error.
fn explain(quartz: &str) -> ScheduleError {
    let fields: Vec<&str> = quartz.split_whitespace().collect();
    for (i, field) in fields.iter().enumerate() {
        let mut probe = vec!["*"; fields.len()];
        probe[0] = "0";
        probe[i] = field;
        if Schedule::from_str(&probe.join(" ")).is_err() {
            return ScheduleError(format!("the {} field `{field}` is not valid", FIELDS[i]));
        }
    }
    ScheduleError(format!(
        "`{quartz}` never fires or is not a valid cron expression"
    ))
}

/// An IANA time zone by name (`Europe/Berlin`, `UTC`; case does not matter).
pub fn time_zone(name: &str) -> Result<Tz, ScheduleError> {
    Tz::from_str_insensitive(name.trim()).map_err(|_| {
        ScheduleError(format!(
            "`{}` is not an IANA time zone name; use e.g. UTC or Europe/Berlin",
            crate::rules::quoted(name)
        ))
    })
}

/// The instant of a wall-clock time in `zone`: the earlier of a repeated time, the end
/// of the gap for a skipped one.
fn instant(zone: Tz, wall: NaiveDateTime) -> i64 {
    match zone.from_local_datetime(&wall) {
        LocalResult::Single(t) => t.timestamp(),
        LocalResult::Ambiguous(a, b) => a.timestamp().min(b.timestamp()),
        LocalResult::None => {
            // The first instant whose wall clock is at or past `wall`: a day either side
            // brackets it (offsets are within ±14 hours, transitions months apart).
            let local = |t: i64| {
                DateTime::from_timestamp(t, 0)
                    .map(|d| d.with_timezone(&zone).naive_local())
                    .unwrap_or(wall)
            };
            let (mut lo, mut hi) = (
                wall.and_utc().timestamp() - 86_400,
                wall.and_utc().timestamp() + 86_400,
            );
            while lo + 1 < hi {
                let mid = lo + (hi - lo) / 2;
                if local(mid) >= wall {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            hi
        }
    }
}

/// The next `count` run times (Unix seconds) of `expr` in `zone`, strictly after `after`.
pub fn next_runs(
    expr: &str,
    zone: Tz,
    after: i64,
    count: usize,
) -> Result<Vec<i64>, ScheduleError> {
    let schedule = parse(expr)?;
    let after_utc: DateTime<Utc> = DateTime::from_timestamp(after, 0)
        .ok_or_else(|| ScheduleError(format!("time {after} is out of range")))?;
    // The schedule is read on the wall clock: its firings as naive local times (held in
    // UTC values), each then placed in the zone.
    let wall_now = Utc.from_utc_datetime(&after_utc.with_timezone(&zone).naive_local());
    let mut runs: Vec<i64> = Vec::with_capacity(count);
    // Firings of a repeated hour's second pass, and of a gap, are passed over: a bound
    // on them keeps an odd schedule from looping.
    for wall in schedule.after(&wall_now).take(count.saturating_add(10_000)) {
        if runs.len() == count {
            break;
        }
        let t = instant(zone, wall.naive_utc());
        if t > after && runs.last().is_none_or(|&last| t > last) {
            runs.push(t);
        }
    }
    Ok(runs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp()
    }

    fn runs(expr: &str, after: &str, n: usize) -> Vec<String> {
        runs_in(expr, "UTC", after, n)
    }

    #[test]
    fn quartz_with_question_mark() {
        assert_eq!(
            runs("0 0 */2 ? * *", "2026-01-31T23:30:00Z", 2),
            ["2026-02-01T00:00:00Z", "2026-02-01T02:00:00Z"]
        );
    }

    #[test]
    fn five_field_crontab_and_sunday_numbering() {
        assert_eq!(
            runs("*/15 * * * *", "2026-02-28T23:50:00Z", 2),
            ["2026-03-01T00:00:00Z", "2026-03-01T00:15:00Z"]
        );
        // 2026-03-01 is a Sunday: crontab 0 and 7 both mean Sunday.
        assert_eq!(
            runs("30 2 * * 0", "2026-02-26T00:00:00Z", 1),
            ["2026-03-01T02:30:00Z"]
        );
        assert_eq!(
            runs("30 2 * * 7", "2026-02-26T00:00:00Z", 1),
            ["2026-03-01T02:30:00Z"]
        );
        // Monday to Friday.
        assert_eq!(
            runs("0 9 * * 1-5", "2026-02-27T10:00:00Z", 2),
            ["2026-03-02T09:00:00Z", "2026-03-03T09:00:00Z"]
        );
    }

    #[test]
    fn month_ends_and_leap_years() {
        assert_eq!(
            runs("0 0 0 31 * ?", "2026-01-31T00:00:00Z", 2),
            ["2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z"]
        );
        assert_eq!(
            runs("0 0 12 29 2 ?", "2026-01-01T00:00:00Z", 1),
            ["2028-02-29T12:00:00Z"]
        );
    }

    #[test]
    fn interval_presets_become_cron() {
        assert_eq!(to_quartz("every 15 minutes").unwrap(), "0 */15 * * * *");
        assert_eq!(to_quartz("Every 1 minute").unwrap(), "0 */1 * * * *");
        assert_eq!(to_quartz("every 2 hours").unwrap(), "0 0 */2 * * *");
        assert_eq!(to_quartz("every 24 hours").unwrap(), "0 0 0 * * *");
        assert_eq!(to_quartz("daily at 02:30").unwrap(), "0 30 2 * * *");
        assert_eq!(
            runs("every 20 minutes", "2026-02-28T23:50:00Z", 2),
            ["2026-03-01T00:00:00Z", "2026-03-01T00:20:00Z"]
        );
        assert_eq!(
            runs("daily at 23:59", "2026-12-31T23:59:00Z", 1),
            ["2027-01-01T23:59:00Z"]
        );
        assert!(
            to_quartz("every 7 minutes")
                .unwrap_err()
                .0
                .contains("does not divide an hour")
        );
        assert!(
            to_quartz("every 0 hours")
                .unwrap_err()
                .0
                .contains("not a positive number")
        );
        assert!(
            to_quartz("daily at 25:00")
                .unwrap_err()
                .0
                .contains("not a time of day")
        );
    }

    #[test]
    fn macros() {
        assert_eq!(
            runs("@daily", "2026-12-31T12:00:00Z", 1),
            ["2027-01-01T00:00:00Z"]
        );
        assert!(parse("@sometimes").unwrap_err().0.contains("unknown macro"));
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(
            parse("0 61 * * * ?").unwrap_err().0,
            "the minutes field `61` is not valid"
        );
        assert_eq!(
            parse("0 0 25 * * ?").unwrap_err().0,
            "the hours field `25` is not valid"
        );
        assert_eq!(
            parse("0 0 * * 13 ?").unwrap_err().0,
            "the month field `13` is not valid"
        );
        assert_eq!(
            parse("* * * * FOO").unwrap_err().0,
            "the day of week field `FOO` is not valid"
        );
        assert!(parse("* * *").unwrap_err().0.contains("found 3"));
        for never in ["0 0 0 30 2 ?", "0 0 0 31 4 ?", "0 0 0 1 1 ? 2001"] {
            assert!(
                parse(never)
                    .unwrap_err()
                    .0
                    .ends_with("never fires: no such date from now on"),
                "{never}"
            );
        }
        assert!(
            parse("0 9 1 * 1")
                .unwrap_err()
                .0
                .contains("both set; crontab runs on either")
        );
        // Quartz says which with `?`; both set means both must match (as `cron` does).
        assert!(parse("0 0 9 1 * MON").is_ok());
        assert_eq!(parse("  ").unwrap_err().0, "the schedule is empty");
    }

    fn runs_in(expr: &str, zone: &str, after: &str, n: usize) -> Vec<String> {
        next_runs(expr, time_zone(zone).unwrap(), ts(after), n)
            .unwrap()
            .into_iter()
            .map(|t| {
                DateTime::from_timestamp(t, 0)
                    .unwrap()
                    .format("%Y-%m-%dT%H:%M:%SZ")
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn schedules_keep_to_the_wall_clock_of_their_zone() {
        // Berlin: CET (UTC+1) in winter, CEST (UTC+2) in summer.
        assert_eq!(
            runs_in("daily at 09:00", "Europe/Berlin", "2026-01-10T12:00:00Z", 1),
            ["2026-01-11T08:00:00Z"]
        );
        assert_eq!(
            runs_in("0 9 * * *", "europe/berlin", "2026-07-10T12:00:00Z", 1),
            ["2026-07-11T07:00:00Z"],
            "names are matched whatever their case"
        );
        assert_eq!(time_zone(" utc ").unwrap().name(), "UTC");
        assert!(time_zone("Mars/Olympus").unwrap_err().0.contains("IANA"));
    }

    #[test]
    fn a_skipped_hour_runs_once_at_the_end_of_the_gap() {
        // 2026-03-29: 02:00 CET becomes 03:00 CEST (01:00Z).
        assert_eq!(
            runs_in("daily at 02:30", "Europe/Berlin", "2026-03-28T12:00:00Z", 2),
            ["2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"]
        );
        assert_eq!(
            runs_in(
                "every 15 minutes",
                "Europe/Berlin",
                "2026-03-29T00:50:00Z",
                2
            ),
            ["2026-03-29T01:00:00Z", "2026-03-29T01:15:00Z"],
            "02:00 to 03:00 fire once, at 03:00 CEST"
        );
    }

    #[test]
    fn a_repeated_hour_runs_once() {
        // 2026-10-25: 03:00 CEST becomes 02:00 CET (01:00Z); 02:00-03:00 happens twice.
        assert_eq!(
            runs_in("daily at 02:30", "Europe/Berlin", "2026-10-24T12:00:00Z", 2),
            ["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"]
        );
        assert_eq!(
            runs_in(
                "every 30 minutes",
                "Europe/Berlin",
                "2026-10-25T00:10:00Z",
                3
            ),
            [
                "2026-10-25T00:30:00Z",
                "2026-10-25T02:00:00Z",
                "2026-10-25T02:30:00Z"
            ],
            "02:30 fires in the first pass only"
        );
        assert_eq!(
            runs_in(
                "every 30 minutes",
                "Europe/Berlin",
                "2026-10-25T01:10:00Z",
                1
            ),
            ["2026-10-25T02:00:00Z"],
            "from inside the second pass: the next new wall time"
        );
    }

    #[test]
    fn schedules_more_often_than_once_a_minute_are_refused() {
        for expr in [
            "*/10 * * * * ?",
            "0,30 * * * * ?",
            "* * * * * ?",
            "0-5 0 * * * ?",
        ] {
            let e = parse(expr).unwrap_err().0;
            assert!(e.contains("more often than once a minute"), "{expr}: {e}");
        }
        assert!(parse("30 * * * * ?").is_ok());
    }
}
