//! Choose-mode: what kind of sync runs, from what was asked and what the connector knows.

use super::{Call, Context, Mode, Options};
use crate::state::ConnectorState;
use chrono::{DateTime, Utc};

/// Safety margin subtracted from the incremental cursor (Okta's clock), in seconds.
pub const CURSOR_MARGIN_SECS: i64 = 120;

/// The mode that runs.
#[derive(Clone, Debug)]
pub struct Chosen {
    /// Full or incremental.
    pub mode: Mode,
    /// For an incremental sync: Okta time to read changes from.
    pub since: Option<String>,
    /// Why the mode is not the one asked for.
    pub reason: Option<String>,
    /// Whether every member list is re-read and the store compared as a whole.
    pub deep: bool,
}

impl Chosen {
    /// A full sync, deep when asked for or due (see [`deep_due`]).
    fn full(
        reason: Option<String>,
        call: &Call,
        opts: &Options,
        known: Option<&ConnectorState>,
    ) -> Chosen {
        Chosen {
            mode: Mode::Full,
            since: None,
            reason,
            deep: opts.deep_reconcile || deep_due(call, known),
        }
    }

    /// `full` or `incremental`, for the log.
    pub fn name(&self) -> &'static str {
        match self.mode {
            Mode::Full => "full",
            Mode::Incremental | Mode::Feed => "incremental",
        }
    }
}

/// The mode to run: incremental when asked for and possible, else full (saying why).
pub fn choose(call: &Call, opts: &Options, known: Option<&ConnectorState>) -> Chosen {
    if opts.mode == Mode::Full {
        return Chosen::full(None, call, opts, known);
    }
    let why = if opts.deep_reconcile {
        Err("a deep reconcile was asked for".to_string())
    } else if !call.settings.rules.groups.required.is_empty() {
        // Who is in the required groups is known only from their full member lists.
        Err("required groups need every member list".to_string())
    } else {
        incremental_since(call, known)
    };
    match why {
        Ok(since) => Chosen {
            mode: Mode::Incremental,
            since: Some(since),
            reason: (opts.mode == Mode::Feed)
                .then(|| "the change feed is off: ran an incremental sync".to_string()),
            deep: false,
        },
        Err(why) => Chosen::full(
            Some(format!(
                "ran a full sync instead of an incremental one: {why}"
            )),
            call,
            opts,
            known,
        ),
    }
}

/// Whether a full sync must be a deep reconcile: none has completed yet, the last one
/// is `deep-reconcile-days` old, or there are no group marks to go by (every member
/// list is read anyway).
pub fn deep_due(call: &Call, known: Option<&ConnectorState>) -> bool {
    let every = i64::from(call.settings.config.deep_reconcile_days) * 86_400;
    match known {
        Some(s) if !s.group_marks.is_empty() => s
            .last_deep_reconcile
            .is_none_or(|t| call.ctx.now - t >= every),
        _ => true,
    }
}

/// The time to fetch changes from, or why a full sync is needed instead.
fn incremental_since(call: &Call, known: Option<&ConnectorState>) -> Result<String, String> {
    let cfg = &call.settings.config;
    let now = call.ctx.now;
    let state = known.ok_or("no full sync has completed yet")?;
    if now - state.last_full_sync >= i64::from(cfg.full_sync_interval_hours) * 3600 {
        return Err(format!(
            "the last full sync is older than {} hours",
            cfg.full_sync_interval_hours
        ));
    }
    let deep_due = i64::from(cfg.deep_reconcile_days) * 86_400;
    match state.last_deep_reconcile {
        None => return Err("no deep reconcile has completed yet".into()),
        Some(t) if now - t >= deep_due => {
            return Err(format!(
                "a deep reconcile is due (every {} days)",
                cfg.deep_reconcile_days
            ));
        }
        Some(_) => {}
    }
    let cursor = &state.okta_cursor;
    let cursor = DateTime::parse_from_rfc3339(cursor)
        .map_err(|_| format!("the stored cursor `{cursor}` is not a time"))?;
    let since = cursor.with_timezone(&Utc) - chrono::Duration::seconds(CURSOR_MARGIN_SECS);
    Ok(since.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
}

/// Okta's time at the start of this fetch (its `Date` header), else the host's.
pub fn cursor_now(client_date: Option<&str>, ctx: &Context) -> String {
    client_date
        .and_then(|d| DateTime::parse_from_rfc2822(d).ok())
        .map(|d| d.with_timezone(&Utc))
        .or_else(|| DateTime::from_timestamp(ctx.now, 0))
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
