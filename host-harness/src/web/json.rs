//! JSON of the REST API: errors (`{"error": "one sentence", "field": ...}`), request
//! bodies (malformed JSON and unknown fields are 400s naming the field), and the
//! camelCase renderings of connectors and runs.

use crate::db::runs::{LogLine, Run};
use crate::harness::{ConnectorView, HarnessError};
use crate::transfer::{ConnectorSettings, ImportError};
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

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

/// `okta-domain` → `oktaDomain`.
pub fn camel_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut upper = false;
    for ch in s.chars() {
        if ch == '-' || ch == '_' {
            upper = true;
        } else if upper {
            out.extend(ch.to_uppercase());
            upper = false;
        } else {
            out.push(ch);
        }
    }
    out
}

/// Every object key of `v` in camelCase.
pub fn camelize(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (camel_case(&k), camelize(v)))
                .collect::<Map<_, _>>(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(camelize).collect()),
        v => v,
    }
}

impl From<HarnessError> for ApiError {
    fn from(e: HarnessError) -> Self {
        let error = e.to_string();
        match e {
            HarnessError::UnknownConnector(_) => ApiError::not_found(error),
            HarnessError::DuplicateName(_) => ApiError {
                field: Some("name".into()),
                ..ApiError::new(StatusCode::CONFLICT, error)
            },
            HarnessError::AlreadyRunning(_) => ApiError::new(StatusCode::CONFLICT, error),
            HarnessError::InvalidConfig(list)
            | HarnessError::Sync(crate::bindings::wit::SyncError::InvalidConfig(list)) => {
                ApiError {
                    field: list.first().map(|f| camel_case(&f.field)),
                    errors: list
                        .iter()
                        .map(|f| (camel_case(&f.field), f.message.clone()))
                        .collect(),
                    ..ApiError::new(StatusCode::BAD_REQUEST, error)
                }
            }
            // The mass-deactivation guard refused: the state of Okta conflicts with the
            // guard's limits; `force` overrides it.
            HarnessError::Sync(crate::bindings::wit::SyncError::Guard(_))
            | HarnessError::Sync(crate::bindings::wit::SyncError::PlanChanged(_)) => {
                ApiError::new(StatusCode::CONFLICT, error)
            }
            // Okta failed or refused: the upstream's failure, not ours.
            HarnessError::Sync(crate::bindings::wit::SyncError::Okta(_))
            | HarnessError::Sync(crate::bindings::wit::SyncError::Security(_)) => {
                ApiError::new(StatusCode::BAD_GATEWAY, error)
            }
            _ => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, error),
        }
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
        let inner = e.into_inner().to_string();
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

/// A run: status, times, and (when `full`) the report in camelCase.
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
        "error": r.error,
        "self": format!("{}/runs/{}", super::REST_BASE, r.id),
    });
    match &r.report {
        Some(rep) if full => v["report"] = camelize(rep.clone()),
        Some(rep) => v["counts"] = camelize(rep["counts"].clone()),
        None => {}
    }
    v
}

/// A run with its report and log.
pub fn run_with_log(
    r: &Run,
    log: &[LogLine],
    changes: &[crate::db::run_changes::RecordedChange],
) -> Value {
    let mut v = run_json(r, true);
    if v.get("report").is_some() {
        v["report"]["changes"] = serde_json::to_value(changes).expect("changes serialize");
    }
    v["log"] = log
        .iter()
        .map(|l| json!({"at": iso(l.at), "level": l.level, "message": l.message}))
        .collect();
    v
}

/// A connector as the REST API shows it (the token masked).
pub fn connector_json(c: &ConnectorView) -> Value {
    let mut v = serde_json::to_value(ConnectorSettings::from_config(&c.config, None))
        .expect("settings serialize");
    v["id"] = json!(c.id);
    v["type"] = json!("okta");
    v["directoryId"] = json!(c.directory_id);
    v["nextRuns"] = c.next_runs.iter().map(|t| json!(iso(*t))).collect();
    v["lastRun"] = c
        .last_run
        .as_ref()
        .map(|r| run_json(r, false))
        .unwrap_or(Value::Null);
    v["self"] = json!(format!(
        "{}/connectors/{}",
        super::REST_BASE,
        super::html::url_encode(&c.config.name)
    ));
    v
}
