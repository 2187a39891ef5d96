//! The admin's SSO page under the admin page's guard: an identity provider per
//! connector's org (client id, secret, user update method, redirect to SSO), test
//! logins and the tracker.

use super::super::auth::Caller;
use super::super::html::Frame;
use super::super::{App, blocking, page};
use super::views::{self, SettingsData};
use super::{TEST, origin};
use crate::harness::HarnessError;
use crate::model::idp::{IdpPatch, UpdateMethod};
use axum::extract::{Extension, Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;

type Fields = HashMap<String, String>;

fn frame<'a>(app: &'a App, caller: &'a Caller) -> Frame<'a> {
    Frame {
        product: app.harness.product().name,
        base: app.base(),
        csrf: Some(caller.csrf()),
    }
}

fn error_page(app: &App, e: &HarnessError) -> Response {
    let status = super::super::json::status(e.kind());
    page::message_page(app, status, "Single sign-on", &e.to_string())
}

/// `GET {base}/sso`.
pub async fn settings_page(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    Query(q): Query<Fields>,
) -> Response {
    let data = blocking(&app.harness, |h| {
        Ok::<_, HarnessError>((h.connectors()?, h.identity_providers()?, h.sso_logins(20)?))
    })
    .await;
    let (connectors, idps, logins) = match data {
        Ok(d) => d,
        Err(e) => return error_page(&app, &e),
    };
    let notice = match (q.get("msg").map(String::as_str), q.get("c")) {
        (Some("saved"), Some(c)) => Some((
            "success",
            format!("Saved the identity provider of \"{c}\"."),
        )),
        (Some("removed"), Some(c)) => Some((
            "success",
            format!("Removed the identity provider of \"{c}\"."),
        )),
        _ => None,
    };
    let origin = origin(&app, &headers);
    let d = SettingsData {
        connectors: &connectors,
        idps: &idps,
        logins: &logins,
        origin: &origin,
        notice,
    };
    views::settings_page(&frame(&app, &caller), &d).into_response()
}

/// The form's fields as a patch: an empty secret keeps the stored one; the checkbox
/// is absent when off.
fn patch(f: &Fields) -> Result<IdpPatch, HarnessError> {
    let method = match f.get("updateMethod").map(String::as_str) {
        None => None,
        Some(m) => Some(UpdateMethod::parse(m).ok_or_else(|| {
            HarnessError::InvalidConfig(vec![crate::model::FieldError {
                field: "updateMethod".into(),
                message: format!("updateMethod `{m}` is not `none` or `usersync`"),
            }])
        })?),
    };
    Ok(IdpPatch {
        client_id: f.get("clientId").cloned(),
        client_secret: f.get("clientSecret").cloned(),
        update_method: method,
        sync_connector: f.get("syncConnector").cloned(),
        redirect_to_sso: Some(f.get("redirectToSso").is_some_and(|v| v == "true")),
    })
}

fn see_other(to: String) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response()
}

/// `POST {base}/sso/{connector}`: save.
pub async fn save(
    State(app): State<App>,
    Path(connector): Path<String>,
    Form(f): Form<Fields>,
) -> Response {
    let c = connector.clone();
    let saved = blocking(&app.harness, move |h| {
        h.set_identity_provider(&c, &patch(&f)?)
    })
    .await;
    match saved {
        Ok(_) => see_other(format!(
            "{}/sso?msg=saved&c={}",
            app.base(),
            super::super::html::url_encode(&connector)
        )),
        Err(e) => error_page(&app, &e),
    }
}

/// `POST {base}/sso/{connector}/delete`.
pub async fn delete(State(app): State<App>, Path(connector): Path<String>) -> Response {
    let c = connector.clone();
    match blocking(&app.harness, move |h| h.delete_identity_provider(&c)).await {
        Ok(()) => see_other(format!(
            "{}/sso?msg=removed&c={}",
            app.base(),
            super::super::html::url_encode(&connector)
        )),
        Err(e) => error_page(&app, &e),
    }
}

/// Start a test login of `connector`'s provider: its record and the URL to open.
pub async fn start_test(
    app: &App,
    headers: &HeaderMap,
    connector: String,
) -> Result<(i64, String), HarnessError> {
    let record = blocking(&app.harness, move |h| {
        h.login_config(&connector)?;
        let record = h.start_sso_login(&connector, true)?;
        h.sso_step(record, "start", true, "test login started by the admin");
        Ok::<_, HarnessError>((record, connector))
    })
    .await;
    let (record, connector) = record?;
    let secret = app.sso.new_test(record, &connector);
    Ok((record, format!("{}{TEST}/{secret}", origin(app, headers))))
}

/// `POST {base}/sso/{connector}/test`: the tracker page of a new test login, with its URL.
pub async fn test_login(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    Path(connector): Path<String>,
) -> Response {
    let (record, url) = match start_test(&app, &headers, connector).await {
        Ok(started) => started,
        Err(e) => return error_page(&app, &e),
    };
    tracker(&app, &caller, record, Some(&url)).await
}

/// The tracker page of login `id`.
async fn tracker(app: &App, caller: &Caller, id: i64, url: Option<&str>) -> Response {
    match blocking(&app.harness, move |h| h.sso_login(id)).await {
        Ok(Some(r)) => views::tracker_page(&frame(app, caller), &r, url).into_response(),
        Ok(None) => page::message_page(
            app,
            StatusCode::NOT_FOUND,
            "Not found",
            &format!("there is no SSO login #{id}"),
        ),
        Err(e) => error_page(app, &e),
    }
}

/// `GET {base}/sso/logins/{id}`: the tracker.
pub async fn tracker_page(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> Response {
    tracker(&app, &caller, id, None).await
}
