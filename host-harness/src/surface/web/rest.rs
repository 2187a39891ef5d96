//! The REST API under `/rest/usersync/1.0/` (documented in the README): connectors,
//! connection tests, background syncs and their runs, single-user syncs, export/import.

use super::json::{ApiError, connector_json, parse_body, run_json, run_with_log};
use super::{App, REST_BASE, blocking};
use crate::harness::SyncRequest;
use crate::model::{ConnectorPatch, Credential, Trigger};
use crate::surface::transfer;
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;

type ApiResult = Result<Response, ApiError>;

/// The API's routes, behind its guard.
pub fn routes(app: App) -> Router<App> {
    Router::new()
        .route("/connectors", get(list).post(create))
        .route("/connectors/{name}", get(one).put(update).delete(remove))
        .route("/connectors/{name}/test", post(test))
        .route("/connectors/{name}/sync", post(sync))
        .route("/connectors/{name}/sync-user", post(sync_user))
        .route("/runs", get(runs))
        .route("/runs/{id}", get(run))
        .route("/export", get(export))
        .route("/import", post(import))
        .route("/openapi.json", get(super::openapi::document))
        .fallback(|| async { ApiError::not_found("there is no such REST resource") })
        .layer(axum::middleware::from_fn_with_state(
            app,
            super::auth::rest_guard,
        ))
}

fn ok(v: Value) -> ApiResult {
    Ok(Json(v).into_response())
}

async fn list(State(app): State<App>) -> ApiResult {
    let list = blocking(&app.harness, |h| h.connectors()).await?;
    ok(list.iter().map(connector_json).collect())
}

async fn create(State(app): State<App>, body: Bytes) -> ApiResult {
    let patch: ConnectorPatch = parse_body(&body)?;
    if patch.name().is_none() {
        return Err(ApiError::bad_field("name", "a connector needs a name"));
    }
    let app_key = patch.private_key().is_some() || patch.generate_key == Some(true);
    match &patch.credential {
        Some(Credential::OauthServiceApp { .. }) if !app_key => {
            return Err(ApiError::bad_field(
                "privateKey",
                "a new service-app connector needs its private key (privateKey), or generateKey: true",
            ));
        }
        Some(Credential::OauthServiceApp { .. }) => {}
        _ if patch.token().is_none() => {
            return Err(ApiError::bad_field(
                "apiToken",
                "a new connector needs its Okta API token",
            ));
        }
        _ => {}
    }
    let v = blocking(&app.harness, move |h| h.create_connector(&patch)).await?;
    let mut resp = (StatusCode::CREATED, Json(connector_json(&v))).into_response();
    if let Ok(loc) = HeaderValue::from_str(&format!(
        "{REST_BASE}/connectors/{}",
        super::html::url_encode(&v.settings.name)
    )) {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(resp)
}

async fn one(State(app): State<App>, Path(name): Path<String>) -> ApiResult {
    let v = blocking(&app.harness, move |h| h.connector(&name)).await?;
    ok(connector_json(&v))
}

/// Fields absent from the body keep their value; `apiToken` absent or `********` keeps
/// the stored token.
async fn update(State(app): State<App>, Path(name): Path<String>, body: Bytes) -> ApiResult {
    let patch: ConnectorPatch = parse_body(&body)?;
    let v = blocking(&app.harness, move |h| h.update_connector(&name, &patch)).await?;
    ok(connector_json(&v))
}

async fn remove(State(app): State<App>, Path(name): Path<String>) -> ApiResult {
    blocking(&app.harness, move |h| h.delete_connector(&name)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn test(State(app): State<App>, Path(name): Path<String>) -> ApiResult {
    let info = blocking(&app.harness, move |h| h.test_connection(&name)).await?;
    ok(json!({
        "ok": true,
        "orgUrl": info.org_url,
        "rateLimitRemaining": info.rate_limit_remaining,
    }))
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
struct SyncBody {
    dry_run: bool,
    incremental: bool,
    force: bool,
}

/// Start a sync and answer `202 {runId}` at once; the sync runs in the background.
async fn sync(State(app): State<App>, Path(name): Path<String>, body: Bytes) -> ApiResult {
    let b: SyncBody = parse_body(&body)?;
    let req = SyncRequest {
        dry_run: b.dry_run,
        incremental: b.incremental,
        trigger: Trigger::Api,
        force: b.force,
    };
    let run_id = start_sync(&app, name, req).await?;
    let url = format!("{REST_BASE}/runs/{run_id}");
    let mut resp = (
        StatusCode::ACCEPTED,
        Json(json!({"runId": run_id, "status": "running", "self": url})),
    )
        .into_response();
    if let Ok(loc) = HeaderValue::from_str(&url) {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(resp)
}

/// Reserve the run (refused if the connector is syncing), then run it in the background.
pub(crate) async fn start_sync(
    app: &App,
    name: String,
    req: SyncRequest,
) -> Result<i64, crate::harness::HarnessError> {
    let started = blocking(&app.harness, move |h| h.start_sync(&name, req)).await?;
    let run_id = started.run_id();
    tokio::task::spawn_blocking(move || {
        if let Err(e) = started.run() {
            tracing::warn!(run = run_id, "sync failed: {e}");
        }
    });
    Ok(run_id)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SyncUserBody {
    #[serde(default)]
    login: String,
}

async fn sync_user(State(app): State<App>, Path(name): Path<String>, body: Bytes) -> ApiResult {
    let b: SyncUserBody = parse_body(&body)?;
    if b.login.trim().is_empty() {
        return Err(ApiError::bad_field(
            "login",
            "give the Okta login (or id) of the user to sync",
        ));
    }
    let r = blocking(&app.harness, move |h| h.sync_user(&name, &b.login)).await?;
    ok(json!(r))
}

fn query_number(q: &HashMap<String, String>, key: &str, default: u32) -> Result<u32, ApiError> {
    match q.get(key) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| {
            ApiError::bad_field(key, format!("`{key}` must be a whole number, not `{v}`"))
        }),
    }
}

async fn runs(State(app): State<App>, Query(q): Query<HashMap<String, String>>) -> ApiResult {
    let limit = query_number(&q, "limit", 20)?.clamp(1, 1000);
    let connector = q.get("connector").cloned().filter(|c| !c.is_empty());
    let list = blocking(&app.harness, move |h| h.runs(connector.as_deref(), limit)).await?;
    ok(list.iter().map(|r| run_json(r, false)).collect())
}

async fn run(State(app): State<App>, Path(id): Path<String>) -> ApiResult {
    let Ok(n) = id.trim().parse::<i64>() else {
        return Err(ApiError::bad_field(
            "id",
            format!("the run id `{id}` is not a number"),
        ));
    };
    let (r, log) = blocking(&app.harness, move |h| h.run(n)).await?;
    ok(run_with_log(&r, &log))
}

async fn export(State(app): State<App>, Query(q): Query<HashMap<String, String>>) -> ApiResult {
    let secrets = match q.get("includeSecrets").map(|s| s.as_str()) {
        None | Some("false") | Some("0") => false,
        Some("true") | Some("1") | Some("") => true,
        Some(other) => {
            return Err(ApiError::bad_field(
                "includeSecrets",
                format!("`includeSecrets` is true or false, not `{other}`"),
            ));
        }
    };
    let doc = blocking(&app.harness, move |h| transfer::export(h, secrets)).await?;
    ok(serde_json::to_value(doc).expect("export serializes"))
}

async fn import(State(app): State<App>, body: Bytes) -> ApiResult {
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "the import is not UTF-8 text"))?;
    let doc = transfer::parse(text)?;
    let summary = blocking(&app.harness, move |h| transfer::import(h, &doc)).await?;
    ok(serde_json::to_value(summary).expect("summary serializes"))
}
