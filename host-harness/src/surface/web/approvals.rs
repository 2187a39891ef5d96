//! Approvals and the console's settings on the REST API: the plans the guard refused,
//! their approval (a sync in the background that re-checks and applies exactly the
//! plan) and rejection, and `GET/PUT /settings` (approvals' expiry, alerts). Who acted
//! is the admin user, on this surface.

use super::json::{ApiError, iso, parse_body};
use super::rest::{query_number, run_id};
use super::{App, REST_BASE, blocking};
use crate::harness::HarnessError;
use crate::model::{PlanStatus, Trigger};
use crate::product::db::pending::PendingPlan;
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::HashMap;

type ApiResult = Result<Response, ApiError>;

/// The routes (under the API's base and guard).
pub fn routes() -> Router<App> {
    Router::new()
        .route("/approvals", get(list))
        .route("/runs/{id}/plan", get(one))
        .route("/runs/{id}/approve", post(approve))
        .route("/runs/{id}/reject", post(reject))
        .route("/settings", get(settings).put(update_settings))
}

/// Who acts through the REST API.
pub fn rest_actor(app: &App) -> String {
    format!("{} (REST API)", app.auth.user())
}

/// Who acts on the admin page.
pub fn page_actor(app: &App) -> String {
    format!("{} (admin page)", app.auth.user())
}

/// A plan as the API shows it: times in ISO 8601, links to its run and changes.
pub fn plan_json(p: &PendingPlan) -> Value {
    let mut v = json!(p);
    v["createdAt"] = json!(iso(p.created_at));
    v["expiresAt"] = json!(iso(p.expires_at));
    v["decidedAt"] = json!(p.decided_at.map(iso));
    v["run"] = json!(format!("{REST_BASE}/runs/{}", p.run_id));
    v["changes"] = json!(format!("{REST_BASE}/runs/{}/changes.csv", p.run_id));
    v
}

fn status_param(q: &HashMap<String, String>) -> Result<Option<PlanStatus>, ApiError> {
    match q.get("status").map(|s| s.trim()) {
        None | Some("") => Ok(None),
        Some("any") => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| {
            ApiError::bad_field(
                "status",
                format!("`status` is any, pending, applied, changed, rejected, expired or superseded, not `{s}`"),
            )
        }),
    }
}

/// `GET /approvals?connector=&status=pending&limit=20` (pending by default).
async fn list(State(app): State<App>, Query(q): Query<HashMap<String, String>>) -> ApiResult {
    if let Some(k) = q
        .keys()
        .find(|k| !["connector", "status", "limit"].contains(&k.as_str()))
    {
        return Err(ApiError::bad_field(
            k.as_str(),
            format!("unknown parameter `{k}`: approvals are listed by connector, status and limit"),
        ));
    }
    let status = match q.get("status") {
        None => Some(PlanStatus::Pending),
        Some(_) => status_param(&q)?,
    };
    let limit = query_number(&q, "limit", 20)?.clamp(1, 1000);
    let connector = q.get("connector").cloned().filter(|c| !c.is_empty());
    let list = blocking(&app.harness, move |h| {
        h.plans(connector.as_deref(), status, limit)
    })
    .await?;
    Ok(Json(list.iter().map(plan_json).collect::<Value>()).into_response())
}

async fn one(State(app): State<App>, Path(id): Path<String>) -> ApiResult {
    let n = run_id(&id)?;
    let plan = blocking(&app.harness, move |h| h.refused_plan(n)).await?;
    Ok(Json(plan_json(&plan)).into_response())
}

/// Approve: `202 {runId, status: running, approves}` at once; the run re-checks the plan
/// with Okta and applies exactly it, or fails `plan-changed` with a new plan pending.
async fn approve(State(app): State<App>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let n = run_id(&id)?;
    parse_body::<EmptyBody>(&body)?;
    let run = start_approval(&app, n, rest_actor(&app), Trigger::Api).await?;
    let url = format!("{REST_BASE}/runs/{run}");
    let mut resp = (
        StatusCode::ACCEPTED,
        Json(json!({"runId": run, "status": "running", "approves": n, "self": url})),
    )
        .into_response();
    if let Ok(loc) = HeaderValue::from_str(&url) {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(resp)
}

/// Approvals and rejections take no body (or `{}`).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct EmptyBody {}

/// Start the approval of run `n`'s plan and run it in the background; the new run's id.
pub(crate) async fn start_approval(
    app: &App,
    n: i64,
    by: String,
    trigger: Trigger,
) -> Result<i64, HarnessError> {
    let started = blocking(&app.harness, move |h| h.approve(n, &by, trigger)).await?;
    let run = started.run_id();
    tokio::task::spawn_blocking(move || {
        if let Err(e) = started.run() {
            tracing::warn!(run, "the approved sync failed: {e}");
        }
    });
    Ok(run)
}

async fn reject(State(app): State<App>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let n = run_id(&id)?;
    parse_body::<EmptyBody>(&body)?;
    let by = rest_actor(&app);
    let plan = blocking(&app.harness, move |h| h.reject(n, &by)).await?;
    Ok(Json(plan_json(&plan)).into_response())
}

async fn settings(State(app): State<App>) -> ApiResult {
    let s = blocking(&app.harness, |h| h.console()).await?;
    Ok(Json(json!(s)).into_response())
}

/// `PUT /settings`: any part of the document; the rest keeps its value.
async fn update_settings(State(app): State<App>, body: Bytes) -> ApiResult {
    let patch: Value = parse_body(&body)?;
    if !patch.is_object() {
        return Err(ApiError::bad_field("settings", "the body is a JSON object"));
    }
    match blocking(&app.harness, move |h| h.update_console(&patch)).await {
        Ok(s) => Ok(Json(json!(s)).into_response()),
        Err(HarnessError::Console(e)) => Err(ApiError::bad_field(e.field.clone(), e.to_string())),
        Err(e) => Err(e.into()),
    }
}
