//! `GET /api/v1/logs`: polling (`sortOrder=ASCENDING`, no `until`) by storage order
//! with a `next` link on every page; bounded or descending requests by `published`.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use super::store::{EventLog, Stored};
use crate::cursor::{Cursor, CursorKind};
use crate::filter::{self, Attr, Dialect, Expr, Record};
use crate::paging::{Page, Params};
use crate::reply::Reply;

/// Default and maximum `limit`.
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;
/// How far back `since` reaches when it is not given (best guess: 7 days).
const DEFAULT_SINCE_DAYS: i64 = 7;

/// A `/api/v1/logs` request.
pub(crate) struct LogRequest<'a> {
    pub params: &'a Params,
    pub origin: &'a str,
    pub path: &'a str,
    /// The simulated now.
    pub now: DateTime<Utc>,
}

impl Record for Stored {
    /// A dotted path into the event JSON; through arrays (`target.id`) it yields
    /// every element's value.
    fn attr(&self, path: &str) -> Attr {
        fn walk(v: &Value, keys: &[&str]) -> Value {
            match (v, keys) {
                (_, []) => v.clone(),
                (Value::Array(items), _) => {
                    Value::Array(items.iter().map(|i| walk(i, keys)).collect())
                }
                (Value::Object(m), [k, rest @ ..]) => {
                    m.get(*k).map_or(Value::Null, |v| walk(v, rest))
                }
                _ => Value::Null,
            }
        }
        let keys: Vec<&str> = path.split('.').collect();
        match walk(&self.json, &keys) {
            Value::Null => Attr::Missing,
            v => Attr::Json(v),
        }
    }
}

/// What selects the events of a request, whatever its kind.
struct Selection {
    filter: Option<Expr>,
    keywords: Vec<String>,
}

impl Selection {
    fn matches(&self, e: &Stored) -> bool {
        self.filter.as_ref().is_none_or(|f| f.matches(e, false))
            && self.keywords.iter().all(|k| e.text.contains(k.as_str()))
    }
}

/// The answer to `GET /api/v1/logs`.
pub(crate) fn list(log: &EventLog, req: &LogRequest<'_>) -> Result<Reply, Reply> {
    let page = Page::from_params(req.params, DEFAULT_LIMIT, MAX_LIMIT)?;
    let since = date_param(req.params, "since")?;
    let until = date_param(req.params, "until")?;
    let descending = match req.params.get("sortOrder") {
        None | Some("ASCENDING") => false,
        Some("DESCENDING") => true,
        Some(_) => {
            let cause = "must be one of ASCENDING, DESCENDING.";
            return Err(Reply::validation("sortOrder", cause));
        }
    };
    let max_age = Duration::milliseconds(log.settings.max_since_age.as_millis() as i64);
    if since.is_some_and(|s| s < req.now - max_age) {
        let summary =
            "Invalid parameter: The since parameter is over 180 days prior to the current day.";
        return Err(Reply::error(400, "E0000053", summary, &[]));
    }
    let selection = Selection {
        filter: parse_filter(req.params)?,
        keywords: (req.params.get("q").unwrap_or_default())
            .split_whitespace()
            .map(str::to_lowercase)
            .collect(),
    };
    let default_since = req.now - Duration::days(DEFAULT_SINCE_DAYS);
    let since = since.unwrap_or(default_since).timestamp_millis();
    if !descending && until.is_none() {
        poll(log, req, &page, since, &selection)
    } else {
        let until = until.unwrap_or(req.now).timestamp_millis();
        bounded(log, req, &page, (since, until, descending), &selection)
    }
}

/// A date parameter; 400 E0000001 with Okta's texts when it is not ISO 8601.
fn date_param(params: &Params, key: &str) -> Result<Option<DateTime<Utc>>, Reply> {
    match params.get(key) {
        None | Some("") => Ok(None),
        Some(v) => crate::dates::parse(v).map(Some).ok_or_else(|| {
            let unrecognized = format!(
                "{key}: The date format in your query is not recognized. Please enter dates using ISO8601 string format."
            );
            let invalid = format!("{key}: must be a valid date-time or empty.");
            let summary = format!(
                "Api validation failed: '{key}': The date format in your query is not recognized. Please enter dates using ISO8601 string format. '{key}': must be a valid date-time or empty."
            );
            Reply::error(400, "E0000001", &summary, &[&unrecognized, &invalid])
        }),
    }
}

/// The `filter` parameter; 400 E0000053 "Invalid filter …" when it does not parse.
fn parse_filter(params: &Params) -> Result<Option<Expr>, Reply> {
    let Some(text) = params.get("filter") else {
        return Ok(None);
    };
    filter::parse_for(Dialect::LogsFilter, text)
        .map(Some)
        .map_err(|e| {
            Reply::error(
                400,
                "E0000053",
                &format!("Invalid filter '{text}': {}", e.0),
                &[],
            )
        })
}

/// Polling: events in storage order after the cursor (or stored since `since`); the
/// `next` link is always there and resumes right after this page, so a client that
/// follows it sees every event once, however late it was stored.
fn poll(
    log: &EventLog,
    req: &LogRequest<'_>,
    page: &Page,
    since_ms: i64,
    selection: &Selection,
) -> Result<Reply, Reply> {
    let start = page.cursor(CursorKind::LogsPolling)?.map(|c| c.key as u64);
    let events = log.events();
    let from = events.partition_point(|e| e.seq <= start.unwrap_or(0));
    let mut position = start.unwrap_or(0);
    let mut items = Vec::new();
    for e in &events[from..] {
        if items.len() == page.limit {
            break;
        }
        position = e.seq;
        if (start.is_some() || e.stored_ms >= since_ms) && selection.matches(e) {
            items.push(&e.json);
        }
    }
    if items.len() < page.limit {
        // Everything stored so far was looked at: resume after it.
        position = position.max(if start.is_some() { 0 } else { log.last_seq() });
    }
    let next = Cursor {
        kind: CursorKind::LogsPolling,
        key: position as i64,
        id: "0".into(),
    };
    let mut links = page.links(req.origin, req.path, None);
    links.push(
        page.without("since")
            .links(req.origin, req.path, Some(&next))[1]
            .clone(),
    );
    Ok(Reply::json(200, serde_json::to_string(&items).expect("json")).with_links(links))
}

/// Bounded or descending: events published in `[since, until)`, ordered by
/// `published` (then `uuid`), with a `next` link only while more follow.
fn bounded(
    log: &EventLog,
    req: &LogRequest<'_>,
    page: &Page,
    (since_ms, until_ms, descending): (i64, i64, bool),
    selection: &Selection,
) -> Result<Reply, Reply> {
    let cursor = page.cursor(CursorKind::LogsBounded)?;
    let key = |e: &Stored| (e.published_ms, e.uuid.clone());
    let mut items: Vec<&Stored> = (log.events().iter())
        .filter(|e| e.published_ms >= since_ms && e.published_ms < until_ms)
        .filter(|e| selection.matches(e))
        .collect();
    items.sort_by_key(|e| key(e));
    if descending {
        items.reverse();
    }
    if let Some(c) = &cursor {
        let at = (c.key, c.id.clone());
        items.retain(|e| if descending { key(e) < at } else { key(e) > at });
    }
    let more = items.len() > page.limit;
    items.truncate(page.limit);
    let next = (more.then(|| items.last()).flatten()).map(|e| Cursor {
        kind: CursorKind::LogsBounded,
        key: e.published_ms,
        id: e.uuid.clone(),
    });
    let body: Vec<&Value> = items.iter().map(|e| &e.json).collect();
    let links = page.links(req.origin, req.path, next.as_ref());
    Ok(Reply::json(200, serde_json::to_string(&body).expect("json")).with_links(links))
}
