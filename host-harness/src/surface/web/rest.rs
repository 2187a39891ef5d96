//! The REST API under `/rest/usersync/1.0/` (documented in the README): connectors,
//! connection tests, background syncs and their runs, single-user syncs, export/import.

use super::json::{ApiError, connector_json, parse_body, run_json, run_with_log};
use super::{App, REST_BASE, blocking, directory_api};
use crate::harness::SyncRequest;
use crate::model::{ChangeAction, ConnectorPatch, Credential, Trigger};
use crate::product::db::run_changes::{ChangePage, ChangeQuery};
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
use strum::VariantArray;

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
        .route("/runs/{id}/report.json", get(report_json))
        .route("/runs/{id}/changes.csv", get(changes_csv))
        .route("/export", get(export))
        .route("/import", post(import))
        .route("/users", get(directory_api::users))
        .route("/users/{key}", get(directory_api::user))
        .route("/users/{key}/history", get(directory_api::user_history))
        .route("/groups", get(directory_api::groups))
        .route("/groups/{id}", get(directory_api::group))
        .route("/directories", get(directory_api::directories))
        .route(
            "/directories/{id}/move",
            get(directory_api::plan_move).post(directory_api::move_directory),
        )
        .route("/openapi.json", get(super::openapi::document))
        .merge(super::sso::rest::routes())
        .merge(super::approvals::routes())
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
        ..Default::default()
    };
    let by = super::approvals::rest_actor(&app);
    let run_id = start_sync(&app, name, req, by).await?;
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
    by: String,
) -> Result<i64, crate::harness::HarnessError> {
    let started = blocking(&app.harness, move |h| {
        h.start_sync_as(&name, req, Some(&by))
    })
    .await?;
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

/// A query parameter as an error quotes it: its first 60 characters.
pub(crate) fn quoted(v: &str) -> String {
    let (head, more) = crate::model::error::cut(v, 60);
    format!("`{head}`{more}")
}

pub(crate) fn query_number<T: std::str::FromStr>(
    q: &HashMap<String, String>,
    key: &str,
    default: T,
) -> Result<T, ApiError> {
    match q.get(key) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| {
            ApiError::bad_field(
                key,
                format!("`{key}` must be a whole number, not {}", quoted(v)),
            )
        }),
    }
}

async fn runs(State(app): State<App>, Query(q): Query<HashMap<String, String>>) -> ApiResult {
    let limit = query_number(&q, "limit", 20)?.clamp(1, 1000);
    let connector = q.get("connector").cloned().filter(|c| !c.is_empty());
    let list = blocking(&app.harness, move |h| h.runs(connector.as_deref(), limit)).await?;
    ok(list.iter().map(|r| run_json(r, false)).collect())
}

pub(crate) fn run_id(id: &str) -> Result<i64, ApiError> {
    id.trim().parse().map_err(|_| {
        ApiError::bad_field("id", format!("the run id {} is not a number", quoted(id)))
    })
}

/// Changes a run's answer holds when `limit` does not say.
const CHANGES_SHOWN: u32 = 100;

/// Most changes a run's answer or page holds (a bigger `limit` is cut to it).
pub(crate) const CHANGES_MAX: u32 = 1000;

/// The page of changes a run's answer (or page) holds: `?offset=&limit=&action=`,
/// `shown` changes unless `limit` says; any other parameter, or a bad value, is a 400
/// naming it.
pub(crate) fn change_query(
    q: &HashMap<String, String>,
    shown: u32,
) -> Result<ChangeQuery, ApiError> {
    if let Some(k) = q
        .keys()
        .find(|k| !["offset", "limit", "action"].contains(&k.as_str()))
    {
        return Err(ApiError::bad_field(
            k.as_str(),
            format!(
                "unknown parameter {}: a run's changes are paged by offset, limit and action",
                quoted(k)
            ),
        ));
    }
    let offset = query_number(q, "offset", 0u64)?;
    let limit = query_number(q, "limit", shown)?;
    if limit == 0 {
        return Err(ApiError::bad_field("limit", "`limit` must be at least 1"));
    }
    let action = match q.get("action").map(|a| a.trim()) {
        None | Some("") => None,
        Some(a) => Some(ChangeAction::parse(a).ok_or_else(|| {
            let names: Vec<String> = ChangeAction::VARIANTS.iter().map(|a| a.name()).collect();
            ApiError::bad_field(
                "action",
                format!("`action` is one of {}, not {}", names.join(", "), quoted(a)),
            )
        })?),
    };
    Ok(ChangeQuery {
        offset,
        limit: limit.min(CHANGES_MAX),
        action,
    })
}

/// A run with its report's counts and timings, its log, a page of its changes and the
/// way to the next page and to the downloads (every change).
async fn run(
    State(app): State<App>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let n = run_id(&id)?;
    let query = change_query(&q, CHANGES_SHOWN)?;
    let (r, log, page, by) = blocking(&app.harness, move |h| {
        let (r, log) = h.run(n)?;
        let by = h.run_actor(n)?;
        Ok::<_, crate::harness::HarnessError>((r, log, h.run_changes(n, query)?, by))
    })
    .await?;
    let mut v = run_with_log(&r, &log);
    v["startedBy"] = json!(by);
    if let Some(report) = v.get_mut("report").and_then(Value::as_object_mut) {
        report.remove("changes");
    }
    let url = format!("{REST_BASE}/runs/{n}");
    v["changes"] = changes_json(&url, query, page);
    ok(v)
}

/// A page of a run's changes (the run's answer is at `run`): where it starts, what it
/// holds, the link to the next page and the downloads of every change.
fn changes_json(run: &str, q: ChangeQuery, page: ChangePage) -> Value {
    let action = q.action.map(ChangeAction::name);
    let end = q.offset.saturating_add(page.changes.len() as u64);
    let next = (end < page.total).then(|| {
        let filter = action.as_ref().map(|a| format!("&action={a}"));
        format!(
            "{run}?offset={end}&limit={}{}",
            q.limit,
            filter.unwrap_or_default()
        )
    });
    json!({
        "offset": q.offset,
        "limit": q.limit,
        "action": action,
        "total": page.total,
        "items": page.changes,
        "next": next,
        "json": format!("{run}/report.json"),
        "csv": format!("{run}/changes.csv"),
    })
}

/// The run with every change, streamed (`report.json`, as the page's download).
async fn report_json(State(app): State<App>, Path(id): Path<String>) -> ApiResult {
    let n = run_id(&id)?;
    let (r, log) = blocking(&app.harness, move |h| h.run(n)).await?;
    Ok(super::download::report_json(&app.harness, &r, &log).await)
}

/// Every change of the run as CSV, streamed (`changes.csv`, as the page's download).
async fn changes_csv(State(app): State<App>, Path(id): Path<String>) -> ApiResult {
    let n = run_id(&id)?;
    blocking(&app.harness, move |h| h.run(n)).await?;
    Ok(super::download::changes_csv(&app.harness, n).await)
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
