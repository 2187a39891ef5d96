//! The console's settings (`model::console`): one versioned JSON document in
//! `console_settings`, the defaults until one is saved.

use super::{Context, DbError};
use crate::model::console::ConsoleSettings;
use rusqlite::{Connection, OptionalExtension};

const NAME: &str = "console";
const VERSION: u32 = 1;

#[derive(serde::Serialize, serde::Deserialize)]
struct Document {
    version: u32,
    settings: ConsoleSettings,
}

/// The settings saved, or the defaults.
pub fn get(conn: &Connection) -> Result<ConsoleSettings, DbError> {
    let doc: Option<String> = conn
        .query_row(
            "SELECT document FROM console_settings WHERE name = ?1",
            [NAME],
            |r| r.get(0),
        )
        .optional()
        .ctx("reading the console settings")?;
    let Some(doc) = doc else {
        return Ok(ConsoleSettings::default());
    };
    serde_json::from_str::<Document>(&doc)
        .map(|d| d.settings)
        .map_err(|e| DbError {
            context: "reading the console settings".into(),
            source: rusqlite::Error::FromSqlConversionFailure(
                0,
                rusqlite::types::Type::Text,
                Box::new(e),
            ),
        })
}

/// Save the settings.
pub fn put(conn: &Connection, settings: &ConsoleSettings) -> Result<(), DbError> {
    let doc = serde_json::to_string(&Document {
        version: VERSION,
        settings: settings.clone(),
    })
    .expect("settings serialize");
    conn.execute(
        "INSERT INTO console_settings (name, document) VALUES (?1, ?2) \
         ON CONFLICT (name) DO UPDATE SET document = excluded.document",
        [NAME, &doc],
    )
    .ctx("saving the console settings")?;
    Ok(())
}
