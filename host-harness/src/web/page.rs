//! The admin page's handlers at the product's plugin path: login, the connector list,
//! Create Connector → Okta form, edit with Sync Settings, delete, sync and dry-run
//! preview (in the background), a run's results with CSV/JSON downloads.

use super::auth::{Session, clear_cookie, page_guard, set_cookie};
use super::form::{ConnectorForm, TAB_SYNC};
use super::html::{Frame, esc, segment, url_encode};
use super::{App, blocking, views};
use crate::harness::{ConnectorInput, HarnessError, SyncRequest};
use axum::extract::{Extension, Form, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
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
        .route("/next-runs", get(next_runs))
        .route("/runs/{id}", get(run))
        .route("/runs/{id}/changes.csv", get(csv))
        .route("/runs/{id}/report.json", get(report_json))
        .route("/logout", post(logout))
        .route_layer(axum::middleware::from_fn_with_state(app, page_guard));
    Router::new()
        .route("/login", get(login_form).post(login))
        .merge(guarded)
}

fn frame<'a>(app: &'a App, s: Option<&'a Session>) -> Frame<'a> {
    Frame {
        product: app.harness.product().name,
        base: app.base(),
        csrf: s.map(|s| s.csrf.as_str()),
    }
}

/// A page with one message (errors, refusals).
pub fn message_page(
    product: &str,
    base: &str,
    status: StatusCode,
    title: &str,
    text: &str,
) -> Response {
    let f = Frame {
        product,
        base,
        csrf: None,
    };
    let body = format!(
        r#"<h1>{}</h1><div class="aui-message aui-message-error" id="message">{}</div><p><a href="{}">Back to User Sync</a></p>"#,
        esc(title),
        esc(text),
        esc(base)
    );
    (status, Html(f.page(title, &body))).into_response()
}

fn error_page(app: &App, e: HarnessError) -> Response {
    let status = match e {
        HarnessError::UnknownConnector(_) => StatusCode::NOT_FOUND,
        HarnessError::AlreadyRunning(_) | HarnessError::DuplicateName(_) => StatusCode::CONFLICT,
        HarnessError::InvalidConfig(_) => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let title = if status == StatusCode::NOT_FOUND {
        "Not found"
    } else {
        "The action failed"
    };
    message_page(
        app.harness.product().name,
        app.base(),
        status,
        title,
        &e.to_string(),
    )
}

fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response()
}

/// The message of a `?msg=` after a redirect.
fn notice(q: &Fields) -> Option<(&'static str, String)> {
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
    Extension(s): Extension<Session>,
    Query(q): Query<Fields>,
) -> Response {
    let data = blocking(&app.harness, |h| {
        Ok::<_, HarnessError>((h.connectors()?, h.runs(None, 10)?, h.seats()?))
    })
    .await;
    match data {
        Ok((list, runs, seats)) => Html(views::list_page(
            &frame(&app, Some(&s)),
            &list,
            &runs,
            seats.as_ref(),
            notice(&q),
        ))
        .into_response(),
        Err(e) => error_page(&app, e),
    }
}

async fn new_connector(
    State(app): State<App>,
    Extension(s): Extension<Session>,
    Query(q): Query<Fields>,
) -> Response {
    let f = frame(&app, Some(&s));
    if q.get("type").map(String::as_str) == Some("okta") {
        Html(ConnectorForm::new_connector().render(&f)).into_response()
    } else {
        Html(views::chooser_page(&f)).into_response()
    }
}

async fn edit(
    State(app): State<App>,
    Extension(s): Extension<Session>,
    Path(name): Path<String>,
    Query(q): Query<Fields>,
) -> Response {
    let data = blocking(&app.harness, move |h| {
        Ok::<_, HarnessError>((h.connector(&name)?, h.runs(Some(&name), 10)?))
    })
    .await;
    match data {
        Ok((v, runs)) => {
            let mut form = ConnectorForm::from_view(&v);
            form.runs = runs;
            form.notice = notice(&q);
            if q.get("tab").map(String::as_str) == Some(TAB_SYNC) {
                form.tab = TAB_SYNC.into();
            }
            Html(form.render(&frame(&app, Some(&s)))).into_response()
        }
        Err(e) => error_page(&app, e),
    }
}

async fn create(
    State(app): State<App>,
    Extension(s): Extension<Session>,
    Form(f): Form<Fields>,
) -> Response {
    save_form(app, s, None, f).await
}

async fn save(
    State(app): State<App>,
    Extension(s): Extension<Session>,
    Path(name): Path<String>,
    Form(f): Form<Fields>,
) -> Response {
    save_form(app, s, Some(name), f).await
}

/// The stored settings of the connector edited (the defaults for a new one).
async fn base_input(app: &App, existing: Option<String>) -> Result<ConnectorInput, HarnessError> {
    match existing {
        Some(n) => {
            blocking(&app.harness, move |h| {
                Ok(ConnectorInput::from_config(&h.connector(&n)?.config))
            })
            .await
        }
        None => Ok(ConnectorInput::default()),
    }
}

/// Save a create or edit form: back to the form (Save) or the list (Save and Return);
/// a refused form comes back as typed, with each bad field marked.
async fn save_form(app: App, s: Session, existing: Option<String>, f: Fields) -> Response {
    let mut form = ConnectorForm::from_fields(&f, existing.clone());
    let base = match base_input(&app, existing.clone()).await {
        Ok(b) => b,
        Err(e) => return error_page(&app, e),
    };
    let input = match form.to_input(ConnectorForm::token(&f), base) {
        Ok(i) => i,
        Err(errors) => {
            form.set_errors(errors);
            return (
                StatusCode::BAD_REQUEST,
                Html(form.render(&frame(&app, Some(&s)))),
            )
                .into_response();
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
            let name = segment(&v.config.name);
            let c = url_encode(&v.config.name);
            return if f.get("action").map(String::as_str) == Some("save-return") {
                see_other(&format!("{base}?msg=saved&c={c}"))
            } else {
                see_other(&format!(
                    "{base}/connectors/{name}?msg=saved&c={c}&tab={}",
                    url_encode(&form.tab)
                ))
            };
        }
        Err(HarnessError::InvalidConfig(list)) => (
            StatusCode::BAD_REQUEST,
            list.into_iter().map(|e| (e.field, e.message)).collect(),
        ),
        Err(e @ HarnessError::DuplicateName(_)) => {
            (StatusCode::CONFLICT, vec![("name".into(), e.to_string())])
        }
        Err(e @ HarnessError::UnknownConnector(_)) => return error_page(&app, e),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            vec![(String::new(), e.to_string())],
        ),
    };
    form.set_errors(errors);
    (status, Html(form.render(&frame(&app, Some(&s))))).into_response()
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
        trigger: "manual",
        force: f.get("force").is_some_and(|v| v == "1"),
    };
    match super::rest::start_sync(&app, name.clone(), req).await {
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
    let input = match base_input(&app, existing.clone()).await {
        Ok(base) => form.to_input(ConnectorForm::token(&f), base),
        Err(e) => Err(vec![(String::new(), e.to_string())]),
    };
    let input = match input {
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

/// The next five run times (UTC) of a schedule as typed: `{nextRuns}` or `{error}`.
async fn next_runs(State(app): State<App>, Query(q): Query<Fields>) -> Response {
    let schedule = q.get("schedule").cloned().unwrap_or_default();
    let r = blocking(&app.harness, move |h| {
        // The form has no time zone yet: its schedules are UTC.
        h.next_runs(schedule.trim(), "UTC", crate::db::now(), 5)
    })
    .await;
    Json(match r {
        Ok(times) => {
            json!({"nextRuns": times.iter().map(|t| super::html::time(*t)).collect::<Vec<_>>()})
        }
        Err(HarnessError::InvalidConfig(e)) if !e.is_empty() => json!({"error": e[0].message}),
        Err(e) => json!({"error": e.to_string()}),
    })
    .into_response()
}

/// A run, its log and its first `changes` changes.
async fn load_run(
    app: &App,
    id: &str,
    changes: u32,
) -> Result<
    (
        crate::db::runs::Run,
        Vec<crate::db::runs::LogLine>,
        crate::db::run_changes::ChangePage,
    ),
    Response,
> {
    let not_found = || {
        message_page(
            app.harness.product().name,
            app.base(),
            StatusCode::NOT_FOUND,
            "Not found",
            &format!("There is no run #{id}."),
        )
    };
    let Ok(n) = id.parse::<i64>() else {
        return Err(not_found());
    };
    let query = crate::db::run_changes::ChangeQuery::first(changes as usize);
    match blocking(&app.harness, move |h| h.run_with_changes(n, query)).await {
        Ok(Some(r)) => Ok(r),
        Ok(None) => Err(not_found()),
        Err(e) => Err(error_page(app, e)),
    }
}

async fn run(
    State(app): State<App>,
    Extension(s): Extension<Session>,
    Path(id): Path<String>,
) -> Response {
    match load_run(&app, &id, views::SHOWN_CHANGES).await {
        Ok((r, log, changes)) => {
            Html(views::run_page(&frame(&app, Some(&s)), &r, &log, &changes)).into_response()
        }
        Err(resp) => resp,
    }
}

fn download(body: String, content_type: &'static str, filename: String) -> Response {
    let mut resp = (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

async fn csv(State(app): State<App>, Path(id): Path<String>) -> Response {
    match load_run(&app, &id, u32::MAX).await {
        Ok((_, _, changes)) => {
            let body = views::changes_csv(&changes.changes);
            download(
                body,
                "text/csv; charset=utf-8",
                format!("usersync-run-{id}-changes.csv"),
            )
        }
        Err(resp) => resp,
    }
}

async fn report_json(State(app): State<App>, Path(id): Path<String>) -> Response {
    match load_run(&app, &id, u32::MAX).await {
        Ok((r, log, changes)) => {
            let body = super::json::run_with_log(&r, &log, &changes.changes);
            let body = serde_json::to_string_pretty(&body).expect("serializes");
            download(body, "application/json", format!("usersync-run-{id}.json"))
        }
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
    Html(views::login_page(
        &frame(&app, None),
        &safe_next(&app, q.get("next")),
        None,
    ))
    .into_response()
}

async fn login(State(app): State<App>, Form(f): Form<Fields>) -> Response {
    let user = f.get("username").map(String::as_str).unwrap_or_default();
    let password = f.get("password").map(String::as_str).unwrap_or_default();
    let next = safe_next(&app, f.get("next"));
    if !app.auth.check(user.trim(), password) {
        // Slow down guessing.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let page = views::login_page(
            &frame(&app, None),
            &next,
            Some("The username or password is incorrect."),
        );
        return (StatusCode::UNAUTHORIZED, Html(page)).into_response();
    }
    let s = app.auth.login();
    let mut resp = see_other(&next);
    resp.headers_mut()
        .append(header::SET_COOKIE, set_cookie(&s));
    resp
}

async fn logout(State(app): State<App>, Extension(s): Extension<Session>) -> Response {
    app.auth.logout(&s.id);
    let mut resp = see_other(&format!("{}/login", app.base()));
    resp.headers_mut()
        .append(header::SET_COOKIE, clear_cookie());
    resp
}
