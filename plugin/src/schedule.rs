//! Schedules: Quartz-style cron (with seconds and `?`), plain 5-field crontab lines and
//! `@hourly`-style macros, evaluated in UTC with the `cron` crate.

use chrono::{DateTime, Utc};
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
                _ => bad(format!("`{time}` is not a time of day as HH:MM (UTC)")),
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

/// The next `count` run times strictly after `after` (Unix seconds, UTC).
pub fn next_runs(expr: &str, after: i64, count: usize) -> Result<Vec<i64>, ScheduleError> {
    let schedule = parse(expr)?;
    let after: DateTime<Utc> = DateTime::from_timestamp(after, 0)
        .ok_or_else(|| ScheduleError(format!("time {after} is out of range")))?;
    Ok(schedule
        .after(&after)
        .take(count)
        .map(|t| t.timestamp())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp()
    }

    fn runs(expr: &str, after: &str, n: usize) -> Vec<String> {
        next_runs(expr, ts(after), n)
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
}
