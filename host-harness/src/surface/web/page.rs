//! The admin page's handlers at the product's plugin path: login, the connector list,
//! Create Connector → Okta form, edit with Sync Settings, delete, sync and dry-run
//! preview (in the background), a run's results with CSV/JSON downloads.

use super::auth::{Caller, Peer, Refused, page_guard, wait_page};
use super::form::{ConnectorForm, TAB_SYNC};
use super::html::{Frame, segment, url_encode};
use super::{App, assets, blocking, views};
use crate::harness::{ErrorKind, HarnessError, SyncRequest};
use crate::model::Trigger;
use axum::extract::{Extension, Form, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use std::collections::HashMap;

type Fields = HashMap<String, String>;

/// The page's routes: the login form open, the rest behind the page guard.
pub fn routes(app: App) -> Router<App> {
    let guarded = Router::new()
        .route("/", get(index))
        .route("/connectors/new", get(new_connector))
        .route("/connectors", post(create))
        .route("/connectors/{name}", get(edit).post(save))
        .route("/connectors/{name}/delete", post(delete))
        .route("/connectors/{name}/sync", post(sync))
        .route("/test", post(test))
        .route("/preview", post(preview))
        .route("/next-runs", get(next_runs))
        .route("/runs/{id}", get(run))
        .route("/runs/{id}/changes.csv", get(csv))
        .route("/runs/{id}/report.json", get(report_json))
        .route("/logout", post(logout))
        .merge(super::sso::admin_routes())
        .merge(super::directory_pages::routes())
        .merge(super::console_page::routes())
        .route_layer(axum::middleware::from_fn_with_state(app, page_guard));
    Router::new()
        .route("/login", get(login_form).post(login))
        .merge(guarded)
        .merge(assets::routes())
}

pub(super) fn frame<'a>(app: &'a App, s: Option<&'a Caller>) -> Frame<'a> {
    Frame {
        product: app.harness.product().name,
        base: app.base(),
        csrf: s.map(Caller::csrf),
    }
}

/// A page with one message (errors, refusals).
pub fn message_page(app: &App, status: StatusCode, title: &str, text: &str) -> Response {
    (status, views::message_page(&frame(app, None), title, text)).into_response()
}

/// The title of the page of a failure of this kind: the page's one mapping (its status
/// is the REST API's, [`super::json::status`]).
fn error_title(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::NotFound => "Not found",
        ErrorKind::Guard => "The mass-deactivation guard stopped the sync",
        ErrorKind::Busy => "A sync is running",
        _ => "The action failed",
    }
}

fn error_page(app: &App, e: HarnessError) -> Response {
    message_page(
        app,
        super::json::status(e.kind()),
        error_title(e.kind()),
        &e.to_string(),
    )
}

pub(super) fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response()
}

/// The message of a `?msg=` after a redirect.
fn notice(q: &Fields) -> Option<views::Notice> {
    let c = q.get("c").map(String::as_str).unwrap_or("the connector");
    match q.get("msg").map(String::as_str)? {
        "saved" => Some(("success", format!("Saved connector \"{c}\"."))),
        "deleted" => Some((
            "success",
            format!("Deleted connector \"{c}\"; its directory and users were kept."),
        )),
        "running" => Some((
            "warning",
            format!("A sync of \"{c}\" is already running; wait for it to finish."),
        )),
        _ => None,
    }
}

async fn index(
    State(app): State<App>,
    Extension(s): Extension<Caller>,
    Query(q): Query<Fields>,
) -> Response {
    let data = blocking(&app.harness, |h| {
        Ok::<_, HarnessError>((h.connectors()?, h.runs(None, 10)?, h.seats()?))
    })
    .await;
    match data {
        Ok((list, runs, seats)) => views::list_page(
            &frame(&app, Some(&s)),
            &list,
            &runs,
            seats.as_ref(),
            notice(&q),
        )
        .into_response(),
        Err(e) => error_page(&app, e),
    }
}

async fn new_connector(
    State(app): State<App>,
    Extension(s): Extension<Caller>,
    Query(q): Query<Fields>,
) -> Response {
    let f = frame(&app, Some(&s));
    if q.get("type").map(String::as_str) == Some("okta") {
        match blocking(&app.harness, |h| h.defaults()).await {
            Ok(d) => ConnectorForm::new_connector(&d).render(&f).into_response(),
            Err(e) => error_page(&app, e),
        }
    } else {
        views::chooser_page(&f).into_response()
    }
}

async fn edit(
    State(app): State<App>,
    Extension(s): Extension<Caller>,
    Path(name): Path<String>,
    Query(q): Query<Fields>,
) -> Response {
    let data = blocking(&app.harness, move |h| {
        Ok::<_, HarnessError>((h.connector(&name)?, h.runs(Some(&name), 10)?, h.defaults()?))
    })
    .await;
    match data {
        Ok((v, runs, defaults)) => {
            let mut form = ConnectorForm::from_view(&v);
            form.runs = runs;
            form.defaults = Some(defaults);
            form.notice = notice(&q);
            if q.get("tab").map(String::as_str) == Some(TAB_SYNC) {
                form.tab = TAB_SYNC.into();
            }
            form.render(&frame(&app, Some(&s))).into_response()
        }
        Err(e) => error_page(&app, e),
    }
}

async fn create(
    State(app): State<App>,
    Extension(s): Extension<Caller>,
    Form(f): Form<Fields>,
) -> Response {
    save_form(app, s, None, f).await
}

async fn save(
    State(app): State<App>,
    Extension(s): Extension<Caller>,
    Path(name): Path<String>,
    Form(f): Form<Fields>,
) -> Response {
    save_form(app, s, Some(name), f).await
}

/// Save a create or edit form: back to the form (Save) or the list (Save and Return);
/// a refused form comes back as typed, with each bad field marked.
async fn save_form(app: App, s: Caller, existing: Option<String>, f: Fields) -> Response {
    let mut form = ConnectorForm::from_fields(&f, existing.clone());
    form.defaults = blocking(&app.harness, |h| h.defaults()).await.ok();
    let input = match form.to_patch(ConnectorForm::secrets(&f)) {
        Ok(i) => i,
        Err(errors) => {
            form.set_errors(errors);
            return (StatusCode::BAD_REQUEST, form.render(&frame(&app, Some(&s)))).into_response();
        }
    };
    let result = blocking(&app.harness, move |h| match &existing {
        Some(n) => h.update_connector(n, &input),
        None => h.create_connector(&input),
    })
    .await;
    let base = app.base();
    let (status, errors) = match result {
        Ok(v) => {
            let name = segment(&v.settings.name);
            let c = url_encode(&v.settings.name);
            return if f.get("action").map(String::as_str) == Some("save-return") {
                see_other(&format!("{base}?msg=saved&c={c}"))
            } else {
                see_other(&format!(
                    "{base}/connectors/{name}?msg=saved&c={c}&tab={}",
                    url_encode(&form.tab)
                ))
            };
        }
        Err(e) => match (e.kind(), e.field_errors()) {
            (ErrorKind::NotFound, _) => return error_page(&app, e),
            (kind, Some(list)) => (
                super::json::status(kind),
                list.iter()
                    .map(|e| (e.field.clone(), e.message.clone()))
                    .collect(),
            ),
            (kind @ ErrorKind::Conflict, None) => (
                super::json::status(kind),
                vec![("name".into(), e.to_string())],
            ),
            (kind, None) => (
                super::json::status(kind),
                vec![(String::new(), e.to_string())],
            ),
        },
    };
    form.set_errors(errors);
    (status, form.render(&frame(&app, Some(&s)))).into_response()
}

async fn delete(State(app): State<App>, Path(name): Path<String>) -> Response {
    let n = name.clone();
    match blocking(&app.harness, move |h| h.delete_connector(&n)).await {
        Ok(()) => see_other(&format!(
            "{}?msg=deleted&c={}",
            app.base(),
            url_encode(&name)
        )),
        Err(HarnessError::AlreadyRunning(_)) => see_other(&format!(
            "{}?msg=running&c={}",
            app.base(),
            url_encode(&name)
        )),
        Err(e) => error_page(&app, e),
    }
}

/// Sync (or, with `dry_run=1`, preview) in the background; go to the run's page.
async fn sync(State(app): State<App>, Path(name): Path<String>, Form(f): Form<Fields>) -> Response {
    let req = SyncRequest {
        dry_run: f.get("dry_run").is_some_and(|v| v == "1" || v == "true"),
        incremental: false,
        trigger: Trigger::Manual,
        force: f.get("force").is_some_and(|v| v == "1"),
        ..Default::default()
    };
    let by = super::approvals::page_actor(&app);
    match super::rest::start_sync(&app, name.clone(), req, by).await {
        Ok(id) => see_other(&format!("{}/runs/{id}", app.base())),
        Err(HarnessError::AlreadyRunning(_)) => see_other(&format!(
            "{}?msg=running&c={}",
            app.base(),
            url_encode(&name)
        )),
        Err(e) => error_page(&app, e),
    }
}

/// Test connection with the form's (unsaved) settings: `{ok, message}`.
async fn test(State(app): State<App>, Form(f): Form<Fields>) -> Response {
    let existing = f.get("existing").filter(|e| !e.is_empty()).cloned();
    let form = ConnectorForm::from_fields(&f, existing.clone());
    let input = match form.to_patch(ConnectorForm::secrets(&f)) {
        Ok(i) => i,
        Err(e) => return Json(json!({"ok": false, "message": e[0].1})).into_response(),
    };
    let r = blocking(&app.harness, move |h| {
        h.test_settings(existing.as_deref(), &input)
    })
    .await;
    Json(match r {
        Ok(info) => json!({
            "ok": true,
            "message": format!("Connection works: {} answers, users and groups are readable.", info.org_url),
        }),
        Err(e) => json!({"ok": false, "message": e.to_string()}),
    })
    .into_response()
}

/// Samples Okta gives for the preview.
const PREVIEW_SAMPLES: u32 = 10;

/// The live preview of the form's (unsaved) mapping on a few Okta users and groups:
/// `{ok, users, groups}` or `{ok: false, message, errors}`.
async fn preview(State(app): State<App>, Form(f): Form<Fields>) -> Response {
    let existing = f.get("existing").filter(|e| !e.is_empty()).cloned();
    let form = ConnectorForm::from_fields(&f, existing.clone());
    let input = match form.to_patch(ConnectorForm::secrets(&f)) {
        Ok(i) => i,
        Err(e) => return Json(preview_refused(&e[0].1, &e)).into_response(),
    };
    let r = blocking(&app.harness, move |h| {
        h.preview_settings(existing.as_deref(), &input, PREVIEW_SAMPLES)
    })
    .await;
    Json(match r {
        Ok(p) => json!({"ok": true, "users": p.users, "groups": p.groups}),
        Err(e) => {
            let errors: Vec<(String, String)> = e
                .field_errors()
                .unwrap_or_default()
                .iter()
                .map(|e| (e.field.clone(), e.message.clone()))
                .collect();
            preview_refused(&e.to_string(), &errors)
        }
    })
    .into_response()
}

/// A preview that could not run: why, and each field at fault.
fn preview_refused(message: &str, errors: &[(String, String)]) -> serde_json::Value {
    json!({
        "ok": false,
        "message": message,
        "errors": errors.iter().map(|(f, m)| json!({"field": f, "message": m})).collect::<Vec<_>>(),
    })
}

/// The next five run times (Unix seconds) of a schedule as typed, in the time zone
/// typed (`timeZone`, default UTC): `{nextRuns}` or `{error}`.
async fn next_runs(State(app): State<App>, Query(q): Query<Fields>) -> Response {
    let schedule = q.get("schedule").cloned().unwrap_or_default();
    let zone = q
        .get("timeZone")
        .map(|z| z.trim().to_string())
        .filter(|z| !z.is_empty())
        .unwrap_or_else(|| "UTC".into());
    let r = blocking(&app.harness, move |h| {
        h.next_runs(schedule.trim(), &zone, crate::product::db::now(), 5)
    })
    .await;
    Json(match r {
        Ok(times) => {
            json!({"nextRuns": times.iter().map(|t| super::html::time(*t)).collect::<Vec<_>>()})
        }
        Err(e) => match e.field_errors().and_then(|es| es.first()) {
            Some(first) => json!({"error": first.message}),
            None => json!({"error": e.to_string()}),
        },
    })
    .into_response()
}

async fn load_run(
    app: &App,
    id: &str,
) -> Result<
    (
        crate::product::db::runs::Run,
        Vec<crate::product::db::runs::LogLine>,
    ),
    Response,
> {
    let not_found = || {
        message_page(
            app,
            StatusCode::NOT_FOUND,
            "Not found",
            &format!("There is no run #{id}."),
        )
    };
    let Ok(n) = id.parse::<i64>() else {
        return Err(not_found());
    };
    match blocking(&app.harness, move |h| h.run(n)).await {
        Ok(r) => Ok(r),
        Err(HarnessError::UnknownRun(_)) => Err(not_found()),
        Err(e) => Err(error_page(app, e)),
    }
}

/// A run's page: its results with a page of its changes (`?offset=&limit=&action=`).
async fn run(
    State(app): State<App>,
    Extension(s): Extension<Caller>,
    Path(id): Path<String>,
    Query(q): Query<Fields>,
) -> Response {
    let query = match super::rest::change_query(&q, views::CHANGES_SHOWN) {
        Ok(query) => query,
        Err(e) => return message_page(&app, StatusCode::BAD_REQUEST, "Bad request", &e.error),
    };
    let (r, log) = match load_run(&app, &id).await {
        Ok(run) => run,
        Err(resp) => return resp,
    };
    let run_id = r.id;
    let changes = blocking(&app.harness, move |h| {
        let shown = views::ChangesShown {
            page: h.run_changes(run_id, query)?,
            totals: h.run_action_totals(run_id)?,
            query,
        };
        Ok::<_, HarnessError>((shown, h.plan(run_id)?))
    })
    .await;
    match changes {
        Ok((changes, plan)) => {
            views::run_page(&frame(&app, Some(&s)), &r, &log, &changes, plan.as_ref())
                .into_response()
        }
        Err(e) => error_page(&app, e),
    }
}

async fn csv(State(app): State<App>, Path(id): Path<String>) -> Response {
    match load_run(&app, &id).await {
        Ok((r, _)) => super::download::changes_csv(&app.harness, r.id).await,
        Err(resp) => resp,
    }
}

async fn report_json(State(app): State<App>, Path(id): Path<String>) -> Response {
    match load_run(&app, &id).await {
        Ok((r, log)) => super::download::report_json(&app.harness, &r, &log).await,
        Err(resp) => resp,
    }
}

/// Only a path of this page may be the target after login (no open redirect).
fn safe_next(app: &App, next: Option<&String>) -> String {
    next.filter(|n| n.starts_with(app.base()) && !n.starts_with("//") && !n.contains("://"))
        .cloned()
        .unwrap_or_else(|| app.base().to_string())
}

async fn login_form(
    State(app): State<App>,
    headers: axum::http::HeaderMap,
    Query(q): Query<Fields>,
) -> Response {
    if app.auth.session(&headers).is_some() {
        return Redirect::to(&safe_next(&app, q.get("next"))).into_response();
    }
    views::login_page(&frame(&app, None), &safe_next(&app, q.get("next")), None).into_response()
}

/// The login form's POST: throttled per user name and address ([`Auth::authenticate`]),
/// a session on success.
///
/// [`Auth::authenticate`]: super::auth::Auth::authenticate
async fn login(State(app): State<App>, Peer(address): Peer, Form(f): Form<Fields>) -> Response {
    let user = f.get("username").map(String::as_str).unwrap_or_default();
    let password = f.get("password").map(String::as_str).unwrap_or_default();
    let next = safe_next(&app, f.get("next"));
    match app.auth.authenticate(user.trim(), password, address).await {
        Ok(()) => (app.auth.set_cookie(&app.auth.login()), see_other(&next)).into_response(),
        Err(Refused::Wait(wait)) => wait_page(&app, wait),
        Err(Refused::Wrong) => {
            let page = views::login_page(
                &frame(&app, None),
                &next,
                Some("The username or password is incorrect."),
            );
            (StatusCode::UNAUTHORIZED, page).into_response()
        }
    }
}

/// End the session (a Basic caller has none: its browser keeps sending the credential).
async fn logout(State(app): State<App>, Extension(c): Extension<Caller>) -> Response {
    if let Caller::Session(s) = &c {
        app.auth.logout(&s.id);
    }
    (
        app.auth.clear_cookie(),
        see_other(&format!("{}/login", app.base())),
    )
        .into_response()
}
