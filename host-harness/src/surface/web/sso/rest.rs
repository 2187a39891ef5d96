//! The REST API's single sign-on resources: identity providers (one per connector's
//! org; the client secret is write-only) and SSO logins with their steps (a test login
//! gives the URL to open).

use super::super::json::{ApiError, parse_body};
use super::super::rest::{query_number, quoted};
use super::super::{App, REST_BASE, blocking};
use crate::model::idp::IdpPatch;
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use std::collections::HashMap;

type ApiResult = Result<Response, ApiError>;

/// The routes, merged into the REST API's (behind its guard).
pub fn routes() -> Router<App> {
    Router::new()
        .route("/identity-providers", get(list))
        .route(
            "/identity-providers/{connector}",
            get(one).put(put).delete(remove),
        )
        .route(
            "/identity-providers/{connector}/test-login",
            post(test_login),
        )
        .route("/sso-logins", get(logins))
        .route("/sso-logins/{id}", get(login))
}

async fn list(State(app): State<App>) -> ApiResult {
    let list = blocking(&app.harness, |h| h.identity_providers()).await?;
    Ok(Json(list).into_response())
}

async fn one(State(app): State<App>, Path(connector): Path<String>) -> ApiResult {
    let idp = blocking(&app.harness, move |h| h.identity_provider(&connector)).await?;
    Ok(Json(idp).into_response())
}

async fn put(State(app): State<App>, Path(connector): Path<String>, body: Bytes) -> ApiResult {
    let patch: IdpPatch = parse_body(&body)?;
    let idp = blocking(&app.harness, move |h| {
        h.set_identity_provider(&connector, &patch)
    })
    .await?;
    Ok(Json(idp).into_response())
}

async fn remove(State(app): State<App>, Path(connector): Path<String>) -> ApiResult {
    blocking(&app.harness, move |h| {
        h.delete_identity_provider(&connector)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn test_login(
    State(app): State<App>,
    headers: HeaderMap,
    Path(connector): Path<String>,
) -> ApiResult {
    let (id, url) = super::admin::start_test(&app, &headers, connector).await?;
    let body = json!({"loginId": id, "url": url, "self": format!("{REST_BASE}/sso-logins/{id}")});
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn logins(State(app): State<App>, Query(q): Query<HashMap<String, String>>) -> ApiResult {
    let limit = query_number(&q, "limit", 20u32)?.clamp(1, 1000);
    let list = blocking(&app.harness, move |h| h.sso_logins(limit)).await?;
    Ok(Json(list).into_response())
}

async fn login(State(app): State<App>, Path(id): Path<String>) -> ApiResult {
    let id: i64 = id.trim().parse().map_err(|_| {
        ApiError::bad_field(
            "id",
            format!("the login id {} is not a number", quoted(&id)),
        )
    })?;
    match blocking(&app.harness, move |h| h.sso_login(id)).await? {
        Some(r) => Ok(Json(r).into_response()),
        None => Err(ApiError::not_found(format!("there is no SSO login #{id}"))),
    }
}
