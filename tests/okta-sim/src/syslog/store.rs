//! The stored events: storage order, retention, and events stored late.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::NewEvent;

/// How the System Log keeps events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogSettings {
    /// Events published longer ago are gone (Okta: 90 days).
    pub retention: Duration,
    /// A `since` further back is refused with 400 E0000053 (Okta: 180 days).
    pub max_since_age: Duration,
}

impl Default for LogSettings {
    /// Okta's 90-day retention and 180-day `since` limit.
    fn default() -> Self {
        LogSettings {
            retention: Duration::from_secs(90 * 86_400),
            max_since_age: Duration::from_secs(180 * 86_400),
        }
    }
}

/// An event as stored.
#[derive(Clone, Debug)]
pub(crate) struct Stored {
    /// Position in storage order, from 1.
    pub seq: u64,
    /// When it was stored (what polling's `since` compares with).
    pub stored_ms: i64,
    /// `published` in epoch milliseconds.
    pub published_ms: i64,
    /// `uuid`.
    pub uuid: String,
    /// The `LogEvent` JSON.
    pub json: Value,
    /// The JSON text in lower case, for `q` keyword matches.
    pub text: String,
}

/// The org's System Log.
#[derive(Debug, Default)]
pub(crate) struct EventLog {
    pub settings: LogSettings,
    events: Vec<Stored>,
    last_seq: u64,
    /// How many of the next events to hold back.
    late_quota: usize,
    /// Events held back: published, not yet visible.
    held: Vec<(i64, Value)>,
}

impl EventLog {
    pub fn new(settings: LogSettings) -> EventLog {
        EventLog {
            settings,
            ..EventLog::default()
        }
    }

    /// Renders and stores `events` at `now`; returns their JSON. Events held back
    /// by [`EventLog::store_late`] are stored after the first batch that stores
    /// anything else.
    pub fn append(&mut self, events: &[NewEvent], now: DateTime<Utc>) -> Vec<Value> {
        let rendered: Vec<Value> = events.iter().map(NewEvent::to_json).collect();
        let mut stored_any = false;
        for (e, json) in events.iter().zip(&rendered) {
            let published = e.published.timestamp_millis();
            if self.late_quota > 0 {
                self.late_quota -= 1;
                self.held.push((published, json.clone()));
            } else {
                self.store(published, json.clone(), now);
                stored_any = true;
            }
        }
        if stored_any {
            for (published, json) in std::mem::take(&mut self.held) {
                self.store(published, json, now);
            }
        }
        rendered
    }

    /// Holds the next `n` events back until a later batch is stored: their
    /// `published` is then older than that of events stored before them, as when
    /// Okta persists an event late.
    pub fn store_late(&mut self, n: usize) {
        self.late_quota += n;
    }

    fn store(&mut self, published_ms: i64, json: Value, now: DateTime<Utc>) {
        self.last_seq += 1;
        let uuid = json["uuid"].as_str().unwrap_or_default().to_string();
        self.events.push(Stored {
            seq: self.last_seq,
            stored_ms: now.timestamp_millis(),
            published_ms,
            uuid,
            text: json.to_string().to_lowercase(),
            json,
        });
    }

    /// Forgets events older than the retention period.
    pub fn purge(&mut self, now: DateTime<Utc>) {
        let horizon = now.timestamp_millis() - self.settings.retention.as_millis() as i64;
        self.events.retain(|e| e.published_ms >= horizon);
    }

    /// The stored events, in storage order.
    pub fn events(&self) -> &[Stored] {
        &self.events
    }

    /// The position of the last stored event (0 when none ever was).
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// Moves every stored event `by` into the past (`published` and storage time),
    /// as if it had happened that much earlier.
    pub fn age(&mut self, by: Duration) {
        let ms = by.as_millis() as i64;
        for e in &mut self.events {
            e.published_ms -= ms;
            e.stored_ms -= ms;
            let published = DateTime::from_timestamp_millis(e.published_ms).unwrap_or_default();
            e.json["published"] = Value::from(crate::dates::format(&published));
            e.text = e.json.to_string().to_lowercase();
        }
    }
}
