//! JSON of the REST API: errors (`{"error": "one sentence", "field": ...}`), request
//! bodies (malformed JSON and unknown fields are 400s naming the field), and the
//! camelCase renderings of connectors and runs.

use crate::harness::{ConnectorView, ErrorKind, HarnessError};
use crate::model::stored::camel_case;
use crate::product::db::runs::{LogLine, Run};
use crate::surface::transfer::ImportError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// A REST error: a status and one sentence, maybe naming the field.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// One sentence.
    pub error: String,
    /// The request field at fault (camelCase).
    pub field: Option<String>,
    /// Every field at fault, for invalid settings.
    pub errors: Vec<(String, String)>,
}

impl ApiError {
    /// An error without a field.
    pub fn new(status: StatusCode, error: impl Into<String>) -> Self {
        ApiError {
            status,
            error: error.into(),
            field: None,
            errors: Vec::new(),
        }
    }

    /// 400 naming a field.
    pub fn bad_field(field: impl Into<String>, error: impl Into<String>) -> Self {
        ApiError {
            field: Some(field.into()),
            ..ApiError::new(StatusCode::BAD_REQUEST, error)
        }
    }

    /// 404.
    pub fn not_found(error: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({"error": self.error, "field": self.field});
        if !self.errors.is_empty() {
            body["errors"] = self
                .errors
                .iter()
                .map(|(f, m)| json!({"field": f, "message": m}))
                .collect();
        }
        (self.status, Json(body)).into_response()
    }
}

/// The HTTP status of a failure of this kind: the REST API's (and the page's) one mapping.
pub fn status(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Invalid => StatusCode::BAD_REQUEST,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        // A connector of the name exists, a sync runs, or the state of Okta conflicts
        // with the guard's limits (`force` overrides it).
        ErrorKind::Conflict | ErrorKind::Busy | ErrorKind::Guard => StatusCode::CONFLICT,
        // Okta failed or refused: the upstream's failure, not ours.
        ErrorKind::Upstream => StatusCode::BAD_GATEWAY,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<HarnessError> for ApiError {
    fn from(e: HarnessError) -> Self {
        let mut api = ApiError::new(status(e.kind()), e.to_string());
        if let HarnessError::DuplicateName(_) = e {
            api.field = Some("name".into());
        }
        if let Some(list) = e.field_errors() {
            api.field = list.first().map(|f| camel_case(&f.field));
            api.errors = list
                .iter()
                .map(|f| (camel_case(&f.field), f.message.clone()))
                .collect();
        }
        api
    }
}

impl From<ImportError> for ApiError {
    fn from(e: ImportError) -> Self {
        let error = e.to_string();
        match e {
            ImportError::Invalid { field, .. } => ApiError {
                field,
                ..ApiError::new(StatusCode::BAD_REQUEST, error)
            },
            ImportError::Connector { source, .. } => ApiError {
                error,
                ..ApiError::from(source)
            },
        }
    }
}

/// Parse a JSON object body; an empty body is `{}`. Errors are 400s naming the field.
pub fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let value: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(body).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("the request body is not valid JSON: {e}"),
            )
        })?
    };
    if !value.is_object() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "the request body must be a JSON object",
        ));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = crate::model::shorten_quotes(&e.into_inner().to_string());
        let field = match inner.strip_prefix("unknown field `") {
            Some(rest) => rest.split('`').next().map(str::to_string),
            None => (path != "." && path != "?").then_some(path),
        };
        ApiError {
            field,
            ..ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("invalid request body: {inner}"),
            )
        }
    })
}

/// Unix seconds as ISO 8601 UTC.
pub fn iso(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| t.to_string())
}

/// Unix seconds as ISO 8601 on the wall clock of `zone`, with its offset
/// (`2027-03-28T03:00:00+02:00`).
pub fn local_iso(t: i64, zone: &str) -> String {
    crate::surface::report::zoned(t, zone)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%S%:z").to_string())
        .unwrap_or_else(|| iso(t))
}

/// A run: status, times, and the report (when `full`) or its counts.
pub fn run_json(r: &Run, full: bool) -> Value {
    let mut v = json!({
        "id": r.id,
        "connector": r.connector,
        "kind": r.kind,
        "trigger": r.trigger,
        "dryRun": r.dry_run,
        "status": r.status,
        "startedAt": iso(r.started_at),
        "finishedAt": r.finished_at.map(iso),
        "error": r.failure.as_ref().map(|f| &f.message),
        "failure": r.failure.as_ref().map(|f| f.kind),
        "self": format!("{}/runs/{}", super::REST_BASE, r.id),
    });
    match &r.report {
        Some(rep) if full => v["report"] = json!(rep),
        Some(rep) => v["counts"] = json!(rep.counts),
        None => {}
    }
    v
}

/// A run with its report and log.
pub fn run_with_log(r: &Run, log: &[LogLine]) -> Value {
    let mut v = run_json(r, true);
    v["log"] = log
        .iter()
        .map(|l| json!({"at": iso(l.at), "level": l.level, "message": l.message}))
        .collect();
    v
}

/// A connector as the REST API shows it: its settings, the token masked, its runs.
pub fn connector_json(c: &ConnectorView) -> Value {
    let mut v = json!(c);
    v["type"] = json!("okta");
    v["nextRuns"] = c.next_runs.iter().map(|t| json!(iso(*t))).collect();
    v["nextRunsLocal"] = c
        .next_runs
        .iter()
        .map(|t| json!(local_iso(*t, &c.settings.schedule_time_zone)))
        .collect();
    v["lastRun"] = c
        .last_run
        .as_ref()
        .map(|r| run_json(r, false))
        .unwrap_or(Value::Null);
    v["self"] = json!(format!(
        "{}/connectors/{}",
        super::REST_BASE,
        super::html::url_encode(&c.settings.name)
    ));
    v
}
